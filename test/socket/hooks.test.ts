import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { spawn } from 'child_process';
import * as ts from 'typescript';
import { HOOK_PATH, type HookEvent, type IdeServer } from '../../src/ide/server';
import { InstanceManager } from '../../src/instances/manager';
import type { Instance, StatusChange } from '../../src/instances/instance';
import { HOOK_TOKEN_ENV, hookSettings } from '../../src/claude/hooks';
import { nullLogger } from '../../src/util/log';
import { FakeEditor } from '../helpers/fakeEditor';
import { Fixture, waitFor } from './wsClient';
import { rmDir, tmpDir } from '../helpers/tmp';

const SID = '3f2c9d1e-0000-4000-8000-00000000abcd';

interface Reply { status?: number; body?: string; error?: string }

/** POST a hook body (a string is sent as is) with an optional bearer token. */
function post(port: number, body: unknown, token?: string, extra: http.RequestOptions = {}): Promise<Reply> {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve) => {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json', ...(extra.headers as http.OutgoingHttpHeaders | undefined) };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const req = http.request({ host: '127.0.0.1', port, path: HOOK_PATH, method: 'POST', ...extra, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString() }));
      res.on('error', (e) => resolve({ status: res.statusCode, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(data);
  });
}

const hookBody = (event: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  session_id: SID, transcript_path: `/tmp/x/${SID}.jsonl`, cwd: '/tmp/x', hook_event_name: event, ...extra,
});

let fx: Fixture;
beforeEach(() => { fx = new Fixture(); });
afterEach(async () => { await fx.cleanup(); });

async function serverWithEvents(over: Parameters<Fixture['server']>[0] = {}): Promise<{ server: IdeServer; events: HookEvent[] }> {
  const { server } = await fx.server(over);
  const events: HookEvent[] = [];
  server.on('hook', (e: HookEvent) => events.push(e));
  return { server, events };
}

