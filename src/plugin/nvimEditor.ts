import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import type {
  DiffHandle, DiffOutcome, DiffRequest, DocumentState, Editor, FileDiagnostics,
  OpenEditorTab, OpenFileRequest, SaveOutcome, Selection,
} from '../ide/editor';
import type { Bridge } from './bridge';
import type { EditorState } from './editorState';
import { bool, isRec, num, optStr, rec, str } from './check';
import { isInside } from '../util/uri';
import type { Logger } from '../util/log';

/** A diff shown in Neovim; Lua reports the decision as an event that lands in settle(). */
export class NvimDiff implements DiffHandle {
  readonly outcome: Promise<DiffOutcome>;
  private resolve!: (o: DiffOutcome) => void;
  private reject!: (e: Error) => void;
  private done = false;

  constructor(readonly id: string, readonly req: DiffRequest, private readonly onClose: (d: NvimDiff) => void) {
    this.outcome = new Promise<DiffOutcome>((res, rej) => { this.resolve = res; this.reject = rej; });
  }

  get settled(): boolean { return this.done; }

  settle(o: DiffOutcome): void {
    if (this.done) return;
    this.done = true;
    this.resolve(o);
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.reject(err);
  }

  close(): void {
    this.settle({ kind: 'rejected', reason: 'closed' });
    this.onClose(this);
  }
}

const SPILL_MIN_CHARS = 256 * 1024;

/** Diff ids are global to this Neovim so Lua events can find their diff. */
export class DiffTable {
  private seq = 0;
  readonly open = new Map<string, NvimDiff>();
  nextId(): string { return `d${++this.seq}`; }
}

/**
 * The Editor of ONE instance, backed by Neovim. Every read-only tool (open editors,
 * diagnostics, document state, current and latest selection) answers from state Lua already
 * pushed, with no Neovim round trip; the rest is one batched Lua call each.
 */
export class NvimEditor implements Editor {
  latest: Selection | null = null;

  constructor(
    private readonly bridge: Bridge,
    private readonly state: EditorState,
    private readonly root: string,
    private readonly diffs: DiffTable,
    private readonly log: Logger,
    private readonly afterAccept: (file: string, contents: string) => void,
    /** The plugin's own private dir for big diff proposals (see spillProposal). */
    private readonly scratchDir: () => string = () => '',
    /** False for a file under root that is another instance's (a worktree nested in this one). */
    private readonly owns: (file: string) => boolean = () => true,
  ) {}

  openDiff(req: DiffRequest): DiffHandle {
    const id = this.diffs.nextId();
    const d = new NvimDiff(id, req, (x) => {
      this.diffs.open.delete(x.id);
      this.bridge.call('claude_worktrees.diff', 'close', x.id).catch((e) => this.log.warn('diff close failed', e));
    });
    this.diffs.open.set(id, d);
    d.outcome.then((o) => {
      this.diffs.open.delete(id);
      if (o.kind === 'accepted') this.afterAccept(req.newFilePath, o.contents);
    }, () => this.diffs.open.delete(id));
    const spec: Record<string, unknown> = { id, key: this.root, tab_name: req.tabName, file: req.newFilePath };
    const spilled = this.spillProposal(id, req.newContents);
    if (spilled) {
      spec.new_file = spilled;
      spec.eol = req.newContents.endsWith('\n');
    } else {
      spec.new_text = req.newContents;
    }
    this.bridge
      .call('claude_worktrees.diff', 'open', spec)
      .finally(() => { if (spilled) fs.rm(spilled, { force: true }, () => undefined); })
      .then((r) => {
        const res = rec(r, 'diff.open');
        if (res.ok !== true) {
          const msg = optStr(res.err) ?? 'could not open the diff';
          this.bridge.notify(`${msg}`, 'warn');
          d.fail(new Error(msg));
        }
      })
      .catch((e: unknown) => {
        this.log.error('diff.open failed', e);
        this.bridge.notify(`could not show Claude's diff for ${req.newFilePath}: ${String(e)}`, 'error');
        d.fail(e instanceof Error ? e : new Error(String(e)));
      });
    return d;
  }

