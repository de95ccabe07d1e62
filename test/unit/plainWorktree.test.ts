import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { rmDir, tmpDir } from '../helpers/tmp';
import { plainWorktreeOf } from '../../src/git/worktree';

// plainWorktreeOf reads .git files instead of spawning git: for every layout it either says
// exactly what git says (top level, branch) or null (git decides). Real git in temp dirs, with
// a private HOME and no system config.
const TMP = tmpDir('cw-plainwt-');
const HOME = path.join(TMP, 'home');
fs.mkdirSync(HOME);
const env: NodeJS.ProcessEnv = { ...process.env, HOME, XDG_CONFIG_HOME: path.join(HOME, '.config'), GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', LC_ALL: 'C' };
for (const k of ['GIT_CONFIG_GLOBAL', 'GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES']) delete env[k];

const git = (cwd: string, ...args: string[]) => cp.execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const gitSays = (cwd: string) => {
  try {
    return { root: fs.realpathSync(git(cwd, 'rev-parse', '--show-toplevel')), branch: git(cwd, 'symbolic-ref', '--short', '-q', 'HEAD') };
  } catch {
    return null;
  }
};

afterAll(() => rmDir(TMP));

function repo(name: string): string {
  const r = path.join(TMP, name);
  fs.mkdirSync(path.join(r, 'src', 'deep'), { recursive: true });
  git(r, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(r, 'src', 'deep', 'a.txt'), 'a\n');
  git(r, 'add', '.');
  git(r, 'commit', '-q', '-m', 'one');
  return r;
}

test('a repository and its subdirectories: the same top level and branch as git', () => {
  const r = repo('plain');
  for (const d of [r, path.join(r, 'src'), path.join(r, 'src', 'deep')]) {
    expect(plainWorktreeOf(d)).toEqual({ ...gitSays(d), isGit: true });
  }
  expect(plainWorktreeOf(r)?.branch).toBe('main');
});

test('linked worktrees (absolute and relative gitdir), branch names with slashes', () => {
  const r = repo('linked');
  const wt = path.join(TMP, 'linked-wt');
  git(r, 'worktree', 'add', '-q', '-b', 'feat/x-1', wt);
  fs.mkdirSync(path.join(wt, 'sub'));
  for (const d of [wt, path.join(wt, 'sub')]) {
    expect(plainWorktreeOf(d)).toEqual({ root: wt, branch: 'feat/x-1', isGit: true });
    expect(plainWorktreeOf(d)).toEqual({ ...gitSays(d), isGit: true });
  }
  // A relative gitdir pointer (git worktree add --relative-paths writes these).
  const pointer = path.join(wt, '.git');
  const abs = /^gitdir: (.+)$/m.exec(fs.readFileSync(pointer, 'utf8'))![1].trim();
  fs.writeFileSync(pointer, `gitdir: ${path.relative(wt, abs)}\n`);
  expect(plainWorktreeOf(wt)).toEqual({ root: wt, branch: 'feat/x-1', isGit: true });
});

test('an unborn branch: its name, as git symbolic-ref says', () => {
  const r = path.join(TMP, 'unborn');
  fs.mkdirSync(r);
  git(r, 'init', '-q', '-b', 'trunk');
  expect(plainWorktreeOf(r)).toEqual({ root: r, branch: 'trunk', isGit: true });
  expect(gitSays(r)).toEqual({ root: r, branch: 'trunk' });
});

test('what only git can answer gives null: detached HEAD, inside .git, bare, core.worktree, GIT_DIR, no repository, broken pointer', () => {
  const r = repo('hard');
  git(r, 'checkout', '-q', '--detach');
  expect(plainWorktreeOf(r)).toBeNull();
  git(r, 'checkout', '-q', 'main');
  expect(plainWorktreeOf(path.join(r, '.git'))).toBeNull();
  expect(plainWorktreeOf(path.join(r, '.git', 'refs'))).toBeNull();

  const bare = path.join(TMP, 'bare.git');
  git(TMP, 'init', '-q', '--bare', bare);
  expect(plainWorktreeOf(bare)).toBeNull();

  const cw = repo('coreworktree');
  git(cw, 'config', 'core.worktree', TMP);
  expect(plainWorktreeOf(cw)).toBeNull();

  const outside = path.join(TMP, 'not-a-repo');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, '.git'), 'gitdir: /nonexistent/dir\n');
  expect(plainWorktreeOf(outside)).toBeNull();

  const saved = process.env.GIT_DIR;
  process.env.GIT_DIR = path.join(r, '.git');
  try {
    expect(plainWorktreeOf(r)).toBeNull();
  } finally {
    if (saved === undefined) delete process.env.GIT_DIR; else process.env.GIT_DIR = saved;
  }
});
