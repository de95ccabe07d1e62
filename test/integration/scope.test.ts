import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeRepoWithWorktree, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import type { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';
import { rmDir } from '../helpers/tmp';
import { prng } from '../helpers/prng';
import { snapshot } from '../helpers/snapshot';

// Issue 13: no tool may touch a file outside its worktree, or hang Neovim. One instance (worktree
// `proj`); `proj-feat` (the other worktree) and `outside/` beside them are what it must not touch.

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

describe.each(nvimBins())('tools stay inside their worktree and never hang Neovim (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let client: McpClient;
  let outside: string;

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    outside = path.join(repo.base, 'outside');
    fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
    fs.writeFileSync(path.join(outside, 'dir', 'linked.txt'), 'linked\n');
    fs.symlinkSync(path.join(outside, 'dir'), path.join(repo.a, 'linkdir'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(repo.a, 'link.txt'));
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } })`);
    client = await openInstanceClient(t, `${repo.a}/hello.txt`);
  });

  afterEach(async () => {
    client?.close();
    await t?.quit();
    if (repo) rmDir(repo.base);
  });

  const refused = async (name: string, args: Record<string, unknown>): Promise<string> => {
    const r = await client.request('tools/call', { name, arguments: args });
    expect(r.error).toBeDefined();
    const err = r.error as { code: number; message: string };
    expect(err.code).toBe(-32602);
    return err.message;
  };
  const answer = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> =>
    JSON.parse((await client.call(name, args))[0]) as Record<string, unknown>;
  const bufLines = (file: string) => t.lua<string[] | null>(`local b = require('claude_worktrees.util').buf_of(...)
    if b < 0 then return vim.NIL end return vim.api.nvim_buf_get_lines(b, 0, -1, false)`, file);
  const modified = (file: string) => t.lua<boolean>(`return vim.bo[require('claude_worktrees.util').buf_of(...)].modified`, file);
  // A buffer with an unsaved edit, loaded by the user (not through a tool).
  const editUnsaved = async (file: string, line: string) => {
    await t.cmd(`badd ${file}`);
    await t.lua(`local b = require('claude_worktrees.util').buf_of(...)
      vim.fn.bufload(b) vim.api.nvim_buf_set_lines(b, 0, 1, false, { select(2, ...) })`, file, line);
  };
  /** Neovim is not inside a prompt or pending input: nvim_get_mode says so within 1 s. */
  const responsive = async () => {
    const mode = await within(t.nvim.request('nvim_get_mode', []) as Promise<{ mode: string; blocking: boolean }>, 1000, 'nvim_get_mode');
    expect(mode.blocking).toBe(false);
  };

  it('saveDocument, checkDocumentDirty and openFile refuse files outside, also through symlinks; nothing is written', async () => {
    const before = snapshot(outside);
    const other = path.join(repo.b, 'hello.txt');
    await editUnsaved(path.join(outside, 'secret.txt'), 'unsaved outside');
    await editUnsaved(other, 'unsaved in the other worktree');
    for (const f of [path.join(outside, 'secret.txt'), other, '../outside/secret.txt', path.join(repo.a, 'link.txt'),
      path.join(repo.a, 'linkdir', 'linked.txt')]) {
      expect(await refused('saveDocument', { filePath: f })).toMatch(/outside this instance's worktree/);
      expect(await refused('checkDocumentDirty', { filePath: f })).toMatch(/outside this instance's worktree/);
      expect(await refused('openFile', { filePath: f })).toMatch(/outside this instance's worktree/);
    }
    expect(await refused('getDiagnostics', { uri: `file://${path.join(outside, 'secret.txt')}` })).toMatch(/outside/);
    expect(await refused('openDiff', {
      old_file_path: path.join(repo.a, 'linkdir', 'linked.txt'), new_file_path: path.join(repo.a, 'linkdir', 'linked.txt'),
      new_file_contents: 'x\n', tab_name: 'out',
    })).toMatch(/outside/);
    expect(snapshot(outside)).toEqual(before);
    expect(fs.readFileSync(other, 'utf8')).toBe('hello\nworld\n');
    expect(await modified(path.join(outside, 'secret.txt'))).toBe(true);
    expect(await modified(other)).toBe(true);
    // openFile opened nothing: no buffer for the linked file.
    expect(await bufLines(path.join(outside, 'dir', 'linked.txt'))).toBeNull();
    await responsive();
  });

  it("getOpenEditors and the diagnostics sweep hold only this worktree's files, though Neovim has others open", async () => {
    const mine = path.join(repo.a, 'hello.txt');
    const theirs = path.join(repo.b, 'hello.txt');
    const secret = path.join(outside, 'secret.txt');
    for (const f of [mine, theirs, secret]) {
      await t.cmd(`edit ${f}`);
      await t.lua(`vim.diagnostic.set(vim.api.nvim_create_namespace('t'), 0, { { lnum = 0, col = 0, message = 'x', severity = vim.diagnostic.severity.ERROR } })`);
    }
    await t.lua("return require('claude_worktrees.state').sync()");
    const tabs = (await answer('getOpenEditors', {})).tabs as Array<{ fileName: string; isActive: boolean }>;
    expect(tabs.map((x) => x.fileName)).toEqual([mine]);
    // The active buffer (the secret) is another worktree's: none of A's reads as active.
    expect(tabs[0].isActive).toBe(false);
    const sweep = JSON.parse((await client.call('getDiagnostics', {}))[0]) as Array<{ uri: string }>;
    expect(sweep.map((d) => d.uri)).toEqual([`file://${mine}`]);
    // Through a symlink in the worktree to a file outside: still not A's.
    await t.cmd(`edit ${path.join(repo.a, 'link.txt')}`);
    await t.lua("return require('claude_worktrees.state').sync()");
    expect(((await answer('getOpenEditors', {})).tabs as Array<{ fileName: string }>).map((x) => x.fileName)).toEqual([mine]);
  }, 30_000);

  it('selections are judged and named by the real path: a file linked in from outside reaches claude, a link pointing out does not', async () => {
    // Neovim names a buffer through a linked directory by its real path itself; a linked file keeps the link's name.
    const alias = path.join(repo.base, 'main-link.ts');
    fs.symlinkSync(path.join(repo.a, 'src/main.ts'), alias);
    await t.cmd(`edit ${alias}`);
    expect(await t.lua('return vim.api.nvim_buf_get_name(0)')).toBe(alias);
    await t.lua('vim.api.nvim_win_set_cursor(0, {1, 7})');
    await t.lua("return require('claude_worktrees.state').sync()");
    const real = path.join(repo.a, 'src/main.ts');
    const want = { success: true, filePath: real, fileUrl: `file://${real}`, selection: { start: { line: 0, character: 7 }, isEmpty: true } };
    await waitFor(async () => (await answer('getLatestSelection', {})).filePath === real, 'the latest selection, by its real path');
    expect(await answer('getLatestSelection', {})).toMatchObject(want);
    expect(await answer('getCurrentSelection', {})).toMatchObject(want);

    // A link in the worktree that points out of it: its text is not the worktree's to send.
    await t.cmd(`edit ${path.join(repo.a, 'link.txt')}`);
    await t.lua("return require('claude_worktrees.state').sync()");
    expect(await answer('getCurrentSelection', {})).toMatchObject({ success: false });
    expect(await answer('getLatestSelection', {})).toMatchObject(want);
  }, 30_000);

  it('saveDocument: writes a modified buffer; leaves an unmodified file byte for byte (no final newline added)', async () => {
    const bin4k = path.join(repo.a, 'blob.bin');
    const bytes = Buffer.alloc(4096, 0xab);
    fs.writeFileSync(bin4k, bytes);
    const mtime = fs.statSync(bin4k).mtimeMs;
    await client.call('openFile', { filePath: bin4k, makeFrontmost: true });
    expect(await answer('saveDocument', { filePath: bin4k })).toMatchObject({ success: true, saved: false });
    expect(fs.readFileSync(bin4k).equals(bytes)).toBe(true);
    expect(fs.statSync(bin4k).mtimeMs).toBe(mtime);

    const hello = path.join(repo.a, 'hello.txt');
    await t.lua(`vim.api.nvim_buf_set_lines(require('claude_worktrees.util').buf_of(...), 0, 1, false, { 'saved by claude' })`, hello);
    expect(await answer('saveDocument', { filePath: 'hello.txt' })).toMatchObject({ success: true, saved: true });
    expect(fs.readFileSync(hello, 'utf8')).toBe('saved by claude\nworld\n');
    expect(await modified(hello)).toBe(false);
    // Saved again after that write (its stamp is the write's): no conflict, no prompt.
    await t.lua(`vim.api.nvim_buf_set_lines(require('claude_worktrees.util').buf_of(...), 0, 1, false, { 'and again' })`, hello);
    expect(await within(answer('saveDocument', { filePath: 'hello.txt' }), 1000, 'saveDocument')).toMatchObject({ saved: true });
    expect(fs.readFileSync(hello, 'utf8')).toBe('and again\nworld\n');
    // A read-only buffer (opened so beside another Neovim's swap file) is not written, and nothing asks.
    await t.lua(`local b = require('claude_worktrees.util').buf_of(...)
      vim.api.nvim_buf_set_lines(b, 0, 1, false, { 'not mine to write' }) vim.bo[b].readonly = true`, hello);
    const ro = await within(answer('saveDocument', { filePath: 'hello.txt' }), 1000, 'saveDocument read-only');
    expect(ro).toMatchObject({ success: false, saved: false });
    expect(String(ro.message)).toContain('read-only in Neovim');
    await responsive();
    expect(fs.readFileSync(hello, 'utf8')).toBe('and again\nworld\n');
  });

  it('saveDocument on a buffer whose file changed on disk: a conflict, no prompt, the newer file kept', async () => {
    const hello = path.join(repo.a, 'hello.txt');
    await t.lua(`vim.api.nvim_buf_set_lines(require('claude_worktrees.util').buf_of(...), 0, 1, false, { 'mine' })`, hello);
    // What claude's own Write does: a newer file of another size under the buffer.
    fs.writeFileSync(hello, 'written by claude\n');
    const r = await within(answer('saveDocument', { filePath: hello }), 1000, 'saveDocument');
    expect(r).toMatchObject({ success: false, saved: false, conflict: true });
    expect(String(r.message)).toContain('changed on disk');
    await responsive();
    expect(fs.readFileSync(hello, 'utf8')).toBe('written by claude\n');
    expect(await bufLines(hello)).toEqual(['mine', 'world']);
    expect(await modified(hello)).toBe(true);
    // Asked again: still a conflict, no "changed since reading it" prompt. Neovim's own
    // change check saw the change once and stopped reporting it; :write would still ask.
    const again = await within(answer('saveDocument', { filePath: hello }), 1000, 'saveDocument again');
    expect(again).toMatchObject({ success: false, saved: false, conflict: true });
    await responsive();
    // The check after claude's tools ran (PostToolUse) sees the change too, and keeps the buffer.
    await t.lua('require("claude_worktrees.editor").reload_changed(...)', repo.a);
    await responsive();
    expect(await within(answer('saveDocument', { filePath: hello }), 1000, 'saveDocument after the reload check')).toMatchObject({ conflict: true });
    await responsive();
    expect(fs.readFileSync(hello, 'utf8')).toBe('written by claude\n');
    // A file deleted under its modified buffer is a conflict too (saving would bring it back).
    fs.rmSync(hello);
    expect(await answer('saveDocument', { filePath: hello })).toMatchObject({ conflict: true });
    expect(fs.existsSync(hello)).toBe(false);
    await responsive();
  });

  it('a buffer whose name only contains the path is not taken for it (no bufnr() pattern match)', async () => {
    const bak = path.join(repo.a, 'hello.txt.bak');
    fs.writeFileSync(bak, 'backup\n');
    await t.cmd('bwipeout! hello.txt');
    await editUnsaved(bak, 'unsaved backup');
    expect(await answer('saveDocument', { filePath: path.join(repo.a, 'hello.txt') })).toMatchObject({ success: false });
    expect(await answer('checkDocumentDirty', { filePath: path.join(repo.a, 'hello.txt') })).toMatchObject({ success: false });
    expect(fs.readFileSync(bak, 'utf8')).toBe('backup\n');
  });

  it('a file name with a newline never becomes an Ex command: refused by every tool, and by the Lua that opens files', async () => {
    // fnameescape() keeps a newline, and vim.cmd() runs the line after it as a command of its own;
    // this one (no space, quote or other character fnameescape escapes) would set g:x.
    const evil = path.join(repo.a, 'x\nlua(vim.api.nvim_set_var)(string.char(120),1)');
    fs.writeFileSync(evil, 'evil\n');
    expect(await refused('openFile', { filePath: evil })).toContain('has a control character');
    expect(await refused('openDiff', { old_file_path: evil, new_file_path: evil, new_file_contents: 'x\n', tab_name: 'evil' }))
      .toContain('has a control character');
    expect(await refused('saveDocument', { filePath: evil })).toContain('has a control character');
    expect(await refused('checkDocumentDirty', { filePath: evil })).toContain('has a control character');
    // Lua's own guard, for a caller that skipped Node's.
    const lua = await t.lua<[boolean, string, unknown]>(`local ok, err = pcall(require('claude_worktrees.editor').open_file, { path = ..., key = '' })
      return { ok, tostring(err), vim.g.x }`, evil);
    expect(lua[0]).toBe(false);
    expect(lua[1]).toContain('a file name with a control character is refused');
    const diff = await t.lua<[boolean, unknown]>(`local ok, res = pcall(require('claude_worktrees.diff').open, { id = 'evil', file = ..., tab_name = 'evil', contents = 'x' })
      return { ok and res.ok or false, vim.g.x }`, evil);
    expect(diff[0]).toBe(false);
    expect(await t.lua<unknown>('return vim.g.x')).toBeNull();
    expect(await t.lua<number>('return #vim.api.nvim_list_tabpages()')).toBe(1);
  });

  it("a tool's buffer switch never writes or asks, whatever the user's nohidden, confirm, autowriteall", async () => {
    const hello = path.join(repo.a, 'hello.txt');
    const main = path.join(repo.a, 'src', 'main.ts');
    await t.cmd('set nohidden confirm autowrite autowriteall');
    // The user's unsaved edit, in the code window.
    await t.lua(`vim.api.nvim_set_current_win(require('claude_worktrees.util').code_window())
      vim.cmd('edit ' .. vim.fn.fnameescape(...)) vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'unsaved' })`, hello);
    const mtime = fs.statSync(hello).mtimeMs;
    // The file itself, shown and modified: no re-read (E37 or a save dialog).
    await within(client.call('openFile', { filePath: hello, startText: 'world', endText: '' }), 1000, 'openFile of the shown file');
    await responsive();
    // Another file over it, then a diff over that: the edit is hidden, not written.
    await within(client.call('openFile', { filePath: main }), 1000, 'openFile');
    await responsive();
    await t.lua(`vim.cmd('buffer ' .. require('claude_worktrees.util').buf_of(...))`, hello);
    const reply = client.call('openDiff', { old_file_path: main, new_file_path: main, new_file_contents: 'export const x = 2;\n', tab_name: 'd1' });
    await waitFor(() => t.lua<number>('local n = 0 for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do if vim.wo[w].diff then n = n + 1 end end return n')
      .then((n) => n === 2), 'diff windows');
    await responsive();
    await t.lua(`require('claude_worktrees.diff').decide(require('claude_worktrees.diff').current_id() or next(require('claude_worktrees.diff').diffs), 'reject')`);
    await reply;
    await responsive();
    expect(fs.readFileSync(hello, 'utf8')).toBe('hello\nworld\n');
    expect(fs.statSync(hello).mtimeMs).toBe(mtime);
    expect(await bufLines(hello)).toEqual(['unsaved', 'world']);
    expect(await modified(hello)).toBe(true);
    expect(await t.lua<boolean[]>('return { vim.o.hidden, vim.o.confirm, vim.o.autowriteall, vim.o.autowrite }')).toEqual([false, true, true, true]);
    await t.cmd('set hidden noconfirm noautowrite noautowriteall');
  });

  it('a FIFO, a directory, a device or a huge file is refused before Neovim opens it; Neovim never blocks', async () => {
    const fifo = path.join(repo.a, 'pipe');
    cp.execFileSync('mkfifo', [fifo]);
    const big = path.join(repo.a, 'huge.log');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 33 * 1024 * 1024);
    for (const [f, why] of [[fifo, 'named pipe'], [path.join(repo.a, 'src'), 'directory'], [big, 'too large']]) {
      expect(await within(refused('openFile', { filePath: f }), 1000, `openFile ${f}`)).toContain(why);
      expect(await within(refused('openDiff', { old_file_path: f, new_file_path: f, new_file_contents: 'x', tab_name: `t-${why}` }),
        1000, `openDiff ${f}`)).toContain(why);
      await responsive();
    }
    expect(await refused('openFile', { filePath: '/dev/zero' })).toContain('outside');
  });

  it('randomized: every tool with hostile paths changes no byte outside the worktree, and Neovim answers within 1 s', async () => {
    const seed = Number(process.env.CW_SCOPE_SEED ?? Date.now() % 1_000_000);
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const fifo = path.join(repo.a, 'pipe');
    cp.execFileSync('mkfifo', [fifo]);
    fs.symlinkSync(fifo, path.join(repo.a, 'pipe-link'));
    fs.symlinkSync(path.join(outside, 'gone'), path.join(repo.a, 'dangling'));
    const other = path.join(repo.b, 'hello.txt');
    await editUnsaved(path.join(outside, 'secret.txt'), 'unsaved outside');
    await editUnsaved(other, 'unsaved other');
    // Modified buffers inside the worktree must not be overwritten by anything but saveDocument.
    await t.lua(`vim.api.nvim_buf_set_lines(require('claude_worktrees.util').buf_of(...), 0, 1, false, { 'unsaved inside' })`,
      path.join(repo.a, 'hello.txt'));
    const watched = [outside, repo.b];
    const before = watched.map(snapshot);
    const paths = [
      path.join(outside, 'secret.txt'), path.join(outside, 'dir', 'linked.txt'), path.join(outside, 'new.txt'), other,
      '../outside/secret.txt', '../../etc/passwd', '/etc/passwd', '/dev/null', '/dev/zero', '/proc/self/environ',
      path.join(repo.a, 'link.txt'), path.join(repo.a, 'linkdir', 'linked.txt'), path.join(repo.a, 'linkdir', 'new.txt'),
      path.join(repo.a, 'dangling'), fifo, path.join(repo.a, 'pipe-link'), path.join(repo.a, 'src'), repo.a,
      path.join(repo.a, 'src', '..', '..', 'outside', 'secret.txt'), `${repo.a}-feat/hello.txt`, `${repo.a}/../proj-feat/hello.txt`,
      'hello.txt', 'src/main.ts', path.join(repo.a, 'does-not-exist.ts'), '', 'a\u0000b', '~/.bashrc',
      `file://${path.join(outside, 'secret.txt')}`, 'file:///etc/passwd', `file://${repo.a}/hello.txt`,
    ];
    const tools = ['openFile', 'openDiff', 'checkDocumentDirty', 'saveDocument', 'getDiagnostics'] as const;
    const N = 150;
    for (let i = 0; i < N; i++) {
      const tool = pick(tools);
      const p = pick(paths);
      let args: Record<string, unknown>;
      if (tool === 'openDiff') args = { old_file_path: p, new_file_path: pick([p, pick(paths)]), new_file_contents: 'evil\n', tab_name: `tab${i}` };
      else if (tool === 'getDiagnostics') args = { uri: p };
      else if (tool === 'openFile') args = { filePath: p, makeFrontmost: rnd() < 0.5, startLine: 1, endLine: 2 };
      else args = { filePath: p };
      const what = `seed ${seed} step ${i}: ${tool} ${JSON.stringify(args)}`;
      const reply = client.request('tools/call', { name: tool, arguments: args });
      // A valid openDiff inside the worktree waits for the user: close it as the CLI would.
      if (tool === 'openDiff') setTimeout(() => client.request('tools/call', { name: 'close_tab', arguments: { tab_name: `tab${i}` } }), 50);
      const r = await within(reply, 1000, what);
      expect([r.result !== undefined, r.error !== undefined]).toContainEqual(true);
      await within(t.nvim.request('nvim_get_mode', []), 1000, `${what}: nvim_get_mode`).then((m) => {
        if ((m as { blocking: boolean }).blocking) throw new Error(`${what}: Neovim blocked`);
      });
      // Stay in the code window: an openFile may have left a diff or another buffer in front.
      if (tool === 'openDiff') await waitFor(async () => (await t.lua<number>('return vim.tbl_count(require("claude_worktrees.diff").diffs)')) === 0, `${what}: diff closed`);
    }
    watched.forEach((d, k) => expect([d, snapshot(d)]).toEqual([d, before[k]]));
    expect(await modified(path.join(outside, 'secret.txt'))).toBe(true);
    expect(await modified(other)).toBe(true);
  });
});

