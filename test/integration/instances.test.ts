import * as fs from 'fs';
import * as path from 'path';
import { claudeCodeFrom, lockFiles, terminalInFront, makeRepoWithWorktree, nvimBins, pidAlive, startNvim, versionOf, REPO, type TestNvim } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import { portClosed } from '../helpers/port';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { name: string; root: string; branch: string; port: number; pid: number | null; claudePid: number | null; state: string; connected: boolean; current: boolean }

function frames(log: string): Array<{ pid: number; cwd: string; event: string; frame?: { method?: string; params?: Record<string, unknown> } }> {
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}


describe.each(nvimBins())('instances per worktree in a real Neovim (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;

  const instances = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');

  /** :ClaudeCode from a buffer of A, then of B; resolves once both claudes connected. */
  async function startBoth(): Promise<{ a: Snap; b: Snap }> {
    await claudeCodeFrom(t, `${repo.a}/hello.txt`);
    await t.cmd(`edit ${repo.b}/hello.txt`);
    await t.cmd('ClaudeCode');
    const all = await waitFor(async () => {
      const l = await instances();
      return l.length === 2 && l.every((i) => i.connected) ? l : null;
    }, 'both connected', 15_000);
    return { a: all.find((i) => i.root === repo.a)!, b: all.find((i) => i.root === repo.b)! };
  }

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
  });

  afterEach(async () => {
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  it(`runs on ${versionOf(bin)}: two worktrees get two instances, routed by the current buffer`, async () => {
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    await waitFor(async () => (await instances()).find((i) => i.root === repo.a && i.connected), 'instance A connected', 15_000);
    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.b}/hello.txt`);
    await t.cmd('ClaudeCode --resume x');
    const all = await waitFor(async () => {
      const l = await instances();
      return l.length === 2 && l.every((i) => i.connected) ? l : null;
    }, 'both instances connected', 15_000);

    const a = all.find((i) => i.root === repo.a)!;
    const b = all.find((i) => i.root === repo.b)!;
    expect(a.port).not.toBe(b.port);
    expect(a.branch).toBe('main');
    expect(b.branch).toBe('feat');
    expect(a.name).toBe('proj');
    expect(b.name).toBe('proj-feat');
    // The pid claude reported over its own socket is the process its terminal runs.
    expect(a.claudePid).toBe(a.pid);
    expect(b.claudePid).toBe(b.pid);

    const locks = lockFiles(t.lockDir);
    expect(locks).toHaveLength(2);
    const byRoot = new Map(locks.map((l) => [l.body.workspaceFolders[0], l]));
    expect(byRoot.get(repo.a)!.file).toBe(path.join(t.lockDir, `${a.port}.lock`));
    expect(byRoot.get(repo.b)!.file).toBe(path.join(t.lockDir, `${b.port}.lock`));
    for (const l of locks) {
      expect(l.body.workspaceFolders).toHaveLength(1);
      expect(fs.statSync(l.file).mode & 0o777).toBe(0o600);
    }
    expect(fs.statSync(t.lockDir).mode & 0o777).toBe(0o700);
    expect(byRoot.get(repo.b)!.body.ideName).toBe('Neovim (proj-feat@feat)');

    // Each claude ran in its own worktree, with its own port and the args given.
    const starts = frames(log).filter((f) => f.event === 'start') as unknown as Array<{ cwd: string; args: string[]; port: string }>;
    expect(starts.map((s) => s.cwd).sort()).toEqual([repo.a, repo.b].sort());
    // Our --settings (status hooks to B's own server) first, then the user's arguments.
    const argsB = starts.find((s) => s.cwd === repo.b)!.args;
    expect(argsB.slice(2)).toEqual(['--resume', 'x']);
    expect(argsB[0]).toBe('--settings');
    expect(JSON.parse(argsB[1]).hooks.Stop[0].hooks[0].url).toBe(`http://127.0.0.1:${b.port}/hook`);
    expect(starts.find((s) => s.cwd === repo.b)!.port).toBe(String(b.port));

    // The current buffer decides which instance is "current".
    expect((await instances()).find((i) => i.current)?.root).toBe(repo.b);
    // Terminal buffers say which worktree they belong to.
    const termRoots = await t.lua<string[]>(`local out = {}
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.bo[b].buftype == 'terminal' then table.insert(out, vim.b[b].claude_worktrees_root) end
      end
      table.sort(out) return out`);
    expect(termRoots).toEqual([repo.a, repo.b].sort());
  }, 60_000);

  it('a terminal that opens after the user moved on leaves the cursor where they went', async () => {
    const where = () => t.lua<{ name: string; mode: string; term: boolean }>(`return { name = vim.api.nvim_buf_get_name(0),
      mode = vim.api.nvim_get_mode().mode, term = vim.bo.buftype == 'terminal' }`);
    const visibleTerms = () => t.lua<string[]>(`local out = {}
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local b = vim.api.nvim_win_get_buf(w)
        if vim.bo[b].buftype == 'terminal' then table.insert(out, vim.b[b].claude_worktrees_root) end
      end
      return out`);
    // In one chunk: the command returns once it read its context, the launch runs after; the user
    // is in B's file before A's terminal can open (as when typing on right after :ClaudeCode).
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.lua(`vim.cmd('ClaudeCode'); vim.cmd('edit ' .. vim.fn.fnameescape(...))`, `${repo.b}/hello.txt`);
    await waitFor(async () => (await instances()).find((i) => i.root === repo.a && i.connected), 'instance A connected', 15_000);
    expect(await visibleTerms()).toEqual([repo.a]);
    expect(await where()).toEqual({ name: `${repo.b}/hello.txt`, mode: 'n', term: false });
    // The worktree is the one the command was typed in: A's, not B's where the cursor went.
    expect((await instances()).map((i) => i.root)).toEqual([repo.a]);

    // Typing in B's claude terminal when A's late terminal opens: still there, still typing.
    await t.cmd('ClaudeCode'); // from B's file: B's claude
    await terminalInFront(t, repo.b);
    await t.cmd('stopinsert');
    await t.cmd('wincmd p');
    await t.cmd(`ClaudeCodeKill proj`);
    await waitFor(async () => (await instances()).length === 1, 'A ended');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.lua(`vim.cmd('ClaudeCode')
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        if vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_root == ... then vim.api.nvim_set_current_win(w) end
      end
      vim.cmd('startinsert')`, repo.b);
    await waitFor(async () => (await instances()).find((i) => i.root === repo.a && i.connected), 'A connected again', 15_000);
    expect((await visibleTerms()).sort()).toEqual([repo.a, repo.b].sort());
    expect(await t.lua('return { vim.b.claude_worktrees_root, vim.api.nvim_get_mode().mode }')).toEqual([repo.b, 't']);
  }, 60_000);

  it('a terminal opened from where the command was typed takes the focus', async () => {
    const where = () => t.lua<{ name: string; mode: string; term: boolean }>(`return { name = vim.api.nvim_buf_get_name(0),
      mode = vim.api.nvim_get_mode().mode, term = vim.bo.buftype == 'terminal' }`);
    await t.cmd(`edit ${repo.b}/hello.txt`);
    // Still where it was typed when the terminal opens: the terminal takes the focus, as always.
    await t.cmd('ClaudeCode');
    await terminalInFront(t, repo.b);
    expect(await where()).toMatchObject({ name: expect.stringMatching(/^claude:\/\//), term: true });
  }, 60_000);

  it('sends a selection in worktree A to A only, and mentions relative to the worktree', async () => {
    const { a, b } = await startBoth();

    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('stopinsert');
    await t.nvim.input('gg0vj');
    const sel = await waitFor(() => frames(log).find((f) => f.pid === a.pid && f.frame?.method === 'selection_changed'
      && (f.frame.params as { selection: { isEmpty: boolean } }).selection.isEmpty === false), 'selection_changed at A', 10_000);
    expect(sel.frame!.params).toMatchObject({
      text: 'hello\nw',
      filePath: `${repo.a}/hello.txt`,
      selection: { start: { line: 0, character: 0 }, end: { line: 1, character: 1 }, isEmpty: false },
    });
    await t.nvim.input('<Esc>');
    // B never heard of A's selection.
    expect(frames(log).filter((f) => f.pid === b.pid && f.frame?.method === 'selection_changed')
      .every((f) => String((f.frame!.params as { filePath: string }).filePath).startsWith(repo.b))).toBe(true);

    await t.cmd('2ClaudeCodeSend');
    const m = await waitFor(() => frames(log).find((f) => f.pid === a.pid && f.frame?.method === 'at_mentioned'), 'at_mentioned at A');
    expect(m.frame!.params).toEqual({ filePath: 'hello.txt', lineStart: 1, lineEnd: 1 });
    await t.cmd(`ClaudeCodeAdd ${repo.b}/src`);
    const m2 = await waitFor(() => frames(log).find((f) => f.pid === b.pid && f.frame?.method === 'at_mentioned'), 'at_mentioned at B');
    expect(m2.frame!.params).toEqual({ filePath: 'src/' });
    // A worktree's root is that worktree's (not its parent directory's, outside git).
    await t.cmd(`ClaudeCodeAdd ${repo.b}`);
    const m3 = await waitFor(() => frames(log).filter((f) => f.pid === b.pid && f.frame?.method === 'at_mentioned')[1], 'root at_mentioned at B');
    expect(m3.frame!.params).toEqual({ filePath: './' });
    expect(frames(log).filter((f) => f.frame?.method === 'at_mentioned')).toHaveLength(3);
    expect((await instances()).map((i) => i.root).sort()).toEqual([repo.a, repo.b].sort());
  }, 60_000);

  it('kill ends one instance; :qa leaves no lock file, no port, no process', async () => {
    const { a, b } = await startBoth();

    await t.cmd('ClaudeCodeKill proj-feat');
    await waitFor(async () => (await instances()).length === 1, 'B gone from state');
    await waitFor(() => !pidAlive(b.pid!), 'B process ended');
    // The kill finishes with the server's stop (the state may be pushed a moment before).
    await waitFor(() => lockFiles(t.lockDir).length === 1, 'B lock file removed');
    expect(lockFiles(t.lockDir).map((l) => l.body.workspaceFolders[0])).toEqual([repo.a]);
    await portClosed(b.port);
    expect(pidAlive(a.pid!)).toBe(true);

    const code = await t.quit({ keepRoot: true }); // its lockDir is checked below; afterEach removes it
    expect(code).toBe(0);
    await waitFor(() => lockFiles(t.lockDir).length === 0, 'no lock files after :qa');
    await waitFor(() => !pidAlive(a.pid!), 'A process ended after :qa');
    await portClosed(a.port);
  }, 60_000);
});
