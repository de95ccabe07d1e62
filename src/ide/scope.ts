import * as fs from 'fs';
import * as path from 'path';
import { INVALID_PARAMS, RpcError } from './jsonrpc';
import { isInside } from '../util/uri';

/** Largest file a tool opens or diffs against: a bigger one would stall Neovim reading it. */
export const MAX_TOOL_FILE_BYTES = 32 * 1024 * 1024;

/**
 * Which files one instance's tools may touch: those under its worktree root or an extra root
 * (claude's /add-dir, config extra_roots), judged on the REAL path (symlinks followed), so a
 * link inside the worktree that points out of it is outside too. Anything else is refused with
 * an error that names the rule (issue 13: no tool may touch a file outside its worktree).
 */
export class PathScope {
  private real: string[] | null = null;
  private carved: readonly string[] = [];
  /** Bumped when the carve-outs change: answers filtered by this scope are then stale. */
  generation = 0;

  constructor(readonly roots: readonly string[]) {}

  /**
   * Other worktrees nested under a root (e.g. claude's own .claude/worktrees/x) whose own claude
   * runs (the manager says which): their files are theirs, not this scope's.
   */
  carveOut(roots: readonly string[]): void {
    const real = roots.map((r) => realOrNull(r) ?? path.resolve(r)).sort();
    if (real.length === this.carved.length && real.every((r, i) => r === this.carved[i])) return;
    this.carved = real;
    this.generation++;
  }

  /** The roots' real paths, computed once they exist (a root made later is picked up then). */
  private realRoots(): string[] {
    if (this.real) return this.real;
    const out: string[] = [];
    let all = true;
    for (const r of this.roots) {
      const rp = realOrNull(r);
      if (rp) out.push(rp);
      else {
        // Not there (yet): judged lexically until it exists; nothing under it exists either.
        out.push(path.resolve(r));
        all = false;
      }
    }
    if (all) this.real = out;
    return out;
  }

  /**
   * The absolute path a tool should use for `p` (relative paths are taken from the worktree
   * root), after checking that its real path lies inside a root. A path that does not exist
   * yet (a new file in openDiff) is judged by its nearest existing ancestor.
   */
  resolve(p: string, what = 'path'): string {
    const abs = this.absolute(p, what);
    const real = realOfMaybeMissing(abs);
    if (real === null || !this.containsReal(real)) {
      const nested = real === null ? undefined : this.carved.find((c) => isInside(c, real));
      if (nested) {
        throw new RpcError(INVALID_PARAMS, `${what} is in another worktree with its own instance, ${nested}: ${abs}`);
      }
      throw new RpcError(INVALID_PARAMS,
        `${what} is outside this instance's worktree: ${abs}` + (real && real !== abs ? ` (resolves to ${real})` : '')
        + `. Tools may only touch files under ${this.roots.join(', ')} (add more with the extra_roots option)`);
    }
    return abs;
  }

  /** `p` made absolute (relative to the worktree root), NOT checked against the scope. */
  absolute(p: string, what = 'path'): string {
    if (p === '') throw new RpcError(INVALID_PARAMS, `${what} must be a non-empty path`);
    // A newline (any control character) in a name Neovim puts into an Ex command line ends that
    // command and starts one of its own: no tool takes such a path.
    if (/[\x00-\x1f\x7f]/.test(p)) {
      throw new RpcError(INVALID_PARAMS, `${what} has a control character (${JSON.stringify(p)}): refused`);
    }
    return path.resolve(this.roots[0], p);
  }

  /** True when `real`, a path with symlinks already resolved, is inside the scope. */
  containsReal(real: string): boolean {
    return this.realRoots().some((r) => isInside(r, real)) && !this.carved.some((c) => isInside(c, real));
  }

  /** True when `p` (absolute) is inside the scope; never throws (for filtering answers). */
  contains(p: string): boolean {
    const real = realOfMaybeMissing(p);
    return real !== null && this.containsReal(real);
  }
}

/**
 * Refuses anything but a regular file of bounded size: reading a FIFO blocks Neovim until a
 * writer comes, a device may never end. `missingOk` for a file a diff is about to create.
 */
export function requireRegularFile(abs: string, what: string, missingOk = false): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && missingOk) return;
    throw new RpcError(INVALID_PARAMS, `${what} not found: ${abs}`);
  }
  if (!st.isFile()) {
    throw new RpcError(INVALID_PARAMS, `${what} is not a regular file (${kindOf(st)}): ${abs}. Only regular files can be opened`);
  }
  if (st.size > MAX_TOOL_FILE_BYTES) {
    throw new RpcError(INVALID_PARAMS,
      `${what} is too large to open (${st.size} bytes, limit ${MAX_TOOL_FILE_BYTES}): ${abs}`);
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

function realOrNull(p: string): string | null {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
}

/**
 * realpath of p, or of its nearest existing ancestor joined with the rest when p does not
 * exist. null when a component exists but cannot be resolved (a dangling or looping link):
 * such a path is refused rather than guessed.
 */
// realpathSync.native: one realpath(3) call, where the JS version lstats every component (about
// 10 us of a 130 us tool call, every call).
function realOfMaybeMissing(p: string): string | null {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(cur), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return null;
      // A dangling symlink: lstat finds it although realpath says ENOENT; its target is unknown.
      try {
        fs.lstatSync(cur);
        return null;
      } catch { /* really missing: go up */ }
      const parent = path.dirname(cur);
      if (parent === cur) return null;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}
