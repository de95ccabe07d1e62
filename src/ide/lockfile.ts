import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';

export interface LockBody {
  pid: number;
  workspaceFolders: string[];
  ideName: string;
  transport: 'ws';
  authToken: string;
}

/** `$CLAUDE_CONFIG_DIR/ide` when that is set and non-empty, else `~/.claude/ide`. */
export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.CLAUDE_CONFIG_DIR && env.CLAUDE_CONFIG_DIR !== ''
    ? env.CLAUDE_CONFIG_DIR
    : path.join(env.HOME || os.homedir(), '.claude');
  return path.join(base, 'ide');
}

export function lockPath(dir: string, port: number): string {
  return path.join(dir, `${port}.lock`);
}

/** 128 bits from the CSPRNG, hex. */
export function newAuthToken(): string {
  return randomBytes(16).toString('hex');
}

function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by umask and ignored for an existing dir: make it 0700 either way.
  try { fs.chmodSync(dir, 0o700); } catch { /* not ours to change: writing still works */ }
}

/** Atomic write: an O_EXCL 0600 temp file in the same directory, renamed over the lock. */
export function writeLock(dir: string, port: number, body: LockBody): string {
  ensureDir(dir);
  const target = lockPath(dir, port);
  const tmp = path.join(dir, `.${port}.lock.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
  try {
    try {
      // No fsync: the rename makes it appear whole to readers, and a lock that a power loss
      // took would be stale anyway (its port is gone); fsync was most of a start's lock time.
      fs.writeSync(fd, JSON.stringify(body));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    // A full disk or a lost directory: no half-written temp file stays behind.
    try { fs.unlinkSync(tmp); } catch { /* gone already */ }
    throw err;
  }
  return target;
}

/**
 * What went wrong writing a lock file in `dir`, and what the user can do about it: claude finds
 * the editor only through that file, so an instance without one is useless.
 */
export function lockWriteError(dir: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
  const fix = 'or set CLAUDE_CONFIG_DIR to a writable directory (the lock file goes to $CLAUDE_CONFIG_DIR/ide)';
  // The nearest existing ancestor that is not a directory is the culprit of ENOTDIR/EEXIST.
  for (let p = dir; ; p = path.dirname(p)) {
    let st: fs.Stats | null = null;
    try { st = fs.statSync(p); } catch { /* missing: look further up */ }
    if (st && !st.isDirectory()) {
      return `cannot write the lock file: ${p} is not a directory (${code}). Move it away, ${fix}`;
    }
    if (st || path.dirname(p) === p) break;
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return `cannot write the lock file in ${dir}: permission denied (${code}). Make ${dir} writable for you (chmod u+rwx), ${fix}`;
  }
  return `cannot write the lock file in ${dir} (${code}): ${fix}`;
}

/** Remove our lock file only if it still carries our token (a later server may own the port). */
export function removeLock(file: string, authToken: string): void {
  try {
    const body = JSON.parse(fs.readFileSync(file, 'utf8')) as { authToken?: unknown };
    if (body.authToken !== authToken) return;
    fs.unlinkSync(file);
  } catch {
    // Missing or unreadable: nothing of ours to remove.
  }
}

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove `<port>.lock` files whose pid is dead. Only those: a live pid's lock belongs to some
 * other editor, and anything that is not a lock file is not ours to touch.
 */
export function removeStaleLocks(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!/^\d+\.lock$/.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const body = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown };
      if (typeof body.pid === 'number' && !isPidAlive(body.pid)) {
        fs.unlinkSync(file);
        removed.push(file);
      }
    } catch {
      // Unreadable or half-written by someone else: leave it.
    }
  }
  return removed;
}
