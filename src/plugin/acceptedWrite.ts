import * as fs from 'fs';

/** a and b are the same text, each with or without one final newline (the CLI may drop it). */
export function sameButFinalNewline(a: string, b: string): boolean {
  const la = a.endsWith('\n') ? a.length - 1 : a.length;
  const lb = b.endsWith('\n') ? b.length - 1 : b.length;
  return la === lb && a.slice(0, la) === b.slice(0, lb);
}

export interface WatchOptions {
  intervalMs?: number;
  timeoutMs?: number;
}

/**
 * After an accept the CLI writes the file itself: calls onWritten once the file holds the
 * accepted text, or gives up after timeoutMs. It looks with a stat and reads only when the stat
 * changed and the size fits the text: a big file the CLI has not written yet (or never writes)
 * costs a stat per look, not a read and a compare of all of it. Returns a stop function.
 */
export function whenWritten(file: string, contents: string, onWritten: () => void, opts: WatchOptions = {}): () => void {
  const interval = opts.intervalMs ?? 50;
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const bytes = Buffer.byteLength(contents);
  const sizes = new Set([bytes, contents.endsWith('\n') ? bytes - 1 : bytes + 1]);
  let seen = '';
  let timer: NodeJS.Timeout | null = null;
  const look = (): void => {
    timer = null;
    let st: fs.Stats | null = null;
    try { st = fs.statSync(file); } catch { /* not written yet */ }
    const key = st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : '';
    // Only a regular file is read: a FIFO put there would block the host, /dev/zero never end.
    if (st && st.isFile() && key !== seen && sizes.has(st.size)) {
      let now: string | null = null;
      try { now = fs.readFileSync(file, 'utf8'); } catch { /* gone meanwhile */ }
      if (now !== null && sameButFinalNewline(now, contents)) {
        onWritten();
        return;
      }
    }
    seen = key;
    if (Date.now() < deadline) timer = setTimeout(look, interval).unref();
  };
  timer = setTimeout(look, Math.min(20, interval)).unref();
  return () => { if (timer) clearTimeout(timer); timer = null; };
}
