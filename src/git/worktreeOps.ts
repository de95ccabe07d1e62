/**
 * Creating and removing git worktrees, and what a picker shows about them. Pure Node (no Neovim):
 * the `:ClaudeCodeWorktree add|remove` commands call into this.
 *
 * Every git call goes through simple-git with an argv array. User-supplied names are validated
 * (branch names by `git check-ref-format --branch`, bases by `rev-parse --verify`) and options can't
 * be smuggled in: names starting with '-' are refused and paths follow `--`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { simpleGit, type SimpleGit } from 'simple-git';

export type WorktreeErrorCode =
  | 'not-a-repo'
  | 'not-a-worktree'
  | 'invalid-branch'
  | 'unknown-base'
  | 'no-merge-base'
  | 'branch-exists'
  | 'branch-checked-out'
  | 'bad-dir'
  | 'path-exists'
  | 'path-in-worktree'
  | 'main-worktree'
  | 'locked'
  | 'dirty'
  | 'unreachable-commits'
  | 'git';

/** Every refusal and failure of this module; `code` is stable, `message` is for the user. */
export class WorktreeError extends Error {
  override readonly name = 'WorktreeError';
  constructor(
    readonly code: WorktreeErrorCode,
    message: string,
    /** `files`: status lines for 'dirty'; `worktree`: the other worktree for 'branch-checked-out' etc. */
    readonly details: { files?: string[]; worktree?: string } = {},
  ) {
    super(message);
  }
}

export interface GitOptions {
  /**
   * Environment for git (default process.env). Variables that would point git at another
   * repository (GIT_DIR, GIT_INDEX_FILE, ...) or make it interactive are always removed.
   */
  env?: NodeJS.ProcessEnv;
  /** A git command silent for this long is killed (default 60 s: checkouts of big trees). */
  timeoutMs?: number;
}

export interface PlanOptions extends GitOptions {
  /**
   * Where new worktrees go. With `{branch}` in it, a template for the worktree path; otherwise a
   * directory that receives `<repo>-<branch>`. `{repo}` is the main worktree's directory name,
   * `{branch}` the branch made path-safe (see branchSlug). A leading `~/` is the home directory;
   * relative paths are relative to the main worktree. Default `../{repo}-{branch}`: a sibling of
   * the main worktree.
   */
  dir?: string;
}

export interface WorktreeEntry {
  /** Root of the worktree (realpath when it exists); for a bare repository its git directory. */
  path: string;
  head: string | null;
  /** Short branch name; null when detached (or bare). */
  branch: string | null;
  /** The first entry of `git worktree list`: the main worktree, or the bare repository. */
  main: boolean;
  bare: boolean;
  detached: boolean;
  /** Lock reason ('' when locked without one); null when not locked. */
  locked: string | null;
  /** Its directory is gone; `git worktree prune` would drop it. */
  prunable: boolean;
}

export interface AddResult {
  /** Realpath of the new worktree's root. */
  root: string;
  branch: string;
  /** The base as given, or fromDir's branch (short sha when detached); null for an existing branch. */
  base: string | null;
  /** The commit the new branch starts at; null for an existing branch. */
  baseCommit: string | null;
  /** True when the branch was created, false when an existing branch was checked out. */
  created: boolean;
  /** Set when git failed after creating the worktree (a failing post-checkout hook): its message. */
  warning: string | null;
}

export interface RemoveOptions extends GitOptions {
  /** Remove even with uncommitted changes or commits reachable from no ref (a lock still refuses). */
  force?: boolean;
  /**
   * Also delete the worktree's branch. true: `git branch -d`, which keeps a branch that isn't fully
   * merged (reported in branchNote). 'force': `git branch -D`. `force` alone never deletes a branch.
   */
  deleteBranch?: boolean | 'force';
  /**
   * Runs once every check has passed, just before `git worktree remove`: the place to stop what
   * runs in the worktree (its claude), so a refused removal leaves it running.
   */
  beforeRemove?: () => Promise<void>;
}

export interface RemoveResult {
  root: string;
  /** The worktree's branch; null when its HEAD was detached. */
  branch: string | null;
  forced: boolean;
  /** Status lines (`XY path`) of the changes thrown away by a forced removal. */
  discarded: string[];
  branchDeleted: boolean;
  /** What the deleted branch pointed at, to restore it with `git branch <name> <sha>`. */
  deletedBranchTip: string | null;
  /** Why deleteBranch did not delete the branch (e.g. not fully merged); null otherwise. */
  branchNote: string | null;
}

