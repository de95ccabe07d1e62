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

function existingDir(p: string): string {
  let d = p;
  while (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) {
    const up = path.dirname(d);
    if (up === d) return d;
    d = up;
  }
  return d;
}

/**
 * `git rev-parse --show-toplevel` of a directory (linked worktrees, whose .git is a file,
 * included). Outside any repository: the directory itself.
 */
export async function worktreeOf(dir: string): Promise<WorktreeInfo> {
  const cwd = existingDir(path.resolve(dir));
  try {
    const git = simpleGit({ baseDir: cwd, timeout: { block: 5000 } });
    const top = (await git.raw(['rev-parse', '--show-toplevel'])).trim();
    if (!top) throw new Error('not a work tree');
    return { root: fs.realpathSync(top), branch: await branchOf(git), isGit: true };
  } catch {
    return { root: fs.realpathSync(cwd), branch: '', isGit: false };
  }
}

async function branchOf(git: ReturnType<typeof simpleGit>): Promise<string> {
  try {
    // Works on an unborn branch too (a repository without commits).
    return (await git.raw(['symbolic-ref', '--short', '-q', 'HEAD'])).trim();
  } catch {
    try {
      return (await git.raw(['rev-parse', '--short', 'HEAD'])).trim();
    } catch {
      return '';
    }
  }
}
