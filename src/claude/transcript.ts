import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import { nullLogger, type Logger } from '../util/log';

/**
 * No hook fires when the user interrupts a turn (Esc while claude works, or "No"/Esc at a
 * permission prompt: CLI 2.1.197). The only trace is a user entry in the session transcript
 * (JSONL, its path comes with every hook), so while a turn runs we tail that file for it.
 */
export const INTERRUPT_MARKER = '[Request interrupted by user';

/** An interrupt entry is short; longer lines (tool output, file contents) are skipped unread. */
const MAX_LINE = 64 * 1024;
const READ_CHUNK = 256 * 1024;

/** True for a transcript line that records a user interrupt ("[Request interrupted by user...]"). */
export function isInterruptEntry(line: string): boolean {
  if (!line.includes(INTERRUPT_MARKER)) return false;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof entry !== 'object' || entry === null) return false;
  const e = entry as { type?: unknown; isSidechain?: unknown; message?: { role?: unknown; content?: unknown } };
  if (e.type !== 'user' || e.isSidechain === true || e.message?.role !== 'user') return false;
  const content = e.message.content;
  if (typeof content === 'string') return content.startsWith(INTERRUPT_MARKER);
  // Only a top-level text block: the marker inside a tool_result (a file claude read) does not count.
  return Array.isArray(content) && content.some((c: unknown) => typeof c === 'object' && c !== null
    && (c as { type?: unknown }).type === 'text'
    && typeof (c as { text?: unknown }).text === 'string'
    && (c as { text: string }).text.startsWith(INTERRUPT_MARKER));
}

export interface TranscriptTailOptions {
  /** Safety-net poll while fs.watch is unavailable or misses a change (ms). */
  pollMs?: number;
  log?: Logger;
}

/**
 * Follows one transcript from its current end and calls onInterrupt for each interrupt entry
 * appended. Reads only what was appended, one read at a time. stop() is idempotent.
 */
export class TranscriptTail {
  private offset = 0;
  private partial = '';
  /** Keeps a UTF-8 sequence split across two reads whole. */
  private readonly decoder = new StringDecoder('utf8');
  private skipping = false;
  private reading = false;
  private again = false;
  private stopped = false;
  private watcher: fs.FSWatcher | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(readonly file: string, private readonly onInterrupt: () => void, opts: TranscriptTailOptions = {}) {
    this.log = opts.log ?? nullLogger;
    try {
      this.offset = fs.statSync(file).size;
    } catch {
      this.offset = 0; // not written yet: everything in it will be new
    }
    this.watch();
    this.timer = setInterval(() => this.kick(), opts.pollMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = null;
  }

  private watch(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = fs.watch(this.file, { persistent: false }, () => this.kick());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null; // ENOENT until claude writes it: the poll retries
    }
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.readNew()
      .catch((err) => this.log.debug(`transcript ${this.file}: ${String(err)}`))
      .finally(() => {
        this.reading = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async readNew(): Promise<void> {
    this.watch();
    let fh: fs.promises.FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO for reading would wait for a writer (on a libuv thread).
      fh = await fs.promises.open(this.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch {
      return;
    }
    try {
      const st = await fh.stat();
      // A transcript is a regular file; a FIFO or a device named in a hook body is not read.
      if (!st.isFile()) return;
      const { size } = st;
      if (size < this.offset) this.offset = size; // rewritten: only what comes next matters
      const buf = Buffer.alloc(Math.min(READ_CHUNK, Math.max(0, size - this.offset)));
      while (!this.stopped && this.offset < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (bytesRead <= 0) break;
        this.offset += bytesRead;
        this.consume(this.decoder.write(buf.subarray(0, bytesRead)));
      }
    } finally {
      await fh.close();
    }
  }

  private consume(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const piece = text.slice(start, nl);
      const line = this.partial + piece;
      this.partial = '';
      if (!this.skipping && line.length <= MAX_LINE && isInterruptEntry(line) && !this.stopped) this.onInterrupt();
      this.skipping = false;
      start = nl + 1;
    }
    if (!this.skipping) {
      this.partial += text.slice(start);
      if (this.partial.length > MAX_LINE) {
        this.partial = '';
        this.skipping = true;
      }
    }
  }
}
