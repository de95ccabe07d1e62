import * as fs from 'fs';
import * as path from 'path';
import type { Selection } from '../../src/ide/editor';
import { PathScope } from '../../src/ide/scope';
import { fileUri } from '../../src/util/uri';
import { jsonOf, makeHarness, texts, WORKSPACE } from './sessionHarness';

const FILE = path.join(WORKSPACE, 'src', 'a.ts');
const OTHER = path.join(WORKSPACE, 'b.ts');

// openFile opens only regular files that exist: the unit workspace holds two, for real.
beforeAll(() => {
  fs.mkdirSync(path.dirname(FILE), { recursive: true });
  fs.writeFileSync(FILE, 'export const a = 1;\n');
  fs.writeFileSync(OTHER, 'export const b = 2;\n');
});
afterAll(() => fs.rmSync(WORKSPACE, { recursive: true, force: true }));

describe('argument validation (-32602)', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['openFile', {}],
    ['openFile', { filePath: 3 }],
    ['openFile', { filePath: null }],
    ['openFile', { filePath: FILE, preview: 'yes' }],
    ['openFile', { filePath: FILE, makeFrontmost: 1 }],
    ['openFile', { filePath: FILE, selectToEndOfLine: 'true' }],
    ['openFile', { filePath: FILE, startText: 5 }],
    ['openFile', { filePath: FILE, endText: {} }],
    ['openFile', { filePath: FILE, startLine: 1.5 }],
    ['openFile', { filePath: FILE, endLine: '3' }],
    ['openDiff', {}],
    ['openDiff', { old_file_path: FILE, new_file_path: FILE, new_file_contents: 'x' }],
    ['openDiff', { old_file_path: FILE, new_file_path: FILE, tab_name: 't' }],
    ['openDiff', { old_file_path: FILE, new_file_contents: 'x', tab_name: 't' }],
    ['openDiff', { new_file_path: FILE, new_file_contents: 'x', tab_name: 't' }],
    ['openDiff', { old_file_path: 1, new_file_path: FILE, new_file_contents: 'x', tab_name: 't' }],
    ['openDiff', { old_file_path: FILE, new_file_path: FILE, new_file_contents: ['x'], tab_name: 't' }],
    ['openDiff', { old_file_path: FILE, new_file_path: FILE, new_file_contents: 'x', tab_name: 7 }],
    ['openDiff', { old_file_path: 'rel/a.ts', new_file_path: FILE, new_file_contents: 'x', tab_name: 't' }],
    ['openDiff', { old_file_path: FILE, new_file_path: 'a.ts', new_file_contents: 'x', tab_name: 't' }],
    ['getDiagnostics', { uri: 5 }],
    ['getDiagnostics', { uri: ['file:///x'] }],
    ['checkDocumentDirty', {}],
    ['checkDocumentDirty', { filePath: 1 }],
    ['saveDocument', {}],
    ['saveDocument', { filePath: false }],
    ['close_tab', {}],
    ['close_tab', { tab_name: 3 }],
  ];
  test.each(cases)('%s %j', async (name, args) => {
    const h = makeHarness();
    const f = await h.call(name, args);
    expect(f.error?.code).toBe(-32602);
    expect(typeof f.error?.message).toBe('string');
    expect(f.result).toBeUndefined();
    // Nothing reached the editor.
    expect(h.editor.diffs).toHaveLength(0);
    expect(h.editor.opened).toHaveLength(0);
    expect(h.editor.saved).toHaveLength(0);
  });
});

