/**
 * Issue 5: getOpenEditors, getDiagnostics and getLatestSelection answer from state the Node side
 * holds, kept current by batches Lua pushes from autocmds. After every kind of change, once the
 * batch that change triggered has landed, each cached answer must equal what Neovim says.
 * The barrier (state.sync) only flushes what the autocmds marked: a change no autocmd caught
 * would leave the cache stale and fail here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { makeRepoWithWorktree, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import type { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';
import { fileUri } from '../../src/util/uri';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface TabView { fileName: string; isActive: boolean; isDirty: boolean; languageId: string; lineCount: number; uri: string }
interface FileDiags { uri: string; diagnostics: unknown[] }

describe.each(nvimBins())('cached editor answers equal Neovim after every change (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let client: McpClient;

  beforeAll(async () => {
    repo = makeRepoWithWorktree();
    fs.writeFileSync(path.join(repo.a, 'wide.txt'), 'ab\n');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, selection_debounce_ms = 20 })`);
    client = await openInstanceClient(t, `${repo.a}/hello.txt`);
  });

  afterAll(async () => {
    client?.close();
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  /** What Neovim says right now, computed in Lua independently of the cache. */
  async function truth(): Promise<{ tabs: TabView[]; diags: FileDiags[] }> {
    const v = await t.lua<{ tabs: Array<{ path: string; active: boolean; dirty: boolean; filetype: string; lines: number }>; diags: Array<{ path: string; diagnostics: unknown[] }> }>(`
      local e = require('claude_worktrees.editor')
      return { tabs = e.open_editors(), diags = e.diagnostics(nil) }`);
    const list = <T>(x: T[] | Record<string, never>): T[] => (Array.isArray(x) ? x : []);
    return {
      tabs: list(v.tabs).map((x) => ({
        fileName: x.path, isActive: x.active, isDirty: x.dirty, languageId: x.filetype || 'plaintext', lineCount: x.lines, uri: fileUri(x.path),
      })).sort((a, b) => a.fileName.localeCompare(b.fileName)),
      diags: list(v.diags).map((d) => ({ uri: fileUri(d.path), diagnostics: d.diagnostics })).sort((a, b) => a.uri.localeCompare(b.uri)),
    };
  }

  async function cached(): Promise<{ tabs: TabView[]; diags: FileDiags[] }> {
    const tabs = (JSON.parse((await client.call('getOpenEditors', {}))[0]).tabs as TabView[])
      .map(({ fileName, isActive, isDirty, languageId, lineCount, uri }) => ({ fileName, isActive, isDirty, languageId, lineCount, uri }))
      .sort((a, b) => a.fileName.localeCompare(b.fileName));
    const diags = (JSON.parse((await client.call('getDiagnostics', {}))[0]) as FileDiags[]).sort((a, b) => a.uri.localeCompare(b.uri));
    return { tabs, diags };
  }

  /** The change, then the batch it triggered, then: cache == Neovim (also per file for diagnostics). */
  async function check(what: string, change: string): Promise<{ tabs: TabView[]; diags: FileDiags[] }> {
    await t.lua(change);
    await t.lua(`return require('claude_worktrees.state').sync()`);
    const want = await truth();
    const got = await cached();
    expect({ what, ...got }).toEqual({ what, ...want });
    for (const d of want.diags) {
      const one = JSON.parse((await client.call('getDiagnostics', { uri: d.uri }))[0]);
      expect({ what, one }).toEqual({ what, one: [d] });
    }
    await sameDocStatesAndSelection(what);
    return want;
  }

  /**
   * checkDocumentDirty and getCurrentSelection answer from the copy too (issue 12): for every
   * named buffer in the worktree (listed or not) and a file no buffer holds, the answer must be
   * editor.doc_state's; the current selection must be selection.compute()'s.
   */
  async function sameDocStatesAndSelection(what: string): Promise<void> {
    const v = await t.lua<{ docs: Array<{ path: string; state: { dirty: boolean } | null }>; sel: Record<string, unknown> | null }>(`
      local root, e, out = ...
      out = {}
      local paths = { root .. '/never-opened.txt' }
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        local n = vim.api.nvim_buf_get_name(b)
        if vim.startswith(n, root .. '/') then table.insert(paths, n) end
      end
      local editor = require('claude_worktrees.editor')
      for _, p in ipairs(paths) do
        local st = editor.doc_state(p)
        table.insert(out, { path = p, state = st ~= vim.NIL and st or false })
      end
      return { docs = out, sel = require('claude_worktrees.selection').compute() or false }`, repo.a);
    for (const d of v.docs) {
      const got = JSON.parse((await client.call('checkDocumentDirty', { filePath: d.path }))[0]);
      const want = d.state
        ? { success: true, filePath: d.path, isDirty: d.state.dirty, isUntitled: false }
        : { success: false, message: `Document not open: ${d.path}` };
      expect({ what, doc: got }).toEqual({ what, doc: want });
    }
    const cur = JSON.parse((await client.call('getCurrentSelection', {}))[0]);
    const inRoot = v.sel && String(v.sel.filePath).startsWith(repo.a + '/');
    expect({ what, cur }).toEqual({ what, cur: inRoot ? { success: true, ...v.sel } : { success: false, message: 'No active editor found' } });
  }

  const P = (rel: string) => JSON.stringify(path.join(repo.a, rel));

  it('buffers opened, switched, modified, saved, renamed, retyped, unlisted, closed, wiped; cwd changed', async () => {
    let s = await check('opened', `vim.cmd('edit ' .. vim.fn.fnameescape(${P('src/main.ts')}))`);
    expect(s.tabs.map((x) => path.basename(x.fileName))).toEqual(['hello.txt', 'main.ts']);
    expect(s.tabs.find((x) => x.isActive)!.fileName).toBe(path.join(repo.a, 'src/main.ts'));
    s = await check('second window', `vim.cmd('split ' .. vim.fn.fnameescape(${P('hello.txt')}))`);
    expect(s.tabs.find((x) => x.isActive)!.fileName).toBe(path.join(repo.a, 'hello.txt'));
    s = await check('switched window', `vim.cmd('wincmd j')`);
    expect(s.tabs.find((x) => x.isActive)!.fileName).toBe(path.join(repo.a, 'src/main.ts'));
    s = await check('modified', `vim.api.nvim_buf_set_lines(vim.fn.bufnr(${P('src/main.ts')}), 0, -1, false, { 'a', 'b', 'c' })`);
    expect(s.tabs.find((x) => x.fileName.endsWith('main.ts'))).toMatchObject({ isDirty: true, lineCount: 3 });
    s = await check('saved', `vim.api.nvim_buf_call(vim.fn.bufnr(${P('src/main.ts')}), function() vim.cmd('silent write') end)`);
    expect(s.tabs.find((x) => x.fileName.endsWith('main.ts'))!.isDirty).toBe(false);
    s = await check('renamed', `vim.api.nvim_buf_call(vim.fn.bufnr(${P('src/main.ts')}), function() vim.cmd('silent saveas ' .. vim.fn.fnameescape(${P('src/renamed.ts')})) end)`);
    expect(s.tabs.map((x) => path.basename(x.fileName))).toContain('renamed.ts');
    s = await check('filetype set', `vim.api.nvim_buf_call(vim.fn.bufnr(${P('hello.txt')}), function() vim.cmd('setfiletype python') end)`);
    expect(s.tabs.find((x) => x.fileName.endsWith('hello.txt'))!.languageId).toBe('python');
    s = await check('opened a third', `vim.cmd('edit ' .. vim.fn.fnameescape(${P('wide.txt')}))`);
    const n = s.tabs.length;
    s = await check('unlisted', `vim.bo.buflisted = false`);
    expect(s.tabs.length).toBe(n - 1);
    s = await check('listed again', `vim.bo.buflisted = true`);
    expect(s.tabs.length).toBe(n);
    s = await check('buftype nofile', `vim.bo.buftype = 'nofile'`);
    expect(s.tabs.length).toBe(n - 1);
    await check('buftype back', `vim.bo.buftype = ''`);
    s = await check('closed (bdelete)', `vim.cmd('bdelete ' .. vim.fn.bufnr(${P('wide.txt')}))`);
    expect(s.tabs.map((x) => path.basename(x.fileName))).not.toContain('wide.txt');
    s = await check('wiped', `vim.cmd('bwipeout! ' .. vim.fn.bufnr(${P('src/renamed.ts')}))`);
    expect(s.tabs.map((x) => path.basename(x.fileName))).toEqual(['hello.txt', 'main.ts'].filter((f) => s.tabs.some((x) => x.fileName.endsWith(f))));
    await check('cwd changed', `vim.cmd('cd ' .. vim.fn.fnameescape(${P('src')}))`);
    await check('unloaded (hidden off)', `vim.o.hidden = false; vim.cmd('edit ' .. vim.fn.fnameescape(${P('wide.txt')}))`);
  }, 60_000);

  it('diagnostics set, changed, moved by an edit (UTF-16 columns), cleared', async () => {
    await t.cmd(`edit ${path.join(repo.a, 'hello.txt')}`);
    const ns = `vim.api.nvim_create_namespace('cache-test')`;
    let s = await check('set', `vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'héllo wörld', 'x' })
      vim.diagnostic.set(${ns}, 0, { { lnum = 0, col = 7, end_col = 13, message = 'bad', severity = 2, source = 't' },
        { lnum = 1, col = 0, message = 'two', severity = 1, code = 42 } })`);
    expect(s.diags).toHaveLength(1);
    expect((s.diags[0].diagnostics[0] as { range: { start: { character: number } } }).range.start.character).toBe(6);
    await check('second file', `local b = vim.fn.bufadd(${P('wide.txt')}); vim.fn.bufload(b); vim.bo[b].buflisted = true
      vim.diagnostic.set(${ns}, b, { { lnum = 0, col = 1, message = 'w', severity = 3 } })`);
    await check('changed', `vim.diagnostic.set(${ns}, 0, { { lnum = 1, col = 0, message = 'only', severity = 4 } })`);
    // Text before a diagnostic changes its UTF-16 column even when the diagnostic does not.
    await check('edited under', `vim.diagnostic.set(${ns}, 0, { { lnum = 0, col = 7, message = 'col', severity = 1 } })`);
    s = await check('text edit', `vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'ééééllo wörld' })`);
    s = await check('cleared one', `vim.diagnostic.reset(${ns}, 0)`);
    expect(s.diags.map((d) => path.basename(d.uri))).toEqual(['wide.txt']);
    s = await check('cleared all', `vim.diagnostic.reset(${ns})`);
    expect(s.diags).toEqual([]);
    expect(JSON.parse((await client.call('getDiagnostics', { uri: fileUri(path.join(repo.a, 'hello.txt')) }))[0])).toEqual([]);
  }, 60_000);

  it('typing is batched: far fewer state batches than keystrokes, and the answer is right after', async () => {
    await t.cmd(`edit! ${path.join(repo.a, 'hello.txt')}`);
    await t.lua(`return require('claude_worktrees.state').sync()`);
    const before = await t.lua<number>(`return require('claude_worktrees.state').flushes`);
    const keys = 'o' + 'typed text<CR>'.repeat(15) + '<Esc>';
    await t.nvim.input(keys);
    await waitFor(async () => (await t.lua<string>('return vim.api.nvim_get_mode().mode')) === 'n'
      && (await t.lua<number>('return vim.api.nvim_buf_line_count(0)')) >= 17, 'typed');
    const check = await truth();
    await waitFor(async () => isDeepStrictEqual((await cached()).tabs, check.tabs), 'line count pushed without a barrier');
    const batches = (await t.lua<number>(`return require('claude_worktrees.state').flushes`)) - before;
    // 15 lines of typing (about 170 keystrokes) in a burst: a handful of batches, not one each.
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(10);
  }, 30_000);

  it('cursor moved: getLatestSelection and getCurrentSelection are the pushed selection', async () => {
    await t.cmd(`edit! ${path.join(repo.a, 'hello.txt')}`);
    await t.lua(`vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'héllo wörld', 'second line' })`);
    for (const [row, col] of [[1, 7], [2, 3], [1, 0]]) {
      // Typed, as a user would: CursorMoved fires from Neovim's main loop, not inside an API call.
      await t.nvim.input(`:call cursor(${row}, ${col + 1})<CR>`);
      await waitFor(async () => isDeepStrictEqual(await t.lua('return vim.api.nvim_win_get_cursor(0)'), [row, col]), 'cursor');
      const now = await t.lua<Record<string, unknown>>(`return require('claude_worktrees.selection').compute()`);
      // Answered from the selection the sampler sent (within one 20 ms window here).
      const current = await waitFor(async () => {
        const c = JSON.parse((await client.call('getCurrentSelection', {}))[0]);
        if (isDeepStrictEqual(c, { success: true, ...now })) return c;
        throw new Error(`current is ${JSON.stringify(c)}, Neovim says ${JSON.stringify(now)}`);
      }, `current selection at ${row},${col}`);
      expect(current).toEqual({ success: true, ...now });
      const latest = await waitFor(async () => {
        const l = JSON.parse((await client.call('getLatestSelection', {}))[0]);
        if (l.success && isDeepStrictEqual(l.selection, now.selection)) return l;
        throw new Error(`latest is ${JSON.stringify(l)}, Neovim says ${JSON.stringify(now)}`);
      }, `latest selection at ${row},${col}`);
      expect(latest).toEqual({ success: true, ...now });
    }
  }, 60_000);

  it('a window without a file: no current selection, the latest one kept; back in the file: current again', async () => {
    await t.cmd(`edit! ${path.join(repo.a, 'hello.txt')}`);
    await t.lua(`vim.api.nvim_win_set_cursor(0, {2, 2})`);
    await check('cursor in a file', '');
    const before = JSON.parse((await client.call('getLatestSelection', {}))[0]);
    await check('scratch window', `vim.cmd('new'); vim.bo.buftype = 'nofile'`);
    expect(JSON.parse((await client.call('getCurrentSelection', {}))[0]).success).toBe(false);
    expect(JSON.parse((await client.call('getLatestSelection', {}))[0])).toEqual(before);
    await check('back in the file', `vim.cmd('close')`);
    expect(JSON.parse((await client.call('getCurrentSelection', {}))[0])).toEqual(before);
    await check('unlisted but loaded: still a document', `vim.bo.buflisted = false`);
    await check('modified while unlisted', `vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'changed' })`);
    await check('undone', `vim.cmd('silent undo')`);
    await check('listed again', `vim.bo.buflisted = true`);
  }, 60_000);
});
