import * as fs from 'fs';
import * as path from 'path';
import * as net from 'net';
import * as http from 'http';
import { SUPPORTED_PROTOCOL_VERSIONS } from '../../src/ide/mcpSession';
import { AUTH_HEADER } from '../../src/ide/server';
import { Fixture, waitFor } from './wsClient';

let fx: Fixture;
beforeEach(() => { fx = new Fixture(); });
afterEach(async () => { await fx.cleanup(); });

describe('listening and the lock file', () => {
  test('listens on 127.0.0.1 only', async () => {
    const { server } = await fx.server();
    const addr = (server as unknown as { http: http.Server }).http.address() as net.AddressInfo;
    expect(addr.address).toBe('127.0.0.1');
    expect(addr.family).toBe('IPv4');
    expect(addr.port).toBe(server.port);
    expect(server.port).toBeGreaterThan(0);
  });

  test('is not reachable on a non-loopback address', async () => {
    const { server } = await fx.server();
    const os = await import('os');
    const ext = Object.values(os.networkInterfaces()).flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!ext) return; // no external interface in this sandbox: the address check above covers it
    const err = await new Promise<string | null>((resolve) => {
      const s = net.connect({ host: ext, port: server.port });
      s.on('connect', () => { s.destroy(); resolve(null); });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(err).toBe('ECONNREFUSED');
  });

  test('lock file body and mode; removed by stop()', async () => {
    const { server, root, lockDir } = await fx.server({ ideName: 'Neovim (feature)' });
    expect(server.lockPath).toBe(`${lockDir}/${server.port}.lock`);
    const st = fs.statSync(server.lockPath);
    expect(st.mode & 0o777).toBe(0o600);
    expect(fs.statSync(lockDir).mode & 0o777).toBe(0o700);
    const body = JSON.parse(fs.readFileSync(server.lockPath, 'utf8'));
    expect(body).toEqual({
      pid: process.pid, workspaceFolders: [root], ideName: 'Neovim (feature)', transport: 'ws', authToken: server.authToken,
    });
    expect(body.authToken).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.readdirSync(lockDir)).toEqual([`${server.port}.lock`]);
    await server.stop();
    expect(fs.existsSync(server.lockPath)).toBe(false);
    // And the port is closed.
    const c = fx.client(server.port, server.authToken);
    await waitFor(() => c.error || c.closeCode !== null, 3000, 'connection failure');
    expect(c.opened).toBe(false);
  });

  test('each server has its own token', async () => {
    const a = await fx.server();
    const b = await fx.server();
    expect(a.server.authToken).not.toBe(b.server.authToken);
    expect(a.server.port).not.toBe(b.server.port);
  });

  test('stopSync is idempotent and stop() after stopSync resolves', async () => {
    const { server } = await fx.server();
    const c = fx.client(server.port, server.authToken);
    await c.open();
    server.stopSync();
    expect(fs.existsSync(server.lockPath)).toBe(false);
    expect(() => server.stopSync()).not.toThrow();
    await expect(server.stop()).resolves.toBeUndefined();
    await c.closed();
  });

  test('stale lock files of dead pids are removed at start, live ones kept', async () => {
    const lockDir = `${fx.tmpDir()}/ide`;
    fs.mkdirSync(lockDir, { recursive: true });
    const { spawn } = await import('child_process');
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => child.on('exit', r));
    fs.writeFileSync(`${lockDir}/1.lock`, JSON.stringify({ pid: child.pid }));
    fs.writeFileSync(`${lockDir}/2.lock`, JSON.stringify({ pid: process.pid }));
    const { server } = await fx.server({ lockDir });
    expect(fs.readdirSync(lockDir).sort()).toEqual(['2.lock', `${server.port}.lock`].sort());
  });

  test('a plain HTTP request gets 426', async () => {
    const { server } = await fx.server();
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/' }, (res) => { res.resume(); resolve(res.statusCode!); })
        .on('error', reject);
    });
    expect(status).toBe(426);
  });
});