describe.each(nvimBins())('extra_roots (%s)', (bin) => {
  let t: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree> | undefined;
  afterEach(async () => {
    await t?.quit();
    if (repo) rmDir(repo.base);
  });

  it("a directory in extra_roots is open to the tools (claude's /add-dir); everything else outside stays refused", async () => {
    repo = makeRepoWithWorktree();
    const extra = path.join(repo.base, 'shared-notes');
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'notes.md'), 'notes\n');
    fs.writeFileSync(path.join(repo.base, 'secret.txt'), 'secret\n');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, extra_roots = { ${JSON.stringify(extra)} } })`);
    const client = await openInstanceClient(t, `${repo.a}/hello.txt`);
    try {
      const [opened] = await client.call('openFile', { filePath: path.join(extra, 'notes.md') });
      expect(opened).toContain('notes.md');
      const r = await client.request('tools/call', { name: 'openFile', arguments: { filePath: path.join(repo.base, 'secret.txt') } });
      expect((r.error as { message: string }).message).toMatch(/outside this instance's worktree.*extra_roots/);
    } finally {
      client.close();
    }
    const err = await t.lua<string>(`local ok, e = pcall(require('claude_worktrees').setup, { extra_roots = { 'relative/dir' } }) return tostring(e)`);
    expect(err).toContain('extra_roots must be a list of absolute directory paths');
  }, 30_000);
});
