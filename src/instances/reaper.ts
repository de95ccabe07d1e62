import * as fs from 'fs';

/**
 * Ends processes this Neovim started, and only those: a pid is remembered with its start time
 * (/proc/<pid>/stat field 22), so a recycled pid that now belongs to someone else is never hit.
 */
export interface OwnedProcess {
  pid: number;
  startTime: string | null;
}

export function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parens: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

export function own(pid: number): OwnedProcess {
  return { pid, startTime: startTimeOf(pid) };
}

export function isSameProcessAlive(p: OwnedProcess): boolean {
  try {
    process.kill(p.pid, 0);
  } catch {
    return false;
  }
  if (p.startTime === null) return true; // no /proc: trust the pid
  const now = startTimeOf(p.pid);
  if (now === null) return false;
  // A zombie still has its stat; treat it as gone (its parent, Neovim, reaps it).
  return now === p.startTime && !isZombie(p.pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function signal(p: OwnedProcess, sig: NodeJS.Signals): void {
  if (!isSameProcessAlive(p)) return;
  try { process.kill(p.pid, sig); } catch { /* gone meanwhile */ }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * SIGTERM, wait up to graceMs, then SIGKILL what is left. Synchronous on purpose: it runs in
 * the host's 'disconnect' handler, where nothing asynchronous is guaranteed to happen.
 * Returns the pids that needed SIGKILL.
 */
export function terminateSync(procs: OwnedProcess[], graceMs = 1000): number[] {
  const live = procs.filter(isSameProcessAlive);
  for (const p of live) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = live;
  while (left.length && Date.now() < deadline) {
    sleepSync(10);
    left = left.filter(isSameProcessAlive);
  }
  for (const p of left) signal(p, 'SIGKILL');
  return left.map((p) => p.pid);
}

/** The same, without blocking the event loop (for :ClaudeCodeKill). */
export async function terminate(procs: OwnedProcess[], graceMs = 1000): Promise<number[]> {
  const live = procs.filter(isSameProcessAlive);
  for (const p of live) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = live;
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(isSameProcessAlive);
  }
  for (const p of left) signal(p, 'SIGKILL');
  return left.map((p) => p.pid);
}