describe('openFile', () => {
  test('relative path resolved against the workspace, defaults applied, frontmost -> text', async () => {
    const h = makeHarness();
    const f = await h.call('openFile', { filePath: 'src/a.ts' });
    expect(texts(f)).toEqual([`Opened file: ${FILE}`]);
    expect(h.editor.opened).toEqual([{
      filePath: FILE, preview: false, startLine: undefined, endLine: undefined,
      startText: undefined, endText: undefined, selectToEndOfLine: false, makeFrontmost: true,
    }]);
  });

  test('absolute path kept; every option passed through; makeFrontmost false -> JSON', async () => {
    const h = makeHarness();
    const f = await h.call('openFile', {
      filePath: OTHER, preview: true, startLine: 3, endLine: 9, startText: 'foo', endText: 'bar',
      selectToEndOfLine: true, makeFrontmost: false,
    });
    expect(jsonOf(f)).toEqual({ success: true, filePath: OTHER });
    expect(h.editor.opened).toEqual([{
      filePath: OTHER, preview: true, startLine: 3, endLine: 9, startText: 'foo', endText: 'bar',
      selectToEndOfLine: true, makeFrontmost: false,
    }]);
  });

  test('.. segments are normalized', async () => {
    const h = makeHarness();
    await h.call('openFile', { filePath: './src/../src/a.ts' });
    expect(h.editor.opened[0].filePath).toBe(FILE);
  });

  test('null optional values fall back to defaults', async () => {
    const h = makeHarness();
    await h.call('openFile', { filePath: FILE, preview: null, makeFrontmost: null, startText: null, startLine: null });
    expect(h.editor.opened[0]).toMatchObject({ preview: false, makeFrontmost: true, startText: undefined, startLine: undefined });
  });
});

describe('getWorkspaceFolders', () => {
  test('exactly the workspace folder', async () => {
    const h = makeHarness({ workspaceFolder: '/tmp/some dir/wt-feature' });
    const f = await h.call('getWorkspaceFolders', {});
    expect(jsonOf(f)).toEqual({
      success: true,
      folders: [{ name: 'wt-feature', uri: 'file:///tmp/some%20dir/wt-feature', path: '/tmp/some dir/wt-feature' }],
      rootPath: '/tmp/some dir/wt-feature',
    });
  });

  test('JSON travels compactly encoded', async () => {
    const h = makeHarness();
    const t = texts(await h.call('getWorkspaceFolders', {}))[0];
    expect(t).toBe(JSON.stringify(JSON.parse(t)));
    expect(t).not.toMatch(/\n/);
  });
});

describe('getOpenEditors', () => {
  test('wraps the tabs', async () => {
    const h = makeHarness();
    const tab = {
      uri: fileUri(FILE), isActive: true, isPinned: false, isPreview: false, isDirty: true, label: 'a.ts',
      groupIndex: 0, viewColumn: 1, isGroupActive: true, fileName: FILE, languageId: 'typescript', lineCount: 10, isUntitled: false,
    };
    expect(jsonOf(await h.call('getOpenEditors', {}))).toEqual({ tabs: [] });
    h.editor.tabs = [tab];
    expect(jsonOf(await h.call('getOpenEditors'))).toEqual({ tabs: [tab] });
  });

  test("only this worktree's buffers; a frozen snapshot is filtered once", async () => {
    const h = makeHarness();
    const tab = (fileName: string) => ({
      uri: fileUri(fileName), isActive: false, isPinned: false, isPreview: false, isDirty: false, label: path.basename(fileName),
      groupIndex: 0, viewColumn: 1, isGroupActive: true, fileName, languageId: 'typescript', lineCount: 1, isUntitled: false,
    });
    h.editor.tabs = Object.freeze([tab(FILE), tab('/elsewhere/other-worktree/x.ts'), tab(OTHER)]) as typeof h.editor.tabs;
    const first = await h.call('getOpenEditors');
    expect(jsonOf(first).tabs.map((t: { fileName: string }) => t.fileName)).toEqual([FILE, OTHER]);
    const contains = jest.spyOn(PathScope.prototype, 'contains');
    expect(jsonOf(await h.call('getOpenEditors'))).toEqual(jsonOf(first));
    expect(contains).not.toHaveBeenCalled();
    contains.mockRestore();
  });
});