describe('authentication', () => {
  test.each([
    ['no token', undefined],
    ['wrong token', '0'.repeat(32)],
    ['token prefix', 'PREFIX'],
    ['empty token', ''],
  ])('%s -> 401 and no MCP session', async (_n, token) => {
    const { server } = await fx.server();
    const clients: unknown[] = [];
    server.on('client', (c) => clients.push(c));
    const c = fx.client(server.port, token === 'PREFIX' ? server.authToken.slice(0, 16) : token);
    await waitFor(() => c.unexpectedStatus, 3000, '401');
    expect(c.unexpectedStatus).toBe(401);
    expect(c.opened).toBe(false);
    expect(clients).toEqual([]);
    expect(server.clientInfos).toEqual([]);
  });

  test('token with extra characters -> 401', async () => {
    const { server } = await fx.server();
    const c = fx.client(server.port, server.authToken + 'x');
    expect(await waitFor(() => c.unexpectedStatus)).toBe(401);
  });

  test('rejection is reliable (20 in a row all get an HTTP 401, not a reset)', async () => {
    const { server } = await fx.server();
    const cs = Array.from({ length: 20 }, () => fx.client(server.port, 'bad'));
    await waitFor(() => cs.every((c) => c.unexpectedStatus !== null || c.error), 5000, 'all rejected');
    expect(cs.map((c) => c.unexpectedStatus)).toEqual(cs.map(() => 401));
  });

  test('right token -> connected; subprotocol mcp echoed when offered', async () => {
    const { server } = await fx.server();
    const seen: Array<{ id: number }> = [];
    server.on('client', (c) => seen.push(c));
    const c = await fx.client(server.port, server.authToken).open();
    expect(c.ws.protocol).toBe('mcp');
    await waitFor(() => seen.length === 1);
    expect(server.clientInfos).toEqual([{ id: seen[0].id, pid: undefined, initialized: false }]);
    expect(server.connected).toBe(false);
  });

  test('right token without a subprotocol still connects', async () => {
    const { server } = await fx.server();
    const c = await fx.client(server.port, server.authToken, { protocols: [] }).open();
    expect(c.ws.protocol).toBe('');
    expect((await c.request('ping')).result).toEqual({});
  });
});

