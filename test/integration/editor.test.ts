import * as fs from 'fs';
import * as path from 'path';
import { makeRepoWithWorktree, manifestFor, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import type { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

describe.each(nvimBins())('the Neovim editor behind the IDE tools (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let client: McpClient;

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    const log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
    client = await openInstanceClient(t, `${repo.a}/hello.txt`);
  });

  afterEach(async () => {
    client?.close();
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  // Reads answer from the state Lua pushes after each main-loop turn: wait until Node has it.
  const synced = () => t.lua(`return require('claude_worktrees.state').sync()`);

  const diffWindows = () => t.lua<number>(`local n = 0
    for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_diff then n = n + 1 end
    end return n`);

  it('the manifest registers every command', () => {
    const manifest = fs.readFileSync(manifestFor(bin), 'utf8');
    for (const c of ['ClaudeCode', 'ClaudeCodeList', 'ClaudeCodeSwitch', 'ClaudeCodeKill', 'ClaudeCodeKillAll', 'ClaudeCodeSend',
      'ClaudeCodeAdd', 'ClaudeCodeDiffAccept', 'ClaudeCodeDiffDeny', 'ClaudeCodeStatus']) {
      expect(manifest).toContain(`'name': '${c}', 'type': 'command'`);
    }
  });

  it('openDiff: shows a diff beside the code, accept returns the user-edited proposal', async () => {
    const file = path.join(repo.a, 'hello.txt');
    const reply = client.call('openDiff', {
      old_file_path: file, new_file_path: file, new_file_contents: 'hello\nthere\n', tab_name: 'T1',
    });
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    // Never inside the terminal window; the proposal keeps the file's filetype handling.
    const info = await t.lua<{ bt: string; lines: string[] }>(`local b = vim.api.nvim_get_current_buf()
      return { bt = vim.bo[b].buftype, lines = vim.api.nvim_buf_get_lines(b, 0, -1, false) }`);
    expect(info).toEqual({ bt: 'acwrite', lines: ['hello', 'there'] });
    await t.lua(`vim.api.nvim_buf_set_lines(0, 1, 2, false, { 'edited by user' })`);
    await t.cmd('ClaudeCodeDiffAccept');
    expect(await reply).toEqual(['FILE_SAVED', 'hello\nedited by user\n']);
    await waitFor(async () => (await diffWindows()) === 0, 'diff closed');
    // The plugin never writes the file itself: the CLI does.
    expect(fs.readFileSync(file, 'utf8')).toBe('hello\nworld\n');
    // Once "claude" writes it, the unmodified buffer is reloaded.
    fs.writeFileSync(file, 'hello\nedited by user\n');
    await waitFor(async () => (await t.lua<string[]>(`return vim.api.nvim_buf_get_lines(vim.fn.bufnr(${JSON.stringify(file)}), 0, -1, false)`))[1] === 'edited by user', 'buffer reloaded');
  }, 30_000);

  it('openDiff: :w accepts, deny and closing the proposal reject, close_tab rejects a pending diff', async () => {
    const file = path.join(repo.a, 'new.txt');
    const r1 = client.call('openDiff', { old_file_path: file, new_file_path: file, new_file_contents: 'brand new\n', tab_name: 'N' });
    await waitFor(async () => (await diffWindows()) === 2, 'diff for a new file');
    await t.cmd('write');
    expect(await r1).toEqual(['FILE_SAVED', 'brand new\n']);
    expect(fs.existsSync(file)).toBe(false);

    const hello = path.join(repo.a, 'hello.txt');
    const r2 = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'x\n', tab_name: 'D' });
    await waitFor(async () => (await diffWindows()) === 2, 'diff 2');
    await t.cmd('ClaudeCodeDiffDeny');
    expect(await r2).toEqual(['DIFF_REJECTED', 'D']);
    await waitFor(async () => (await diffWindows()) === 0, 'diff 2 closed'); // a few ms after the reply

    const r3 = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'y\n', tab_name: 'Q' });
    await waitFor(async () => (await diffWindows()) === 2, 'diff 3');
    await t.cmd('quit');
    expect(await r3).toEqual(['DIFF_REJECTED', 'Q']);
    await waitFor(async () => (await diffWindows()) === 0, 'diff 3 closed');

    const r4 = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'z\n', tab_name: 'C' });
    await waitFor(async () => (await diffWindows()) === 2, 'diff 4');
    expect(await client.call('close_tab', { tab_name: 'C' })).toEqual(['TAB_CLOSED']);
    expect(await r4).toEqual(['DIFF_REJECTED', 'C']);
    await waitFor(async () => (await diffWindows()) === 0, 'diff 4 closed');
    expect(fs.readFileSync(hello, 'utf8')).toBe('hello\nworld\n');
  }, 30_000);

  it('openDiff: the teardown after a decision waits; a new diff before it tears the old one down first, with its outcome', async () => {
    const hello = path.join(repo.a, 'hello.txt');
    // Hold every teardown back, and record the diff events (util.fire: 0.7 has no autocmd data).
    await t.lua(`require('claude_worktrees.diff').teardown_delay_ms = 600000
      _G.cwt_ev = {}
      local util = require('claude_worktrees.util')
      local fire = util.fire
      util.fire = function(pattern, data)
        if pattern:find('^ClaudeWorktreesDiff') then table.insert(_G.cwt_ev, pattern .. ' ' .. data.tab_name .. ' ' .. (data.outcome or '')) end
        return fire(pattern, data)
      end`);
    const events = () => t.lua<string[]>('return _G.cwt_ev');
    const diffIds = () => t.lua<string[]>(`local out = {}
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local id = vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_diff
        if id then table.insert(out, id) end
      end return out`);

    const ra = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'a\n', tab_name: 'A' });
    await waitFor(async () => (await diffWindows()) === 2, 'diff A');
    await t.cmd('ClaudeCodeDiffDeny');
    expect(await ra).toEqual(['DIFF_REJECTED', 'A']);
    expect(await client.call('close_tab', { tab_name: 'A' })).toEqual(['TAB_CLOSED']); // as the CLI does
    const a = await diffIds();
    expect(a).toHaveLength(2); // answered, windows not yet torn down

    const rb = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'b\n', tab_name: 'B' });
    await waitFor(async () => (await events()).includes('ClaudeWorktreesDiffOpened B '), 'diff B opened');
    expect(await events()).toEqual(['ClaudeWorktreesDiffOpened A ', 'ClaudeWorktreesDiffClosed A rejected', 'ClaudeWorktreesDiffOpened B ']);
    const b = await diffIds();
    expect(b).toHaveLength(2);
    expect(b[0]).not.toBe(a[0]);
    await t.lua(`vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'b edited' })`);
    await t.cmd('ClaudeCodeDiffAccept');
    expect(await rb).toEqual(['FILE_SAVED', 'b edited\n']);
    // Answered, so the edited proposal holds nothing to lose: :qa would not stop on it.
    expect(await t.lua<boolean>('return vim.bo.modified')).toBe(false);
    const rc = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'c\n', tab_name: 'C' });
    await waitFor(async () => (await events()).includes('ClaudeWorktreesDiffOpened C '), 'diff C opened');
    // B went first, with its own outcome; C's two windows are whole, in diff mode.
    expect((await events()).slice(3)).toEqual(['ClaudeWorktreesDiffClosed B accepted', 'ClaudeWorktreesDiffOpened C ']);
    const c = await diffIds();
    expect(c).toHaveLength(2);
    expect(c[0]).toBe(c[1]);
    expect(c[0]).not.toBe(b[0]);
    expect(await t.lua<number>(`local n = 0
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do if vim.wo[w].diff then n = n + 1 end end return n`)).toBe(2);
    await t.cmd('ClaudeCodeDiffDeny');
    expect(await rc).toEqual(['DIFF_REJECTED', 'C']);
    // openFile before C's teardown: C goes first, and the file takes the code window C had
    // borrowed (no window split off because the diff's windows were no code windows).
    await client.call('openFile', { filePath: hello, preview: false, makeFrontmost: true });
    expect((await events()).slice(-1)).toEqual(['ClaudeWorktreesDiffClosed C rejected']);
    expect(await diffWindows()).toBe(0);
    expect(await t.lua<string[]>(`local out = {}
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local b = vim.api.nvim_win_get_buf(w)
        table.insert(out, vim.bo[b].buftype == 'terminal' and 'term' or vim.api.nvim_buf_get_name(b))
      end return out`)).toEqual([hello, 'term']);
  }, 30_000);

  it('openDiff: :wq and :x in the proposal accept and close the diff, nothing else (no other window, Neovim stays)', async () => {
    const hello = path.join(repo.a, 'hello.txt');
    const layout = () => t.lua<string[]>(`local out = {}
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local b = vim.api.nvim_win_get_buf(w)
        table.insert(out, vim.bo[b].buftype == 'terminal' and 'term' or vim.api.nvim_buf_get_name(b))
      end return out`);
    const before = await layout();
    expect(before).toEqual([hello, 'term']);
    for (const cmd of ['wq', 'x']) {
      const r = client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: `${cmd}\n`, tab_name: cmd });
      await waitFor(async () => (await diffWindows()) === 2, `diff for ${cmd}`);
      await t.lua(`vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'by ${cmd}' })`); // :x writes only a modified buffer
      await t.cmd(cmd);
      expect(await r).toEqual(['FILE_SAVED', `by ${cmd}\n`]);
      await waitFor(async () => (await diffWindows()) === 0, `diff closed after :${cmd}`);
      expect(await layout()).toEqual(before);
    }
  }, 30_000);

  it('openDiff: an unedited accept answers the proposal byte for byte (CRs, no final newline, a big one); edit + undo too', async () => {
    const file = path.join(repo.a, 'hello.txt');
    const big = Array.from({ length: 10_000 }, (_, i) => `l\u00e9ne ${i}\r`).join('\n'); // spilled to a file, no final NL
    for (const [tab, text] of [['small', 'a\r\nb\n\n  c'], ['big', big]] as const) {
      const reply = client.call('openDiff', { old_file_path: file, new_file_path: file, new_file_contents: text, tab_name: tab });
      await waitFor(async () => (await diffWindows()) === 2, `diff ${tab}`);
      await t.cmd('ClaudeCodeDiffAccept');
      const r = await reply;
      expect(r[0]).toBe('FILE_SAVED');
      expect(r[1] === text).toBe(true); // not toEqual: a 10k-line diff message helps no one
      await waitFor(async () => (await diffWindows()) === 0, `diff ${tab} closed`);
    }
    const reply = client.call('openDiff', { old_file_path: file, new_file_path: file, new_file_contents: 'one\ntwo\n', tab_name: 'U' });
    await waitFor(async () => (await diffWindows()) === 2, 'diff U');
    // The fill is not in the undo history of either side's scratch: `u` cannot empty a proposal.
    expect(await t.lua<number[]>(`local out = {}
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local b = vim.api.nvim_win_get_buf(w)
        if vim.wo[w].diff and vim.bo[b].buftype == 'nofile' then
          table.insert(out, vim.api.nvim_buf_call(b, function() return vim.fn.undotree().seq_last end))
        end
      end
      return out`)).toEqual([0]);
    await t.lua(`vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'changed' }) vim.cmd('undo')`);
    await t.cmd('ClaudeCodeDiffAccept');
    expect(await reply).toEqual(['FILE_SAVED', 'one\ntwo\n']);
  }, 30_000);

  it('openDiff refuses (error reply, buffer untouched) when the buffer has unsaved changes', async () => {
    const hello = path.join(repo.a, 'hello.txt');
    await t.cmd(`edit ${hello}`);
    await t.lua(`vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'unsaved work' })`);
    await expect(client.call('openDiff', { old_file_path: hello, new_file_path: hello, new_file_contents: 'x\n', tab_name: 'M' }))
      .rejects.toThrow(/unsaved changes/);
    expect(await diffWindows()).toBe(0);
    expect(await t.lua<string[]>('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')).toEqual(['unsaved work', 'world']);
    const dirty = JSON.parse((await client.call('checkDocumentDirty', { filePath: hello }))[0]);
    expect(dirty).toEqual({ success: true, filePath: hello, isDirty: true, isUntitled: false });
  }, 30_000);

  it('answers getOpenEditors, getDiagnostics, getWorkspaceFolders, selection and saveDocument from Neovim', async () => {
    const hello = path.join(repo.a, 'hello.txt');
    await t.cmd(`edit ${path.join(repo.a, 'src/main.ts')}`);
    await t.cmd(`edit ${hello}`);
    await synced();
    const tabs = JSON.parse((await client.call('getOpenEditors', {}))[0]).tabs as Array<{ fileName: string; isActive: boolean }>;
    expect(tabs.map((x) => x.fileName).sort()).toEqual([hello, path.join(repo.a, 'src/main.ts')].sort());
    expect(tabs.find((x) => x.isActive)!.fileName).toBe(hello);

    await t.lua(`local ns = vim.api.nvim_create_namespace('t')
      vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'héllo wörld' })
      vim.diagnostic.set(ns, 0, { { lnum = 0, col = 7, end_col = 13, message = 'bad', severity = vim.diagnostic.severity.WARN, source = 'test' } })`);
    await synced();
    const diags = JSON.parse((await client.call('getDiagnostics', { uri: `file://${hello}` }))[0]);
    // Byte columns 7..13 of "héllo wörld" are UTF-16 6..11.
    expect(diags).toEqual([{ uri: `file://${hello}`, diagnostics: [{ message: 'bad', severity: 'Warning', source: 'test',
      range: { start: { line: 0, character: 6 }, end: { line: 0, character: 11 } } }] }]);
    expect(JSON.parse((await client.call('getDiagnostics', { uri: `file://${repo.a}/none.txt` }))[0])).toEqual([]);

    const ws = JSON.parse((await client.call('getWorkspaceFolders', {}))[0]);
    expect(ws.folders).toEqual([{ name: 'proj', uri: `file://${repo.a}`, path: repo.a }]);

    await t.lua('vim.api.nvim_win_set_cursor(0, {1, 7})');
    await synced(); // the current selection is answered from what Lua last sent
    const sel = JSON.parse((await client.call('getCurrentSelection', {}))[0]);
    expect(sel).toMatchObject({ success: true, filePath: hello, selection: { start: { line: 0, character: 6 }, isEmpty: true } });

    const saved = JSON.parse((await client.call('saveDocument', { filePath: hello }))[0]);
    expect(saved.success).toBe(true);
    expect(fs.readFileSync(hello, 'utf8')).toBe('héllo wörld\nworld\n');
  }, 30_000);
});