describe('getDiagnostics', () => {
  const diag = {
    message: 'Cannot find name x', severity: 'Error' as const,
    range: { start: { line: 1, character: 2 }, end: { line: 1, character: 3 } }, source: 'ts', code: '2304',
  };

  test('a file without diagnostics -> [] (never an error)', async () => {
    const h = makeHarness();
    const f = await h.call('getDiagnostics', { uri: fileUri(path.join(WORKSPACE, 'nothing.ts')) });
    expect(f.error).toBeUndefined();
    expect(jsonOf(f)).toEqual([]);
    const g = await h.call('getDiagnostics', { uri: path.join(WORKSPACE, 'not/open/anywhere.ts') });
    expect(jsonOf(g)).toEqual([]);
  });

  test('no uri -> sweep of all files with diagnostics', async () => {
    const h = makeHarness();
    h.editor.diagnostics = [
      { uri: `file://${FILE}`, diagnostics: [diag] },
      { uri: `file://${WORKSPACE}/clean.ts`, diagnostics: [] },
    ];
    const spy = jest.spyOn(h.editor, 'getDiagnostics');
    expect(jsonOf(await h.call('getDiagnostics', {}))).toEqual([{ uri: `file://${FILE}`, diagnostics: [diag] }]);
    expect(spy).toHaveBeenLastCalledWith(undefined);
    // An empty uri string counts as "all files" too.
    await h.call('getDiagnostics', { uri: '' });
    expect(spy).toHaveBeenLastCalledWith(undefined);
    await h.call('getDiagnostics', { uri: null });
    expect(spy).toHaveBeenLastCalledWith(undefined);
  });

  test('file:// uri and bare path reach the editor as the same absolute path', async () => {
    const h = makeHarness();
    h.editor.diagnostics = [{ uri: `file://${FILE}`, diagnostics: [diag] }];
    const spy = jest.spyOn(h.editor, 'getDiagnostics');
    const byUri = jsonOf(await h.call('getDiagnostics', { uri: fileUri(FILE) }));
    const byAbs = jsonOf(await h.call('getDiagnostics', { uri: FILE }));
    const byRel = jsonOf(await h.call('getDiagnostics', { uri: 'src/a.ts' }));
    expect(byUri).toEqual([{ uri: `file://${FILE}`, diagnostics: [diag] }]);
    expect(byAbs).toEqual(byUri);
    expect(byRel).toEqual(byUri);
    expect(spy.mock.calls).toEqual([[FILE], [FILE], [FILE]]);
  });

  test('percent-encoded file:// uri is decoded', async () => {
    const h = makeHarness();
    const spy = jest.spyOn(h.editor, 'getDiagnostics');
    const p = path.join(WORKSPACE, 'dir with space', 'é日本 #1%.ts');
    const uri = fileUri(p);
    expect(uri).toContain('%20');
    expect(uri).toContain('%25');
    expect(uri).toContain('%23');
    await h.call('getDiagnostics', { uri });
    expect(spy).toHaveBeenLastCalledWith(p);
    await h.call('getDiagnostics', { uri: `file://${WORKSPACE}/a%20b/c.ts` });
    expect(spy).toHaveBeenLastCalledWith(`${WORKSPACE}/a b/c.ts`);
  });
});