describe('POST /hook', () => {
  test('the right token: 200 with an empty JSON object, and a validated hook event', async () => {
    const { server, events } = await serverWithEvents();
    const before = performance.timeOrigin + performance.now();
    const r = await post(server.port, hookBody('PreToolUse', {
      tool_name: 'Bash', tool_input: { command: 'rm -rf /' }, tool_use_id: 't1', permission_mode: 'default', agent_id: 'a1',
    }), server.hookToken);
    expect(r).toEqual({ status: 200, body: '{}' });
    expect(events).toHaveLength(1);
    const { receivedAt, ...rest } = events[0];
    // Only the fields the status needs; tool input and the like are dropped.
    expect(rest).toEqual({
      event: 'PreToolUse', sessionId: SID, transcriptPath: `/tmp/x/${SID}.jsonl`, cwd: '/tmp/x', agentId: 'a1', toolName: 'Bash',
    });
    expect(receivedAt).toBeGreaterThanOrEqual(before);
    expect(receivedAt).toBeLessThanOrEqual(performance.timeOrigin + performance.now());
  });

  test.each([
    ['no token', undefined],
    ['empty token', ''],
    ['wrong token', '0'.repeat(32)],
    ['a prefix of the token', 'PREFIX'],
    ['the IDE auth token', 'AUTH'],
  ])('%s -> 401, nothing emitted', async (_n, token) => {
    const { server, events } = await serverWithEvents();
    const t = token === 'PREFIX' ? server.hookToken.slice(0, 16) : token === 'AUTH' ? server.authToken : token;
    expect((await post(server.port, hookBody('Stop'), t)).status).toBe(401);
    expect(events).toEqual([]);
  });

  test('a token in another scheme or header -> 401', async () => {
    const { server, events } = await serverWithEvents();
    const basic = await post(server.port, hookBody('Stop'), undefined, { headers: { Authorization: `Basic ${server.hookToken}` } });
    const ide = await post(server.port, hookBody('Stop'), undefined, { headers: { 'x-claude-code-ide-authorization': server.authToken } });
    expect([basic.status, ide.status]).toEqual([401, 401]);
    expect(events).toEqual([]);
  });

  test.each([
    ['not JSON', '{"hook_event_name": '],
    ['empty', ''],
    ['an array', '[]'],
    ['no event name', JSON.stringify({ session_id: SID })],
    ['no session id', JSON.stringify({ hook_event_name: 'Stop' })],
    ['an option for a session id', JSON.stringify({ hook_event_name: 'Stop', session_id: '--dangerously-skip-permissions' })],
    ['a bad event name', JSON.stringify({ hook_event_name: 'Stop; rm', session_id: SID })],
  ])('%s -> 400, nothing emitted', async (_n, body) => {
    const { server, events } = await serverWithEvents();
    expect((await post(server.port, body, server.hookToken)).status).toBe(400);
    expect(events).toEqual([]);
  });

  test('optional fields of the wrong type or shape are dropped, not fatal', async () => {
    const { server, events } = await serverWithEvents();
    const r = await post(server.port, hookBody('Notification', {
      transcript_path: 'relative.jsonl', tool_name: 42, notification_type: { x: 1 }, agent_id: 'x'.repeat(1000),
    }), server.hookToken);
    expect(r.status).toBe(200);
    expect(events.map(({ receivedAt: _r, ...e }) => e)).toEqual([{ event: 'Notification', sessionId: SID, cwd: '/tmp/x' }]);
  });

  test('oversize bodies -> 413, by Content-Length or while streaming; the server goes on', async () => {
    const { server, events } = await serverWithEvents({ maxHookBody: 1024 });
    const big = JSON.stringify(hookBody('PostToolUse', { tool_response: 'x'.repeat(4096) }));
    const declared = await post(server.port, big, server.hookToken);
    // 4 KiB fits the socket buffers, so the answer is always read before the connection closes.
    expect(declared.status).toBe(413);
    // Chunked: no Content-Length, the limit hits while reading.
    const streamed = await new Promise<Reply>((resolve) => {
      const req = http.request({
        host: '127.0.0.1', port: server.port, path: HOOK_PATH, method: 'POST',
        headers: { Authorization: `Bearer ${server.hookToken}`, 'Transfer-Encoding': 'chunked' },
      }, (res) => { res.resume(); resolve({ status: res.statusCode }); });
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code }));
      for (let i = 0; i < 8; i++) req.write(big.slice(i * 512, (i + 1) * 512));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(events).toEqual([]);
    // Just under the limit is fine.
    expect((await post(server.port, hookBody('Stop'), server.hookToken)).status).toBe(200);
    expect(events).toHaveLength(1);
  });

  test('other methods on /hook -> 405; every other path is still WebSocket only (426)', async () => {
    const { server } = await serverWithEvents();
    expect((await post(server.port, '', server.hookToken, { method: 'GET' })).status).toBe(405);
    expect((await post(server.port, '', server.hookToken, { method: 'PUT' })).status).toBe(405);
    expect((await post(server.port, hookBody('Stop'), server.hookToken, { path: '/hooks' })).status).toBe(426);
    // A query string does not change the route.
    expect((await post(server.port, hookBody('Stop'), server.hookToken, { path: `${HOOK_PATH}?x=1` })).status).toBe(200);
  });

  test('garbage, half requests and a throwing listener never take the server down', async () => {
    const { server } = await serverWithEvents();
    server.on('hook', () => { throw new Error('listener bug'); });
    const raw = (text: string, endEarly = false): Promise<void> => new Promise((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => {
        s.write(text);
        if (endEarly) s.destroy(); else s.end();
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
    });
    await raw('\x00\xff garbage\r\n\r\n');
    await raw(`POST ${HOOK_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.hookToken}\r\nContent-Length: 100\r\n\r\n{"hook_`, true);
    await raw(`POST ${HOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`);
    await raw(`POST ${HOOK_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.hookToken}\r\nContent-Length: 2\r\n\r\n\xff\xfe`);
    expect((await post(server.port, hookBody('Stop'), server.hookToken)).status).toBe(200);
    // The WebSocket side is untouched.
    const c = await fx.client(server.port, server.authToken).open();
    expect((await c.handshake()).result).toBeDefined();
  });

  test('a rotated token replaces the old one; a stopped server answers nothing', async () => {
    const { server, events } = await serverWithEvents();
    const old = server.hookToken;
    const fresh = server.rotateHookToken();
    expect(fresh).not.toBe(old);
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect((await post(server.port, hookBody('Stop'), old)).status).toBe(401);
    expect((await post(server.port, hookBody('Stop'), fresh)).status).toBe(200);
    expect(events).toHaveLength(1);
    await server.stop();
    const after = await post(server.port, hookBody('Stop'), fresh);
    expect(after.status === 503 || after.error !== undefined).toBe(true);
  });

  test('two servers: an event reaches only the server it was sent to, and each token opens only its own', async () => {
    const a = await serverWithEvents();
    const b = await serverWithEvents();
    expect(a.server.hookToken).not.toBe(b.server.hookToken);
    expect((await post(a.server.port, hookBody('UserPromptSubmit'), a.server.hookToken)).status).toBe(200);
    expect((await post(b.server.port, hookBody('UserPromptSubmit'), a.server.hookToken)).status).toBe(401);
    expect((await post(a.server.port, hookBody('Stop'), b.server.hookToken)).status).toBe(401);
    expect(a.events.map((e) => e.event)).toEqual(['UserPromptSubmit']);
    expect(b.events).toEqual([]);
  });
});