export interface WorktreeBase {
  /** The trunk branch the base was taken from, e.g. 'main' or 'origin/main'. */
  ref: string;
  /** merge-base of the worktree's HEAD with that trunk. */
  commit: string;
}

export interface DiffStatOptions extends GitOptions {
  /** Total width given to `git diff --stat` (default 80). */
  width?: number;
}

export const DEFAULT_DIR_TEMPLATE = '../{repo}-{branch}';

// Anything that makes git use another repository or index than the directory we run in (Neovim
// started from a git hook or as `git commit`'s editor has GIT_DIR / GIT_INDEX_FILE set), or open
// an editor, pager or credential prompt: none of our commands want those.
const DROPPED_ENV = new Set([
  'GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_NAMESPACE', 'GIT_PREFIX', 'GIT_QUARANTINE_PATH',
  'EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'PAGER', 'GIT_PAGER',
  'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_PROXY_COMMAND',
  'GIT_EXTERNAL_DIFF', 'GIT_TEMPLATE_DIR',
]);

function gitEnv(base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && !DROPPED_ENV.has(k.toUpperCase())) env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  // Reads (status, diff) from a picker must not take index.lock from under the user's own git.
  env.GIT_OPTIONAL_LOCKS = '0';
  return env;
}

function gitIn(dir: string, o: GitOptions): SimpleGit {
  return simpleGit({
    baseDir: dir,
    timeout: { block: o.timeoutMs ?? 60_000 },
    // simple-git vets an explicit env; these come from the user's own environment (config files
    // it names, GIT_CONFIG_COUNT), which git must honour as usual.
    unsafe: { allowUnsafeConfigPaths: true, allowUnsafeConfigEnvCount: true },
  }).env(gitEnv(o.env ?? process.env));
}

function gitMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.trim().split('\n').filter((l) => l.trim()).slice(0, 4).join('; ');
}

/** stdout of a git command that may fail quietly (`-q` probes): '' on failure. */
async function probe(git: SimpleGit, args: string[]): Promise<string> {
  try {
    return (await git.raw(args)).trim();
  } catch {
    return '';
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** realpath of the longest existing prefix, with the rest appended: for paths not created yet. */
function realpathNearest(p: string): string {
  const rest: string[] = [];
  let d = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(d), ...rest.reverse());
    } catch {
      const up = path.dirname(d);
      if (up === d) return path.resolve(p);
      rest.push(path.basename(d));
      d = up;
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p); // a dangling symlink counts: git would refuse it too
    return true;
  } catch {
    return false;
  }
}

interface Top {
  git: SimpleGit;
  /** Realpath of the worktree's root. */
  top: string;
}

interface Repo extends Top {
  commonDir: string;
  worktrees: WorktreeEntry[];
  o: GitOptions;
}

async function openTop(dir: string, o: GitOptions): Promise<Top> {
  const abs = path.resolve(dir);
  if (!isDir(abs)) throw new WorktreeError('not-a-repo', `not a git repository: ${abs} is not a directory`);
  const git = gitIn(abs, o);
  let top: string;
  try {
    top = (await git.raw(['rev-parse', '--show-toplevel'])).trim();
  } catch (e) {
    throw new WorktreeError('not-a-repo', `${abs} is not in a git repository: run git init there (and make a first commit) `
      + `to have worktrees, or open a file of a repository (${gitMessage(e)})`);
  }
  if (!top) throw new WorktreeError('not-a-repo', `${abs} is not in a git worktree: open a file of one`);
  const real = realpathOr(top);
  return { git: real === abs ? git : gitIn(real, o), top: real };
}

async function openRepo(dir: string, o: GitOptions): Promise<Repo> {
  const t = await openTop(dir, o);
  const common = (await t.git.raw(['rev-parse', '--git-common-dir'])).trim();
  return { ...t, commonDir: realpathOr(path.resolve(t.top, common)), worktrees: await listIn(t.git), o };
}

async function listIn(git: SimpleGit): Promise<WorktreeEntry[]> {
  let out: string;
  let nul = true;
  try {
    out = await git.raw(['worktree', 'list', '--porcelain', '-z']);
  } catch {
    // -z arrived in git 2.36; older ones only have the newline form.
    nul = false;
    out = await git.raw(['worktree', 'list', '--porcelain']);
  }
  return parseWorktreeList(out, nul);
}

