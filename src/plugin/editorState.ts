import * as path from 'path';
import type { Diagnostic, DocumentState, FileDiagnostics, OpenEditorTab, Selection, Severity } from '../ide/editor';
import { arr, bool, num, optStr, rec, str } from './check';
import { fileUri } from '../util/uri';

const SEVERITIES: Severity[] = ['Error', 'Warning', 'Info', 'Hint'];

interface BufInfo {
  path: string;
  /** The name with symlinks resolved (Lua resolves it once per name). */
  real: string;
  dirty: boolean;
  filetype: string;
  lines: number;
  /** A listed file buffer: shown by getOpenEditors. Others only answer checkDocumentDirty. */
  listed: boolean;
}

/**
 * Node's copy of the editor state the IDE tools read (issue 5): the listed file buffers and
 * their diagnostics, kept current by batches Lua pushes from autocmds (lua/claude_worktrees/
 * state.lua). One per Neovim, shared by every instance; answers need no Neovim round trip.
 */
export class EditorState {
  private bufs = new Map<number, BufInfo>();
  private diags = new Map<number, FileDiagnostics>();
  private cur = -1;
  private tabsCache: OpenEditorTab[] | null = null;
  private diagCache: FileDiagnostics[] | null = null;
  private byPath: Map<string, BufInfo> | null = null;
  private byReal: Map<string, BufInfo> | null = null;
  /** One frozen answer per buffer record (records are replaced, never changed): tools may cache on it. */
  private docStates = new WeakMap<BufInfo, DocumentState>();
  /** The current window's selection as Lua last sent it; null: no file there (or none yet). */
  current: Selection | null = null;
  /** Batches applied (tests and bench read it). */
  batches = 0;

  /** Apply a snapshot (full: replaces everything) or a delta from Lua. Throws on a malformed one. */
  apply(raw: unknown): void {
    const b = rec(raw, 'state');
    const full = b.full === true;
    const bufs = arr(b.bufs, 'state.bufs').map(parseBuf);
    const gone = arr(b.gone, 'state.gone').map((g) => num(g, 'gone'));
    const diags = arr(b.diags, 'state.diags').map(parseDiags);
    const cur = num(b.cur, 'state.cur');
    // Everything validated before anything changes: a bad batch leaves the state as it was.
    if (full) {
      this.bufs.clear();
      this.diags.clear();
    }
    for (const [n, info] of bufs) this.bufs.set(n, info);
    for (const n of gone) this.bufs.delete(n);
    for (const [n, d] of diags) {
      if (d && d.diagnostics.length > 0) this.diags.set(n, d);
      else this.diags.delete(n);
    }
    this.cur = cur;
    this.tabsCache = null;
    this.byPath = null;
    this.byReal = null;
    if (full || diags.length > 0) this.diagCache = null;
    this.batches++;
  }

  openEditors(): OpenEditorTab[] {
    if (this.tabsCache) return this.tabsCache;
    const nums = [...this.bufs.keys()].filter((n) => this.bufs.get(n)!.listed).sort((a, b) => a - b);
    // Frozen: an answer never changes once handed out (tools serialize it once, see jsonOnce).
    this.tabsCache = Object.freeze(nums.map((n) => {
      const b = this.bufs.get(n)!;
      const active = n === this.cur;
      return Object.freeze({
        uri: fileUri(b.path),
        isActive: active,
        isPinned: false,
        isPreview: false,
        isDirty: b.dirty,
        label: path.basename(b.path),
        groupIndex: 0,
        viewColumn: 1,
        isGroupActive: true,
        fileName: b.path,
        languageId: b.filetype || 'plaintext',
        lineCount: b.lines,
        isUntitled: false,
      });
    })) as OpenEditorTab[];
    return this.tabsCache;
  }

  /**
   * checkDocumentDirty from the copy, matched as editor.buf_of does: the buffer named exactly
   * so (lowest number first), else one whose name resolves to the same file. null: not loaded.
   */
  docState(filePath: string): DocumentState | null {
    if (!this.byPath || !this.byReal) {
      this.byPath = new Map();
      this.byReal = new Map();
      for (const n of [...this.bufs.keys()].sort((a, b) => a - b)) {
        const b = this.bufs.get(n)!;
        if (!this.byPath.has(b.path)) this.byPath.set(b.path, b);
        if (!this.byReal.has(b.real)) this.byReal.set(b.real, b);
      }
    }
    const b = this.byPath.get(filePath) ?? this.byReal.get(filePath);
    if (!b) return null;
    let d = this.docStates.get(b);
    if (!d) {
      d = Object.freeze({ isDirty: b.dirty, isUntitled: false, realPath: b.real });
      this.docStates.set(b, d);
    }
    return d;
  }

  /** Diagnostics of one file (absolute path) or of every file that has some. */
  diagnostics(filePath: string | undefined): FileDiagnostics[] {
    if (filePath !== undefined) {
      const uri = fileUri(filePath);
      for (const d of this.diags.values()) if (d.uri === uri) return [d];
      return [];
    }
    if (!this.diagCache) {
      this.diagCache = Object.freeze([...this.diags.entries()].sort((a, b) => a[0] - b[0]).map(([, d]) => d)) as FileDiagnostics[];
    }
    return this.diagCache;
  }
}

function parseBuf(v: unknown): [number, BufInfo] {
  const r = rec(v, 'buf');
  const p = str(r.path, 'path');
  return [num(r.buf, 'buf'), {
    path: p,
    real: optStr(r.real) ?? p,
    dirty: bool(r.dirty, 'dirty'),
    filetype: optStr(r.filetype) ?? '',
    lines: num(r.lines, 'lines'),
    // Older batches (and tests' hand-made ones) carry only listed file buffers.
    listed: r.listed === undefined ? true : bool(r.listed, 'listed'),
  }];
}

function parseDiags(v: unknown): [number, FileDiagnostics | null] {
  const r = rec(v, 'diags');
  const n = num(r.buf, 'buf');
  const p = optStr(r.path) ?? '';
  if (!p) return [n, null];
  return [n, Object.freeze({ uri: fileUri(p), diagnostics: Object.freeze(arr(r.list, 'list').map(parseDiagnostic)) as Diagnostic[] })];
}

export function parseDiagnostic(dv: unknown): Diagnostic {
  const d = rec(dv, 'diagnostic');
  const r = rec(d.range, 'range');
  const s = rec(r.start, 'start');
  const e = rec(r.end, 'end');
  const sev = optStr(d.severity);
  const out: Diagnostic = {
    message: str(d.message, 'message'),
    severity: SEVERITIES.find((x) => x === sev) ?? 'Error',
    range: {
      start: { line: num(s.line, 'line'), character: num(s.character, 'character') },
      end: { line: num(e.line, 'line'), character: num(e.character, 'character') },
    },
  };
  // Absent fields stay absent (the answer matches what Neovim itself reports).
  const source = optStr(d.source);
  const code = optStr(d.code);
  if (source !== undefined) out.source = source;
  if (code !== undefined) out.code = code;
  return out;
}

