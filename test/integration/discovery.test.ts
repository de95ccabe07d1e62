/**
 * Issue 11 item 3: every Neovim sees every instance on the machine. Two Neovims share one HOME
 * (one lock dir); each lists the other's instances from their lock files, with their live status,
 * marked as another Neovim's; choosing one asks that Neovim (over its server socket) to show it.
 * Stale lock files are never shown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';
import { postHook } from '../helpers/hooks';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
interface Start { event: string; pid: number; port: string; hookToken: string }
interface Entry { name: string; root: string; other?: boolean; status: string; neovim_pid?: number; label?: string }

describe.each(nvimBins())('instances of other Neovims (%s)', (bin) => {
  let one: TestNvim | undefined;
  let two: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;
  let shared: string | undefined; // the one HOME both Neovims use
  const setup = () => `${CAPTURE_NOTIFY_LUA}
    require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`;
  const entries = (t: TestNvim) => t.lua<Entry[]>("return require('claude_worktrees.picker').entries()");
  const terminalShown = (t: TestNvim, root: string) => t.lua<boolean>(`for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_root == ... then return true end end return false`, root);

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    one = await startNvim(bin, repo.a, setup());
    shared = one.root;
    two = await startNvim(bin, repo.b, setup(), { root: one.root }); // same machine, same HOME
  });
  afterEach(async () => {
    await two?.quit({ keepRoot: true });
    await one?.quit({ keepRoot: true });
    rmDir(shared);
    rmDir(repo?.base);
  });

  it('lists the other Neovim\'s instance with its live status, asks it to show it; stale locks never shown', async () => {
    const t1 = one!;
    const t2 = two!;
    await t1.cmd(`edit ${repo.a}/hello.txt`);
    await t1.cmd('ClaudeCode');
    const start = await waitFor(() => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as Start).find((e) => e.event === 'start') : undefined), 'claude started in the first Neovim');
    await t2.cmd(`edit ${repo.b}/hello.txt`);
    await t2.cmd('ClaudeCode');
    await waitFor(() => lockFiles(t1.lockDir).length === 2, 'two lock files');

    // Our own lock fields beside the CLI's.
    const lockA = lockFiles(t1.lockDir).find((l) => l.body.workspaceFolders[0] === repo.a)!;
    const nvim1 = t1.proc.pid!;
    expect(lockA.body).toMatchObject({ worktree: repo.a, branch: 'main', name: 'proj', neovimPid: nvim1, transport: 'ws' });
    expect(String((lockA.body as unknown as Record<string, unknown>).instanceId)).toMatch(/^[0-9a-f-]{36}$/);

    // A dead Neovim's lock of ours (pid beyond pid_max) is stale: never listed.
    fs.writeFileSync(path.join(t1.lockDir, '1.lock'), JSON.stringify({
      pid: 4194305, workspaceFolders: ['/gone'], ideName: 'Neovim (gone)', transport: 'ws', authToken: 'x',
      instanceId: '00000000-0000-4000-8000-000000000000', worktree: '/gone', name: 'gone', neovimPid: 4194305, status: 'busy',
    }), { mode: 0o600 });

    expect(await postHook(Number(start.port), start.hookToken, { hook_event_name: 'UserPromptSubmit' })).toBe(200);
    const seen = await waitFor(async () => (await entries(t2)).find((e) => e.other && e.root === repo.a && e.status === 'busy'),
      "the first Neovim's instance, busy, in the second's picker");
    expect(seen).toMatchObject({ name: 'proj', neovim_pid: nvim1, label: 'busy' });
    expect((await entries(t2)).map((e) => [e.name, !!e.other])).toEqual([['proj-feat', false], ['proj', true]]);
    expect((await entries(t1)).map((e) => [e.name, !!e.other])).toEqual([['proj', false], ['proj-feat', true]]);
    expect(await t2.lua<string>("local p = require('claude_worktrees.picker') local e = p.entries()[2] return p.format(e)"))
      .toContain(`proj [nvim ${nvim1}]`);
    const listed = await t2.nvim.commandOutput('ClaudeCodeList');
    expect(listed).toMatch(new RegExp(`proj +main +busy .* other .*${repo.a} \\(in Neovim ${nvim1}\\)`));
    expect(listed).not.toContain('gone');

    // Choosing it in the second Neovim: the first shows its terminal.
    await t1.cmd('stopinsert');
    await t1.cmd('ClaudeCode'); // hide A's terminal in the first Neovim
    await waitFor(async () => !(await terminalShown(t1, repo.a)), "A's terminal hidden");
    expect(await t2.lua<boolean>("local p = require('claude_worktrees.picker') return p.switch(p.entries()[2])")).toBe(true);
    await waitFor(async () => terminalShown(t1, repo.a), "A's terminal shown by the first Neovim on request");
    expect((await notesOf(t2)).some((n) => n.includes(`proj runs in another Neovim (pid ${nvim1}), worktree ${repo.a}; asked it to show the instance`))).toBe(true);
    expect(await t2.lua<boolean>("local p = require('claude_worktrees.picker') return p.kill(p.entries()[2], { force = true })")).toBe(false);

    // The first Neovim quits: its instance is gone from the second's list.
    await one!.quit({ keepRoot: true });
    one = undefined;
    await waitFor(async () => (await entries(t2)).every((e) => !e.other), 'no other instance listed');
  }, 60_000);
});
