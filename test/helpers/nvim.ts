import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { attach, type NeovimClient } from 'neovim';
import { McpClient } from './mcpClient';
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

/** A private HOME, XDG dirs and CLAUDE_CONFIG_DIR: nothing touches the machine's own. */
export function isolatedEnv(root: string): NodeJS.ProcessEnv {
  const dirs = {
    HOME: path.join(root, 'home'),
    XDG_CONFIG_HOME: path.join(root, 'xdg/config'),
    XDG_DATA_HOME: path.join(root, 'xdg/data'),
    XDG_STATE_HOME: path.join(root, 'xdg/state'),
    XDG_CACHE_HOME: path.join(root, 'xdg/cache'),
    CLAUDE_CONFIG_DIR: path.join(root, 'claude'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
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
  quit(): Promise<number | null>;
}

const manifests = new Map<string, string>();

/** Run :UpdateRemotePlugins once per binary into a temporary manifest; returns its path. */
export function manifestFor(bin: string): string {
  const have = manifests.get(bin);
  if (have) return have;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-manifest-'));
  const env = isolatedEnv(root);
  cp.execFileSync(bin, ['--headless', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
    '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '-c', 'runtime! plugin/rplugin.vim', '-c', 'UpdateRemotePlugins', '-c', 'qa!'],
  { env, stdio: 'pipe', timeout: 30_000 });
  const file = env.NVIM_RPLUGIN_MANIFEST!;
  manifests.set(bin, file);
  return file;
}

/** A real `nvim --embed` with the plugin on its runtimepath and its commands registered. */
export async function startNvim(bin: string, cwd: string, setupLua = 'require("claude_worktrees").setup({})'): Promise<TestNvim> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-nvim-'));
  const env = isolatedEnv(root);
  env.NVIM_RPLUGIN_MANIFEST = manifestFor(bin);
  env.NVIM_NODE_LOG_FILE = path.join(root, 'node-host.log');
  const proc = cp.spawn(bin, ['--embed', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
    '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '--cmd', 'set nomore shortmess+=I noswapfile', '-c', 'runtime! plugin/rplugin.vim'],
  { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const nvim = attach({ proc });
  await nvim.request('nvim_ui_attach', [160, 48, { ext_linegrid: true }]);
  await nvim.lua(setupLua);
  const t: TestNvim = {
    nvim, proc, env, root,
    lockDir: path.join(env.CLAUDE_CONFIG_DIR!, 'ide'),
    lua: async <T>(code: string, ...args: unknown[]) => (await nvim.request('nvim_exec_lua', [code, args])) as T,
    cmd: async (c: string) => { await nvim.command(c); },
    quit: async () => {
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      nvim.command('qa!').catch(() => undefined);
      return exited;
    },
  };
  return t;
}

/** Lua for setupLua: every vim.notify message also lands in _G.cw_notes (read with notesOf). */
export const CAPTURE_NOTIFY_LUA = `
  _G.cw_notes = {}
  local notify = vim.notify
  vim.notify = function(msg, ...) table.insert(_G.cw_notes, msg) return notify(msg, ...) end`;

/** The vim.notify messages so far (needs CAPTURE_NOTIFY_LUA). */
export function notesOf(t: TestNvim): Promise<string[]> {
  return t.lua<string[]>('return _G.cw_notes');
}

/**
 * Edit `file`, start its worktree's instance (:ClaudeCode), connect an MCP client to that
 * instance's server with its lock file's token, and return to the code window.
 */
export async function openInstanceClient(t: TestNvim, file: string): Promise<McpClient> {
  await t.cmd(`edit ${file}`);
  await t.cmd('ClaudeCode');
  const lock = await waitFor(() => lockFiles(t.lockDir)[0], 'lock file');
  const client = await McpClient.connect(Number(path.basename(lock.file, '.lock')), lock.body.authToken);
  await t.cmd('stopinsert');
  await t.cmd('wincmd p'); // back to the code window
  return client;
}

export function lockFiles(dir: string): Array<{ file: string; body: { pid: number; workspaceFolders: string[]; authToken: string; ideName: string } }> {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => /^\d+\.lock$/.test(n)).map((n) => ({
    file: path.join(dir, n),
    body: JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')),
  }));
}

export function git(cwd: string, ...args: string[]): string {
  return cp.execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
}

/** A repo with one commit and a linked worktree on branch `feat`: returns both roots (realpaths). */
export function makeRepoWithWorktree(): { a: string; b: string; base: string } {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cw-repo-')));
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

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
