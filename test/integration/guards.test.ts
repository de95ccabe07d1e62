/**
 * Issue 11 items 4 and 5: max_instances refuses the next start naming what to end; <C-z> never
 * reaches claude; claude is told to connect to its IDE at start.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, git, terminalInFront, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { name: string; root: string; pid: number | null; connected: boolean }
interface Event { event: string; pid: number; autoConnect?: string }

describe.each(nvimBins())('guards (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;

  const instances = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');
  const events = (): Event[] => fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event) : [];
  /**
   * :ClaudeCode from `file` in a new tab. With `root`, wait until that worktree's terminal has
   * come to the front, so the next command starts from a settled layout.
   */
  const start = async (file: string, root?: string) => {
    await t.cmd(`tabnew ${file}`);
    await t.cmd('ClaudeCode');
    if (root === undefined) return;
    await terminalInFront(t, root);
    await t.cmd('stopinsert');
  };

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `${CAPTURE_NOTIFY_LUA}
      require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} }, max_instances = 2 })`);
  });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  it('max_instances = 2: the third start is refused naming the two; after a kill it starts', async () => {
    const third = path.join(repo.base, 'third');
    git(repo.a, 'worktree', 'add', '-q', '-b', 'third', third);
    await start(`${repo.a}/hello.txt`, repo.a);
    await start(`${repo.b}/hello.txt`, repo.b);
    await waitFor(async () => (await instances()).filter((i) => i.connected).length === 2, 'two instances');

    await start(`${third}/hello.txt`);
    const note = await waitFor(async () => (await notesOf(t)).find((n) => n.includes('max_instances')), 'the refusal');
    expect(note).toBe('claude-worktrees: :ClaudeCode: max_instances (2) reached: end one first with :ClaudeCodeKill <name> '
      + '(running: proj, proj-feat), or raise max_instances in setup()');
    await t.lua('return vim.fn.ClaudeWorktreesSync()');
    expect((await instances()).map((i) => i.root).sort()).toEqual([repo.a, repo.b].sort());
    expect(lockFiles(t.lockDir)).toHaveLength(2);
    expect(events().filter((e) => e.event === 'start')).toHaveLength(2);

    await t.cmd('ClaudeCodeKill proj-feat');
    await waitFor(async () => (await instances()).length === 1, 'one killed');
    await start(`${third}/hello.txt`);
    await waitFor(async () => (await instances()).some((i) => i.root === third && i.connected), 'the third started');
    expect(lockFiles(t.lockDir)).toHaveLength(2);

    const bad = await t.lua<string>("local ok, e = pcall(require('claude_worktrees').setup, { max_instances = 0 }) return tostring(e)");
    expect(bad).toContain('max_instances must be a whole number >= 1');
    // Options a typo would break later, in a confusing place, are refused by setup() itself.
    for (const [opt, msg] of [
      ["terminal = { position = 'float' }", 'terminal must be {'], ["terminal = { size = '40' }", 'terminal must be {'],
      ['selection_debounce_ms = 0', 'selection_debounce_ms must be a whole number'], ['worktree_dir = 3', 'worktree_dir must be'],
    ]) {
      expect(await t.lua<string>(`local ok, e = pcall(require('claude_worktrees').setup, { ${opt} }) return tostring(e)`)).toContain(msg);
    }
  }, 60_000);

  it(':ClaudeCodeKill while :ClaudeCode is still launching: nothing of that claude is left', async () => {
    // The launch reads the Claude settings (one call into Neovim) just before it opens the
    // terminal; the kill is typed right then.
    await t.lua(`local cc = require('claude_worktrees.claude_config')
      local orig = cc.hooks_blocked
      cc.hooks_blocked = function(...)
        cc.hooks_blocked = orig
        vim.cmd('ClaudeCodeKill')
        return orig(...)
      end`);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    await waitFor(async () => (await notesOf(t)).some((n) => n.startsWith('claude-worktrees: ended ')), 'the kill');
    // Whether the launch stopped or finished first, its claude and terminal are gone with it.
    for (const e of events().filter((x) => x.event === 'start')) await waitFor(() => !pidAlive(e.pid), `claude ${e.pid} ended`);
    expect(await t.lua<number>(`local n = 0
      for _, b in ipairs(vim.api.nvim_list_bufs()) do if vim.bo[b].buftype == 'terminal' then n = n + 1 end end
      return n`)).toBe(0);
    expect(await instances()).toEqual([]);
    expect(lockFiles(t.lockDir)).toEqual([]);
  }, 30_000);

  it("the user's settings turn our hooks off: status unknown with the reason, one notice; not a status it cannot know", async () => {
    fs.writeFileSync(path.join(t.env.CLAUDE_CONFIG_DIR!, 'settings.json'), JSON.stringify({ disableAllHooks: true }));
    await start(`${repo.a}/hello.txt`);
    await waitFor(async () => (await instances()).find((i) => i.connected), 'connected');
    const note = await waitFor(async () => (await notesOf(t)).find((n) => n.includes('live status is off')), 'the notice');
    expect(note).toMatch(/^claude-worktrees: proj: live status is off: hooks are off \(disableAllHooks in .*settings\.json\)$/);
    expect(await t.lua<string>("return require('claude_worktrees').statusline({ highlights = false })")).toBe('proj unknown');
    await t.cmd('stopinsert');
    expect(await t.nvim.commandOutput('ClaudeCodeStatus')).toMatch(/status +unknown \(hooks are off \(disableAllHooks in /);
    // Allowed again: the next claude's status is "starting" until its first hook.
    fs.writeFileSync(path.join(t.env.CLAUDE_CONFIG_DIR!, 'settings.json'), JSON.stringify({ allowedHttpHookUrls: ['http://127.0.0.1:*'] }));
    await t.cmd('ClaudeCodeKill');
    await waitFor(async () => (await instances()).length === 0, 'killed');
    await start(`${repo.a}/hello.txt`);
    await waitFor(async () => (await instances()).find((i) => i.connected), 'connected again');
    expect(await t.lua<string>("return require('claude_worktrees').statusline({ highlights = false })")).toBe('proj starting');
    expect((await notesOf(t)).filter((n) => n.includes('live status is off'))).toHaveLength(1);
  }, 30_000);

  it('<C-z> in a claude terminal is not sent to claude; claude is told to auto-connect', async () => {
    await start(`${repo.a}/hello.txt`);
    const inst = await waitFor(async () => (await instances()).find((i) => i.connected && i.pid), 'connected');
    expect(events().find((e) => e.event === 'start' && e.pid === inst.pid)?.autoConnect).toBe('true');
    expect(await t.lua<string>('return vim.api.nvim_get_mode().mode')).toBe('t');
    await t.nvim.input('<C-z>');
    await waitFor(async () => (await notesOf(t)).some((n) => n.includes('<C-z> would suspend claude')), 'the notice');
    // Without the guard there would be no notice, and the fake claude would log the SIGTSTP.
    await t.lua('return vim.fn.ClaudeWorktreesSync()');
    expect(events().filter((e) => e.event === 'sigtstp')).toEqual([]);
    expect(pidAlive(inst.pid!)).toBe(true);
    expect((await instances())[0]).toMatchObject({ connected: true });
  }, 30_000);
});
