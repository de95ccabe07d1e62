/**
 * Where the cursor goes when a claude's tool shows something (openDiff, openFile): never out of
 * the window someone types in (another claude's terminal, Insert mode), never into a sidebar,
 * and a window split off for a diff goes with it.
 */
import * as path from 'path';
import { claudeCodeFrom, makeRepoWithWorktree, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import type { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Where { root: string; name: string; mode: string; diff: boolean; bt: string }

describe.each(nvimBins())('tools keep the cursor where the user types (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let client: McpClient;

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } })`);
    client = await openInstanceClient(t, `${repo.a}/hello.txt`); // A's terminal on screen, cursor in hello.txt
  });
  afterEach(async () => {
    client?.close();
    await t?.quit();
  });

  const where = () => t.lua<Where>(`return { root = vim.b.claude_worktrees_root or '', name = vim.api.nvim_buf_get_name(0),
    mode = vim.api.nvim_get_mode().mode, diff = vim.b.claude_worktrees_diff ~= nil, bt = vim.bo.buftype }`);
  const diffWindows = () => t.lua<number>(`local n = 0
    for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_diff then n = n + 1 end
    end return n`);
  const windows = () => t.lua<string[]>(`local out = {}
    for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      local b = vim.api.nvim_win_get_buf(w)
      table.insert(out, vim.bo[b].buftype == 'terminal' and ('term:' .. (vim.b[b].claude_worktrees_root or '')) or vim.api.nvim_buf_get_name(b))
    end return out`);
  /**
   * Into the terminal of `root` (on screen), in Terminal mode. Asked again until it holds: under
   * a loaded CPU one :startinsert was seen not to reach Terminal mode (2 runs in 7; the cause was
   * not pinned down: a pending :stopinsert from claudeCodeFrom did not reproduce it alone).
   */
  const typeInTerminal = async (root: string) => {
    await waitFor(async () => {
      await t.lua(`for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
          if vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_root == ... then vim.api.nvim_set_current_win(w) end
        end
        vim.cmd('startinsert')`, root);
      const w = await where();
      return w.root === root && w.mode === 't';
    }, `Terminal mode in ${root}`);
  };
  /** A new tab page showing only the claude terminal of `root` (terminal.position = 'tab'). */
  const terminalAloneInTab = (root: string) => t.lua(`local b
      for _, x in ipairs(vim.api.nvim_list_bufs()) do if vim.b[x].claude_worktrees_root == ... then b = x end end
      vim.cmd('tabnew')
      vim.api.nvim_win_set_buf(0, b)`, root);
  const openDiff = (tab: string) => {
    const file = path.join(repo.a, 'hello.txt');
    return client.call('openDiff', { old_file_path: file, new_file_path: file, new_file_contents: 'hello\nproposed\n', tab_name: tab });
  };
  const closeDiff = async (tab: string, reply: Promise<string[]>) => {
    expect(await client.call('close_tab', { tab_name: tab })).toEqual(['TAB_CLOSED']);
    expect(await reply).toEqual(['DIFF_REJECTED', tab]);
    await waitFor(async () => (await diffWindows()) === 0, 'diff closed');
  };

  it("A's diff while the user types in B's terminal: shown beside, the keys still go to B's claude", async () => {
    await claudeCodeFrom(t, `${repo.b}/hello.txt`);
    await typeInTerminal(repo.b);
    const reply = openDiff('T');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    expect(await where()).toMatchObject({ root: repo.b, mode: 't', diff: false });
    // A key now reaches B's terminal, not A's proposal.
    await t.nvim.input('x');
    expect(await t.lua<string[]>(`for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_get_name(b):find('/proposed/', 1, true) then return vim.api.nvim_buf_get_lines(b, 0, -1, false) end
      end`)).toEqual(['hello', 'proposed']);
    await closeDiff('T', reply);
    expect(await where()).toMatchObject({ root: repo.b, mode: 't' });
  }, 30_000);

  it("A's diff while the user is in A's own terminal: the cursor goes to the proposal (to review it)", async () => {
    await typeInTerminal(repo.a);
    const reply = openDiff('O');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    expect(await where()).toMatchObject({ diff: true, bt: 'acwrite' });
    await closeDiff('O', reply);
  }, 30_000);

  it('a diff while the user types in Insert mode: their window and mode stay; the split made for it goes after', async () => {
    const before = await windows();
    expect(before).toEqual([`${repo.a}/hello.txt`, `term:${repo.a}`]);
    await t.cmd('startinsert');
    await waitFor(async () => (await where()).mode === 'i', 'Insert mode');
    const reply = openDiff('I');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    expect(await where()).toMatchObject({ name: `${repo.a}/hello.txt`, mode: 'i', diff: false });
    await closeDiff('I', reply);
    expect(await windows()).toEqual(before);
    expect(await where()).toMatchObject({ name: `${repo.a}/hello.txt`, mode: 'i' });
  }, 30_000);

  it('openFile while the user types in B\'s terminal: the file is shown in a code window, the cursor stays', async () => {
    await claudeCodeFrom(t, `${repo.b}/hello.txt`);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await typeInTerminal(repo.b);
    expect(await client.call('openFile', { filePath: path.join(repo.a, 'src/main.ts'), makeFrontmost: true })).toHaveLength(1);
    expect(await windows()).toContain(`${repo.a}/src/main.ts`);
    expect(await where()).toMatchObject({ root: repo.b, mode: 't' });
  }, 30_000);

  it('a diff while the user types a command line: the command stays theirs, in their window', async () => {
    const before = await where();
    await t.nvim.input(':let g:cw_typed = 1');
    await waitFor(async () => (await where()).mode === 'c', 'Command-line mode');
    const reply = openDiff('C');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    expect(await where()).toMatchObject({ name: before.name, mode: 'c', diff: false });
    await t.nvim.input('<CR>');
    await waitFor(async () => (await t.lua('return vim.g.cw_typed')) === 1, 'the command ran');
    expect(await where()).toMatchObject({ name: before.name, mode: 'n', diff: false });
    await closeDiff('C', reply);
  }, 30_000);

  it('the user opens a file of theirs in a window made for a diff: it stays when the diff goes', async () => {
    await terminalAloneInTab(repo.a);
    const reply = openDiff('U');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    // The original's window (the one made) gets the user's file.
    await t.lua(`for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        if vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w)):find('/original/', 1, true) then
          vim.api.nvim_set_current_win(w)
          vim.cmd('edit ' .. vim.fn.fnameescape(...))
        end
      end`, path.join(repo.a, 'src/main.ts'));
    await closeDiff('U', reply);
    expect((await windows()).sort()).toEqual([`${repo.a}/src/main.ts`, `term:${repo.a}`].sort());
    expect(await t.lua('return vim.wo.diff')).toBe(false);
  }, 30_000);

  it('a diff never lands in a sidebar (a file tree: a nofile buffer), even when the cursor is there', async () => {
    await t.lua(`vim.cmd('topleft vsplit')
      local b = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(b, 'FileTree')
      vim.bo[b].filetype = 'neo-tree'
      vim.api.nvim_win_set_buf(0, b)`);
    const before = await windows();
    expect(before).toEqual([expect.stringMatching(/\/FileTree$/), `${repo.a}/hello.txt`, `term:${repo.a}`]);
    const reply = openDiff('S');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    const during = await windows();
    expect(during[0]).toBe(before[0]); // the tree keeps its window
    expect(during.filter((x) => x.includes('claude-worktrees://'))).toHaveLength(2);
    await closeDiff('S', reply);
    expect(await windows()).toEqual(before);
  }, 30_000);

  it('a diff beside a lone terminal (its own tab) splits a window off and closes it after', async () => {
    await terminalAloneInTab(repo.a);
    expect(await windows()).toEqual([`term:${repo.a}`]);
    const reply = openDiff('L');
    await waitFor(async () => (await diffWindows()) === 2, 'two diff windows');
    await closeDiff('L', reply);
    expect(await windows()).toEqual([`term:${repo.a}`]);
  }, 30_000);
});