/** Parses `git worktree list --porcelain [-z]`. */
export function parseWorktreeList(out: string, nul: boolean): WorktreeEntry[] {
  const list: WorktreeEntry[] = [];
  let cur: WorktreeEntry | null = null;
  for (const field of out.split(nul ? '\0' : '\n')) {
    if (field === '') {
      cur = null;
      continue;
    }
    const sp = field.indexOf(' ');
    const key = sp < 0 ? field : field.slice(0, sp);
    const value = sp < 0 ? '' : field.slice(sp + 1);
    if (key === 'worktree') {
      cur = {
        path: realpathOr(value), head: null, branch: null, main: list.length === 0,
        bare: false, detached: false, locked: null, prunable: false,
      };
      list.push(cur);
      continue;
    }
    if (!cur) continue;
    if (key === 'HEAD') cur.head = value;
    else if (key === 'branch') cur.branch = value.replace(/^refs\/heads\//, '');
    else if (key === 'detached') cur.detached = true;
    else if (key === 'bare') cur.bare = true;
    else if (key === 'locked') cur.locked = value;
    else if (key === 'prunable') cur.prunable = true;
  }
  return list;
}

/** Every worktree of the repository containing dir, the main one first. */
export async function listWorktrees(dir: string, opts: GitOptions = {}): Promise<WorktreeEntry[]> {
  return (await openRepo(dir, opts)).worktrees;
}

/**
 * A branch name as a single path component: '/' and anything but letters, digits, '.', '_' and
 * '-' become '-' ('feature/login' -> 'feature-login'); no leading or trailing '.' or '-'.
 */
export function branchSlug(branch: string): string {
  const slug = branch
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '');
  return slug || 'worktree';
}

function repoName(main: WorktreeEntry): string {
  const base = path.basename(main.path);
  return (main.bare && base.replace(/\.git$/, '')) || base;
}

function planIn(repo: Repo, branch: string, o: PlanOptions): string {
  const main = repo.worktrees[0];
  const tpl = o.dir ?? DEFAULT_DIR_TEMPLATE;
  if (!tpl.trim()) throw new WorktreeError('bad-dir', 'the worktree directory option is empty');
  const unknown = (tpl.match(/\{[^{}]*\}/g) ?? []).filter((m) => m !== '{repo}' && m !== '{branch}');
  if (unknown.length) {
    throw new WorktreeError('bad-dir', `unknown placeholder ${unknown[0]} in worktree directory '${tpl}' (use {repo} and {branch})`);
  }
  const name = repoName(main);
  const slug = branchSlug(branch);
  // A replacer function: '$' in a directory name must stay literal.
  let p = tpl.replace(/\{(repo|branch)\}/g, (_m, k: string) => (k === 'repo' ? name : slug));
  if (p === '~' || p.startsWith('~/')) p = path.join((o.env ?? process.env).HOME || os.homedir(), p.slice(1));
  p = path.resolve(main.path, p);
  if (!tpl.includes('{branch}')) p = path.join(p, `${name}-${slug}`);

  const real = realpathNearest(p);
  if (exists(p)) throw new WorktreeError('path-exists', `${p} already exists`);
  for (const w of repo.worktrees) {
    if (w.path === real) {
      throw new WorktreeError('path-exists', `${p} is registered to a worktree whose directory is missing; run \`git worktree prune\``, { worktree: w.path });
    }
    if (isInside(real, w.path)) {
      throw new WorktreeError('path-in-worktree', `${p} would be inside the worktree ${w.path}`, { worktree: w.path });
    }
  }
  return real;
}

/**
 * Where `addWorktree` would put a worktree for branch (not validated here). Throws
 * 'path-exists', 'path-in-worktree', 'bad-dir' or 'not-a-repo'.
 */
export async function planWorktreePath(repoRoot: string, branch: string, opts: PlanOptions = {}): Promise<string> {
  return planIn(await openRepo(repoRoot, opts), branch, opts);
}

