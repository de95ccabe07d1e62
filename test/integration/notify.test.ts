/**
 * With Neovim's own vim.notify, a notice longer than the cmdline, or several in one turn, would
 * stop Neovim at the hit-enter prompt, and every tool call of every claude would wait behind it.
 * The plugin's notices are one line that fits; the full text goes to the log.
 */
import * as fs from 'fs';
import * as path from 'path';
import { makeRepoWithWorktree, nvimBins, startNvim, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

describe.each(nvimBins())('notices never block Neovim (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    t = await startNvim(bin, repo.a);
  });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  const blocking = async () => ((await t.nvim.request('nvim_get_mode', [])) as { blocking: boolean }).blocking;
  const messages = async () => (await t.nvim.commandOutput('messages')).split('\n').filter((l) => l.includes('claude-worktrees'));

  it('a long notice and three in one turn: one line each turn, no prompt, the full text logged', async () => {
    const long = `${'x'.repeat(150)} END`;
    await t.lua(`local u = require('claude_worktrees.util')
      u.notify(...)
      u.notify('second', vim.log.levels.WARN)
      u.notify('third')`, long);
    await waitFor(async () => (await messages()).length === 1, 'the notice shown');
    expect(await blocking()).toBe(false);
    const [line] = await messages();
    const columns = await t.lua<number>('return vim.o.columns');
    expect([...line].length).toBeLessThan(columns);
    expect(line.startsWith('claude-worktrees: xxx')).toBe(true);
    expect(line.endsWith('…')).toBe(true);

    const log = path.join(await t.lua<string>("return require('claude_worktrees').log_dir()"), 'claude-worktrees.log');
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(`${long} | second | third`), 'the full text in the log');

    // A short one in a later turn is shown whole.
    await t.lua("require('claude_worktrees.util').notify('short one')");
    await waitFor(async () => (await messages()).length === 2, 'the second notice');
    expect((await messages())[1]).toBe('claude-worktrees: short one');
    expect(await blocking()).toBe(false);
  }, 30_000);

  it("a Node notice (a failed command's message) goes through the same door", async () => {
    const name = 'n'.repeat(120);
    await t.cmd(`ClaudeCodeKill ${name}`);
    await waitFor(async () => (await messages()).length === 1, 'the error notice');
    expect(await blocking()).toBe(false);
    const [line] = await messages();
    expect(line).toMatch(/^claude-worktrees: :ClaudeCodeKill: no instance named 'n+…$/);
  }, 30_000);
});
