'use strict';
// The Neovim floor: a bare msgpack-RPC round trip to an embedded Neovim through the same
// `neovim` client the plugin's host uses (nvim_eval('1'), nothing else).
const cp = require('child_process');
const fs = require('fs');
const path = require('path');

function nvimBin(repoRoot) {
  if (process.env.NVIM_BIN) return process.env.NVIM_BIN;
  const cached = path.join(repoRoot, '.cache', 'nvim-0.10', 'bin', 'nvim');
  if (fs.existsSync(cached)) return cached;
  return 'nvim';
}

async function nvimRoundTrips(repoRoot, { warmup, calls }) {
  const { attach } = require('neovim');
  const bin = nvimBin(repoRoot);
  const proc = cp.spawn(bin, ['--embed', '--headless', '-u', 'NONE', '-i', 'NONE', '-n'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const spawnError = new Promise((_, reject) => proc.once('error', reject));
  const nvim = attach({ proc });
  try {
    await Promise.race([nvim.eval('1'), spawnError]);
    for (let i = 0; i < warmup; i++) await nvim.eval('1');
    const samples = [];
    for (let i = 0; i < calls; i++) {
      const t0 = process.hrtime.bigint();
      await nvim.eval('1');
      samples.push(Number(process.hrtime.bigint() - t0));
    }
    let version = '?';
    try { version = cp.execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim(); } catch { /* keep '?' */ }
    return { bin, version, samples };
  } finally {
    Promise.resolve().then(() => nvim.command('qa!')).catch(() => { /* the channel closes as it quits */ });
    const exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', resolve);
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

module.exports = { nvimRoundTrips, nvimBin };