async function checkBranchName(repo: Repo, branch: string): Promise<string> {
  const bad = (why: string): WorktreeError => new WorktreeError('invalid-branch', `invalid branch name '${branch}': ${why}`);
  if (!branch.trim()) throw bad('empty');
  if (branch.startsWith('-')) throw bad('it starts with "-"');
  let name: string;
  try {
    // Prints the name, with @{-1} and the like expanded.
    name = (await repo.git.raw(['check-ref-format', '--branch', branch])).trim();
  } catch (e) {
    throw bad(gitMessage(e));
  }
  if (!name || name === 'HEAD' || name.startsWith('-')) throw bad('not usable as a branch');
  return name;
}

async function verifyCommit(git: SimpleGit, rev: string): Promise<string> {
  return probe(git, ['rev-parse', '--verify', '-q', `${rev}^{commit}`]);
}

function holderError(branch: string, w: WorktreeEntry): WorktreeError {
  const gone = w.prunable ? ' (its directory is missing; run `git worktree prune`)' : '';
  return new WorktreeError('branch-checked-out', `branch '${branch}' is already checked out in the worktree ${w.path}${gone}`, { worktree: w.path });
}

function addFailure(e: unknown, target: string, branch: string): WorktreeError {
  const msg = gitMessage(e);
  if (/already checked out|already used by worktree/i.test(msg)) {
    return new WorktreeError('branch-checked-out', `branch '${branch}' is already checked out in another worktree (${msg})`);
  }
  if (/already exists|already registered/i.test(msg)) return new WorktreeError('path-exists', `${target}: ${msg}`);
  return new WorktreeError('git', `git worktree add failed: ${msg}`);
}

/**
 * Creates a worktree for branch, at planWorktreePath's location. fromDir may be anywhere in the
 * main or a linked worktree. A branch that doesn't exist locally is created from base (any
 * commit-ish; default: fromDir's HEAD). An existing local branch is checked out; giving a base
 * for it is an error, so that a base is never silently ignored.
 *
 * Errors: 'not-a-repo', 'invalid-branch', 'unknown-base', 'branch-exists', 'branch-checked-out',
 * 'path-exists', 'path-in-worktree', 'bad-dir', 'git'.
 */
export async function addWorktree(fromDir: string, branch: string, base?: string, opts: PlanOptions = {}): Promise<AddResult> {
  const repo = await openRepo(fromDir, opts);
  const name = await checkBranchName(repo, branch);
  const existing = await probe(repo.git, ['rev-parse', '--verify', '-q', `refs/heads/${name}`]);
  const hasBase = base !== undefined && base !== '';

  if (existing) {
    if (hasBase) {
      throw new WorktreeError('branch-exists', `branch '${name}' already exists; leave out the base to check it out in a new worktree`);
    }
    const holder = repo.worktrees.find((w) => w.branch === name);
    if (holder) throw holderError(name, holder);
    const target = planIn(repo, name, opts);
    const warning = await runAdd(repo, ['worktree', 'add', '--', target, name], target, name, null);
    return { root: realpathOr(target), branch: name, base: null, baseCommit: null, created: false, warning };
  }

  let commit: string;
  let label: string;
  let startPoint: string;
  if (hasBase) {
    if (base.startsWith('-')) throw new WorktreeError('unknown-base', `unknown base '${base}'`);
    commit = await verifyCommit(repo.git, base);
    if (!commit) throw new WorktreeError('unknown-base', `unknown base '${base}': no such commit, branch or tag`);
    // By name, so that git's usual upstream setup applies (a base 'origin/x' is tracked).
    startPoint = base;
    label = base;
  } else {
    commit = await verifyCommit(repo.git, 'HEAD');
    if (!commit) throw new WorktreeError('unknown-base', `the worktree ${repo.top} has no commit yet to branch from: make a first commit (git commit), then add worktrees`);
    startPoint = commit;
    label = (await probe(repo.git, ['symbolic-ref', '--short', '-q', 'HEAD'])) || commit.slice(0, 12);
  }
  const target = planIn(repo, name, opts);
  const warning = await runAdd(repo, ['worktree', 'add', '-b', name, '--', target, startPoint], target, name, commit);
  return { root: realpathOr(target), branch: name, base: label, baseCommit: commit, created: true, warning };
}

/**
 * Runs `git worktree add`. A failure after the worktree exists (its post-checkout hook failed)
 * is a warning: the worktree is usable and the caller should open it.
 */
