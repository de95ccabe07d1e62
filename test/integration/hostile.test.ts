/**
 * Issue 10 item 4: 10,000 generated WebSocket frames and JSON-RPC messages against ONE instance
 * of the real plugin (real Neovim, real Node host, the instance's own port and token). Part of
 * them go over raw TCP after a hand-made upgrade, since no WebSocket library sends malformed
 * frames; the rest over ordinary `ws` connections, pipelined. Asserted: every request gets one
 * spec-conform answer (and nothing else does), no byte below the repo's parent dir changes, no
 * content of a file outside the worktree reaches a client, modified buffers keep their edits,
 * and the host and the instance keep serving. The seed is printed on failure
 * (CW_HOSTILE_SEED=<n> replays it).
 */
import * as cp from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import WebSocket from 'ws';
import { CAPTURE_NOTIFY_LUA, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, openInstanceClient, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';
import { prng } from '../helpers/prng';
import { snapshot } from '../helpers/snapshot';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
const TOTAL = 10_000;
const AUTH = 'x-claude-code-ide-authorization';

// ---- what an answer must look like -----------------------------------------------------------

/** What one message expects back: an answer for this id (with this code, if an error is required), a null-id error, or nothing. */
type Expect =
  | { kind: 'answer'; id: unknown; code?: number; message?: RegExp }
  | { kind: 'null'; code: number }
  | { kind: 'none' };

interface Frame { text: string | Buffer; binary?: boolean; expect: Expect; what: string }

/** Checks one JSON-RPC response object against the spec; returns a problem or null. */
function specProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not an object';
  const o = m as Record<string, unknown>;
  if (o.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  if (!('id' in o)) return 'no id';
  if (!(typeof o.id === 'string' || typeof o.id === 'number' || o.id === null)) return 'bad id type';
  if (('result' in o) === ('error' in o)) return 'not exactly one of result/error';
  if ('error' in o) {
    const e = o.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) return 'error is not an object';
    if (!Number.isInteger(e.code)) return 'error.code is not an integer';
    if (typeof e.message !== 'string') return 'error.message is not a string';
  }
  return null;
}

/** Collects answers of one connection and compares them with what was sent. */
class Ledger {
  private readonly want = new Map<string, Extract<Expect, { kind: 'answer' }> & { what: string }>();
  private readonly nullWant: number[] = [];
  private readonly nullGot: number[] = [];
  readonly problems: string[] = [];
  answered = 0;
  expected = 0;

  constructor(private readonly secret: string) {}

  sent(f: Frame): void {
    if (f.expect.kind === 'answer') {
      const key = JSON.stringify(f.expect.id);
      if (this.want.has(key)) throw new Error(`generator reused id ${key}`);
      this.want.set(key, { ...f.expect, what: f.what });
      this.expected++;
    } else if (f.expect.kind === 'null') {
      this.nullWant.push(f.expect.code);
      this.expected++;
    }
  }

  got(text: string): void {
    if (text.includes(this.secret)) this.problems.push(`a frame carried the content of a file outside the worktree: ${text.slice(0, 200)}`);
    let m: unknown;
    try { m = JSON.parse(text); } catch { this.problems.push(`server sent invalid JSON: ${text.slice(0, 200)}`); return; }
    if (typeof m === 'object' && m !== null && !Array.isArray(m) && typeof (m as { method?: unknown }).method === 'string' && !('id' in m)) {
      return; // a notification of ours (selection_changed, ...)
    }
    const bad = specProblem(m);
    if (bad) { this.problems.push(`${bad}: ${text.slice(0, 200)}`); return; }
    const o = m as { id: unknown; error?: { code: number; message: string } };
    if (o.id === null) {
      if (!o.error) this.problems.push(`result with id null: ${text.slice(0, 200)}`);
      else this.nullGot.push(o.error.code);
      this.answered++;
      return;
    }
    const key = JSON.stringify(o.id);
    const w = this.want.get(key);
    if (!w) { this.problems.push(`an answer nobody asked for (or a second one) for id ${key.slice(0, 80)}: ${text.slice(0, 200)}`); return; }
    this.want.delete(key);
    this.answered++;
    if (w.code !== undefined && o.error?.code !== w.code) {
      this.problems.push(`${w.what}: wanted error ${w.code}, got ${text.slice(0, 300)}`);
    } else if (w.message && !(o.error && w.message.test(o.error.message))) {
      this.problems.push(`${w.what}: wanted an error matching ${w.message}, got ${text.slice(0, 300)}`);
    }
  }

