/**
 * What the IDE tools need from an editor. The Neovim implementation lives in src/plugin/;
 * tests use fakes. Read methods may answer synchronously from state the editor side already
 * holds (the fast path), or return a promise when the editor itself must be asked.
 */

export interface Position {
  line: number; // 0-based
  character: number; // 0-based, UTF-16 code units
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Selection {
  text: string;
  filePath: string;
  fileUrl: string;
  selection: Range & { isEmpty: boolean };
}

export interface OpenEditorTab {
  uri: string;
  isActive: boolean;
  isPinned: boolean;
  isPreview: boolean;
  isDirty: boolean;
  label: string;
  groupIndex: number;
  viewColumn: number;
  isGroupActive: boolean;
  fileName: string;
  languageId: string;
  lineCount: number;
  isUntitled: boolean;
}

export type Severity = 'Error' | 'Warning' | 'Info' | 'Hint';

export interface Diagnostic {
  message: string;
  severity: Severity;
  range: Range;
  source?: string;
  code?: string;
}

export interface FileDiagnostics {
  uri: string;
  diagnostics: Diagnostic[];
}

export interface DocumentState {
  /** null when no buffer holds the file. */
  isDirty: boolean;
  isUntitled: boolean;
  /**
   * The buffer's file with symlinks resolved, as the editor last resolved it: inside the scope,
   * checkDocumentDirty answers without resolving the path again (a syscall per call).
   */
  realPath?: string;
}

export interface OpenFileRequest {
  filePath: string;
  preview: boolean;
  /** 1-based, inclusive. */
  startLine?: number;
  endLine?: number;
  startText?: string;
  endText?: string;
  selectToEndOfLine: boolean;
  makeFrontmost: boolean;
}

export interface DiffRequest {
  /** Unique per server; the key every later close_tab uses. */
  tabName: string;
  oldFilePath: string;
  newFilePath: string;
  newContents: string;
}

export type DiffOutcome =
  | { kind: 'accepted'; contents: string }
  | { kind: 'rejected'; reason?: string };

export interface DiffHandle {
  /** Settles once the user decides (or the diff is closed, which rejects). */
  readonly outcome: Promise<DiffOutcome>;
  /** Close the view. A diff still pending settles as rejected. Idempotent. */
  close(): void;
}

export type SaveOutcome =
  | { status: 'saved' | 'not_open' | 'not_modified' }
  | { status: 'conflict' | 'failed'; message: string };

type MaybePromise<T> = T | Promise<T>;

export interface Editor {
  openDiff(req: DiffRequest): DiffHandle;
  openFile(req: OpenFileRequest): MaybePromise<void>;
  getOpenEditors(): MaybePromise<OpenEditorTab[]>;
  /** Diagnostics of one file (absolute path) or, with undefined, of every file that has some. */
  getDiagnostics(filePath: string | undefined): MaybePromise<FileDiagnostics[]>;
  getCurrentSelection(): MaybePromise<Selection | null>;
  getLatestSelection(): MaybePromise<Selection | null>;
  /** null when no buffer holds the file. */
  checkDocumentDirty(filePath: string): MaybePromise<DocumentState | null>;
  /**
   * Writes the buffer of the file when it has unsaved changes and the file did not change on
   * disk since it was read (else 'conflict'); never prompts, never rewrites an unmodified file.
   */
  saveDocument(filePath: string): MaybePromise<SaveOutcome>;
}