async function runAdd(repo: Repo, args: string[], target: string, name: string, freshFrom: string | null): Promise<string | null> {
  try {
    await repo.git.raw(args);
    return null;
  } catch (e) {
    const now = await listIn(repo.git).catch((): WorktreeEntry[] => []);
    if (now.some((w) => w.path === realpathOr(target) && w.branch === name)) {
      return `the worktree was created, but git reported: ${gitMessage(e)}`;
    }
    if (freshFrom) await dropFreshBranch(repo, name, freshFrom, now);
    throw addFailure(e, target, name);
  }
}

/** `worktree add -b` creates the branch before the checkout: undo that if the checkout failed. */
async function dropFreshBranch(repo: Repo, name: string, commit: string, now: WorktreeEntry[]): Promise<void> {
  const tip = await probe(repo.git, ['rev-parse', '--verify', '-q', `refs/heads/${name}`]);
  if (tip !== commit) return; // not there, or moved: not ours to delete
  if (now.some((w) => w.branch === name)) return;
  await probe(repo.git, ['branch', '-D', '--', name]);
}

/** `git status --porcelain -z` as `XY path` lines. */
function parseStatus(out: string): string[] {
  const fields = out.split('\0');
  const lines: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    lines.push(`${xy.trim()} ${f.slice(3)}`);
    // With -z a rename's or copy's source path is a field of its own.
    if (/[RC]/.test(xy)) i++;
  }
  return lines;
}

function listFew(files: string[], n = 5): string {
  const shown = files.slice(0, n).join(', ');
  return files.length > n ? `${shown} and ${files.length - n} more` : shown;
}

/**
 * Removes the linked worktree whose root is `root`. Refuses the main worktree and a locked one;
 * without force, also one with uncommitted changes (modified, staged, or untracked and not
 * ignored: ignored files go with it, as with git) or a detached HEAD whose commits no branch, tag
 * or remote-tracking ref contains. The branch is kept unless deleteBranch says otherwise.
 * Commands run from the main worktree, so `git branch -d` judges "merged" against its HEAD
 * (or the branch's upstream).
 *
 * Errors: 'not-a-repo', 'not-a-worktree', 'main-worktree', 'locked', 'dirty',
 * 'unreachable-commits', 'git'. A branch that can't be deleted is reported, not thrown: the
 * worktree is already gone by then.
 */
export async function removeWorktree(root: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
  const abs = path.resolve(root);
  if (!isDir(abs)) {
    throw new WorktreeError('not-a-worktree', `${abs} is not a directory (for a worktree whose directory is gone, run \`git worktree prune\`)`);
  }
  const repo = await openRepo(abs, opts);
  if (repo.top !== realpathOr(abs)) {
    throw new WorktreeError('not-a-worktree', `${abs} is not the root of a worktree (it is inside ${repo.top})`, { worktree: repo.top });
  }
  const entry = repo.worktrees.find((w) => w.path === repo.top);
  if (!entry) throw new WorktreeError('not-a-worktree', `${repo.top} is not listed by \`git worktree list\``);
  if (entry.main) throw new WorktreeError('main-worktree', `${repo.top} is the main worktree of its repository; only linked worktrees can be removed`);
  if (entry.locked !== null) {
    const why = entry.locked ? ` (${entry.locked})` : '';
    throw new WorktreeError('locked', `the worktree ${repo.top} is locked${why}; unlock it with \`git worktree unlock\` first`);
  }

  const force = opts.force === true;
  const changes = parseStatus(await repo.git.raw(['status', '--porcelain=v1', '-z', '--ignore-submodules=none']));
  if (changes.length && !force) {
    throw new WorktreeError('dirty',
      `the worktree ${repo.top} has uncommitted changes (${listFew(changes)}); commit or stash them, or force the removal to discard them`,
      { files: changes });
  }
  if (!force && entry.detached && entry.head) {
    // The worktree's HEAD reflog goes with it: such commits would be findable by sha only.
    const lost = await probe(repo.git, ['rev-list', '--max-count=1', entry.head, '--not', '--branches', '--tags', '--remotes']);
    if (lost) {
      throw new WorktreeError('unreachable-commits',
        `the worktree ${repo.top} has a detached HEAD with commits on no branch (${entry.head.slice(0, 12)}); create a branch for them, or force the removal`);
    }
  }

  await opts.beforeRemove?.();
  const main = repo.worktrees[0];
  // Not from inside the worktree being deleted.
  const admin = gitIn(isDir(main.path) ? main.path : repo.commonDir, repo.o);
  try {
    await admin.raw(['worktree', 'remove', ...(force ? ['--force'] : []), '--', repo.top]);
  } catch (e) {
    throw new WorktreeError('git', `git worktree remove failed: ${gitMessage(e)}`);
  }

  const result: RemoveResult = {
    root: repo.top, branch: entry.branch, forced: force, discarded: force ? changes : [],
    branchDeleted: false, deletedBranchTip: null, branchNote: null,
  };
  if (opts.deleteBranch && !entry.branch) {
    result.branchNote = 'the worktree had a detached HEAD: no branch to delete';
  } else if (opts.deleteBranch && entry.branch) {
    const b = entry.branch;
    const tip = await probe(admin, ['rev-parse', '--verify', '-q', `refs/heads/${b}`]);
    try {
      await admin.raw(['branch', opts.deleteBranch === 'force' ? '-D' : '-d', '--', b]);
      result.branchDeleted = true;
      result.deletedBranchTip = tip || null;
    } catch (e) {
      result.branchNote = `kept branch '${b}': ${gitMessage(e)}`;
    }
  }
  return result;
}