  /** Everything asked was answered once, nulls included, and the null-id codes match. */
  final(): string[] {
    const out = [...this.problems];
    for (const [key, w] of this.want) out.push(`no answer for id ${key.slice(0, 80)} (${w.what})`);
    const a = [...this.nullWant].sort().join(',');
    const b = [...this.nullGot].sort().join(',');
    if (a !== b) out.push(`null-id errors: wanted [${a.slice(0, 200)}], got [${b.slice(0, 200)}]`);
    return out;
  }
}

// ---- the generator ---------------------------------------------------------------------------

interface Paths {
  /** Refused by every path tool as outside the worktree. */
  outside: string[];
  /** Inside, but not a regular file (directories, a FIFO): openFile refuses them. */
  special: string[];
  /** Inside, regular files (one binary) that tools may really open; saveDocument may target them. */
  regular: string[];
  /** The inside file with a user's unsaved edit: never saved by this test. */
  dirty: string;
  root: string;
}

const TOOLS_NO_ARGS = ['getCurrentSelection', 'getLatestSelection', 'getOpenEditors', 'getWorkspaceFolders', 'closeAllDiffTabs'];
const PATH_TOOLS = ['openFile', 'checkDocumentDirty', 'saveDocument'];
const WRONG_TYPES: unknown[] = [5, -1.5, true, false, null, {}, [], ['a'], { filePath: 'x' }];