describe('instances: status from their own hooks', () => {
  async function manager(): Promise<{ m: InstanceManager; changes: Array<{ name: string; change: StatusChange }>; pushes: () => number }> {
    const lockDir = path.join(fx.tmpDir('cw-cfg-'), 'ide');
    let pushes = 0;
    const changes: Array<{ name: string; change: StatusChange }> = [];
    const m = new InstanceManager({
      editorFor: () => new FakeEditor(),
      logFor: () => nullLogger,
      ideName: (name) => `Neovim (${name})`,
      lockDir,
      onChange: () => { pushes++; },
      onStatus: (inst, change) => changes.push({ name: inst.name, change }),
      hookRelay: null,
      log: nullLogger,
    });
    return { m, changes, pushes: () => pushes };
  }

  test('two instances: each status follows only its own claude, with the snapshot fields and onChange', async () => {
    const { m, changes, pushes } = await manager();
    const a = await m.ensure(fx.tmpDir('cw-wt-a-'), 'a');
    const b = await m.ensure(fx.tmpDir('cw-wt-b-'), 'b');
    try {
      expect(a.snapshot()).toMatchObject({ status: 'unknown', waitingFor: null, unseen: false, sessionId: null });
      const launchA = a.claudeLaunch(['--model', 'opus']);
      const tokenA = launchA.env[HOOK_TOKEN_ENV];
      expect(launchA).toEqual({
        args: ['--settings', JSON.stringify(hookSettings(a.server.port, null)), '--model', 'opus'],
        env: { [HOOK_TOKEN_ENV]: a.server.hookToken },
        hooks: true,
      });
      const tokenB = b.claudeLaunch().env[HOOK_TOKEN_ENV];
      const pushesBefore = pushes();

      await post(a.server.port, hookBody('UserPromptSubmit'), tokenA);
      await post(a.server.port, hookBody('PermissionRequest', { tool_name: 'Bash' }), tokenA);
      await post(b.server.port, hookBody('UserPromptSubmit', { session_id: 'b-session' }), tokenB);
      expect(a.snapshot()).toMatchObject({ status: 'waiting', waitingFor: 'permission', unseen: false, sessionId: SID });
      expect(b.snapshot()).toMatchObject({ status: 'busy', waitingFor: null, sessionId: 'b-session' });
      expect(pushes()).toBe(pushesBefore + 3);

      await post(a.server.port, hookBody('PostToolUse', { tool_name: 'Bash' }), tokenA);
      await post(a.server.port, hookBody('Stop'), tokenA);
      const snap = a.snapshot();
      expect(snap).toMatchObject({ status: 'idle', waitingFor: null, unseen: true, sessionId: SID });
      expect(snap.statusChangedAt).toBe(a.statusState.changedAt);
      expect(b.snapshot().status).toBe('busy');

      expect(changes.filter((c) => c.name === a.name).map((c) => `${c.change.cause}:${c.change.next.status}`))
        .toEqual(['UserPromptSubmit:busy', 'PermissionRequest:waiting', 'PostToolUse:busy', 'Stop:idle']);
      expect(changes.filter((c) => c.name === b.name).map((c) => c.change.next.status)).toEqual(['busy']);
      // From the request's arrival to the status change (what the e2e test prints for the real CLI).
      const latencies = changes.map((c) => c.change.latencyMs!);
      expect(latencies.every((l) => l >= 0 && l < 100)).toBe(true);

      const n = pushes();
      expect(a.markSeen()).toBe(true);
      expect(a.snapshot().unseen).toBe(false);
      expect(pushes()).toBe(n + 1);
      expect(a.markSeen()).toBe(false);
      expect(pushes()).toBe(n + 1);
    } finally {
      await m.kill(a);
      await m.kill(b);
    }
  });

  test('a new launch rotates the token and resets the status; exit is a status too; the session id stays', async () => {
    const { m } = await manager();
    const a: Instance = await m.ensure(fx.tmpDir('cw-wt-'), 'main');
    try {
      const first = a.claudeLaunch().env[HOOK_TOKEN_ENV];
      await post(a.server.port, hookBody('UserPromptSubmit'), first);
      a.processExited(0);
      expect(a.snapshot()).toMatchObject({ state: 'exited', status: 'exited', sessionId: SID });
      const second = a.claudeLaunch().env[HOOK_TOKEN_ENV];
      a.processStarted(process.pid, 1);
      expect(a.snapshot()).toMatchObject({ state: 'running', status: 'unknown', sessionId: SID });
      // The first claude's late SessionEnd no longer counts.
      expect((await post(a.server.port, hookBody('SessionEnd', { reason: 'other' }), first)).status).toBe(401);
      expect(a.snapshot().status).toBe('unknown');
      await post(a.server.port, hookBody('SessionEnd', { reason: 'prompt_input_exit' }), second);
      expect(a.snapshot().status).toBe('exited');
    } finally {
      a.process = null; // not ours to kill: it is this test process
      await m.kill(a);
    }
  });

  test('claudeLaunch merges a --settings file of the user, read relative to the worktree', async () => {
    const { m } = await manager();
    const root = fx.tmpDir('cw-wt-');
    fs.writeFileSync(path.join(root, 'mine.json'), JSON.stringify({ model: 'haiku', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'true' }] }] } }));
    const a = await m.ensure(root, 'main');
    try {
      const launch = a.claudeLaunch(['--settings', 'mine.json', '-c']);
      expect(launch.hooks).toBe(true);
      expect(launch.args[0]).toBe('--settings');
      expect(launch.args.slice(2)).toEqual(['-c']);
      const merged = JSON.parse(launch.args[1]);
      expect(merged.model).toBe('haiku');
      expect(merged.hooks.Stop).toHaveLength(2);
      expect(a.claudeLaunch(['--settings', 'missing.json'])).toMatchObject({ args: ['--settings', 'missing.json'], hooks: false });
    } finally {
      await m.kill(a);
    }
  });

  test('an interrupt in the transcript (no hook fires for it) ends a busy turn', async () => {
    const { m, changes } = await manager();
    const a = await m.ensure(fx.tmpDir('cw-wt-'), 'main');
    const transcript = path.join(fx.tmpDir('cw-proj-'), `${SID}.jsonl`);
    fs.writeFileSync(transcript, '');
    try {
      const token = a.claudeLaunch().env[HOOK_TOKEN_ENV];
      await post(a.server.port, hookBody('UserPromptSubmit', { transcript_path: transcript }), token);
      expect(a.statusState.status).toBe('busy');
      fs.appendFileSync(transcript, `${JSON.stringify({ type: 'user', isSidechain: false, message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] } })}\n`);
      await waitFor(() => a.statusState.status === 'idle', 5000, 'idle after the interrupt');
      expect(changes.map((c) => c.change.cause)).toEqual(['UserPromptSubmit', 'interrupted']);
      expect(a.statusState.unseen).toBe(false);
    } finally {
      await m.kill(a);
    }
  });
});

