import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { rmDir, tmpDir } from '../helpers/tmp';
import {
  addWorktree, branchSlug, diffStat, listWorktrees, parseWorktreeList, planWorktreePath, removeWorktree,
  worktreeBase, WorktreeError, type WorktreeErrorCode,
} from '../../src/git/worktreeOps';

// Real git in temp dirs, with a private HOME and no system config: the machine's git config
// (hooks, aliases, default branch, signing) must not leak in. Jest doesn't pass changes of
// process.env to child processes, so the env goes to every call explicitly.
const TMP = tmpDir('cw-wtops-');
const HOME = path.join(TMP, 'home');
fs.mkdirSync(HOME);
const env: NodeJS.ProcessEnv = (() => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    HOME,
    XDG_CONFIG_HOME: path.join(HOME, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t',
    LC_ALL: 'C',
  };
  for (const k of ['GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_CONFIG_COUNT']) delete e[k];
  return e;
})();
const o = { env };

afterAll(() => rmDir(TMP));

function git(cwd: string, ...args: string[]): string {
  return cp.execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

let n = 0;
/** base/proj (main, one commit) and base/proj-feat (linked, branch feat, one more commit). */
function makeRepo(): { base: string; main: string; feat: string } {
  const base = path.join(TMP, `r${n++}`);
  const main = path.join(base, 'proj');
  fs.mkdirSync(path.join(main, 'src'), { recursive: true });
  git(main, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(main, 'hello.txt'), 'hello\n');
  fs.writeFileSync(path.join(main, 'src', 'a.ts'), 'export const a = 1;\n');
  fs.writeFileSync(path.join(main, '.gitignore'), '*.log\n');
  git(main, 'add', '.');
  git(main, 'commit', '-qm', 'init');
  const feat = path.join(base, 'proj-feat');
  git(main, 'worktree', 'add', '-q', '-b', 'feat', feat);
  fs.writeFileSync(path.join(feat, 'feat.txt'), 'feature\n');
  git(feat, 'add', '.');
  git(feat, 'commit', '-qm', 'feat');
  return { base, main, feat };
}

async function rejects(p: Promise<unknown>, code: WorktreeErrorCode, text?: RegExp): Promise<WorktreeError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(WorktreeError);
  const we = e as WorktreeError;
  expect(we.code).toBe(code);
  if (text) expect(we.message).toMatch(text);
  return we;
}

const head = (dir: string): string => git(dir, 'symbolic-ref', '--short', 'HEAD');
const sha = (dir: string, rev: string): string => git(dir, 'rev-parse', rev);
const hasBranch = (dir: string, b: string): boolean => git(dir, 'branch', '--list', b) !== '';

describe('branchSlug', () => {
  it('makes one safe path component', () => {
    expect(branchSlug('feature/login')).toBe('feature-login');
    expect(branchSlug('a//b')).toBe('a-b');
    expect(branchSlug('fix/ünïcode_ok.v2')).toBe('fix-ünïcode_ok.v2');
    expect(branchSlug('x$(rm -rf)~y')).toBe('x-rm-rf-y');
    expect(branchSlug('.hidden/')).toBe('hidden');
    expect(branchSlug('///')).toBe('worktree');
  });
});

describe('parseWorktreeList', () => {
  it('reads the porcelain format with and without -z', () => {
    const text = ['worktree /nonexistent/m', 'HEAD abc', 'branch refs/heads/main', '',
      'worktree /nonexistent/w', 'HEAD def', 'detached', 'locked because', 'prunable gitdir file points nowhere', ''];
    for (const nul of [true, false]) {
      const l = parseWorktreeList(text.join(nul ? '\0' : '\n'), nul);
      expect(l).toEqual([
        { path: '/nonexistent/m', head: 'abc', branch: 'main', main: true, bare: false, detached: false, locked: null, prunable: false },
        { path: '/nonexistent/w', head: 'def', branch: null, main: false, bare: false, detached: true, locked: 'because', prunable: true },
      ]);
    }
  });
});