  /**
   * A big proposal goes to Neovim as a private file (0600, in the plugin's 0700 dir), which
   * Lua reads with :read and removes: for 1 MiB that is ~10 ms less than passing the text
   * over RPC and splitting it in Lua. Small ones (and any failure here) go inline.
   */
  private spillProposal(id: string, text: string): string | null {
    const dir = this.scratchDir();
    if (!dir || text.length < SPILL_MIN_CHARS) return null;
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(dir, 0o700);
      const file = path.join(dir, `${id}-${randomBytes(6).toString('hex')}.proposal`);
      fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
      return file;
    } catch (err) {
      this.log.warn('could not spill a big diff proposal, passing it inline', err);
      return null;
    }
  }

  async openFile(req: OpenFileRequest): Promise<void> {
    const spec: Record<string, unknown> = {
      key: this.root, // whose tool: the cursor stays in any other claude's terminal
      path: req.filePath,
      start_line: req.startLine,
      end_line: req.endLine,
      start_text: req.startText,
      end_text: req.endText,
      select_to_eol: req.selectToEndOfLine,
      make_frontmost: req.makeFrontmost,
    };
    // An undefined field would reach Lua as vim.NIL, which is truthy there.
    for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
    await this.bridge.call('claude_worktrees.editor', 'open_file', spec);
  }

  /** From the state Lua keeps pushing: no Neovim round trip. */
  getOpenEditors(): OpenEditorTab[] {
    return this.state.openEditors();
  }

  getDiagnostics(filePath: string | undefined): FileDiagnostics[] {
    return this.state.diagnostics(filePath);
  }

  /** From the selection Lua last sent (at most one sampler window old): no round trip. */
  getCurrentSelection(): Selection | null {
    // Judged per call, not cached per selection: which worktrees are nested changes meanwhile.
    const sel = this.state.current;
    return sel && isInside(this.root, sel.filePath) && this.owns(sel.filePath) ? sel : null;
  }

  getLatestSelection(): Selection | null {
    return this.latest;
  }

  /** From the buffer records Lua pushes ('modified' flips go out the same turn). */
  checkDocumentDirty(filePath: string): DocumentState | null {
    return this.state.docState(filePath);
  }

  async saveDocument(filePath: string): Promise<SaveOutcome> {
    return parseSaveOutcome(await this.bridge.call('claude_worktrees.editor', 'save', filePath));
  }
}

const SAVE_STATUSES = ['saved', 'not_open', 'not_modified', 'conflict', 'failed'] as const;

/** editor.save()'s answer from Lua, validated. */
export function parseSaveOutcome(v: unknown): SaveOutcome {
  const r = rec(v, 'save');
  const status = SAVE_STATUSES.find((s) => s === r.status);
  if (!status) throw new Error(`bad save status from Neovim: ${String(r.status)}`);
  if (status === 'conflict' || status === 'failed') return { status, message: optStr(r.message) ?? status };
  return { status };
}

/** A selection table from Lua, validated; null for anything else. */
export function parseSelection(v: unknown): Selection | null {
  if (!isRec(v)) return null;
  try {
    const sel = rec(v.selection, 'selection');
    const s = rec(sel.start, 'start');
    const e = rec(sel.end, 'end');
    return {
      text: str(v.text, 'text'),
      filePath: str(v.filePath, 'filePath'),
      fileUrl: str(v.fileUrl, 'fileUrl'),
      selection: {
        start: { line: num(s.line, 'line'), character: num(s.character, 'character') },
        end: { line: num(e.line, 'line'), character: num(e.character, 'character') },
        isEmpty: bool(sel.isEmpty, 'isEmpty'),
      },
    };
  } catch {
    return null;
  }
}