describe('the SessionStart relay (hookRelay.ts, run by node as the CLI would)', () => {
  let dir: string;
  let relay: string;
  beforeAll(() => {
    // Transpiled here, so the test needs no build and runs exactly the source.
    const src = fs.readFileSync(path.join(__dirname, '../../src/claude/hookRelay.ts'), 'utf8');
    const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    dir = tmpDir('cw-relay-');
    relay = path.join(dir, 'hookRelay.js');
    fs.writeFileSync(relay, out.outputText);
  });
  afterAll(() => rmDir(dir));

  function runRelay(url: string, stdin: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [relay, url], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => { stdout += c; });
      p.stderr.on('data', (c: Buffer) => { stderr += c; });
      p.on('close', (code) => resolve({ code, stdout, stderr }));
      p.stdin.end(stdin);
    });
  }

  test('forwards the hook input with the token from the env, prints nothing, exits 0', async () => {
    const { server, events } = await serverWithEvents();
    const url = `http://127.0.0.1:${server.port}${HOOK_PATH}`;
    const r = await runRelay(url, JSON.stringify(hookBody('SessionStart', { source: 'startup', model: 'x' })), { [HOOK_TOKEN_ENV]: server.hookToken });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(events.map((e) => [e.event, e.source, e.sessionId])).toEqual([['SessionStart', 'startup', SID]]);
  });

  test('wrong token, a dead port or a foreign URL: still silent and exit 0', async () => {
    const { server, events } = await serverWithEvents();
    const url = `http://127.0.0.1:${server.port}${HOOK_PATH}`;
    const body = JSON.stringify(hookBody('SessionStart'));
    expect(await runRelay(url, body, { [HOOK_TOKEN_ENV]: 'wrong' })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await runRelay(url, body, {})).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await runRelay('http://127.0.0.1:1/hook', body, { [HOOK_TOKEN_ENV]: server.hookToken })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await runRelay('http://example.com/hook', body, { [HOOK_TOKEN_ENV]: server.hookToken })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(events).toEqual([]);
  });
});