describe('selections', () => {
  const sel: Selection = {
    text: 'const x = 1;', filePath: FILE, fileUrl: fileUri(FILE),
    selection: { start: { line: 0, character: 0 }, end: { line: 0, character: 12 }, isEmpty: false },
  };

  test('getCurrentSelection with and without a selection', async () => {
    const h = makeHarness();
    expect(jsonOf(await h.call('getCurrentSelection', {}))).toEqual({ success: false, message: 'No active editor found' });
    h.editor.current = sel;
    expect(jsonOf(await h.call('getCurrentSelection', {}))).toEqual({ success: true, ...sel });
  });

  test('getLatestSelection with and without a selection, independent of current', async () => {
    const h = makeHarness();
    h.editor.current = sel;
    expect(jsonOf(await h.call('getLatestSelection', {}))).toEqual({ success: false, message: 'No selection available' });
    const empty: Selection = { ...sel, text: '', selection: { start: { line: 4, character: 2 }, end: { line: 4, character: 2 }, isEmpty: true } };
    h.editor.latest = empty;
    expect(jsonOf(await h.call('getLatestSelection', {}))).toEqual({ success: true, ...empty });
  });

  test('async editor answers are awaited', async () => {
    const h = makeHarness();
    h.editor.getCurrentSelection = () => Promise.resolve(sel) as any;
    expect(jsonOf(await h.call('getCurrentSelection', {}))).toEqual({ success: true, ...sel });
  });
});

