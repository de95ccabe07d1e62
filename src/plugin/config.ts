import * as path from 'path';
import { isRec } from './check';
import { parseLevel, type Level } from '../util/log';

/** What setup() passed, as the Node side uses it (validated again here: it crossed RPC). */
export interface Config {
  /** Where :ClaudeCodeWorktree add puts new worktrees (see worktreeOps' PlanOptions.dir). */
  worktreeDir?: string;
  /** The environment (CLAUDE_WORKTREES_LOG_LEVEL) wins, so a bug report can raise it without editing config. */
  logLevel: Level;
  cmd: string | string[];
  env: Record<string, string>;
  portRange?: [number, number];
  /** Absolute roots besides each worktree that the IDE tools may touch (claude's /add-dir). */
  extraRoots: string[];
  /** How many instances may run at once (max_instances); the next start is refused. */
  maxInstances: number;
  /** :ClaudeCode resumes the worktree's last session (auto_resume, default on). */
  autoResume: boolean;
  /** A crashed claude is restarted at most `max` times within `windowMs` (auto_restart); null: off. */
  autoRestart: { max: number; windowMs: number } | null;
}

export const DEFAULT_AUTO_RESTART = { max: 3, windowMs: 60_000 };

export const DEFAULT_MAX_INSTANCES = 10;

/** setup()'s options from Lua; anything malformed falls back to its default. */
export function parseConfig(v: unknown): Config {
  const c = isRec(v) ? v : {};
  const cmd = typeof c.cmd === 'string' ? c.cmd
    : Array.isArray(c.cmd) && c.cmd.every((x) => typeof x === 'string') ? (c.cmd as string[]) : 'claude';
  const env: Record<string, string> = {};
  if (isRec(c.env)) for (const [k, val] of Object.entries(c.env)) if (typeof val === 'string') env[k] = val;
  const pr = c.port_range;
  const portRange = Array.isArray(pr) && typeof pr[0] === 'number' && typeof pr[1] === 'number'
    ? [pr[0], pr[1]] as [number, number] : undefined;
  const worktreeDir = typeof c.worktree_dir === 'string' && c.worktree_dir !== '' ? c.worktree_dir : undefined;
  const extraRoots = Array.isArray(c.extra_roots)
    ? c.extra_roots.filter((x): x is string => typeof x === 'string' && path.isAbsolute(x)) : [];
  const mi = c.max_instances;
  const maxInstances = typeof mi === 'number' && Number.isInteger(mi) && mi >= 1 ? mi : DEFAULT_MAX_INSTANCES;
  const autoResume = c.auto_resume !== false;
  const ar = c.auto_restart;
  const autoRestart = ar === false ? null : isRec(ar) ? {
    max: typeof ar.max === 'number' && Number.isInteger(ar.max) && ar.max >= 1 ? ar.max : DEFAULT_AUTO_RESTART.max,
    windowMs: typeof ar.window === 'number' && ar.window > 0 ? ar.window * 1000 : DEFAULT_AUTO_RESTART.windowMs,
  } : { ...DEFAULT_AUTO_RESTART };
  return { cmd, env, portRange, worktreeDir, extraRoots, maxInstances, autoResume, autoRestart, logLevel: parseLevel(process.env.CLAUDE_WORKTREES_LOG_LEVEL, parseLevel(c.log_level)) };
}