function generator(rand: () => number, p: Paths) {
  let n = 0;
  let opens = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const id = (): unknown => {
    n++;
    return pick([
      () => n, () => -n, () => n + 0.25, () => n * 1e7, () => `s${n}`, () => `ü€𝄞\u2028${n}`,
      () => `${'x'.repeat(8000 + Math.floor(rand() * 4000))}${n}`, () => `${n}`, () => Number.MAX_SAFE_INTEGER - n,
      () => ` ${n} `, () => `{"id":${n}}`,
    ])();
  };
  const req = (method: string, params: unknown, expect: Omit<Extract<Expect, { kind: 'answer' }>, 'kind' | 'id'> = {}, what = method): Frame => {
    const i = id();
    const msg: Record<string, unknown> = { jsonrpc: '2.0', id: i, method };
    if (params !== undefined) msg.params = params;
    return { text: JSON.stringify(msg), expect: { kind: 'answer', id: i, ...expect }, what };
  };
  const call = (name: string, args: unknown, expect: Omit<Extract<Expect, { kind: 'answer' }>, 'kind' | 'id'> = {}, what = `${name} ${JSON.stringify(args)?.slice(0, 120)}`) =>
    req('tools/call', { name, arguments: args, _meta: { 'claudecode/toolUseId': `t${n}` } }, expect, what);
  const OUTSIDE = { code: -32602, message: /outside this instance's worktree/ };
  const refusedPath = (): { value: string; outside: boolean } => {
    const r = rand();
    if (r < 0.6) return { value: pick(p.outside), outside: true };
    if (r < 0.7) return { value: pick(['', 'a\0b', `${p.root}/hello.txt\0.png`]), outside: false };
    return { value: pick(p.special), outside: false };
  };

  const kinds: Array<[number, () => Frame]> = [
    // Fine requests with odd but legal ids.
    [8, () => req(pick(['ping', 'tools/list', 'prompts/list', 'resources/list']), pick([undefined, {}, { x: 1 }]))],
    [2, () => req('initialize', pick([{}, { protocolVersion: 5 }, { protocolVersion: '1999-01-01' }, { protocolVersion: '2024-11-05', capabilities: null }]))],
    // Not JSON.
    [5, () => ({ text: pick(['', '{', '}', 'nul', '{"jsonrpc":"2.0","id":1,"method":"ping"', '{"jsonrpc":"2.0","id":1,"method":"ping"}x', '\u0000', '{\'a\':1}',
      '[1,2', '{"a":NaN}', '\ufeff', crypto.randomBytes(24).toString('base64'), '{"jsonrpc":"2.0","id":1,"method":"ping",}']),
    expect: { kind: 'null', code: -32700 }, what: 'parse error' })],
    // JSON, but not a request: batches, primitives, bad ids.
    [5, () => ({ text: pick(['[]', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', '[[]]', '[1,2,3]', '42', '"ping"', 'null', 'true',
      '{"jsonrpc":"2.0","id":{},"method":"ping"}', '{"jsonrpc":"2.0","id":[1],"method":"ping"}', '{"jsonrpc":"2.0","id":true,"method":"ping"}',
      '{"jsonrpc":"2.0","id":null,"method":"ping"}', '{"jsonrpc":"2.0"}', '{}', '{"jsonrpc":"2.0","id":null}']),
    expect: { kind: 'null', code: -32600 }, what: 'invalid request without a usable id' })],
    [3, () => {
      const i = id();
      const shape = pick([{ method: 'ping' }, { jsonrpc: '1.0', method: 'ping' }, { jsonrpc: 2, method: 'ping' }, { jsonrpc: '2.0', method: 7 },
        { jsonrpc: '2.0', method: null }, { jsonrpc: '2.0' }, { jsonrpc: '2.0', method: ['ping'] }]);
      return { text: JSON.stringify({ ...shape, id: i }), expect: { kind: 'answer', id: i, code: -32600 }, what: `invalid request ${JSON.stringify(shape)}` };
    }],
    // Notifications get no answer, whatever they say.
    [5, () => ({ text: JSON.stringify(pick<Record<string, unknown>>([
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: pick([1, 'x', null, {}, -1]) } },
      { jsonrpc: '2.0', method: 'ide_connected', params: pick([{ pid: 'x' }, { pid: -4 }, { pid: 1.5 }, {}, null, [], 5]) },
      { jsonrpc: '2.0', method: 'no/such/notification', params: { a: 1 } },
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'saveDocument', arguments: { filePath: pick(p.outside) } } },
      { jsonrpc: '2.0', method: 'initialize' },
      { jsonrpc: '2.0', method: '' },
    ])), expect: { kind: 'none' }, what: 'notification' })],
    // Responses from the client to requests we never sent: ignored.
    [1, () => ({ text: JSON.stringify({ jsonrpc: '2.0', id: id(), result: {} }), expect: { kind: 'none' }, what: 'stray response' })],
    // Binary frames are not JSON-RPC on this socket: no answer.
    [2, () => ({ text: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })), binary: true, expect: { kind: 'none' }, what: 'binary frame' })],
    // Unknown methods.
    [4, () => req(pick(['no/such', 'tools/ca11', 'TOOLS/LIST', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'rpc.discover', '', 'x'.repeat(5000), 'tools/call/']),
      {}, { code: -32601 })],
    // tools/call with bad params.
    [4, () => req('tools/call', pick([undefined, null, 5, 'openFile', [], ['openFile'], {}, { name: 5 }, { name: null }, { name: 'nope' }, { name: 'openfile' },
      { name: 'openFile', arguments: 'x' }, { name: 'getOpenEditors', arguments: 5 }, { name: 'getOpenEditors', arguments: [] },
      { name: '__proto__' }, { name: 'constructor' }]), { code: -32602 })],
    // Every tool: wrong types and missing required arguments.
    [10, () => {
      const name = pick(PATH_TOOLS);
      return call(name, pick([{}, { filePath: pick(WRONG_TYPES) }, { path: `${p.root}/hello.txt` }]), { code: -32602 });
    }],
    [4, () => call('openFile', { filePath: pick(p.regular), ...pick<Record<string, unknown>>([{ preview: 'yes' }, { startLine: 1.5 }, { endLine: '3' },
      { startText: 5 }, { endText: [] }, { selectToEndOfLine: 1 }, { makeFrontmost: 'no' }]) }, { code: -32602 })],
    [6, () => {
      const good = { old_file_path: `${p.root}/hello.txt`, new_file_path: `${p.root}/hello.txt`, new_file_contents: 'x\n', tab_name: `t${n}` };
      const key = pick(Object.keys(good)) as keyof typeof good;
      const bad: Record<string, unknown> = { ...good };
      if (rand() < 0.5) delete bad[key];
      else bad[key] = pick(WRONG_TYPES);
      return call('openDiff', pick([bad, 'x', 5, []]), { code: -32602 });
    }],
    [3, () => call('close_tab', pick([{}, { tab_name: pick(WRONG_TYPES) }, 'x']), { code: -32602 })],
    [3, () => call('getDiagnostics', { uri: pick([5, true, {}, [], -1]) }, { code: -32602 })],
    [3, () => call(pick([...TOOLS_NO_ARGS, 'getDiagnostics']), pick([5, 'x', true, []]), { code: -32602 })],
    // Extra and unknown arguments: any spec-conform answer.
    [6, () => call(pick([...TOOLS_NO_ARGS, 'getDiagnostics']), pick([undefined, null, {}, { x: 1 }, { filePath: pick(p.outside) }, { uri: null }]))],
    [2, () => call('close_tab', { tab_name: pick(['', 'none', '✻ [Claude Code] hello.txt (abc) ⧉', 'x'.repeat(3000)]), extra: 1 })],
    // Paths that must be refused: outside (absolute, ../, symlinks out, the other worktree), and not a regular file.
    [25, () => {
      const name = pick(PATH_TOOLS);
      const r = refusedPath();
      // checkDocumentDirty opens nothing: for an inside directory or FIFO it may just say "not open".
      const expect = r.outside ? OUTSIDE : name === 'checkDocumentDirty' ? {} : { code: -32602 };
      return call(name, { filePath: r.value, ...(name === 'openFile' && rand() < 0.5 ? { makeFrontmost: rand() < 0.5, startText: 'secret' } : {}) }, expect);
    }],
    [6, () => {
      const r = pick(p.outside);
      const uri = pick([r, `file://${r}`, `file://${encodeURI(r)}`, `file://${r.replace(/\//g, '%2F')}`]);
      // '%2F' is not a separator in a file URI: that one is a name, refused or not found, never a read outside.
      return call('getDiagnostics', { uri }, uri.includes('%2F') ? {} : OUTSIDE);
    }],
    [8, () => {
      const r = refusedPath();
      const other = pick([...p.regular.filter((f) => path.isAbsolute(f)), `${p.root}/new-file.txt`]);
      const [oldP, newP] = rand() < 0.5 ? [r.value, other] : [other, r.value];
      const relative = rand() < 0.15 || !path.isAbsolute(r.value);
      const args = {
        old_file_path: relative ? 'hello.txt' : oldP, new_file_path: relative ? 'hello.txt' : newP,
        new_file_contents: pick(['x\n', '', '\u0000'.repeat(10)]), tab_name: `hostile ${n}`,
      };
      // Refused before any diff opens: nothing here ever waits for the user.
      return call('openDiff', args, relative || !r.outside ? { code: -32602 } : OUTSIDE);
    }],
    // Allowed calls on regular files inside (one binary): they really run, in Neovim; capped.
    [2, () => {
      if (opens >= 60) return req('ping', {});
      opens++;
      return call('openFile', { filePath: pick([...p.regular, p.dirty]), makeFrontmost: rand() < 0.7, startText: pick([undefined, 'hello', '\u0000', 'nope']) });
    }],
    [3, () => call(pick(['checkDocumentDirty', 'saveDocument']), { filePath: pick(p.regular) })],
    [2, () => call('checkDocumentDirty', { filePath: p.dirty })],
  ];
  const total = kinds.reduce((s, [w]) => s + w, 0);
  return (): Frame => {
    let r = rand() * total;
    for (const [w, make] of kinds) {
      if ((r -= w) < 0) return make();
    }
    return kinds[0][1]();
  };
}

