#!/usr/bin/env node
// Bundles the own remote-plugin host (src/host/main.ts and everything it imports: neovim's
// client, ws, simple-git, chokidar and the plugin) into dist/host.js: one file to read and
// compile at start instead of hundreds to resolve, which is most of a cold start's cost; then
// the V8 code cache dist/host/loader.js starts it from.
'use strict';
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');

// neovim's logger loads winston (about 25 ms) even when attach() is given a logger.
const noWinston = {
  name: 'no-winston',
  setup(build) {
    build.onResolve({ filter: /\/utils\/logger$/ }, (args) =>
      (args.importer.includes(`${path.sep}neovim${path.sep}lib${path.sep}`) ? { path: path.join(root, 'src/host/neovimLoggerStub.ts') } : undefined));
  },
};
esbuild.build({
  entryPoints: [path.join(root, 'src/host/main.ts')],
  outfile: path.join(root, 'dist/host.bundle.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // ws loads these native speedups when installed; without them it falls back to JS.
  external: ['bufferutil', 'utf-8-validate'],
  sourcemap: true,
  plugins: [noWinston],
  logLevel: 'warning',
}).then(() => {
  // The code cache the loader starts from (dist/host.bundle.js.cache).
  require('child_process').execFileSync(process.execPath, [path.join(root, 'dist/host/loader.js'), '--write-cache'], { stdio: 'inherit' });
}).catch((err) => {
  console.error(`bundle-host: ${err && err.message || err}`);
  process.exit(1);
});
