import * as cp from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { attach, type NeovimClient } from 'neovim';
import { McpClient } from './mcpClient';
import { rmDir, sharedDir, tmpDir } from './tmp';
import { waitFor } from './waitFor';

export const REPO = path.resolve(__dirname, '../..');
const HOST_PROG = path.join(REPO, 'node_modules/neovim/bin/cli.js');

/**
 * The Neovims to test on: $CW_NVIM_BINS (':'-separated), else `nvim` on PATH plus
 * .cache/nvim-0.10/bin/nvim when present. In CI both versions are required.
 */
export function nvimBins(): string[] {
  const env = process.env.CW_NVIM_BINS;
  const bins = env ? env.split(':').filter(Boolean) : ['nvim', path.join(REPO, '.cache/nvim-0.10/bin/nvim')].filter(
    (b) => b === 'nvim' || fs.existsSync(b));
  if (process.env.CI && bins.length < 2) throw new Error(`CI needs two Neovims (0.7.2 and 0.10.x); have ${bins.join(', ')}`);
  return bins;
}

export function versionOf(bin: string): string {
  const out = cp.execFileSync(bin, ['--version'], { encoding: 'utf8' });
  return out.split('\n')[0].replace('NVIM ', '');
}

/**
 * A private HOME, XDG dirs, CLAUDE_CONFIG_DIR, TMPDIR and XDG_RUNTIME_DIR (Neovim's tempname()
 * dirs and server sockets, claude's temp files) under root: nothing touches the machine's own,
 * and removing root removes all of it.
 */