describe('MCP over the wire', () => {
  test('full handshake -> ide-connected with pid; tools/list; tools/call round trip', async () => {
    const { server, editor, root } = await fx.server();
    const connected: Array<{ id: number; pid?: number; initialized: boolean }> = [];
    server.on('ide-connected', (i) => connected.push(i));
    const c = await fx.client(server.port, server.authToken).open();
    const init = await c.handshake(31337);
    expect(init.result.protocolVersion).toBe('2025-11-25');
    expect(init.result.capabilities.tools).toEqual({ listChanged: true });
    await waitFor(() => connected.length === 1, 3000, 'ide-connected');
    expect(connected[0]).toMatchObject({ pid: 31337, initialized: true });
    expect(server.connected).toBe(true);
    expect(server.clientInfos).toEqual([{ id: connected[0].id, pid: 31337, initialized: true }]);

    const list = await c.request('tools/list', {});
    expect(list.result.tools.map((t: { name: string }) => t.name)).toContain('openDiff');
    expect(list.result.tools.map((t: { name: string }) => t.name)).not.toContain('close_tab');
    expect((await c.request('prompts/list', {})).result).toEqual({ prompts: [] });

    const folders = await c.request('tools/call', { name: 'getWorkspaceFolders', arguments: {} });
    expect(JSON.parse(folders.result.content[0].text).rootPath).toBe(root);

    fs.writeFileSync(path.join(root, 'a.ts'), 'export {};\n'); // openFile opens only files that exist
    const open = await c.request('tools/call', { name: 'openFile', arguments: { filePath: 'a.ts' } });
    expect(open.result.content[0].text).toBe(`Opened file: ${root}/a.ts`);
    expect(editor.opened.map((o) => o.filePath)).toEqual([`${root}/a.ts`]);
  });

  test('requests arriving in one read are all answered (sync in order, async after), and later ones too', async () => {
    const { server } = await fx.server();
    // A raw socket, so that all the frames leave in ONE write and the server reads them together.
    const sock = net.connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    sock.write(['GET / HTTP/1.1', `Host: 127.0.0.1:${server.port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', `${AUTH_HEADER}: ${server.authToken}`, '', ''].join('\r\n'));
    await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 3000, 'upgrade answer');
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
    chunks.length = 0;
    const frame = (text: string) => {
      const body = Buffer.from(text);
      const mask = Buffer.from([1, 2, 3, 4]);
      const masked = Buffer.from(body.map((b, i) => b ^ mask[i % 4]));
      return Buffer.concat([Buffer.from([0x81, 0x80 | body.length]), mask, masked]);
    };
    const reqs: string[] = [];
    for (let i = 1; i <= 24; i++) {
      const call = i % 3 === 0
        ? { name: 'saveDocument', arguments: { filePath: 'nope.ts' } } // awaited: answered after the sync ones
        : { name: 'getWorkspaceFolders', arguments: {} };
      reqs.push(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: call }));
    }
    sock.write(Buffer.concat(reqs.map(frame)));
    const ids = (): number[] => {
      // Server frames are unmasked; all replies here are under 126 bytes or use the 16-bit length.
      const all = Buffer.concat(chunks);
      const out: number[] = [];
      let o = 0;
      while (o + 2 <= all.length) {
        let len = all[o + 1] & 0x7f;
        let head = 2;
        if (len === 126) { if (o + 4 > all.length) break; len = all.readUInt16BE(o + 2); head = 4; }
        if (o + head + len > all.length) break;
        out.push((JSON.parse(all.subarray(o + head, o + head + len).toString()) as { id: number }).id);
        o += head + len;
      }
      return out;
    };
    await waitFor(() => ids().length === 24, 5000, '24 replies');
    const got = ids();
    expect([...got].sort((a, b) => a - b)).toEqual(reqs.map((_, i) => i + 1));
    const syncIds = got.filter((id) => id % 3 !== 0);
    expect(syncIds).toEqual([...syncIds].sort((a, b) => a - b));
    // The socket is not left corked: a request on its own later is answered too.
    chunks.length = 0;
    sock.write(frame(JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'ping' })));
    await waitFor(() => ids().includes(99), 3000, 'reply 99');
    sock.destroy();
  });

  test('older protocol version is echoed', async () => {
    const { server } = await fx.server();
    const c = await fx.client(server.port, server.authToken).open();
    const r = await c.request('initialize', { protocolVersion: '2024-11-05' });
    expect(r.result.protocolVersion).toBe('2024-11-05');
    const u = await c.request('initialize', { protocolVersion: '1.0' });
    expect(u.result.protocolVersion).toBe(SUPPORTED_PROTOCOL_VERSIONS[0]);
  });

  test('parse error over the wire -> -32700 with id null; connection stays open', async () => {
    const { server } = await fx.server();
    const c = await fx.client(server.port, server.authToken).open();
    c.sendRaw('{"jsonrpc": "2.0", "id": 1, "method": ');
    const err = await waitFor(() => c.messages.find((m) => m.error));
    expect(err).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.any(String) } });
    expect((await c.request('ping')).result).toEqual({});
    expect(c.closeCode).toBeNull();
  });

  test('binary frames are ignored without killing the connection', async () => {
    const { server } = await fx.server();
    const c = await fx.client(server.port, server.authToken).open();
    c.ws.send(Buffer.from('{"jsonrpc":"2.0","id":99,"method":"ping"}'), { binary: true });
    expect((await c.request('ping')).result).toEqual({});
    expect(c.messages.find((m) => m.id === 99)).toBeUndefined();
  });

  test('client-closed fires on disconnect and the client is forgotten', async () => {
    const { server } = await fx.server();
    const closed: Array<{ id: number }> = [];
    server.on('client-closed', (i) => closed.push(i));
    const c = await fx.client(server.port, server.authToken).open();
    await c.handshake();
    await waitFor(() => server.connected);
    c.ws.close(1000);
    await waitFor(() => closed.length === 1, 3000, 'client-closed');
    expect(server.clientInfos).toEqual([]);
    expect(server.connected).toBe(false);
  });

  test('a listener that throws does not break the server', async () => {
    const { server } = await fx.server();
    server.on('ide-connected', () => { throw new Error('listener bug'); });
    const c = await fx.client(server.port, server.authToken).open();
    await c.handshake();
    expect((await c.request('ping')).result).toEqual({});
  });

  test('stop() closes connected clients and rejects pending diffs', async () => {
    const { server, editor, root } = await fx.server();
    const c = await fx.client(server.port, server.authToken).open();
    await c.handshake();
    const x = path.join(root, 'x'); // inside the worktree: the only place a diff may be about
    c.send('tools/call', {
      name: 'openDiff', arguments: { old_file_path: x, new_file_path: x, new_file_contents: 'y', tab_name: 't' },
    });
    await waitFor(() => editor.diffs.length === 1);
    await server.stop();
    expect(editor.diffs[0].closed).toBe(true);
    expect(await c.closed()).toBe(1001);
  });
});