// ---- raw frames -------------------------------------------------------------------------------

function wsFrame(o: { opcode: number; payload?: Buffer | string; fin?: boolean; rsv?: number; mask?: boolean; claim?: bigint }): Buffer {
  const payload = typeof o.payload === 'string' ? Buffer.from(o.payload) : o.payload ?? Buffer.alloc(0);
  const mask = o.mask ?? true;
  const len = o.claim ?? BigInt(payload.length);
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | o.opcode];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(Number(len)); }
  else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(len); }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

interface RawCase {
  what: string;
  frames: Buffer[];
  /** ids of pings among the frames that must be answered */
  ids: string[];
  /** Close codes the server may send (a plain TCP close is fine too), or 'none' for a legal sequence. */
  closes: number[] | 'none';
  /** Half-close our side after the frames. */
  end?: boolean;
}

function rawCases(rand: () => number): () => RawCase {
  let n = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const ping = () => {
    const id = `raw${++n}`;
    return { id, frame: wsFrame({ opcode: 1, payload: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }) }) };
  };
  const bad: Array<[string, () => Buffer[], number[]]> = [
    ['unmasked client frame', () => [wsFrame({ opcode: 1, payload: '{"jsonrpc":"2.0","id":1,"method":"ping"}', mask: false })], [1002]],
    ['reserved bits', () => [wsFrame({ opcode: 1, payload: '{}', rsv: pick([1, 2, 4, 7]) })], [1002]],
    ['bad opcode', () => [wsFrame({ opcode: pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload: 'x' })], [1002]],
    ['continuation without a start', () => [wsFrame({ opcode: 0, payload: '{}' })], [1002]],
    ['a new text frame inside a fragmented one', () => [wsFrame({ opcode: 1, payload: '{"a":', fin: false }), wsFrame({ opcode: 1, payload: '1}' })], [1002]],
    ['fragmented control frame', () => [wsFrame({ opcode: 9, payload: 'p', fin: false })], [1002]],
    ['control frame over 125 bytes', () => [wsFrame({ opcode: 9, payload: 'p'.repeat(126 + Math.floor(rand() * 200)) })], [1002]],
    ['invalid UTF-8 text', () => [wsFrame({ opcode: 1, payload: pick([Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from('{"a":"\xed\xa0\x80"}', 'latin1'), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])]) })], [1007]],
    ['invalid UTF-8 across fragments', () => [wsFrame({ opcode: 1, payload: Buffer.from([0x7b, 0xe2, 0x82]), fin: false }), wsFrame({ opcode: 0, payload: Buffer.from([0x28, 0x7d]) })], [1007]],
    ['over maxPayload (64 MiB) by the header alone', () => [wsFrame({ opcode: pick([1, 2]), claim: pick([64n * 1024n * 1024n + 1n, 1n << 40n, (1n << 53n) - 1n]) })], [1009]],
    ['length with the top bit set', () => [wsFrame({ opcode: 1, claim: 1n << 63n })], [1009, 1002]],
    ['close with an illegal code', () => { const b = Buffer.alloc(2); b.writeUInt16BE(pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000])); return [wsFrame({ opcode: 8, payload: b })]; }, [1002]],
    ['close with a 1-byte payload', () => [wsFrame({ opcode: 8, payload: Buffer.from([3]) })], [1002]],
  ];
  return (): RawCase => {
    const before = ping();
    if (rand() < 0.25) {
      // Legal but unusual: a request split in fragments with a ping between them; a binary frame; an empty text frame.
      const id = `raw${++n}`;
      const text = JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' });
      const cut = 1 + Math.floor(rand() * (text.length - 2));
      return {
        what: 'fragments with an interleaved ping, a binary frame, an empty text frame',
        frames: [before.frame, wsFrame({ opcode: 1, payload: text.slice(0, cut), fin: false }), wsFrame({ opcode: 9, payload: 'hi' }),
          wsFrame({ opcode: 0, payload: text.slice(cut) }), wsFrame({ opcode: 2, payload: Buffer.from(text) }), wsFrame({ opcode: 1, payload: '' })],
        ids: [before.id, id],
        closes: 'none',
      };
    }
    if (rand() < 0.05) {
      // A frame cut short, then EOF: the server must not wait for the rest forever.
      return { what: 'a frame cut short, then EOF', frames: [before.frame, wsFrame({ opcode: 1, payload: 'x'.repeat(1000) }).subarray(0, 20)], ids: [before.id], closes: [1006, 1000, 1001], end: true };
    }
    const [what, make, closes] = pick(bad);
    return { what, frames: [before.frame, ...make()], ids: [before.id], closes };
  };
}