describe('planWorktreePath', () => {
  it('defaults to <repo>-<branch> next to the main worktree, also from a linked one', async () => {
    const r = makeRepo();
    expect(await planWorktreePath(r.main, 'feature/login', o)).toBe(path.join(r.base, 'proj-feature-login'));
    expect(await planWorktreePath(path.join(r.feat), 'x', o)).toBe(path.join(r.base, 'proj-x'));
    expect(await planWorktreePath(path.join(r.main, 'src'), 'x', o)).toBe(path.join(r.base, 'proj-x'));
  });

  it('takes a template, a base directory, ~ and relative paths', async () => {
    const r = makeRepo();
    expect(await planWorktreePath(r.main, 'a/b', { ...o, dir: '../{repo}.worktrees/{branch}' })).toBe(path.join(r.base, 'proj.worktrees', 'a-b'));
    const wt = path.join(TMP, 'wt');
    expect(await planWorktreePath(r.main, 'a/b', { ...o, dir: wt })).toBe(path.join(wt, 'proj-a-b'));
    expect(await planWorktreePath(r.main, 'b', { ...o, dir: '~/trees/{repo}/{branch}' })).toBe(path.join(HOME, 'trees', 'proj', 'b'));
    expect(await planWorktreePath(r.feat, 'b', { ...o, dir: '..' })).toBe(path.join(r.base, 'proj-b'));
  });

  it('refuses existing paths, paths inside a worktree and unknown placeholders', async () => {
    const r = makeRepo();
    fs.mkdirSync(path.join(r.base, 'proj-taken'));
    await rejects(planWorktreePath(r.main, 'taken', o), 'path-exists', /proj-taken already exists/);
    fs.symlinkSync(path.join(TMP, 'nowhere'), path.join(r.base, 'proj-dangling'));
    await rejects(planWorktreePath(r.main, 'dangling', o), 'path-exists');
    await rejects(planWorktreePath(r.main, 'x', { ...o, dir: '.worktrees' }), 'path-in-worktree', new RegExp(`inside the worktree ${r.main}$`));
    await rejects(planWorktreePath(r.main, 'x', { ...o, dir: `${r.feat}/sub/{branch}` }), 'path-in-worktree', /proj-feat/);
    await rejects(planWorktreePath(r.main, 'x', { ...o, dir: '../{repo}-{brnach}' }), 'bad-dir', /\{brnach\}/);
  });
});

