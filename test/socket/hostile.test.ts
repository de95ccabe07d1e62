/**
 * Issue 10, items 4 and 5 at the socket level: requests a browser page (DNS rebinding), a
 * stranger holding the wrong token, or a broken client could send; and start failures that
 * must come with a message saying what to do, leaving nothing behind.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { AUTH_HEADER, HOOK_PATH, IdeServer, type HookEvent } from '../../src/ide/server';
import { lockDir as lockDirOf } from '../../src/ide/lockfile';
import { InstanceManager } from '../../src/instances/manager';
import { Instance } from '../../src/instances/instance';
import { HOOK_TOKEN_ENV } from '../../src/claude/hooks';
import { nullLogger } from '../../src/util/log';
import { FakeEditor } from '../helpers/fakeEditor';
import { Fixture, waitFor } from './wsClient';

const SID = '3f2c9d1e-0000-4000-8000-00000000abcd';

let fx: Fixture;
beforeEach(() => { fx = new Fixture(); });
afterEach(async () => { await fx.cleanup(); });

interface RawReply { status: number | null; head: string; closed: boolean }

/** Write `data` on a raw socket and read until the peer closes or a full response head came. */
function raw(port: number, data: string | Buffer): Promise<RawReply> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (closed: boolean) => {
      s.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      resolve({ status: m ? Number(m[1]) : null, head: got.split('\r\n\r\n')[0], closed });
    };
    s.on('data', (c) => { got += c.toString('latin1'); if (got.includes('\r\n\r\n')) done(false); });
    s.on('close', () => done(true));
    s.on('error', () => done(true));
    s.write(data);
  });
}

function upgradeRequest(port: number, token: string, headers: Record<string, string | undefined>): string {
  const h: Record<string, string | undefined> = {
    Host: `127.0.0.1:${port}`, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'mcp', [AUTH_HEADER]: token, ...headers,
  };
  return `GET / HTTP/1.1\r\n${Object.entries(h).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

function hookRequest(port: number, token: string | undefined, body: string, headers: Record<string, string | undefined> = {}): string {
  const h: Record<string, string | undefined> = {
    Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)),
    Authorization: token === undefined ? undefined : `Bearer ${token}`, ...headers,
  };
  return `POST ${HOOK_PATH} HTTP/1.1\r\n${Object.entries(h).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`;
}

const hookBody = (event: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ session_id: SID, transcript_path: `/tmp/x/${SID}.jsonl`, cwd: '/tmp/x', hook_event_name: event, ...extra });

describe('DNS rebinding: an Origin or a non-loopback Host is refused', () => {
  test('WebSocket upgrades: 403 with the right token; the loopback names the CLI may use are accepted', async () => {
    const { server } = await fx.server();
    const p = server.port;
    const clients: unknown[] = [];
    server.on('client', (c) => clients.push(c));
    for (const headers of [
      { Origin: 'http://evil.example' },
      { Origin: 'null' },
      { Origin: `http://127.0.0.1:${p}` }, // even a loopback origin is a browser, not the CLI
      { Host: `evil.example:${p}` },
      { Host: 'evil.example' },
      { Host: '127.0.0.1' }, // no port: not what a client of this server sends
      { Host: `127.0.0.1:${p + 1}` },
      { Host: `127.0.0.1.evil.example:${p}` },
      { Host: undefined },
    ]) {
      const r = await raw(p, upgradeRequest(p, server.authToken, headers));
      // No Host at all: node's HTTP parser may answer 400 before the upgrade is seen.
      const want = 'Host' in headers && headers.Host === undefined ? [400, 403] : [403];
      expect({ headers, refused: want.includes(r.status ?? 0) }).toEqual({ headers, refused: true });
    }
    expect(clients).toEqual([]);
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST:${p}`, `[::1]:${p}`]) {
      const r = await raw(p, upgradeRequest(p, server.authToken, { Host: host }));
      expect({ host, status: r.status }).toEqual({ host, status: 101 });
    }
    await waitFor(() => clients.length === 4, 3000, 'four clients');
    // The right Host and Origin refusal come before the token check: a wrong token is still 401.
    expect((await raw(p, upgradeRequest(p, 'nope', {}))).status).toBe(401);
  });

  test('HTTP: /hook with an Origin or a foreign Host is refused before the token is looked at; the status is untouched', async () => {
    const { server } = await fx.server();
    const p = server.port;
    const events: unknown[] = [];
    server.on('hook', (e) => events.push(e));
    const body = hookBody('Stop');
    for (const headers of [{ Origin: 'http://evil.example' }, { Host: `evil.example:${p}` }, { Host: `attacker.test` }]) {
      expect((await raw(p, hookRequest(p, server.hookToken, body, headers))).status).toBe(403);
      // Every other path too.
      expect((await raw(p, `GET / HTTP/1.1\r\nHost: ${headers.Host ?? `127.0.0.1:${p}`}\r\n${headers.Origin ? `Origin: ${headers.Origin}\r\n` : ''}\r\n`)).status).toBe(403);
    }
    expect(events).toEqual([]);
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`]) {
      expect((await raw(p, hookRequest(p, server.hookToken, body, { Host: host }))).status).toBe(200);
    }
    expect(events).toHaveLength(3);
  });
});

