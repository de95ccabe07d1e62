#!/usr/bin/env node
// Writes dist/rplugin-specs.json: the command and function specs the Node side registers, exactly
// as :UpdateRemotePlugins would put them in the manifest. plugin/claude_worktrees.lua registers
// the remote plugin from it when no manifest did, so installing needs no :UpdateRemotePlugins.
'use strict';
const fs = require('fs');
const path = require('path');
const { EventEmitter } = require('events');
const { NvimPlugin } = require('neovim/lib/host/NvimPlugin');

const root = path.resolve(__dirname, '..');
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
// The plugin only registers at load: a bare emitter stands in for the Neovim client.
const nvim = Object.assign(new EventEmitter(), { logger: quiet });
const plugin = new NvimPlugin(path.join(root, 'rplugin/node/claude-worktrees'), require(path.join(root, 'dist/plugin/index.js')), nvim);
const specs = plugin.specs;
if (!Array.isArray(specs) || !specs.some((s) => s.name === 'ClaudeCode')) {
  console.error('gen-rplugin-specs: the plugin registered no :ClaudeCode');
  process.exit(1);
}
fs.writeFileSync(path.join(root, 'dist/rplugin-specs.json'), `${JSON.stringify(specs, null, 1)}\n`);
// index.ts installs exit and signal handlers for a live host: nothing to keep running here.
process.exit(0);
