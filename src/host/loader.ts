/**
 * Starts the bundled host (dist/host.bundle.js) compiled from the V8 code cache `npm run build`
 * wrote beside it: about half of the bundle's load time. A cache that does not match the bundle
 * (rebuilt, another node) is not used: V8 checks only the source length, we check size and mtime.
 *
 *   node dist/host/loader.js <plugin path>     serve the plugin on stdio
 *   node dist/host/loader.js --write-cache      (build) load the bundle, write its code cache
 */
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import Module = require('module');

const BUNDLE = path.join(__dirname, '..', 'host.bundle.js');
const CACHE = `${BUNDLE}.cache`;

interface Stamp { size: number; mtimeMs: number; node: string }

function stampOf(st: fs.Stats): Stamp {
  return { size: st.size, mtimeMs: st.mtimeMs, node: process.version };
}

/** The cache file: one JSON line (the bundle it belongs to), then V8's data. */
function readCache(want: Stamp): Buffer | undefined {
  try {
    const buf = fs.readFileSync(CACHE);
    const nl = buf.indexOf(10);
    const got = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Partial<Stamp>;
    if (got.size !== want.size || got.mtimeMs !== want.mtimeMs || got.node !== want.node) return undefined;
    return buf.subarray(nl + 1);
  } catch {
    return undefined;
  }
}

function load(writeCache: boolean): { start?: unknown } {
  const source = fs.readFileSync(BUNDLE, 'utf8');
  const stamp = stampOf(fs.statSync(BUNDLE));
  // Writing the cache: compile every function now (not only those the top level runs), so the
  // first command's code comes from the cache too; the flag is reset before the cache is made
  // (V8 rejects a cache made under other flags).
  if (writeCache) v8.setFlagsFromString('--no-lazy');
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData: writeCache ? undefined : readCache(stamp) });
  if (writeCache) v8.setFlagsFromString('--lazy');
  const wrapper = script.runInThisContext() as (...a: unknown[]) => void;
  const mod = { exports: {} as { start?: unknown } };
  wrapper.call(mod.exports, mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE));
  if (writeCache) {
    // After the bundle's top level ran: the functions it compiled are in the cache too.
    fs.writeFileSync(CACHE, Buffer.concat([Buffer.from(`${JSON.stringify(stamp)}\n`), script.createCachedData()]));
  }
  return mod.exports;
}

const arg = process.argv[2];
if (arg === '--write-cache') {
  load(true);
  process.exit(0);
} else if (!arg) {
  process.stderr.write('claude-worktrees host: usage: node loader.js <plugin path>\n');
  process.exit(2);
} else {
  const host = load(false);
  if (typeof host.start !== 'function') {
    process.stderr.write(`claude-worktrees host: ${BUNDLE} has no start(): run \`npm run build\`\n`);
    process.exit(2);
  }
  (host.start as (filename: string) => void)(arg);
}