describe('addWorktree', () => {
  it('creates a new branch from the current HEAD', async () => {
    const r = makeRepo();
    const res = await addWorktree(r.main, 'feature/login', undefined, o);
    expect(res).toEqual({
      root: path.join(r.base, 'proj-feature-login'), branch: 'feature/login', base: 'main',
      baseCommit: sha(r.main, 'main'), created: true, warning: null,
    });
    expect(head(res.root)).toBe('feature/login');
    expect(sha(res.root, 'HEAD')).toBe(sha(r.main, 'main'));
    expect(fs.readFileSync(path.join(res.root, 'hello.txt'), 'utf8')).toBe('hello\n');
    const listed = await listWorktrees(r.main, o);
    expect(listed.map((w) => [w.path, w.branch, w.main])).toEqual([
      [r.main, 'main', true], [r.feat, 'feat', false], [res.root, 'feature/login', false],
    ]);
  });

  it('checks out an existing branch', async () => {
    const r = makeRepo();
    git(r.feat, 'branch', 'topic');
    const res = await addWorktree(r.main, 'topic', undefined, o);
    expect(res).toEqual({ root: path.join(r.base, 'proj-topic'), branch: 'topic', base: null, baseCommit: null, created: false, warning: null });
    expect(head(res.root)).toBe('topic');
    expect(sha(res.root, 'HEAD')).toBe(sha(r.feat, 'HEAD'));
  });

  it('works from a subdirectory of a linked worktree: sibling of the main one, based on its HEAD', async () => {
    const r = makeRepo();
    fs.mkdirSync(path.join(r.feat, 'deep'));
    const res = await addWorktree(path.join(r.feat, 'deep'), 'child', undefined, o);
    expect(res.root).toBe(path.join(r.base, 'proj-child'));
    expect(res.base).toBe('feat');
    expect(res.baseCommit).toBe(sha(r.feat, 'HEAD'));
    expect(fs.existsSync(path.join(res.root, 'feat.txt'))).toBe(true);
  });

  it('names a short sha as base when fromDir is detached', async () => {
    const r = makeRepo();
    git(r.feat, 'checkout', '-q', '--detach');
    const res = await addWorktree(r.feat, 'from-detached', undefined, o);
    expect(res.baseCommit).toBe(sha(r.feat, 'HEAD'));
    expect(res.base).toBe(sha(r.feat, 'HEAD').slice(0, 12));
  });

  it('uses a given base (branch, tag or sha)', async () => {
    const r = makeRepo();
    const res = await addWorktree(r.feat, 'from-main', 'main', o);
    expect(res).toMatchObject({ branch: 'from-main', base: 'main', baseCommit: sha(r.main, 'main'), created: true });
    expect(sha(res.root, 'HEAD')).toBe(sha(r.main, 'main'));
    expect(fs.existsSync(path.join(res.root, 'feat.txt'))).toBe(false);

    git(r.main, 'tag', '-a', '-m', 'v', 'v1', 'feat');
    const tagged = await addWorktree(r.main, 'from-tag', 'v1', o);
    expect(tagged.baseCommit).toBe(sha(r.feat, 'HEAD'));
    const bySha = await addWorktree(r.main, 'from-sha', sha(r.main, 'main'), o);
    expect(sha(bySha.root, 'HEAD')).toBe(sha(r.main, 'main'));
  });

  it('tracks a remote-tracking base like git does', async () => {
    const r = makeRepo();
    git(r.main, 'update-ref', 'refs/remotes/origin/main', sha(r.main, 'main'));
    git(r.main, 'config', 'remote.origin.url', path.join(TMP, 'none.git'));
    git(r.main, 'config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*');
    const res = await addWorktree(r.main, 'tracking', 'origin/main', o);
    expect(git(res.root, 'rev-parse', '--abbrev-ref', '@{upstream}')).toBe('origin/main');
  });

  it('rejects invalid branch names and creates nothing', async () => {
    const r = makeRepo();
    for (const bad of ['bad..name', 'with space', '-x', '', 'HEAD', 'a.lock', 'x~1', 'end/']) {
      await rejects(addWorktree(r.main, bad, undefined, o), 'invalid-branch', /invalid branch name/);
    }
    expect(fs.readdirSync(r.base).sort()).toEqual(['proj', 'proj-feat']);
  });

  it('rejects an unknown base and leaves no branch behind', async () => {
    const r = makeRepo();
    await rejects(addWorktree(r.main, 'nb', 'no-such-ref', o), 'unknown-base', /'no-such-ref'/);
    await rejects(addWorktree(r.main, 'nb', '--orphan', o), 'unknown-base');
    expect(hasBranch(r.main, 'nb')).toBe(false);
  });

  it('refuses an existing path without creating the branch', async () => {
    const r = makeRepo();
    fs.mkdirSync(path.join(r.base, 'proj-busy'));
    fs.writeFileSync(path.join(r.base, 'proj-busy', 'keep.txt'), 'mine');
    await rejects(addWorktree(r.main, 'busy', undefined, o), 'path-exists', /proj-busy/);
    expect(hasBranch(r.main, 'busy')).toBe(false);
    expect(fs.readFileSync(path.join(r.base, 'proj-busy', 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a branch checked out in another worktree, naming it', async () => {
    const r = makeRepo();
    const e = await rejects(addWorktree(r.main, 'feat', undefined, o), 'branch-checked-out', new RegExp(`'feat' is already checked out in the worktree ${r.feat}`));
    expect(e.details.worktree).toBe(r.feat);
    await rejects(addWorktree(r.feat, 'main', undefined, o), 'branch-checked-out', new RegExp(r.main));
  });

  it('refuses a base for a branch that already exists', async () => {
    const r = makeRepo();
    git(r.main, 'branch', 'topic');
    await rejects(addWorktree(r.main, 'topic', 'main', o), 'branch-exists', /leave out the base/);
  });

  it('returns a warning when only the post-checkout hook failed', async () => {
    const r = makeRepo();
    const hook = path.join(r.main, '.git', 'hooks', 'post-checkout');
    fs.writeFileSync(hook, '#!/bin/sh\necho hook says no >&2\nexit 3\n', { mode: 0o755 });
    const res = await addWorktree(r.main, 'hooked', undefined, o);
    expect(res.created).toBe(true);
    expect(res.warning).toMatch(/worktree was created.*hook says no/);
    expect(head(res.root)).toBe('hooked');
  });

  it('deletes the branch it created when git fails to create the worktree', async () => {
    const r = makeRepo();
    const file = path.join(r.base, 'a-file');
    fs.writeFileSync(file, 'x');
    await rejects(addWorktree(r.main, 'doomed', undefined, { ...o, dir: `${file}/{branch}` }), 'git', /git worktree add failed/);
    expect(hasBranch(r.main, 'doomed')).toBe(false);
    expect((await listWorktrees(r.main, o)).map((w) => w.branch)).toEqual(['main', 'feat']);
  });

  it('reports a directory outside git', async () => {
    const plain = path.join(TMP, `plain${n++}`);
    fs.mkdirSync(plain);
    await rejects(addWorktree(plain, 'x', undefined, o), 'not-a-repo', /is not in a git repository: run git init/);
    await rejects(addWorktree(path.join(plain, 'missing'), 'x', undefined, o), 'not-a-repo', /not a directory/);
  });

  it('ignores GIT_DIR/GIT_INDEX_FILE and editor variables of the calling environment', async () => {
    const r = makeRepo();
    const other = makeRepo();
    const hostile = {
      ...env, GIT_DIR: path.join(other.main, '.git'), GIT_INDEX_FILE: path.join(other.main, '.git', 'index'),
      EDITOR: 'false', GIT_PAGER: 'false', PAGER: 'false',
    };
    const res = await addWorktree(r.main, 'isolated', undefined, { env: hostile });
    expect(path.dirname(res.root)).toBe(r.base);
    expect(hasBranch(r.main, 'isolated')).toBe(true);
    expect(hasBranch(other.main, 'isolated')).toBe(false);
  });
});

describe('removeWorktree', () => {
  it('removes a clean worktree and keeps its branch by default', async () => {
    const r = makeRepo();
    const res = await removeWorktree(r.feat, o);
    expect(res).toEqual({
      root: r.feat, branch: 'feat', forced: false, discarded: [],
      branchDeleted: false, deletedBranchTip: null, branchNote: null,
    });
    expect(fs.existsSync(r.feat)).toBe(false);
    expect((await listWorktrees(r.main, o)).map((w) => w.path)).toEqual([r.main]);
    expect(hasBranch(r.main, 'feat')).toBe(true);
  });

  it('removes a worktree whose only extra files are ignored', async () => {
    const r = makeRepo();
    fs.writeFileSync(path.join(r.feat, 'debug.log'), 'ignored\n');
    await removeWorktree(r.feat, o);
    expect(fs.existsSync(r.feat)).toBe(false);
  });

  it('refuses a tracked modification, listing it', async () => {
    const r = makeRepo();
    fs.appendFileSync(path.join(r.feat, 'hello.txt'), 'more\n');
    const e = await rejects(removeWorktree(r.feat, o), 'dirty', /uncommitted changes \(M hello\.txt\)/);
    expect(e.details.files).toEqual(['M hello.txt']);
    expect(fs.existsSync(path.join(r.feat, 'hello.txt'))).toBe(true);
  });

  it('runs beforeRemove only once every check has passed, before the worktree goes', async () => {
    const r = makeRepo();
    const calls: boolean[] = [];
    const before = async () => { calls.push(fs.existsSync(r.feat)); };
    fs.appendFileSync(path.join(r.feat, 'hello.txt'), 'more\n');
    await rejects(removeWorktree(r.feat, { ...o, beforeRemove: before }), 'dirty');
    await rejects(removeWorktree(r.main, { ...o, force: true, beforeRemove: before }), 'main-worktree');
    expect(calls).toEqual([]);
    await removeWorktree(r.feat, { ...o, force: true, beforeRemove: before });
    expect(calls).toEqual([true]);
    expect(fs.existsSync(r.feat)).toBe(false);
  });

  it('refuses staged changes and untracked files, listing a few', async () => {
    const r = makeRepo();
    git(r.feat, 'mv', 'hello.txt', 'renamed.txt');
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(r.feat, `new${i}.txt`), 'x');
    const e = await rejects(removeWorktree(r.feat, o), 'dirty', /R renamed\.txt, \?\? new0\.txt, .* and 2 more\)/);
    expect(e.details.files).toHaveLength(7);
    expect(fs.existsSync(r.feat)).toBe(true);
  });

  it('refuses an untracked file alone', async () => {
    const r = makeRepo();
    fs.mkdirSync(path.join(r.feat, 'notes'));
    fs.writeFileSync(path.join(r.feat, 'notes', 'todo.md'), 'x');
    await rejects(removeWorktree(r.feat, o), 'dirty', /\?\? notes\//);
    expect(fs.existsSync(path.join(r.feat, 'notes', 'todo.md'))).toBe(true);
  });

  it('forces the removal of a dirty worktree, reporting what was discarded', async () => {
    const r = makeRepo();
    fs.appendFileSync(path.join(r.feat, 'hello.txt'), 'more\n');
    fs.writeFileSync(path.join(r.feat, 'scratch.txt'), 'x');
    const res = await removeWorktree(r.feat, { ...o, force: true });
    expect(res.forced).toBe(true);
    expect(res.discarded).toEqual(['M hello.txt', '?? scratch.txt']);
    expect(fs.existsSync(r.feat)).toBe(false);
    expect(hasBranch(r.main, 'feat')).toBe(true);
  });

  it('deletes a merged branch when asked, returning its tip', async () => {
    const r = makeRepo();
    const wt = await addWorktree(r.main, 'merged', undefined, o);
    const tip = sha(wt.root, 'HEAD');
    const res = await removeWorktree(wt.root, { ...o, deleteBranch: true });
    expect(res).toMatchObject({ branch: 'merged', branchDeleted: true, deletedBranchTip: tip, branchNote: null });
    expect(hasBranch(r.main, 'merged')).toBe(false);
  });

  it('keeps an unmerged branch with deleteBranch: true, deletes it with "force"', async () => {
    const r = makeRepo();
    const res = await removeWorktree(r.feat, { ...o, deleteBranch: true, force: true });
    expect(fs.existsSync(r.feat)).toBe(false);
    expect(res.branchDeleted).toBe(false);
    expect(res.branchNote).toMatch(/kept branch 'feat'.*not fully merged/);
    expect(hasBranch(r.main, 'feat')).toBe(true);

    const wt = await addWorktree(r.main, 'feat', undefined, o);
    const tip = sha(wt.root, 'HEAD');
    const again = await removeWorktree(wt.root, { ...o, deleteBranch: 'force' });
    expect(again).toMatchObject({ branchDeleted: true, deletedBranchTip: tip, branchNote: null });
    expect(hasBranch(r.main, 'feat')).toBe(false);
  });

  it('refuses the main worktree, a subdirectory and a locked worktree', async () => {
    const r = makeRepo();
    await rejects(removeWorktree(r.main, { ...o, force: true }), 'main-worktree', /main worktree/);
    await rejects(removeWorktree(path.join(r.main, 'src'), o), 'not-a-worktree', /not the root of a worktree/);
    git(r.main, 'worktree', 'lock', '--reason', 'on a usb disk', r.feat);
    await rejects(removeWorktree(r.feat, { ...o, force: true }), 'locked', /on a usb disk/);
    expect(fs.existsSync(r.feat)).toBe(true);
    await rejects(removeWorktree(path.join(TMP, 'nope'), o), 'not-a-worktree');
  });

  it('refuses a detached HEAD with commits on no branch unless forced', async () => {
    const r = makeRepo();
    git(r.feat, 'checkout', '-q', '--detach');
    fs.writeFileSync(path.join(r.feat, 'lost.txt'), 'x');
    git(r.feat, 'add', '.');
    git(r.feat, 'commit', '-qm', 'lost');
    await rejects(removeWorktree(r.feat, { ...o, deleteBranch: true }), 'unreachable-commits', /commits on no branch/);
    const res = await removeWorktree(r.feat, { ...o, force: true, deleteBranch: true });
    expect(res).toMatchObject({ branch: null, branchDeleted: false, branchNote: expect.stringMatching(/detached/) });
    expect(hasBranch(r.main, 'feat')).toBe(true);
  });
});

describe('worktreeBase and diffStat', () => {
  it('is the fork point from the main worktree branch, and diffStat shows commits and edits', async () => {
    const r = makeRepo();
    const forkPoint = sha(r.main, 'main');
    // The trunk moving on does not move the base.
    fs.writeFileSync(path.join(r.main, 'later.txt'), 'later\n');
    git(r.main, 'add', '.');
    git(r.main, 'commit', '-qm', 'later');
    expect(await worktreeBase(r.feat, o)).toEqual({ ref: 'main', commit: forkPoint });

    fs.appendFileSync(path.join(r.feat, 'hello.txt'), 'edit\n');
    fs.writeFileSync(path.join(r.feat, 'untracked.txt'), 'x');
    const stat = await diffStat(r.feat, 'main', o);
    expect(stat.split('\n')).toEqual([
      expect.stringMatching(/^ feat\.txt\s+\| 1 \+$/),
      expect.stringMatching(/^ hello\.txt\s+\| 1 \+$/),
      ' 2 files changed, 2 insertions(+)',
    ]);
    expect(await diffStat(r.feat, forkPoint, o)).toBe(stat);
    expect(await diffStat(r.main, 'main', o)).toBe('');
  });

  it('prefers origin/HEAD and its local branch, whichever is nearer', async () => {
    const r = makeRepo();
    const first = sha(r.main, 'main');
    git(r.main, 'branch', 'trunk');
    git(r.main, 'update-ref', 'refs/remotes/origin/trunk', first);
    git(r.main, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/trunk');
    // The main worktree sits on another branch; origin/HEAD still decides the trunk.
    git(r.main, 'checkout', '-q', '-b', 'side');
    expect(await worktreeBase(r.feat, o)).toEqual({ ref: 'trunk', commit: first });

    // feat merged into local trunk: the nearer base is feat's tip.
    git(r.main, 'branch', '-f', 'trunk', 'feat');
    expect(await worktreeBase(r.feat, o)).toEqual({ ref: 'trunk', commit: sha(r.feat, 'HEAD') });

    git(r.main, 'branch', '-D', 'trunk');
    expect(await worktreeBase(r.feat, o)).toEqual({ ref: 'origin/trunk', commit: first });
  });

  it('is null without common history or without commits', async () => {
    const r = makeRepo();
    git(r.feat, 'checkout', '-q', '--orphan', 'alone');
    expect(await worktreeBase(r.feat, o)).toBeNull();
    git(r.feat, 'commit', '-qm', 'alone');
    expect(await worktreeBase(r.feat, o)).toBeNull();
    await rejects(diffStat(r.feat, 'main', o), 'no-merge-base');
  });

  it('diffStat rejects unknown bases', async () => {
    const r = makeRepo();
    await rejects(diffStat(r.feat, 'nope', o), 'unknown-base');
    await rejects(diffStat(r.feat, '--output=/tmp/x', o), 'unknown-base');
  });
});
