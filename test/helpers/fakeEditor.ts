import type {
  DiffHandle, DiffOutcome, DiffRequest, DocumentState, Editor, FileDiagnostics,
  OpenEditorTab, OpenFileRequest, SaveOutcome, Selection,
} from '../../src/ide/editor';

/** A diff the fake editor is showing; the test decides it. */
export class FakeDiff implements DiffHandle {
  readonly outcome: Promise<DiffOutcome>;
  closed = false;
  settled: DiffOutcome | null = null;
  private resolve!: (o: DiffOutcome) => void;
  constructor(readonly req: DiffRequest) {
    this.outcome = new Promise((r) => { this.resolve = r; });
  }
  accept(contents = this.req.newContents): void { this.settle({ kind: 'accepted', contents }); }
  reject(): void { this.settle({ kind: 'rejected' }); }
  close(): void {
    this.closed = true;
    this.settle({ kind: 'rejected', reason: 'closed' });
  }
  private settle(o: DiffOutcome): void {
    if (this.settled) return;
    this.settled = o;
    this.resolve(o);
  }
}

/**
 * An Editor whose state the test sets directly. `autoDiff` decides every diff as soon as it
 * opens ('accept' | 'reject'); by default diffs stay pending for the test to decide.
 */
export class FakeEditor implements Editor {
  diffs: FakeDiff[] = [];
  opened: OpenFileRequest[] = [];
  saved: string[] = [];
  tabs: OpenEditorTab[] = [];
  diagnostics: FileDiagnostics[] = [];
  current: Selection | null = null;
  latest: Selection | null = null;
  documents = new Map<string, DocumentState>();
  autoDiff: 'accept' | 'reject' | null = null;
  onDiff: ((d: FakeDiff) => void) | null = null;

  openDiff(req: DiffRequest): DiffHandle {
    const d = new FakeDiff(req);
    this.diffs.push(d);
    this.onDiff?.(d);
    if (this.autoDiff === 'accept') d.accept();
    else if (this.autoDiff === 'reject') d.reject();
    return d;
  }
  openFile(req: OpenFileRequest): void {
    this.opened.push(req);
  }
  getOpenEditors(): OpenEditorTab[] {
    return this.tabs;
  }
  getDiagnostics(filePath: string | undefined): FileDiagnostics[] {
    if (filePath === undefined) return this.diagnostics.filter((d) => d.diagnostics.length > 0);
    return this.diagnostics.filter((d) => d.uri === `file://${filePath}` && d.diagnostics.length > 0);
  }
  getCurrentSelection(): Selection | null {
    return this.current;
  }
  getLatestSelection(): Selection | null {
    return this.latest;
  }
  checkDocumentDirty(filePath: string): DocumentState | null {
    return this.documents.get(filePath) ?? null;
  }
  /** A conflict the next save of that file reports (the file changed on disk). */
  conflicts = new Set<string>();
  saveDocument(filePath: string): SaveOutcome {
    const doc = this.documents.get(filePath);
    if (!doc) return { status: 'not_open' };
    if (!doc.isDirty) return { status: 'not_modified' };
    if (this.conflicts.has(filePath)) return { status: 'conflict', message: 'changed on disk since it was read' };
    this.saved.push(filePath);
    this.documents.set(filePath, { isDirty: false, isUntitled: false });
    return { status: 'saved' };
  }
}