describe('checkDocumentDirty / saveDocument', () => {
  test('not open', async () => {
    const h = makeHarness();
    expect(jsonOf(await h.call('checkDocumentDirty', { filePath: FILE }))).toEqual({ success: false, message: `Document not open: ${FILE}` });
    expect(jsonOf(await h.call('saveDocument', { filePath: FILE }))).toEqual({ success: false, message: `Document not open: ${FILE}` });
    expect(h.editor.saved).toEqual([]);
  });

  test('open: dirty, then saved, then clean; relative paths resolve against the workspace', async () => {
    const h = makeHarness();
    h.editor.documents.set(FILE, { isDirty: true, isUntitled: false });
    expect(jsonOf(await h.call('checkDocumentDirty', { filePath: 'src/a.ts' })))
      .toEqual({ success: true, filePath: FILE, isDirty: true, isUntitled: false });
    expect(jsonOf(await h.call('saveDocument', { filePath: 'src/a.ts' })))
      .toEqual({ success: true, filePath: FILE, saved: true, message: 'Document saved successfully' });
    expect(h.editor.saved).toEqual([FILE]);
    expect(jsonOf(await h.call('checkDocumentDirty', { filePath: FILE })))
      .toEqual({ success: true, filePath: FILE, isDirty: false, isUntitled: false });
  });

  test('checkDocumentDirty answers from a frozen state are cached per path asked, never across states', async () => {
    const h = makeHarness();
    const clean = Object.freeze({ isDirty: false, isUntitled: false, realPath: FILE });
    h.editor.documents.set(FILE, clean);
    const abs = await h.call('checkDocumentDirty', { filePath: FILE });
    expect(jsonOf(abs)).toEqual({ success: true, filePath: FILE, isDirty: false, isUntitled: false });
    expect(jsonOf(await h.call('checkDocumentDirty', { filePath: FILE }))).toEqual(jsonOf(abs));
    // Another name of the same buffer (a link the editor resolved to it): the same state, but
    // the answer names the path asked.
    const link = path.join(WORKSPACE, 'link-to-a.ts');
    fs.rmSync(link, { force: true });
    fs.symlinkSync(FILE, link);
    try {
      h.editor.documents.set(link, clean);
      expect(jsonOf(await h.call('checkDocumentDirty', { filePath: link })))
        .toEqual({ success: true, filePath: link, isDirty: false, isUntitled: false });
    } finally {
      fs.rmSync(link, { force: true });
    }
    // The editor's next state (a new frozen object): the new answer, not the cached one.
    h.editor.documents.set(FILE, Object.freeze({ isDirty: true, isUntitled: false, realPath: FILE }));
    expect(jsonOf(await h.call('checkDocumentDirty', { filePath: FILE })))
      .toEqual({ success: true, filePath: FILE, isDirty: true, isUntitled: false });
    h.editor.documents.set(FILE, clean);
    expect(jsonOf(await h.call('checkDocumentDirty', { filePath: FILE })))
      .toEqual({ success: true, filePath: FILE, isDirty: false, isUntitled: false });
  });

  test('checkDocumentDirty trusts the real path the editor resolved only when it is inside the scope', async () => {
    const h = makeHarness();
    // A dangling link: resolving it now fails, so an answer proves the editor's real path was used.
    const link = path.join(WORKSPACE, 'dangling.ts');
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.join(WORKSPACE, 'no-such-target.ts'), link);
    try {
      h.editor.documents.set(link, { isDirty: true, isUntitled: false, realPath: FILE });
      expect(jsonOf(await h.call('checkDocumentDirty', { filePath: link })))
        .toEqual({ success: true, filePath: link, isDirty: true, isUntitled: false });
      // The same buffer resolved out of the worktree (a link to another tree): the scope's error.
      h.editor.documents.set(link, { isDirty: true, isUntitled: false, realPath: '/etc/hosts' });
      const out = await h.call('checkDocumentDirty', { filePath: link });
      expect(out.error?.code).toBe(-32602);
      expect(out.error?.message).toMatch(/outside this instance's worktree/);
      // A buffer outside the worktree altogether.
      h.editor.documents.set('/etc/hosts', { isDirty: false, isUntitled: false, realPath: '/etc/hosts' });
      expect((await h.call('checkDocumentDirty', { filePath: '/etc/hosts' })).error?.message).toMatch(/outside this instance's worktree/);
      // Without a real path from the editor the path itself is resolved (dangling: refused).
      h.editor.documents.set(link, { isDirty: true, isUntitled: false });
      expect((await h.call('checkDocumentDirty', { filePath: link })).error?.code).toBe(-32602);
    } finally {
      fs.rmSync(link, { force: true });
    }
  });
});

describe('close_tab / closeAllDiffTabs', () => {
  const diffArgs = (tab: string) => ({ old_file_path: FILE, new_file_path: FILE, new_file_contents: 'new\n', tab_name: tab });

  test('close_tab on an unknown tab -> TAB_CLOSED', async () => {
    const h = makeHarness();
    expect(texts(await h.call('close_tab', { tab_name: 'nope' }))).toEqual(['TAB_CLOSED']);
  });

  test('closeAllDiffTabs with none open -> CLOSED_0_DIFF_TABS', async () => {
    const h = makeHarness();
    expect(texts(await h.call('closeAllDiffTabs', {}))).toEqual(['CLOSED_0_DIFF_TABS']);
  });

  test('closeAllDiffTabs counts only this registry\'s diffs and rejects them', async () => {
    const h = makeHarness();
    const other = makeHarness(); // another server: its own registry
    const ids = ['t1', 't2', 't3'].map((t) => h.send('tools/call', { name: 'openDiff', arguments: diffArgs(t) }));
    const otherId = other.send('tools/call', { name: 'openDiff', arguments: diffArgs('o1') });
    // A diff that already settled is not counted.
    const settledId = h.send('tools/call', { name: 'openDiff', arguments: diffArgs('done') });
    await new Promise((r) => setImmediate(r));
    h.editor.diffs.find((d) => d.req.tabName === 'done')!.accept();
    await h.waitReply(settledId);
    expect(h.diffs.size).toBe(3);

    expect(texts(await h.call('closeAllDiffTabs', {}))).toEqual(['CLOSED_3_DIFF_TABS']);
    for (const [i, id] of ids.entries()) {
      expect(texts(await h.waitReply(id))).toEqual(['DIFF_REJECTED', `t${i + 1}`]);
    }
    expect(h.diffs.size).toBe(0);
    expect(other.editor.diffs[0].closed).toBe(false);
    expect(other.replyTo(otherId)).toBeUndefined();
    expect(texts(await h.call('closeAllDiffTabs', {}))).toEqual(['CLOSED_0_DIFF_TABS']);
    other.editor.diffs[0].reject();
    await other.waitReply(otherId);
  });
});
