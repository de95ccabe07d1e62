'use strict';
// The plugin as users run it: a real Neovim (`--embed`, a UI attached) whose Node remote-plugin
// host loads dist/ through a temporary rplugin manifest, with HOME, XDG_* and CLAUDE_CONFIG_DIR
// in a temp dir. Its claude is `sh -c "exec sleep 3600"` (any arguments, e.g. our --settings,
// are ignored): the bench measures the plugin, not claude.
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const WebSocket = require('ws');

const REPO = path.resolve(__dirname, '..', '..');
const HOST_PROG = path.join(REPO, 'node_modules', 'neovim', 'bin', 'cli.js');

/** HOME, XDG_* and CLAUDE_CONFIG_DIR under root (and the rplugin manifest, unless manifest: false). */
function isolatedEnv(root, { manifest = true } = {}) {
  const dirs = {
    HOME: path.join(root, 'home'),
    XDG_CONFIG_HOME: path.join(root, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(root, 'xdg', 'data'),
    XDG_STATE_HOME: path.join(root, 'xdg', 'state'),
    XDG_CACHE_HOME: path.join(root, 'xdg', 'cache'),
    CLAUDE_CONFIG_DIR: path.join(root, 'claude'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const env = { ...process.env, ...dirs };
  if (manifest) env.NVIM_RPLUGIN_MANIFEST = path.join(root, 'rplugin.vim');
  for (const k of ['NVIM', 'NVIM_LISTEN_ADDRESS', 'CLAUDE_CODE_SSE_PORT']) delete env[k];
  return env;
}

function git(cwd, ...args) {
  return cp.execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A git repo with one commit (files: { relPath: text }); returns its realpath. */
function makeRepo(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'bench');
  return fs.realpathSync(dir);
}

/** What a bench needs of an embedded Neovim: its client, lock files, a quit that always ends it. */
function handle(nvim, proc, env, lua) {
  const lockDir = path.join(env.CLAUDE_CONFIG_DIR, 'ide');
  return {
    nvim, proc, env, lockDir, lua,
    cmd: (c) => nvim.command(c),
    /** Lock files now: [{ port, body }]. */
    locks() {
      if (!fs.existsSync(lockDir)) return [];
      return fs.readdirSync(lockDir).filter((n) => /^\d+\.lock$/.test(n)).map((n) => ({
        port: Number(n.slice(0, -5)), body: JSON.parse(fs.readFileSync(path.join(lockDir, n), 'utf8')),
      }));
    },
    async quit() {
      const exited = new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', resolve);
      });
      nvim.command('qa!').catch(() => { /* the channel closes as it quits */ });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The plugin in an embedded Neovim as a plugin manager installs it: plugin/ sourced, no manifest,
 * so it runs on its own host. sharedHost: an :UpdateRemotePlugins manifest and Neovim's node host.
 */
async function startPluginNvim(bin, root, { columns = 160, lines = 48, sharedHost = false } = {}) {
  const { attach } = require('neovim');
  const env = isolatedEnv(root);
  if (sharedHost) {
    cp.execFileSync(bin, ['--headless', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
      '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '-c', 'runtime! plugin/rplugin.vim', '-c', 'UpdateRemotePlugins', '-c', 'qa!'],
    { env, stdio: 'pipe', timeout: 60_000 });
  } else {
    env.NVIM_RPLUGIN_MANIFEST = path.join(root, 'no-rplugin-manifest.vim');
  }
  const proc = cp.spawn(bin, ['--embed', '-u', 'NONE', '-i', 'NONE', '-n', '--cmd', `set rtp^=${REPO}`,
    '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '--cmd', 'set nomore shortmess+=I noswapfile hidden',
    '-c', 'runtime! plugin/rplugin.vim', ...(sharedHost ? [] : ['-c', 'runtime! plugin/claude_worktrees.lua'])],
  { cwd: root, env, stdio: ['pipe', 'pipe', 'ignore'] });
  const nvim = attach({ proc });
  await nvim.request('nvim_ui_attach', [columns, lines, { ext_linegrid: true }]);
  await nvim.lua(`require('claude_worktrees').setup({ cmd = { 'sh', '-c', 'exec sleep 3600', 'claude' }, terminal = { position = 'tab' }, max_instances = 60, node = os.getenv('BENCH_HOST_NODE') })`);
  const lua = (code, ...args) => nvim.request('nvim_exec_lua', [code, args]);
  return handle(nvim, proc, env, lua);
}

/** Poll cond (sync or async) every `every` ms until truthy; throws after timeoutMs. */
async function until(cond, what, timeoutMs = 10_000, every = 5) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** An MCP client that matches replies by id and counts notifications (openDiff, selection). */
class IdClient {
  constructor(ws) {
    this.ws = ws;
    this.seq = 0;
    this.pending = new Map();
    this.notifications = [];
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (typeof msg.id === 'number' && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p(msg);
      } else if (typeof msg.method === 'string') {
        this.notifications.push({ at: process.hrtime.bigint(), method: msg.method, params: msg.params });
      }
    });
  }

  static async connect(port, token) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'mcp', {
      headers: { 'x-claude-code-ide-authorization': token }, perMessageDeflate: false,
    });
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    const c = new IdClient(ws);
    await c.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cw-bench', version: '0' } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return c;
  }

  request(method, params) {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close() { this.ws.close(); }
}

/** The terminal may open after the lock file: wait until it holds the focus, then go back to the code tab. */
async function leaveTerminal(side, what) {
  await until(() => side.lua("return vim.bo.buftype == 'terminal'"), `${what} terminal`, 20_000, 5);
  await side.cmd('tabfirst');
  const bt = await side.lua('return vim.bo.buftype');
  if (bt !== '') throw new Error(`bench: ${what}: the first tab shows a '${bt}' buffer`);
}

module.exports = { leaveTerminal, startPluginNvim, makeRepo, git, until, IdClient, isolatedEnv, handle };
