/**
 * Issue 10 item 5 through a real Neovim and the real host: an instance that cannot start (lock
 * dir not writable or not a directory, no free port in port_range) says so once, naming what to
 * do; the instance started before keeps working; nothing of the failed start is left (no lock
 * file, no listening socket, no instance). A missing CLAUDE_CONFIG_DIR is created, as the CLI does.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { claudeCodeFrom, CAPTURE_NOTIFY_LUA, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

/** Ports the process listens on (TCP, from /proc): what a failed start must not leave behind. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let link = '';
    try { link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { /* closed meanwhile */ }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]);
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9])) ports.push(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports.sort((x, y) => x - y);
}

/** The Node host: the child of Neovim running node-client's cli.js. */
function hostPid(t: TestNvim): number {
  const kids = fs.readFileSync(`/proc/${t.proc.pid}/task/${t.proc.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const host = kids.find((k) => {
    try {
      const cmd = fs.readFileSync(`/proc/${k}/cmdline`, 'utf8');
      return cmd.includes('neovim/bin/cli.js') || cmd.includes('dist/host/loader.js');
    } catch {
      return false;
    }
  });
  if (!host) throw new Error(`no node host among ${kids.join(', ')}`);
  return host;
}

/** Unwritable even for root (CI runs as root): chmod, else the immutable attribute. Returns the undo. */
function makeUnwritable(dir: string): () => void {
  fs.chmodSync(dir, 0o500);
  const writable = () => { try { fs.writeFileSync(path.join(dir, '.probe'), ''); fs.unlinkSync(path.join(dir, '.probe')); return true; } catch { return false; } };
  let immutable = false;
  if (writable()) { cp.execFileSync('chattr', ['+i', dir]); immutable = true; }
  if (writable()) throw new Error(`cannot make ${dir} unwritable for this test`);
  return () => {
    if (immutable) cp.execFileSync('chattr', ['-i', dir]);
    fs.chmodSync(dir, 0o700);
  };
}

async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const p = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const probe = net.createServer();
    const ok = p < 65535 && await new Promise<boolean>((r) => { probe.once('error', () => r(false)); probe.listen(p + 1, '127.0.0.1', () => r(true)); });
    if (ok) await new Promise<void>((r) => probe.close(() => r()));
    if (ok) return p;
  }
  throw new Error('no two free adjacent ports');
}

describe.each(nvimBins())('start failures through :ClaudeCode (%s)', (bin) => {
  let t: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  const undo: Array<() => void | Promise<void>> = [];

  beforeEach(() => { repo = makeRepoWithWorktree(); });
  afterEach(async () => {
    for (const u of undo.splice(0).reverse()) await u();
    if (t && t.proc.exitCode === null) await t.quit();
    if (t) fs.rmSync(t.root, { recursive: true, force: true });
    t = undefined;
    fs.rmSync(repo.base, { recursive: true, force: true });
  });

  const start = async (extra = '') => {
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }${extra} }) ${CAPTURE_NOTIFY_LUA}`);
    return t;
  };
  const claudeCodeIn = async (tt: TestNvim, file: string) => {
    await tt.cmd(`edit ${file}`);
    await tt.cmd('ClaudeCode');
  };
  const instances = (tt: TestNvim) => tt.lua<Array<{ root: string }>>(`return require('claude_worktrees').instances()`);
  /** Start B's instance and connect to it: the instance that must not be affected. */
  const startB = async (tt: TestNvim) => {
    await claudeCodeFrom(tt, path.join(repo.b, 'hello.txt'));
    const lock = await waitFor(() => lockFiles(tt.lockDir)[0], 'B lock file');
    return { lock, port: Number(path.basename(lock.file, '.lock')) };
  };
  const stillWorks = async (tt: TestNvim, b: { lock: { file: string; body: { authToken: string } }; port: number }) => {
    expect(lockFiles(tt.lockDir).map((l) => l.file)).toEqual([b.lock.file]);
    const c = await McpClient.connect(b.port, b.lock.body.authToken);
    try {
      expect(JSON.parse((await c.call('getWorkspaceFolders', {}))[0]).rootPath).toBe(repo.b);
    } finally {
      c.close();
    }
    expect((await instances(tt)).map((i) => i.root)).toEqual([repo.b]);
  };
  const oneNote = async (tt: TestNvim, re: RegExp) => {
    const note = await waitFor(async () => (await notesOf(tt)).find((n) => re.test(n)), `a message matching ${re}`);
    expect((await notesOf(tt)).filter((n) => /ClaudeCode/.test(n))).toEqual([note]);
    return note;
  };

  it('CLAUDE_CONFIG_DIR/ide is a file: one message naming it; no instance, no listening port', async () => {
    const tt = await start();
    fs.writeFileSync(tt.lockDir, 'a file');
    await claudeCodeIn(tt, path.join(repo.a, 'hello.txt'));
    const note = await oneNote(tt, /cannot write the lock file/);
    expect(note).toBe(`claude-worktrees: :ClaudeCode: cannot write the lock file: ${tt.lockDir} is not a directory (EEXIST). Move it away, ` +
      'or set CLAUDE_CONFIG_DIR to a writable directory (the lock file goes to $CLAUDE_CONFIG_DIR/ide)');
    expect(await instances(tt)).toEqual([]);
    expect(listeningPorts(hostPid(tt))).toEqual([]);
    expect(fs.readFileSync(tt.lockDir, 'utf8')).toBe('a file');
  });

  it('a lock dir that cannot be written: one message saying what to do; the running instance is untouched', async () => {
    const tt = await start();
    const b = await startB(tt);
    undo.push(makeUnwritable(tt.lockDir));
    const before = listeningPorts(hostPid(tt));
    await claudeCodeIn(tt, path.join(repo.a, 'hello.txt'));
    const note = await oneNote(tt, /cannot write the lock file/);
    expect(note).toContain(`cannot write the lock file in ${tt.lockDir}: permission denied`);
    expect(note).toMatch(/chmod u\+rwx|CLAUDE_CONFIG_DIR/);
    expect(listeningPorts(hostPid(tt))).toEqual(before);
    await stillWorks(tt, b);
    expect(await tt.lua<boolean>('return vim.api.nvim_get_mode().blocking')).toBe(false);
  });

  it('no free port in port_range: one message naming the range; the instance holding it is untouched', async () => {
    const lo = await freePortPair();
    const tt = await start(`, port_range = { ${lo}, ${lo} }`);
    const b = await startB(tt);
    expect(b.port).toBe(lo);
    await claudeCodeIn(tt, path.join(repo.a, 'hello.txt'));
    const note = await oneNote(tt, /no free port/);
    expect(note).toContain(`no free port in ${lo}-${lo} (port_range`);
    expect(note).toMatch(/widen port_range/);
    expect(listeningPorts(hostPid(tt))).toEqual([lo]);
    await stillWorks(tt, b);
  });

  it('CLAUDE_CONFIG_DIR pointing at a missing dir: created 0700, the instance and its claude work', async () => {
    const tt = await start();
    const cfg = tt.env.CLAUDE_CONFIG_DIR!;
    fs.rmSync(cfg, { recursive: true, force: true });
    await claudeCodeIn(tt, path.join(repo.a, 'hello.txt'));
    const lock = await waitFor(() => lockFiles(tt.lockDir)[0], 'lock file');
    expect(fs.statSync(cfg).mode & 0o777).toBe(0o700);
    expect(fs.statSync(tt.lockDir).mode & 0o777).toBe(0o700);
    expect(lock.body.workspaceFolders).toEqual([repo.a]);
    // The fake claude read that lock file and connected.
    await waitFor(async () => (await tt.lua<Array<{ connected: boolean }>>(`return require('claude_worktrees').instances()`))[0]?.connected, 'claude connected');
    expect((await notesOf(tt)).filter((n) => /ClaudeCode/.test(n))).toEqual([]);
  });
});
