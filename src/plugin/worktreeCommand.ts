import * as path from 'path';
import type { Bridge } from './bridge';
import type { Context } from './app';
import type { Instance } from '../instances/instance';
import type { InstanceManager } from '../instances/manager';
import type { Logger } from '../util/log';
import { addWorktree, listWorktrees, removeWorktree, WorktreeError } from '../git/worktreeOps';

/** What the worktree command needs from the App. */
export interface WorktreeDeps {
  bridge: Bridge;
  manager: InstanceManager;
  /** setup's worktree_dir (see worktreeOps' PlanOptions.dir). */
  worktreeDir?: string;
  log: Logger;
  /** The worktree a command acts on (the Claude terminal's, else the buffer's, else the cwd's). */
  worktreeFor(ctx: Context): Promise<{ root: string; branch: string }>;
  /** End instances cleanly (process, server, lock file, terminal). */
  end(insts: Instance[]): Promise<void>;
  /** Start (or show) the instance's claude in its terminal. */
  startClaude(inst: Instance): Promise<void>;
}

/**
 * :ClaudeCodeWorktree add {branch} [base] | remove [name] [--delete-branch] (bang: force).
 * Defined on the Lua side (node-client drops `bang` for remote commands) and forwarded here.
 */
export async function worktreeCommand(d: WorktreeDeps, ctx: Context, args: string[], bang: boolean): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') return worktreeAdd(d, ctx, rest);
  if (sub === 'remove') return worktreeRemove(d, ctx, rest, bang);
  throw new Error('usage: :ClaudeCodeWorktree add {branch} [base] | :ClaudeCodeWorktree[!] remove [name] [--delete-branch]');
}

async function worktreeAdd(d: WorktreeDeps, ctx: Context, args: string[]): Promise<void> {
  const [branch, base, extra] = args;
  if (!branch || extra !== undefined) throw new Error('usage: :ClaudeCodeWorktree add {branch} [base]');
  const from = ctx.file ? path.dirname(ctx.file) : ctx.cwd;
  const r = await addWorktree(from, branch, base, { dir: d.worktreeDir });
  d.bridge.notify(`${r.created ? 'created branch ' + r.branch + (r.base ? ` from ${r.base}` : '') : 'checked out ' + r.branch} in ${r.root}`
    + (r.warning ? ` (git: ${r.warning})` : ''));
  const inst = await d.manager.ensure(r.root, r.branch);
  await d.startClaude(inst);
}

async function worktreeRemove(d: WorktreeDeps, ctx: Context, args: string[], force: boolean): Promise<void> {
  const deleteBranch = args.includes('--delete-branch');
  const names = args.filter((a) => a !== '--delete-branch');
  if (names.length > 1) throw new Error('usage: :ClaudeCodeWorktree[!] remove [name] [--delete-branch]');
  const root = names[0] ? await worktreeNamed(d, ctx, names[0]) : (await d.worktreeFor(ctx)).root;
  // Claude is stopped only once git's checks have passed: a refused removal leaves it running.
  const inst = d.manager.get(root);
  const r = await removeWorktree(root, {
    force, deleteBranch, beforeRemove: async () => { if (inst) await d.end([inst]); },
  }).catch((e: unknown) => { throw shortRefusal(e, root); });
  await d.bridge.call('claude_worktrees.editor', 'forget_root', root).catch((e) => d.log.warn('forget_root failed', e));
  const branchNote = r.branchDeleted ? `, branch ${r.branch} deleted (was ${r.deletedBranchTip?.slice(0, 12)})`
    : r.branch ? `, branch ${r.branch} kept${r.branchNote ? ` (${r.branchNote})` : ''}` : '';
  d.bridge.notify(`removed worktree ${path.basename(r.root)}${r.forced && r.discarded.length ? ` (discarded ${r.discarded.length} change(s))` : ''}${branchNote}`);
}

/**
 * The refusals a user meets most, said briefly: a notice wider than the screen stops Neovim at
 * a hit-enter prompt. Anything else keeps git's own message.
 */
function shortRefusal(e: unknown, root: string): unknown {
  if (!(e instanceof WorktreeError)) return e;
  const name = path.basename(root);
  if (e.code === 'main-worktree') return new Error(`${name} is the main worktree; only linked worktrees can be removed`);
  if (e.code === 'dirty') {
    const files = e.details.files ?? [];
    const few = files.slice(0, 3).join(', ') + (files.length > 3 ? ` +${files.length - 3}` : '');
    return new Error(`${name} has uncommitted changes (${few}); :ClaudeCodeWorktree! remove discards them`);
  }
  return e;
}

/** An instance name, else a worktree of this repository by directory name or branch. */
async function worktreeNamed(d: WorktreeDeps, ctx: Context, name: string): Promise<string> {
  const inst = d.manager.byName(name);
  if (inst) return inst.root;
  const list = await listWorktrees(ctx.file ? path.dirname(ctx.file) : ctx.cwd);
  // The main worktree matches too: removeWorktree then refuses it with the reason.
  const hit = list.find((w) => path.basename(w.path) === name || w.branch === name);
  if (!hit) throw new Error(`no instance or linked worktree named '${name}'`);
  return hit.path;
}
