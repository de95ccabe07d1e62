'use strict';
// The anchor (bench/anchor: a pure-Lua, in-process IDE server) in a real Neovim, started the
// way lib/pluginNvim.js starts the plugin: `nvim --embed` with a UI attached by the bench,
// HOME, XDG_* and CLAUDE_CONFIG_DIR in a temp dir, the anchor on 'runtimepath'.
const cp = require('child_process');
const fs = require('fs');
const path = require('path');

const ANCHOR = path.resolve(__dirname, '..', 'anchor');

/** The same isolation as pluginNvim.js (which does not export it). */
function isolatedEnv(root) {
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
  for (const k of ['NVIM', 'NVIM_LISTEN_ADDRESS', 'CLAUDE_CODE_SSE_PORT']) delete env[k];
  return env;
}

async function startAnchorNvim(bin, root, { columns = 160, lines = 48, cmd = ['sh', '-c', 'exec sleep 3600', 'claude'] } = {}) {
  const { attach } = require('neovim');
  const env = isolatedEnv(root);
  const proc = cp.spawn(bin, ['--embed', '-u', 'NONE', '-i', 'NONE', '-n', '--cmd', `set rtp^=${ANCHOR}`,
    '--cmd', 'set nomore shortmess+=I noswapfile hidden',
    '-c', 'runtime! plugin/cw_anchor.lua'], { cwd: root, env, stdio: ['pipe', 'pipe', 'ignore'] });
  const nvim = attach({ proc });
  await nvim.request('nvim_ui_attach', [columns, lines, { ext_linegrid: true }]);
  const lua = (code, ...args) => nvim.request('nvim_exec_lua', [code, args]);
  await lua(`require('cw_anchor').setup({ cmd = ..., terminal = { position = 'tab' } })`, cmd);
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

module.exports = { startAnchorNvim, isolatedEnv, ANCHOR };
