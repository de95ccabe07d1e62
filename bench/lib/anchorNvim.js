'use strict';
// The anchor (bench/anchor: a pure-Lua, in-process IDE server) in a real Neovim, started the
// way lib/pluginNvim.js starts the plugin: `nvim --embed` with a UI attached by the bench,
// HOME, XDG_* and CLAUDE_CONFIG_DIR in a temp dir, the anchor on 'runtimepath'.
const cp = require('child_process');
const path = require('path');

const { isolatedEnv: pluginEnv, handle } = require('./pluginNvim');

const ANCHOR = path.resolve(__dirname, '..', 'anchor');
const isolatedEnv = (root) => pluginEnv(root, { manifest: false });

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
  return handle(nvim, proc, env, lua);
}

module.exports = { startAnchorNvim, isolatedEnv, ANCHOR };
