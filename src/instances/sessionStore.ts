/**
 * The Claude session of each worktree, kept on disk so that a Neovim restart (or crash) can
 * resume it: one small JSON file per worktree under the plugin's state dir, written atomically
 * (0600 in a 0700 dir). What to start with is decided by planSession().
 */
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SESSION_ID_RE } from '../ide/server';

export interface SessionRecord {
  root: string;
  sessionId: string;
  updatedAt: string;
}

export class SessionStore {
  private readonly written = new Map<string, string>();

  constructor(readonly dir: string) {}

  private file(root: string): string {
    return path.join(this.dir, `${createHash('sha256').update(root).digest('hex').slice(0, 32)}.json`);
  }

  /** The session last known for root; null when none, or the file is not ours to trust. */
  get(root: string): SessionRecord | null {
    try {
      const v: unknown = JSON.parse(fs.readFileSync(this.file(root), 'utf8'));
      if (typeof v !== 'object' || v === null) return null;
      const r = v as Record<string, unknown>;
      if (r.root !== root || typeof r.sessionId !== 'string' || !SESSION_ID_RE.test(r.sessionId)) return null;
      return { root, sessionId: r.sessionId, updatedAt: typeof r.updatedAt === 'string' ? r.updatedAt : '' };
    } catch {
      return null;
    }
  }

  /** Remember root's session (atomic: a crash mid-write leaves the old file whole). */
  set(root: string, sessionId: string): void {
    if (!SESSION_ID_RE.test(sessionId) || this.written.get(root) === sessionId) return;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(root);
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    const body: SessionRecord = { root, sessionId, updatedAt: new Date().toISOString() };
    try {
      fs.writeFileSync(tmp, `${JSON.stringify(body)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, target);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    this.written.set(root, sessionId);
  }
}

/** Claude's config dir as the claude we start sees it (its transcripts live below it). */
export function claudeConfigDir(env: Record<string, string | undefined>): string {
  return env.CLAUDE_CONFIG_DIR || path.join(os.homedir(), '.claude');
}

/** How much of a transcript is read to find its first message (they come right after a few mode lines). */
const HEAD_BYTES = 256 * 1024;

/**
 * Has claude a conversation in this session's transcript (`<config>/projects/<project>/<id>.jsonl`)?
 * Only then can `--resume` load it. The CLI writes the file at start with mode lines alone; a
 * session that never got a message would make the resumed claude exit ("No conversation found").
 */
export function transcriptExists(configDir: string, sessionId: string): boolean {
  const projects = path.join(configDir, 'projects');
  let dirs: string[];
  try {
    dirs = fs.readdirSync(projects);
  } catch {
    return false;
  }
  return dirs.some((d) => hasMessage(path.join(projects, d, `${sessionId}.jsonl`)));
}

function hasMessage(file: string): boolean {
  let fd: number | null = null;
  try {
    if (!fs.statSync(file).isFile()) return false;
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = fs.readSync(fd, buf, 0, HEAD_BYTES, 0);
    return /"type":"(user|assistant)"/.test(buf.toString('utf8', 0, n));
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

const SESSION_FLAGS = ['--resume', '-r', '--continue', '-c', '--session-id', '--fork-session'];

/** Did the user choose the session in their args? Then we add no session flag of ours. */
export function choosesSession(args: readonly string[]): boolean {
  return args.some((a) => SESSION_FLAGS.includes(a) || SESSION_FLAGS.some((o) => o.startsWith('--') && a.startsWith(`${o}=`)));
}

export interface SessionPlan {
  /** argv to put before the user's args. */
  args: string[];
  /** The session id claude will run under, when we chose it. */
  sessionId: string | null;
  resumed: boolean;
}

/**
 * What a launch runs: the user's own session flags win; else the known session is resumed when
 * its transcript exists (and fresh is not asked for); else a new session with an id of our own
 * (`--session-id`), so it is known, and kept, before claude has said anything.
 */
export function planSession(userArgs: readonly string[], known: string | null, fresh: boolean,
  exists: (id: string) => boolean, newId: () => string = randomUUID): SessionPlan {
  if (choosesSession(userArgs)) return { args: [], sessionId: null, resumed: false };
  if (!fresh && known && exists(known)) return { args: ['--resume', known], sessionId: known, resumed: true };
  const id = newId();
  return { args: ['--session-id', id], sessionId: id, resumed: false };
}