/** One raw connection: upgrade by hand, send the frames, read until the server closes (or, for legal cases, all answers came). */
function runRaw(port: number, token: string, c: RawCase, ledgerSecret: string): Promise<string[]> {
  return new Promise((resolve) => {
    const problems: string[] = [];
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const answered = new Set<string>();
    let closeCode: number | null = null;
    let settled = false;
    const finish = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (!upgraded) problems.push(`${c.what}: upgrade failed (${why})`);
      for (const id of c.ids) if (!answered.has(id)) problems.push(`${c.what}: no answer for ${id} (${why})`);
      if (c.closes !== 'none') {
        if (closeCode === null && why !== 'tcp closed') problems.push(`${c.what}: the server did not close the connection (${why})`);
        else if (closeCode !== null && !c.closes.includes(closeCode)) problems.push(`${c.what}: closed with ${closeCode}, wanted ${c.closes.join('/')}`);
      } else if (closeCode !== null && closeCode !== 1000) problems.push(`${c.what}: a legal sequence was closed with ${closeCode}`);
      resolve(problems);
    };
    const timer = setTimeout(() => finish('timeout'), 15_000);
    s.on('error', () => finish('tcp error'));
    s.on('close', () => finish('tcp closed'));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) { finish(head.split('\r\n')[0]); return; }
        upgraded = true;
        buf = buf.subarray(end + 4);
        s.write(Buffer.concat(c.frames));
        if (c.end) s.end();
      }
      // Server frames are never masked.
      for (;;) {
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 1) {
          const text = payload.toString('utf8');
          if (text.includes(ledgerSecret)) problems.push(`${c.what}: secret in a frame`);
          const m = JSON.parse(text) as { id?: string; result?: unknown };
          const bad = specProblem(m);
          if (bad) problems.push(`${c.what}: ${bad}`);
          if (typeof m.id === 'string') answered.add(m.id);
          if (c.closes === 'none' && c.ids.every((id) => answered.has(id))) {
            const code = Buffer.alloc(2);
            code.writeUInt16BE(1000);
            s.write(wsFrame({ opcode: 8, payload: code }));
          }
        } else if (op === 8) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        }
      }
    });
    s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: mcp\r\n${AUTH}: ${token}\r\n\r\n`);
  });
}

// ---- the test ----------------------------------------------------------------------------------

describe.each(nvimBins())('10,000 hostile frames and messages against one instance (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let client: McpClient | undefined;
  const sockets: WebSocket[] = [];

  afterAll(async () => {
    for (const s of sockets) s.terminate();
    client?.close();
    if (t && t.proc.exitCode === null) await t.quit();
    if (t) fs.rmSync(t.root, { recursive: true, force: true });
    if (repo) fs.rmSync(repo.base, { recursive: true, force: true });
  });

  it('answers every request to spec, touches nothing outside, keeps edits, and keeps serving', async () => {
    const seed = Number(process.env.CW_HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    try {
      repo = makeRepoWithWorktree();
      const secret = `SECRET-${crypto.randomBytes(8).toString('hex')}`;
      const outside = path.join(repo.base, 'outside');
      fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
      fs.writeFileSync(path.join(outside, 'secret.txt'), `${secret}\n`);
      fs.writeFileSync(path.join(outside, 'dir', 'linked.txt'), `${secret} linked\n`);
      fs.writeFileSync(path.join(outside, 'bin.dat'), Buffer.concat([Buffer.from(secret), crypto.randomBytes(4096)]));
      const a = repo.a;
      fs.writeFileSync(path.join(a, 'bin.dat'), Buffer.concat([Buffer.from([0, 1, 2, 0xff]), crypto.randomBytes(4092)]));
      fs.writeFileSync(path.join(a, 'dirty.txt'), 'on disk\n');
      fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(a, 'link.txt'));
      fs.symlinkSync(path.join(outside, 'dir'), path.join(a, 'linkdir'));
      fs.symlinkSync(path.join(a, 'nowhere'), path.join(a, 'dangling.txt'));
      fs.symlinkSync(path.join(a, 'loop2'), path.join(a, 'loop1'));
      fs.symlinkSync(path.join(a, 'loop1'), path.join(a, 'loop2'));
      cp.execFileSync('mkfifo', [path.join(a, 'pipe')]);
      const paths: Paths = {
        root: a,
        dirty: path.join(a, 'dirty.txt'),
        regular: [path.join(a, 'hello.txt'), path.join(a, 'src', 'main.ts'), path.join(a, 'bin.dat'), 'hello.txt', './src/../hello.txt'],
        special: [path.join(a, 'src'), a, '.', 'src/', path.join(a, 'pipe'), 'pipe'],
        outside: [
          path.join(outside, 'secret.txt'), path.join(outside, 'bin.dat'), path.join(outside, 'dir'), '../outside/secret.txt', 'src/../../outside/secret.txt',
          `${a}/../outside/secret.txt`, `${a}/./../outside/dir/linked.txt`, '../../../../../../etc/passwd', '/etc/passwd', '/etc/shadow', '/proc/self/environ',
          '/dev/zero', '/dev/null', '/', '..', path.join(a, 'link.txt'), 'link.txt', path.join(a, 'linkdir', 'linked.txt'), 'linkdir/linked.txt', 'linkdir',
          path.join(a, 'dangling.txt'), 'loop1', path.join(a, 'loop2'), path.join(repo.b, 'hello.txt'), '../proj-feat/hello.txt', repo.b, `${a}-feat/x`,
          `${a}x/hello.txt`, repo.base, '~/../../etc/passwd'.replace('~', '/root'),
        ],
      };
      const rand = prng(seed);

      t = await startNvim(bin, a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } }) ${CAPTURE_NOTIFY_LUA}`);
      // Unsaved edits made by the user: outside, in the other worktree, and inside (never saved here).
      const edits = new Map([[path.join(outside, 'secret.txt'), `unsaved outside ${secret}`], [path.join(repo.b, 'hello.txt'), 'unsaved in the other worktree'],
        [paths.dirty, 'unsaved inside']]);
      for (const [file, line] of edits) {
        await t.cmd(`badd ${file}`);
        await t.lua(`local b = require('claude_worktrees.util').buf_of(...)
          vim.fn.bufload(b) vim.api.nvim_buf_set_lines(b, 0, 1, false, { select(2, ...) })`, file, line);
      }
      client = await openInstanceClient(t, path.join(a, 'hello.txt'));
      const lock = lockFiles(t.lockDir)[0];
      const port = Number(path.basename(lock.file, '.lock'));
      const hostPid = lock.body.pid;
      const before = snapshot(repo.base);
      const started = Date.now();

      // Raw frames first: about 1,200 frames over ~300 connections, 16 at a time.
      const nextRaw = rawCases(rand);
      const problems: string[] = [];
      let frames = 0;
      const raws: RawCase[] = [];
      while (frames < 1200) {
        const c = nextRaw();
        raws.push(c);
        frames += c.frames.length;
      }
      for (let i = 0; i < raws.length; i += 16) {
        const batch = await Promise.all(raws.slice(i, i + 16).map((c) => runRaw(port, lock.body.authToken, c, secret)));
        problems.push(...batch.flat());
      }
      expect(problems.slice(0, 20)).toEqual([]);

      // The rest as JSON-RPC over 4 ordinary connections, pipelined in rounds of 500 per connection.
      const conns = await Promise.all([0, 1, 2, 3].map(async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'mcp', { headers: { [AUTH]: lock.body.authToken } });
        sockets.push(ws);
        await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
        const ledger = new Ledger(secret);
        ws.on('message', (d, isBinary) => { if (isBinary) ledger.problems.push('a binary frame from the server'); else ledger.got(d.toString()); });
        return { ws, ledger };
      }));
      const next = generator(rand, paths);
      let sent = frames;
      while (sent < TOTAL) {
        for (const { ws, ledger } of conns) {
          for (let i = 0; i < 500 && sent < TOTAL; i++, sent++) {
            const f = next();
            ledger.sent(f);
            ws.send(f.text, { binary: f.binary === true });
          }
        }
        const allIn = await waitFor(() => conns.every(({ ledger }) => ledger.answered >= ledger.expected), 'answers', 40_000, 20).then(() => true, () => false);
        if (!allIn) {
          for (const { ledger } of conns) problems.push(...ledger.final());
          throw new Error(`not every request was answered within 40 s after ${sent} messages: ${problems.slice(0, 20).join('\n')}`);
        }
      }
      // One more round trip per connection after everything: nothing answered late, nothing extra.
      for (const { ws, ledger } of conns) {
        const f: Frame = { text: '{"jsonrpc":"2.0","id":"last","method":"ping"}', expect: { kind: 'answer', id: 'last' }, what: 'last ping' };
        ledger.sent(f);
        ws.send(f.text);
      }
      await waitFor(() => conns.every(({ ledger }) => ledger.answered >= ledger.expected), 'the last pings', 10_000, 20);
      for (const { ledger } of conns) problems.push(...ledger.final());
      expect(problems.slice(0, 20)).toEqual([]);
      expect(sent).toBe(TOTAL);

      // Nothing below the repo's parent changed: outside, the other worktree, and inside too
      // (saveDocument only met unmodified buffers here, and must not rewrite them).
      expect(snapshot(repo.base)).toEqual(before);
      // The user's edits are all still there, unsaved.
      for (const [file, line] of edits) {
        expect(await t.lua(`local b = require('claude_worktrees.util').buf_of(...)
          return { vim.api.nvim_buf_get_lines(b, 0, 1, false)[1], vim.bo[b].modified }`, file)).toEqual([line, true]);
      }
      // No buffer for a file outside the worktree other than the user's own.
      const names = await t.lua<string[]>(`local out = {} for _, b in ipairs(vim.api.nvim_list_bufs()) do
        table.insert(out, vim.api.nvim_buf_get_name(b)) end return out`);
      // The claude terminal is named claude://<name> (term:// on some versions).
      const foreign = names.filter((n) => n !== '' && !/^[a-z]+:\/\//.test(n) && !n.startsWith(a + path.sep) && !edits.has(n));
      expect(foreign).toEqual([]);

      // Neovim answers at once, the host is alive and serves commands, the instance a fresh client.
      const mode = await Promise.race([t.nvim.request('nvim_get_mode', []) as Promise<{ blocking: boolean }>,
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('nvim_get_mode took over 1 s')), 1000))]);
      expect(mode.blocking).toBe(false);
      expect(pidAlive(hostPid)).toBe(true);
      // A sync remote function: a round trip Neovim -> Node host -> Neovim (no echo, no prompt).
      expect(typeof await t.lua('return vim.fn.ClaudeWorktreesSync()')).toBe('number');
      expect(lockFiles(t.lockDir).map((l) => l.file)).toEqual([lock.file]);
      const fresh = await McpClient.connect(port, lock.body.authToken);
      try {
        expect(JSON.parse((await fresh.call('getWorkspaceFolders', {}))[0]).rootPath).toBe(a);
      } finally {
        fresh.close();
      }
      expect((await client.request('ping', {})).result).toEqual({});
      expect((await notesOf(t)).filter((m) => /error|failed/i.test(m))).toEqual([]);
      // Printed so a slow machine shows up in the log before it becomes a timeout.
      process.stderr.write(`hostile (${bin}): ${TOTAL} frames/messages in ${Date.now() - started} ms, seed ${seed}\n`);
    } catch (err) {
      const e = err as Error;
      e.message = `seed ${seed} (replay with CW_HOSTILE_SEED=${seed}): ${e.message}`;
      throw e;
    }
  }, 120_000);
});