/**
 * The base a worktree's changes are measured against: the merge-base of its HEAD with the
 * trunk. The trunk is origin/HEAD's branch when origin/HEAD exists (its local branch of the same
 * name counts too, whichever is closer), else the main worktree's branch. null when there is no
 * trunk, no commit yet, or no common history.
 */
export async function worktreeBase(root: string, opts: GitOptions = {}): Promise<WorktreeBase | null> {
  const t = await openTop(root, opts);
  if (!(await verifyCommit(t.git, 'HEAD'))) return null;
  const trunk = await trunkOf(t, opts);
  if (!trunk) return null;
  // merge-base A B C: the best common ancestor of A with B and C together, i.e. the nearer fork.
  const commit = await probe(t.git, ['merge-base', 'HEAD', ...trunk.refs]);
  return commit ? { ref: trunk.ref, commit } : null;
}

async function trunkOf(t: Top, opts: GitOptions): Promise<{ ref: string; refs: string[] } | null> {
  const has = async (ref: string): Promise<boolean> => (await verifyCommit(t.git, ref)) !== '';
  const originHead = await probe(t.git, ['symbolic-ref', '-q', 'refs/remotes/origin/HEAD']);
  const prefix = 'refs/remotes/origin/';
  if (originHead.startsWith(prefix) && (await has(originHead))) {
    const short = originHead.slice(prefix.length);
    const local = `refs/heads/${short}`;
    return (await has(local)) ? { ref: short, refs: [originHead, local] } : { ref: `origin/${short}`, refs: [originHead] };
  }
  const repo = await openRepo(t.top, opts);
  const main = repo.worktrees[0];
  // A bare repository has no main worktree: its own HEAD names the default branch.
  const branch = main.bare ? await probe(gitIn(repo.commonDir, opts), ['symbolic-ref', '--short', '-q', 'HEAD']) : main.branch;
  if (!branch || !(await has(`refs/heads/${branch}`))) return null;
  return { ref: branch, refs: [`refs/heads/${branch}`] };
}

/**
 * `git diff --stat <merge-base of HEAD and base>` in the worktree at root: its commits and its
 * uncommitted changes to tracked files (untracked files are not part of a diff), '' when none.
 *
 * Errors: 'not-a-repo', 'unknown-base', 'no-merge-base', 'git'.
 */
export async function diffStat(root: string, base: string, opts: DiffStatOptions = {}): Promise<string> {
  if (!base || base.startsWith('-')) throw new WorktreeError('unknown-base', `unknown base '${base}'`);
  const t = await openTop(root, opts);
  const commit = await verifyCommit(t.git, base);
  if (!commit) throw new WorktreeError('unknown-base', `unknown base '${base}': no such commit, branch or tag`);
  const mb = await probe(t.git, ['merge-base', 'HEAD', commit]);
  if (!mb) throw new WorktreeError('no-merge-base', `HEAD of ${t.top} and '${base}' have no common ancestor`);
  const width = Math.max(40, Math.floor(opts.width ?? 80));
  try {
    // No external diff drivers or textconv filters: a preview must not run repository-configured programs.
    const out = await t.git.raw(['diff', `--stat=${width}`, '--no-color', '--no-ext-diff', '--no-textconv', mb, '--']);
    return out.trimEnd();
  } catch (e) {
    throw new WorktreeError('git', `git diff failed: ${gitMessage(e)}`);
  }
}
