import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RUN_ENV } from './helpers/tmp';

/**
 * The suite's "leaves nothing behind" gate (jest globalSetup / globalTeardown, see
 * test/helpers/tmp.ts for the run root's layout).
 *
 * Setup: remove the roots of earlier runs that were killed before their teardown, snapshot the
 * machine's temp dir, make the private run root, point $TMPDIR and $TMUX_TMPDIR of the workers
 * (and so of every Neovim, git, tmux and claude they start) into it.
 * Teardown: fail the run, naming them, when (a) the run root's tmp/ is not empty, or its tmux/
 * holds a socket (a test did not remove what it made, or left a tmux server running), or (b)
 * the machine's temp dir holds entries that were not there before (something bypassed
 * $TMPDIR); then remove the run root. Entries made by others at the same time are told apart
 * as well as can be: only entries still there at the end count, jest's caches and other runs'
 * roots are ignored, and so is anything owned by another user.
 */

interface GateState {
  /** The machine's temp dir, before $TMPDIR pointed into the run root. */
  realTmp: string;
  runRoot: string;
  /** Entries of realTmp (and of the shared per-user dirs in it) before the run, as relative paths. */
  before: string[];
  saved: Record<'TMPDIR' | 'TMUX_TMPDIR' | typeof RUN_ENV, string | undefined>;
}

const STATE = Symbol.for('claude-worktrees.tmpGate');
type WithState = typeof globalThis & { [STATE]?: GateState };

/** Not ours to judge: jest's caches (jest_<x>) and other jest runs' roots. */
const IGNORED = /^(jest_|cw-test-run-)/;

/**
 * Per-user dirs that tools share and keep (Neovim's socket dirs, tmux's socket dir, the Claude
 * CLI's per-uid temp dir): they existed before on any dev machine, so what is new INSIDE them
 * is what counts.
 */
function sharedPerUser(name: string): boolean {
  return /^(tmux-\d+|nvim\.[^/]+|claude-\d+|claude)$/.test(name);
}

function ours(p: string): boolean {
  try {
    return fs.lstatSync(p).uid === process.getuid?.();
  } catch {
    return false; // gone meanwhile
  }
}

/** The entries of `tmp` we could have made: top level, and one level into the shared per-user dirs. */
function entriesOf(tmp: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(tmp)) {
    if (IGNORED.test(name)) continue;
    const p = path.join(tmp, name);
    if (!ours(p)) continue;
    out.push(name);
    if (sharedPerUser(name)) {
      try {
        for (const sub of fs.readdirSync(p)) out.push(path.join(name, sub));
      } catch { /* unreadable or gone */ }
    }
  }
  return out;
}

/** What is left under dir, as relative paths, at most `depth` levels deep (for the failure message). */
function listTree(dir: string, depth: number, rel = '', filesOnly = false): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, rel));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    const r = path.join(rel, n);
    let isDir = false;
    try { isDir = fs.lstatSync(path.join(dir, r)).isDirectory(); } catch { /* gone */ }
    if (!isDir || !filesOnly) out.push(isDir ? `${r}/` : r);
    if (isDir && depth > 1) out.push(...listTree(dir, depth - 1, r, filesOnly));
  }
  return out;
}

/** Who made a run root: this jest process, by pid and start time (pids get reused). */
const OWNER = 'owner.json';
interface Owner { pid: number; start: string }

function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}

/**
 * Remove the roots of runs that ended without their teardown (jest killed by a timeout or ^C):
 * only roots whose owner.json names a process that is gone; a root without one (being made
 * right now by a run starting at the same time) is left alone.
 */
function sweepDeadRuns(realTmp: string): void {
  for (const name of fs.readdirSync(realTmp)) {
    if (!name.startsWith('cw-test-run-')) continue;
    const root = path.join(realTmp, name);
    let owner: Owner;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(root, OWNER), 'utf8')) as Owner;
    } catch {
      continue;
    }
    if (typeof owner.pid !== 'number' || startTime(owner.pid) === owner.start) continue;
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

export function setup(): void {
  const self = globalThis as WithState;
  const realTmp = fs.realpathSync(os.tmpdir());
  sweepDeadRuns(realTmp);
  const before = entriesOf(realTmp);
  // realpath: every path under the root is canonical (no /tmp -> /private/tmp surprises).
  const runRoot = fs.realpathSync(fs.mkdtempSync(path.join(realTmp, 'cw-test-run-')));
  const tmp = path.join(runRoot, 'tmp');
  const owner: Owner = { pid: process.pid, start: startTime(process.pid) ?? '' };
  fs.writeFileSync(path.join(runRoot, OWNER), JSON.stringify(owner), { mode: 0o600 });
  fs.mkdirSync(tmp, { mode: 0o700 });
  fs.mkdirSync(path.join(runRoot, 'shared'), { mode: 0o700 });
  // tmux makes tmux-<uid>/ in it and keeps that dir: its own place, so tmp/ can be judged empty.
  fs.mkdirSync(path.join(runRoot, 'tmux'), { mode: 0o700 });
  self[STATE] = {
    realTmp, runRoot, before,
    saved: { TMPDIR: process.env.TMPDIR, TMUX_TMPDIR: process.env.TMUX_TMPDIR, [RUN_ENV]: process.env[RUN_ENV] },
  };
  // Workers are forked after globalSetup and inherit this environment.
  process.env[RUN_ENV] = runRoot;
  process.env.TMPDIR = tmp;
  process.env.TMUX_TMPDIR = path.join(runRoot, 'tmux');
}

export function teardown(): void {
  const self = globalThis as WithState;
  const state = self[STATE];
  if (!state) throw new Error('tmpGate: globalTeardown without globalSetup (is jest.config.js globalSetup set?)');
  delete self[STATE];
  for (const [k, v] of Object.entries(state.saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }

  const problems: string[] = [];
  const left = listTree(path.join(state.runRoot, 'tmp'), 3);
  if (left.length) {
    problems.push(`left in the run's temp dir ${state.runRoot}/tmp (a test did not remove what it made; `
      + 'quit Neovim / kill what it started, then rmDir() its tmpDir() in afterEach/afterAll):', ...left.map((l) => `  ${l}`));
  }
  const stray = fs.readdirSync(state.runRoot).filter((n) => !['tmp', 'tmux', 'shared', OWNER].includes(n));
  if (stray.length) problems.push(`unexpected in the run root ${state.runRoot}: ${stray.join(', ')}`);
  const sockets = listTree(path.join(state.runRoot, 'tmux'), 3, '', true);
  if (sockets.length) {
    problems.push(`tmux sockets left in ${state.runRoot}/tmux (a tmux server not killed, or its socket not removed):`,
      ...sockets.map((l) => `  ${l}`));
  }
  const before = new Set(state.before);
  const leaked = entriesOf(state.realTmp).filter((e) => !before.has(e));
  if (leaked.length) {
    problems.push(`new in ${state.realTmp} since the run started (made outside the run root: use tmpDir() from `
      + 'test/helpers/tmp.ts, keep $TMPDIR; or made by another process running meanwhile):',
    ...leaked.sort().map((e) => `  ${path.join(state.realTmp, e)}`));
  }
  fs.rmSync(state.runRoot, { recursive: true, force: true, maxRetries: 3 });
  if (problems.length) throw new Error(`The test run left files behind.\n${problems.join('\n')}`);
}
