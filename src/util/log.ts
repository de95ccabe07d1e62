import * as fs from 'fs';
import * as path from 'path';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A level from user input (setup's log_level, the environment), else the fallback. */
export function parseLevel(v: unknown, fallback: Level = 'info'): Level {
  return typeof v === 'string' && v in RANK ? (v as Level) : fallback;
}

export interface Logger {
  debug(msg: string, ...rest: unknown[]): void;
  info(msg: string, ...rest: unknown[]): void;
  warn(msg: string, ...rest: unknown[]): void;
  error(msg: string, ...rest: unknown[]): void;
  child(name: string): Logger;
}

/** Render extra arguments; errors keep their stack, everything else is JSON. */
function render(rest: unknown[]): string {
  return rest
    .map((r) => {
      if (r instanceof Error) return r.stack ?? r.message;
      if (typeof r === 'string') return r;
      try {
        return JSON.stringify(r);
      } catch {
        return String(r);
      }
    })
    .join(' ');
}

/**
 * One append fd per log file for the host's life, shared by every logger of that file: a child
 * logger or an instance started again (same name, same file) opens no fd of its own.
 */
const fds = new Map<string, number>();

function fdFor(file: string): number {
  let fd = fds.get(file);
  if (fd === undefined) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fd = fs.openSync(file, 'a', 0o600);
    fds.set(file, fd);
  }
  return fd;
}

/**
 * Appends lines to a file. Never writes to stdout: in the shared Node host, stdout is the
 * msgpack-RPC channel and one stray byte kills every Node plugin.
 */
export class FileLogger implements Logger {
  constructor(
    private readonly file: string | null,
    private readonly name = 'claude-worktrees',
    private readonly min: Level = parseLevel(process.env.CLAUDE_WORKTREES_LOG_LEVEL),
  ) {}

  private write(level: Level, msg: string, rest: unknown[]): void {
    if (!this.file || RANK[level] < RANK[this.min]) return;
    try {
      const extra = rest.length ? ' ' + render(rest) : '';
      fs.writeSync(fdFor(this.file), `${new Date().toISOString()} ${level.toUpperCase()} [${this.name}] ${msg}${extra}\n`);
    } catch {
      // Logging must never take the host down.
    }
  }
  debug(msg: string, ...rest: unknown[]): void { this.write('debug', msg, rest); }
  info(msg: string, ...rest: unknown[]): void { this.write('info', msg, rest); }
  warn(msg: string, ...rest: unknown[]): void { this.write('warn', msg, rest); }
  error(msg: string, ...rest: unknown[]): void { this.write('error', msg, rest); }
  child(name: string): Logger { return new FileLogger(this.file, `${this.name}:${name}`, this.min); }
  /** Close the file's fd (every logger of it opens it again on its next line). */
  close(): void {
    const fd = this.file === null ? undefined : fds.get(this.file);
    if (fd === undefined || this.file === null) return;
    fds.delete(this.file);
    try { fs.closeSync(fd); } catch { /* already closed */ }
  }
}

/** A logger that drops everything (unit tests, benches). */
export const nullLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return nullLogger; },
};
