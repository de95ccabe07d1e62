import * as fs from 'fs';
import * as path from 'path';
import { simpleGit } from 'simple-git';

export interface WorktreeInfo {
  /** Worktree root (the top level of the checkout), or the directory itself outside git. */
  root: string;
  /** Current branch, or a short commit for a detached HEAD; '' outside git. */
  branch: string;
  isGit: boolean;
}

/** A directory git knows but that has no worktree to run claude in; the message says what to do. */
export class NoWorktreeError extends Error {
  override readonly name = 'NoWorktreeError';
}

function existingDir(p: string): string {
  let d = p;
  while (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) {
    const up = path.dirname(d);
    if (up === d) return d;
    d = up;
  }
  return d;
}

type Git = ReturnType<typeof simpleGit>;

async function probe(git: Git, args: string[]): Promise<string | null> {
  try {
    return (await git.raw(args)).trim();
  } catch {
    return null;
  }
}

/**
 * The worktree a directory inside a git dir belongs to: `<wt>/.git/...` is `<wt>`'s, and
 * `<main>/.git/worktrees/<name>/...` is the linked worktree its `gitdir` file names (a commit
 * message or a rebase todo opened from there belongs to that worktree, not to none).
 */
function ownerOfGitDir(dir: string): string | null {
  const parts = dir.split(path.sep);
  const at = parts.lastIndexOf('.git');
  if (at < 1) return null;
  const gitDir = parts.slice(0, at + 1).join(path.sep);
  if (parts[at + 1] === 'worktrees' && parts[at + 2]) {
    try {
      const linked = fs.readFileSync(path.join(gitDir, 'worktrees', parts[at + 2], 'gitdir'), 'utf8').trim();
      const root = path.dirname(linked);
      if (fs.statSync(root).isDirectory()) return root;
    } catch {
      // A pruned or half-made worktree entry: fall back to the main worktree.
    }
  }
  return path.dirname(gitDir);
}

/** The nearest `.git` entry at or above dir, if it is a file (a linked worktree's pointer). */
function dotGitFileAbove(dir: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    try {
      const st = fs.lstatSync(dotGit);
      return st.isFile() ? dotGit : null;
    } catch {
      // none here: look further up
    }
    if (path.dirname(d) === d) return null;
  }
}

/**
 * `git rev-parse --show-toplevel` of a directory (linked worktrees, whose .git is a file,
 * included). Inside a git dir: the worktree it belongs to. Outside any repository: the directory
 * itself. A bare repository or a `.git` file whose git dir is gone throws NoWorktreeError.
 */
export async function worktreeOf(dir: string): Promise<WorktreeInfo> {
  const cwd = fs.realpathSync(existingDir(path.resolve(dir)));
  const fast = plainWorktreeOf(cwd);
  if (fast) return fast;
  const git = simpleGit({ baseDir: cwd, timeout: { block: 5000 } });
  const top = await probe(git, ['rev-parse', '--show-toplevel']);
  if (top) return { root: fs.realpathSync(top), branch: await branchOf(git), isGit: true };

  if ((await probe(git, ['rev-parse', '--is-bare-repository'])) === 'true') {
    const gitDir = (await probe(git, ['rev-parse', '--absolute-git-dir'])) || cwd;
    throw new NoWorktreeError(`${gitDir} is a bare repository: it has no files for claude; open a worktree of it `
      + '(git worktree add <path> <branch>, or :ClaudeCodeWorktree add <branch> from one)');
  }
  if ((await probe(git, ['rev-parse', '--is-inside-git-dir'])) === 'true') {
    const owner = ownerOfGitDir(cwd);
    if (owner && owner !== cwd) return worktreeOf(owner);
  }
  const pointer = dotGitFileAbove(cwd);
  if (pointer) {
    throw new NoWorktreeError(`${pointer} points at a git dir that does not exist (its repository moved or the worktree `
      + 'was pruned): run git worktree prune in the repository, or remove that .git file');
  }
  return { root: cwd, branch: '', isGit: false };
}

// Environment that changes where git looks: then only git itself can say.
const GIT_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES', 'GIT_DISCOVERY_ACROSS_FILESYSTEM'];

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * What `git rev-parse --show-toplevel` and the branch would say, read from the files alone, for
 * the plain case: a `.git` directory (or a linked worktree's `.git` file) above dir, owned by us,
 * HEAD on a branch, no core.worktree or bare in its config. Anything else returns null and git
 * decides. Spawning git twice is most of a warm :ClaudeCode's time to its lock file.
 */
export function plainWorktreeOf(cwd: string): WorktreeInfo | null {
  if (GIT_ENV.some((k) => process.env[k])) return null;
  if (cwd.split(path.sep).includes('.git')) return null;
  for (let d = cwd; ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(dotGit);
    } catch {
      // none here
    }
    if (st) {
      let gitDir = dotGit;
      if (st.isFile()) {
        const m = /^gitdir: (.+)$/m.exec(readText(dotGit) ?? '');
        if (!m) return null;
        gitDir = path.resolve(d, m[1].trim());
      } else if (!st.isDirectory()) {
        return null;
      }
      const head = readText(path.join(gitDir, 'HEAD'));
      const ref = head && /^ref: refs\/heads\/(\S+)\s*$/.exec(head);
      if (!ref) return null; // detached, or not a git dir: git gives the short commit or the error
      const commonRel = readText(path.join(gitDir, 'commondir'));
      const common = commonRel ? path.resolve(gitDir, commonRel.trim()) : gitDir;
      const config = readText(path.join(common, 'config'));
      if (config === null || /^\s*(worktree|bare\s*=\s*true)/im.test(config)) return null;
      if (gitDir !== dotGit && /^\s*worktree/im.test(readText(path.join(gitDir, 'config.worktree')) ?? '')) return null;
      try {
        // git refuses a repository another user owns (safe.directory): let it say so.
        if (typeof process.getuid === 'function' && fs.statSync(common).uid !== process.getuid()) return null;
        return { root: fs.realpathSync(d), branch: ref[1], isGit: true };
      } catch {
        return null;
      }
    }
    if (path.dirname(d) === d) return null;
  }
}

async function branchOf(git: Git): Promise<string> {
  // Works on an unborn branch too (a repository without commits).
  return (await probe(git, ['symbolic-ref', '--short', '-q', 'HEAD']))
    || (await probe(git, ['rev-parse', '--short', 'HEAD']))
    || '';
}