describe('POST /hook from strangers and broken clients: refused or ignored at bounded cost, status never corrupted', () => {
  async function twoInstances(): Promise<{ a: Instance; b: Instance; tokenA: string; tokenB: string; kill: () => Promise<void> }> {
    const lockDir = path.join(fx.tmpDir('cw-cfg-'), 'ide');
    const m = new InstanceManager({
      editorFor: () => new FakeEditor(), logFor: () => nullLogger, ideName: (n) => `Neovim (${n})`, lockDir,
      onChange: () => undefined, hookRelay: null, log: nullLogger,
    });
    const a = await m.ensure(fx.tmpDir('cw-wt-a-'), 'a');
    const b = await m.ensure(fx.tmpDir('cw-wt-b-'), 'b');
    const tokenA = a.claudeLaunch().env[HOOK_TOKEN_ENV];
    const tokenB = b.claudeLaunch().env[HOOK_TOKEN_ENV];
    return { a, b, tokenA, tokenB, kill: async () => { await m.kill(a); await m.kill(b); } };
  }
  const post = (inst: Instance, token: string | undefined, body: string, headers: Record<string, string | undefined> = {}) =>
    raw(inst.server.port, hookRequest(inst.server.port, token, body, headers));
  const statusOf = (i: Instance) => {
    const s = i.snapshot();
    return { status: s.status, waitingFor: s.waitingFor, sessionId: s.sessionId };
  };

  test('wrong, missing, another instance\'s and the IDE token; bad JSON; bad shapes; unknown events; wrong method or path', async () => {
    const { a, b, tokenA, tokenB, kill } = await twoInstances();
    try {
      expect((await post(a, tokenA, hookBody('PermissionRequest', { tool_name: 'Bash' }))).status).toBe(200);
      const busyA = { status: 'waiting', waitingFor: 'permission', sessionId: SID };
      expect(statusOf(a)).toEqual(busyA);
      const stop = hookBody('Stop');
      for (const token of [undefined, '', 'x', tokenB, a.server.authToken, tokenA.toUpperCase(), `${tokenA}0`, tokenA.slice(1)]) {
        expect({ token, status: (await post(a, token, stop)).status }).toEqual({ token, status: 401 });
      }
      expect((await post(a, tokenA, stop, { Authorization: `Basic ${tokenA}` })).status).toBe(401);
      for (const body of ['', '{', 'null', '[]', '"Stop"', '{"hook_event_name":"Stop"}', JSON.stringify({ hook_event_name: 'Stop', session_id: '../../x' }),
        JSON.stringify({ hook_event_name: 'Stop; rm', session_id: SID }), JSON.stringify({ hook_event_name: 'S'.repeat(65), session_id: SID }),
        '\u0000\u0001\u0002', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1')]) {
        expect({ body, status: (await post(a, tokenA, body)).status }).toEqual({ body, status: 400 });
      }
      // Authenticated, well formed, but an event the status does not know: accepted and ignored.
      for (const ev of ['Bogus', 'SubagentStop', 'constructor', '__proto__']) {
        expect((await post(a, tokenA, hookBody(ev))).status).toBe(ev === '__proto__' ? 400 : 200);
      }
      expect(statusOf(a)).toEqual(busyA);
      const p = a.server.port;
      expect((await raw(p, `GET ${HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nAuthorization: Bearer ${tokenA}\r\n\r\n`)).status).toBe(405);
      expect((await raw(p, hookRequest(p, tokenA, stop).replace(`POST ${HOOK_PATH}`, 'PUT /hook'))).status).toBe(405);
      expect((await raw(p, hookRequest(p, tokenA, stop).replace(`POST ${HOOK_PATH}`, 'POST /hooks'))).status).toBe(426);
      expect((await raw(p, hookRequest(p, tokenA, stop).replace(`POST ${HOOK_PATH}`, 'POST //hook'))).status).toBe(426);
      expect((await raw(p, 'BREW /hook HTCPCP/1.0\r\n\r\n')).status).toBe(400);
      expect(statusOf(a)).toEqual(busyA);
      // B saw none of it; both still work.
      expect(statusOf(b).status).toBe('unknown');
      expect((await post(a, tokenA, stop)).status).toBe(200);
      expect(statusOf(a).status).toBe('idle');
    } finally {
      await kill();
    }
  });

  test('a 50 MB body: refused with 413 after at most the limit is read (declared or chunked); the status stays', async () => {
    const { a, tokenA, kill } = await twoInstances();
    try {
      await post(a, tokenA, hookBody('UserPromptSubmit'));
      expect(statusOf(a).status).toBe('busy');
      const p = a.server.port;
      const FIFTY_MB = 50 * 1024 * 1024;
      // Declared: refused on the headers alone, before any body byte is read.
      const declared = await raw(p, `POST ${HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nAuthorization: Bearer ${tokenA}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${FIFTY_MB}\r\n\r\n{"hook_event_name":"Stop",`);
      expect(declared.status).toBe(413);
      // Chunked: a stream of 50 MB; the server stops reading once past its 8 MiB limit and drops
      // the connection, so the writer cannot get (much more than the socket buffers) beyond it.
      const arrays = process.memoryUsage().arrayBuffers;
      const r = await new Promise<{ written: number; status: number | null }>((resolve) => {
        const s = net.connect(p, '127.0.0.1');
        let written = 0;
        let got = '';
        let ended = false;
        const finish = () => {
          if (ended) return;
          ended = true;
          s.destroy();
          const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
          resolve({ written, status: m ? Number(m[1]) : null });
        };
        s.on('data', (c) => { got += c.toString('latin1'); });
        s.on('close', finish);
        s.on('error', finish);
        s.write(`POST ${HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nAuthorization: Bearer ${tokenA}\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const chunk = Buffer.alloc(256 * 1024, 0x78);
        const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
        const pump = (): void => {
          while (!ended && written < FIFTY_MB) {
            written += chunk.length;
            if (!s.write(frame)) { s.once('drain', pump); return; }
          }
          if (!ended) s.end('0\r\n\r\n');
        };
        pump();
      });
      expect(r.written).toBeLessThan(FIFTY_MB / 2);
      expect(r.status === 413 || r.status === null).toBe(true);
      // Nothing near 50 MB was kept (the limit is 8 MiB; the writer's own chunk is 256 KiB).
      expect(process.memoryUsage().arrayBuffers - arrays).toBeLessThan(24 * 1024 * 1024);
      expect(statusOf(a).status).toBe('busy');
      expect((await post(a, tokenA, hookBody('Stop'))).status).toBe(200);
      expect(statusOf(a).status).toBe('idle');
    } finally {
      await kill();
    }
  });

  test('a slow body (a byte now and then) is cut off by the deadline with 408, and its event never counts', async () => {
    // The manager starts servers with the default deadline (10 s): an instance by hand, with 400 ms.
    const { server } = await fx.server({ hookBodyTimeoutMs: 400 });
    const a = new Instance(server.workspaceFolder, 'slow', 'main', server, { hookRelay: null, log: nullLogger, onStatus: () => undefined });
    server.on('hook', (ev: HookEvent) => a.applyHook(ev));
    const tokenA = a.claudeLaunch().env[HOOK_TOKEN_ENV];
    try {
      await post(a, tokenA, hookBody('UserPromptSubmit'));
      expect(statusOf(a).status).toBe('busy');
      const p = a.server.port;
      const body = hookBody('Stop');
      const started = Date.now();
      const r = await new Promise<{ status: number | null; sentAll: boolean }>((resolve) => {
        const s = net.connect(p, '127.0.0.1');
        let got = '';
        let i = 0;
        // One byte every 20 ms: each byte alone would reset an idle timeout; the whole body takes seconds.
        const timer = setInterval(() => { if (i < body.length) s.write(body[i++]); }, 20);
        const finish = () => {
          clearInterval(timer);
          s.destroy();
          const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
          resolve({ status: m ? Number(m[1]) : null, sentAll: i >= body.length });
        };
        s.on('data', (c) => { got += c.toString('latin1'); });
        s.on('close', finish);
        s.on('error', finish);
        s.write(hookRequest(p, tokenA, '').replace(/Content-Length: 0/, `Content-Length: ${Buffer.byteLength(body)}`));
      });
      const took = Date.now() - started;
      expect(r).toEqual({ status: 408, sentAll: false });
      expect(took).toBeGreaterThanOrEqual(350);
      expect(took).toBeLessThan(3000);
      expect(statusOf(a).status).toBe('busy');
      expect((await post(a, tokenA, body)).status).toBe(200);
      expect(statusOf(a).status).toBe('idle');
    } finally {
      a.dispose();
    }
  });
});

/** A port nothing listens on right now (bound and released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True when we can listen on `port` ourselves: nobody was left listening there. */
async function canListen(port: number): Promise<boolean> {
  const s = net.createServer();
  const ok = await new Promise<boolean>((r) => { s.once('error', () => r(false)); s.listen(port, '127.0.0.1', () => r(true)); });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

/**
 * Make `dir` unwritable even for root (these tests run as root on the CI box): chmod first, and
 * where that does not stop us, the immutable attribute. Returns the undo.
 */
export function makeUnwritable(dir: string): () => void {
  fs.chmodSync(dir, 0o500);
  const writable = () => { try { fs.writeFileSync(path.join(dir, '.probe'), ''); fs.unlinkSync(path.join(dir, '.probe')); return true; } catch { return false; } };
  let immutable = false;
  if (writable()) {
    cp.execFileSync('chattr', ['+i', dir]);
    immutable = true;
  }
  if (writable()) throw new Error(`cannot make ${dir} unwritable for this test`);
  return () => {
    if (immutable) cp.execFileSync('chattr', ['-i', dir]);
    fs.chmodSync(dir, 0o700);
  };
}

describe('start failures: one clear message, nothing left behind, other servers unaffected', () => {
  const start = (lockDir: string, over: { portRange?: [number, number] } = {}) =>
    IdeServer.start({ workspaceFolder: fx.tmpDir('cw-ws-'), ideName: 'Neovim', editor: new FakeEditor(), lockDir, ...over });

  async function otherServerStillWorks(other: IdeServer): Promise<void> {
    expect(fs.existsSync(other.lockPath)).toBe(true);
    const c = await fx.client(other.port, other.authToken).open();
    expect((await c.request('ping')).result).toEqual({});
  }

  test('the lock dir is a file, or CLAUDE_CONFIG_DIR is: the message names it and what to do; the port is released', async () => {
    const { server: other } = await fx.server();
    for (const make of ['ide is a file', 'config dir is a file']) {
      const cfg = fx.tmpDir('cw-cfg-');
      const culprit = make === 'ide is a file' ? path.join(cfg, 'ide') : path.join(cfg, 'claude');
      fs.writeFileSync(culprit, 'not a dir');
      const dir = make === 'ide is a file' ? culprit : path.join(culprit, 'ide');
      const port = await freePort();
      const err = await start(dir, { portRange: [port, port] }).then(() => null, (e: Error) => e);
      expect(err?.message).toBe(`cannot write the lock file: ${culprit} is not a directory (${make === 'ide is a file' ? 'EEXIST' : 'ENOTDIR'}). ` +
        'Move it away, or set CLAUDE_CONFIG_DIR to a writable directory (the lock file goes to $CLAUDE_CONFIG_DIR/ide)');
      expect(fs.readFileSync(culprit, 'utf8')).toBe('not a dir');
      expect(await canListen(port)).toBe(true);
    }
    await otherServerStillWorks(other);
  });

  test('a lock dir that cannot be written: permission denied, what to chmod; no temp file, port released', async () => {
    const { server: other, lockDir } = await fx.server();
    const undo = makeUnwritable(lockDir);
    try {
      const port = await freePort();
      const err = await start(lockDir, { portRange: [port, port] }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(new RegExp(`^cannot write the lock file in ${lockDir}: permission denied \\((EACCES|EPERM)\\)\\. ` +
        `Make ${lockDir} writable for you \\(chmod u\\+rwx\\), or set CLAUDE_CONFIG_DIR to a writable directory`));
      expect(await canListen(port)).toBe(true);
      expect(fs.readdirSync(lockDir)).toEqual([path.basename(other.lockPath)]);
    } finally {
      undo();
    }
    await otherServerStillWorks(other);
  });

  test('CLAUDE_CONFIG_DIR pointing at a missing dir: created 0700 (as the CLI does), the server works', async () => {
    const cfg = path.join(fx.tmpDir('cw-cfg-'), 'not', 'there');
    const dir = lockDirOf({ CLAUDE_CONFIG_DIR: cfg });
    const s = await start(dir);
    fx.servers.push(s);
    expect(fs.statSync(cfg).mode & 0o777).toBe(0o700);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(s.lockPath)).toBe(true);
    const c = await fx.client(s.port, s.authToken).open();
    expect((await c.request('ping')).result).toEqual({});
  });

  test('no free port in port_range, or a range that is no range: the message says which and what to do', async () => {
    const { server: other } = await fx.server();
    const lockDir = path.join(fx.tmpDir('cw-cfg-'), 'ide');
    // `other` holds one port; a foreign listener the next one (or the one below).
    const foreign = net.createServer();
    const q = other.port < 65535 ? other.port + 1 : other.port - 1;
    await new Promise<void>((r, j) => { foreign.once('error', j); foreign.listen(q, '127.0.0.1', () => r()); });
    try {
      const [lo, hi] = [Math.min(other.port, q), Math.max(other.port, q)];
      await expect(start(lockDir, { portRange: [lo, hi] })).rejects.toThrow(
        `no free port in ${lo}-${hi} (port_range; EADDRINUSE on all 2): widen port_range in setup(), or end what listens there`);
    } finally {
      await new Promise<void>((r) => foreign.close(() => r()));
    }
    for (const bad of [[5, 3], [0, 10], [1, 70000], [1.5, 2]] as Array<[number, number]>) {
      await expect(start(lockDir, { portRange: bad })).rejects.toThrow(
        `port_range ${bad[0]}-${bad[1]} is not a range of ports: give two integers, low first, within 1-65535 (or leave port_range out)`);
    }
    expect(fs.existsSync(lockDir) ? fs.readdirSync(lockDir) : []).toEqual([]);
    await otherServerStillWorks(other);
  });
});
