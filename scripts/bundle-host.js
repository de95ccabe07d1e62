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
// ws tries require('bufferutil') and require('utf-8-validate') (optional native speedups) at
// load; not installed, the failed lookup walks every node_modules above (about 4 ms of a cold
// start). The bundle answers "not installed" at once; ws's JS versions are what it used anyway.
const noNativeWs = {
  name: 'no-native-ws',
  setup(build) {
    build.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'not-installed' }));
    build.onLoad({ filter: /.*/, namespace: 'not-installed' }, (args) => ({
      contents: `throw Object.assign(new Error("Cannot find module '${args.path}' (not bundled)"), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};
esbuild.build({
  entryPoints: [path.join(root, 'src/host/main.ts')],
  outfile: path.join(root, 'dist/host.bundle.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  plugins: [noWinston, noNativeWs],
  logLevel: 'warning',
}).then(() => {
  // The code cache the loader starts from (dist/host.bundle.js.cache).
  require('child_process').execFileSync(process.execPath, [path.join(root, 'dist/host/loader.js'), '--write-cache'], { stdio: 'inherit' });
}).catch((err) => {
  console.error(`bundle-host: ${err && err.message || err}`);
  process.exit(1);
});