export function isolatedEnv(root: string): NodeJS.ProcessEnv {
  const dirs = {
    HOME: path.join(root, 'home'),
    XDG_CONFIG_HOME: path.join(root, 'xdg/config'),
    XDG_DATA_HOME: path.join(root, 'xdg/data'),
    XDG_STATE_HOME: path.join(root, 'xdg/state'),
    XDG_CACHE_HOME: path.join(root, 'xdg/cache'),
    XDG_RUNTIME_DIR: path.join(root, 'run'),
    TMPDIR: path.join(root, 'tmp'),
    CLAUDE_CONFIG_DIR: path.join(root, 'claude'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, ...dirs, NVIM_RPLUGIN_MANIFEST: path.join(root, 'rplugin.vim') };
  delete env.NVIM;
  delete env.NVIM_LISTEN_ADDRESS;
  delete env.CLAUDE_CODE_SSE_PORT;
  return env;
}

export interface TestNvim {
  nvim: NeovimClient;
  proc: cp.ChildProcess;
  env: NodeJS.ProcessEnv;
  root: string;
  lockDir: string;
  lua<T = unknown>(code: string, ...args: unknown[]): Promise<T>;
  cmd(c: string): Promise<void>;
  /**
   * :qa! (SIGKILL after 10 s), then remove root. Idempotent, and fine after Neovim died or was
   * killed: call it from afterEach unconditionally. keepRoot: leave root (lockDir, logs) to
   * inspect; a later quit() (or the file's end) removes it. Resolves with the exit code.
   */
  quit(opts?: { keepRoot?: boolean }): Promise<number | null>;
}

const manifests = new Map<string, string>();

/**
 * Run :UpdateRemotePlugins once per binary and test run into a manifest the whole run shares
 * (under the run root's shared/, removed by globalTeardown); returns its path.
 */
export function manifestFor(bin: string): string {
  const have = manifests.get(bin);
  if (have) return have;
  const all = sharedDir('manifests');
  const dir = path.join(all, createHash('sha256').update(path.resolve(bin)).digest('hex').slice(0, 16));
  const file = path.join(dir, 'rplugin.vim');
  if (!fs.existsSync(file)) {
    // Built aside and renamed into place: test files in other workers may race for it.
    const build = fs.mkdtempSync(path.join(all, '.build-'));
    try {
      const env = isolatedEnv(build);
      env.NVIM_RPLUGIN_MANIFEST = path.join(build, 'rplugin.vim');
      cp.execFileSync(bin, ['--headless', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
        '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '-c', 'runtime! plugin/rplugin.vim', '-c', 'UpdateRemotePlugins', '-c', 'qa!'],
      { env, stdio: 'pipe', timeout: 30_000 });
      try {
        fs.renameSync(build, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err; // another worker was first
      }
    } finally {
      rmDir(build);
    }
  }
  manifests.set(bin, file);
  return file;
}

/**
 * What this test file started and made through these helpers, undone after its last test even
 * when a test forgot (or failed before its own cleanup).
 */
const liveNvims = new Set<TestNvim>();
const madeDirs = new Set<string>();
if (typeof afterAll === 'function') {
  afterAll(async () => {
    for (const t of [...liveNvims]) await t.quit();
    for (const d of madeDirs) rmDir(d);
    madeDirs.clear();
  });
}

/** A real `nvim --embed` with the plugin on its runtimepath and its commands registered. */
export async function startNvim(bin: string, cwd: string, setupLua = 'require("claude_worktrees").setup({})',
  opts: { root?: string; manifest?: boolean; pluginDir?: boolean } = {}): Promise<TestNvim> {
  // opts.root: the root (HOME, XDG dirs, CLAUDE_CONFIG_DIR) of an earlier Neovim quit with
  // keepRoot, to play a restart on the same machine.
  const root = opts.root ?? tmpDir('cw-nvim-');
  // By default every test runs on the plugin's own host (no manifest, plugin/ sourced), as an
  // install with a plugin manager runs it; CW_TEST_HOST=node runs them on the shared host of an
  // :UpdateRemotePlugins manifest (npm test does both). Tests that pass either option choose.
  if (process.env.CW_TEST_HOST !== 'node' && opts.manifest === undefined && opts.pluginDir === undefined) opts = { ...opts, manifest: false, pluginDir: true };
  const env = isolatedEnv(root);
  // manifest: false plays an install where :UpdateRemotePlugins never ran; pluginDir: source our
  // plugin/ file as a plugin manager would (-u NONE loads no plugins).
  env.NVIM_RPLUGIN_MANIFEST = opts.manifest === false ? path.join(root, 'no-rplugin-manifest.vim') : manifestFor(bin);
  env.NVIM_NODE_LOG_FILE = path.join(root, 'node-host.log');
  const proc = cp.spawn(bin, ['--embed', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
    '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '--cmd', 'set nomore shortmess+=I noswapfile', '-c', 'runtime! plugin/rplugin.vim',
    ...(opts.pluginDir ? ['-c', 'runtime! plugin/claude_worktrees.lua'] : [])],
  { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  // A test that kills Neovim may still write to it before node sees the exit (a late request, quit's
  // :qa!): EPIPE then, which must not become an uncaught error of the test. Its death shows in `exited`.
  proc.stdin?.on('error', () => undefined);
  const nvim = attach({ proc });
  let quitting: Promise<number | null> | undefined;
  const t: TestNvim = {
    nvim, proc, env, root,
    lockDir: path.join(env.CLAUDE_CONFIG_DIR!, 'ide'),
    lua: async <T>(code: string, ...args: unknown[]) => (await nvim.request('nvim_exec_lua', [code, args])) as T,
    cmd: async (c: string) => { await nvim.command(c); },
    quit: async (opts = {}) => {
      quitting ??= (async () => {
        // Its Node host and claudes write into root (logs are opened lazily): they must be gone
        // before root is removed, or a late first log line makes it again.
        const kids = proc.pid ? descendants(proc.pid) : [];
        if (proc.exitCode === null && proc.signalCode === null) {
          if (!proc.killed) nvim.command('qa!').catch(() => undefined);
          const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        await reap(kids);
        liveNvims.delete(t);
        return exited;
      })();
      const code = await quitting;
      if (!opts.keepRoot) {
        rmDir(root);
        madeDirs.delete(root);
      }
      return code;
    },
  };
  liveNvims.add(t);
  madeDirs.add(root);
  try {
    await nvim.request('nvim_ui_attach', [160, 48, { ext_linegrid: true }]);
    await nvim.lua(setupLua);
  } catch (err) {
    await t.quit();
    throw err;
  }
  return t;
}

/** Lua for setupLua: every vim.notify message also lands in _G.cw_notes (read with notesOf). */
// Records, like a notification plugin (nvim-notify, noice) shows, without echoing: the builtin's
// echo of a long line would stop a UI-less Neovim at the hit-enter prompt. scope.test and
// notify.test exercise the builtin path itself.
export const CAPTURE_NOTIFY_LUA = `
  _G.cw_notes = {}
  vim.notify = function(msg) table.insert(_G.cw_notes, msg) end`;

/** The vim.notify messages so far (needs CAPTURE_NOTIFY_LUA). */
export function notesOf(t: TestNvim): Promise<string[]> {
  return t.lua<string[]>('return _G.cw_notes');
}

/**
 * Edit `file`, start its worktree's instance (:ClaudeCode), connect an MCP client to that
 * instance's server with its lock file's token, and return to the code window.
 */
export async function openInstanceClient(t: TestNvim, file: string): Promise<McpClient> {
  await claudeCodeFrom(t, file);
  const lock = await waitFor(() => lockFiles(t.lockDir)[0], 'lock file');
  return McpClient.connect(Number(path.basename(lock.file, '.lock')), lock.body.authToken);
}

/** Wait until the current buffer is the claude terminal of `root` (the instance's worktree). */
export async function terminalInFront(t: TestNvim, root: string, what = `the terminal of ${root}`): Promise<void> {
  await waitFor(async () => (await t.lua<string>('return vim.b.claude_worktrees_root or ""')) === root, what);
}

/**
 * :edit file, :ClaudeCode, and back to the code window once claude's terminal has opened and
 * taken the focus (the next command then starts from the code window, the terminal on screen).
 */
export async function claudeCodeFrom(t: TestNvim, file: string): Promise<void> {
  await t.cmd(`edit ${file}`);
  await t.cmd('ClaudeCode');
  await waitFor(() => t.lua<boolean>('return vim.b.claude_worktrees_root ~= nil'), "claude's terminal focused");
  await t.cmd('stopinsert');
  await t.cmd('wincmd p');
}

export function lockFiles(dir: string): Array<{ file: string; body: { pid: number; workspaceFolders: string[]; authToken: string; ideName: string; worktree?: string; sessionId?: string } }> {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => /^\d+\.lock$/.test(n)).map((n) => ({
    file: path.join(dir, n),
    body: JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')),
  }));
}

export function git(cwd: string, ...args: string[]): string {
  return cp.execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
}

/**
 * A repo with one commit and a linked worktree on branch `feat`: returns both roots (realpaths)
 * and base, their parent: rmDir(base) after the test (the file's end removes it otherwise).
 */
export function makeRepoWithWorktree(): { a: string; b: string; base: string } {
  const base = tmpDir('cw-repo-');
  madeDirs.add(base);
  const a = path.join(base, 'proj');
  fs.mkdirSync(a);
  git(a, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(a, 'hello.txt'), 'hello\nworld\n');
  fs.mkdirSync(path.join(a, 'src'));
  fs.writeFileSync(path.join(a, 'src', 'main.ts'), 'export const x = 1;\n');
  git(a, 'add', '.');
  git(a, 'commit', '-qm', 'init');
  const b = path.join(base, 'proj-feat');
  git(a, 'worktree', 'add', '-q', '-b', 'feat', b);
  return { a, b, base };
}

/** A process as /proc names it: pid and start time (so a reused pid is not taken for it). */
export interface ProcId { pid: number; start: string }

function procStat(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
  } catch {
    return null;
  }
}

/** Every process below pid, from /proc. */
export function descendants(pid: number): ProcId[] {
  const children = new Map<number, ProcId[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = procStat(Number(name));
    if (!f) continue; // exited meanwhile
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), { pid: Number(name), start: f[19] }]);
  }
  const out: ProcId[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(pid);
  return out;
}

/** Still running (not a zombie), and still the same process. */
function running(p: ProcId): boolean {
  const f = procStat(p.pid);
  return !!f && f[19] === p.start && f[0] !== 'Z';
}

/** Wait up to 5 s for the processes to end on their own (they do when Neovim quits), then SIGKILL them. */
export async function reap(procs: ProcId[]): Promise<void> {
  const gone = (): boolean => procs.every((p) => !running(p));
  try {
    await waitFor(gone, 'the processes Neovim started to end', 5_000);
  } catch {
    for (const p of procs.filter(running)) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await waitFor(gone, 'the processes Neovim started to die of SIGKILL', 2_000).catch(() => undefined);
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
