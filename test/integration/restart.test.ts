/**
 * Issue 11 item 2: a claude that dies by itself (non-zero exit) is restarted with backoff
 * (1 s, 2 s, 4 s), resuming its session, at most `max` times within the window; the status shows
 * `restarting`, then `crashed` with the exit code. :ClaudeCodeKill and /exit (exit 0) never restart.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, claudeCodeFrom, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';
import { postHook } from '../helpers/hooks';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { root: string; pid: number | null; connected: boolean; state: string; recovery: string | null; exitCode: number | null }
interface Start { event: string; pid: number; args: string[]; at?: number; port: number; hookToken: string }

describe.each(nvimBins())('crash restart (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;

  const instances = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');
  const starts = (): Start[] => fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Start).filter((e) => e.event === 'start') : [];
  const statusline = () => t.lua<string>("return require('claude_worktrees').statusline({ highlights = false })");
  /** The running claude once it connected (a new pid each restart). */
  const connectedOther = (than: number[]) => waitFor(async () => (await instances()).find((i) => i.connected && i.pid && !than.includes(i.pid)),
    'a connected claude', 15_000);

  /** :bdelete! of every terminal buffer, as the user (or a buffer-closing plugin) would. */
  const deleteTerminals = () => t.lua(`for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].buftype == 'terminal' then vim.cmd('bdelete! ' .. b) end
    end`);
  /** The pid of the terminal job in the current window, or 0 when it is not a terminal. */
  const focusedJobPid = () => t.lua<number>("return vim.bo.buftype == 'terminal' and vim.fn.jobpid(vim.bo.channel) or 0");

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `${CAPTURE_NOTIFY_LUA}
      require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} },
        auto_restart = { max = 2, window = 60 } })`);
  });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  it('killed claude: restarting, restarted after 1 s then 2 s resuming its session; the third crash gives up: crashed (137)', async () => {
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const pids: number[] = [];
    const first = await connectedOther(pids);
    pids.push(first.pid!);
    const id = starts()[0].args[starts()[0].args.indexOf('--session-id') + 1];
    // claude has a transcript of its session (the real CLI writes it with the first message).
    const projects = path.join(t.env.CLAUDE_CONFIG_DIR!, 'projects', 'p');
    fs.mkdirSync(projects, { recursive: true });
    fs.writeFileSync(path.join(projects, `${id}.jsonl`), '{"type":"user","message":{"role":"user","content":"hi"}}\n');

    for (const [n, delay] of [[1, 1000], [2, 2000]] as const) {
      process.kill(pids[pids.length - 1], 'SIGKILL');
      const killedAt = Date.now();
      const down = await waitFor(async () => (await instances()).find((i) => i.recovery === 'restarting'), 'restarting', 2_000);
      expect(down.state).toBe('exited');
      expect(await statusline()).toBe('proj restarting');
      expect(lockFiles(t.lockDir)).toEqual([]);
      const next = await connectedOther(pids);
      // The backoff was waited (the notice names it), and no faster.
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(delay - 50);
      pids.push(next.pid!);
      // The user was in the dead claude's terminal: the new one has the focus.
      expect(await focusedJobPid()).toBe(next.pid);
      const s = starts().find((x) => x.pid === next.pid)!;
      expect(s.args.slice(s.args.indexOf('--resume'), s.args.indexOf('--resume') + 2)).toEqual(['--resume', id]);
      expect(s.args).toContain('--settings');
      expect((await notesOf(t)).filter((x) => x.includes('restarting in'))).toHaveLength(n);
      expect(lockFiles(t.lockDir)).toHaveLength(1);
    }
    expect((await notesOf(t)).filter((x) => x.includes('restarting in'))).toEqual([
      'claude-worktrees: proj: claude exited with 137; restarting in 1 s, resuming its session',
      'claude-worktrees: proj: claude exited with 137; restarting in 2 s, resuming its session',
    ]);

    process.kill(pids[pids.length - 1], 'SIGKILL');
    const gaveUp = await waitFor(async () => (await instances()).find((i) => i.recovery === 'crashed'), 'crashed', 3_000);
    expect(gaveUp.exitCode).toBe(137);
    expect(await statusline()).toBe('proj crashed (137)');
    await waitFor(async () => (await notesOf(t)).some((x) => x.includes('not restarting')), 'the give-up notice');
    expect((await notesOf(t)).find((x) => x.includes('not restarting'))).toBe(
      'claude-worktrees: proj: claude crashed (exit 137) after 2 restarts within 60 s; not restarting (:ClaudeCode starts it)');
    expect(starts()).toHaveLength(3);
    expect(lockFiles(t.lockDir)).toEqual([]);

    // :ClaudeCode by hand still starts it (and resumes).
    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const byHand = await connectedOther(pids);
    pids.push(byHand.pid!);
    expect(starts()).toHaveLength(4);
  }, 60_000);

  it('a restart nobody typed leaves the cursor in the file the user is in', async () => {
    await claudeCodeFrom(t, `${repo.a}/hello.txt`);
    const first = await connectedOther([]);
    process.kill(first.pid!, 'SIGKILL');
    const next = await connectedOther([first.pid!]);
    expect(await t.lua('return { vim.api.nvim_buf_get_name(0), vim.api.nvim_get_mode().mode }')).toEqual([`${repo.a}/hello.txt`, 'n']);
    // The new terminal is on screen beside it.
    expect(await t.lua<number[]>(`local out = {}
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local b = vim.api.nvim_win_get_buf(w)
        if vim.bo[b].buftype == 'terminal' then table.insert(out, vim.fn.jobpid(vim.bo[b].channel)) end
      end
      return out`)).toEqual([next.pid]);
  }, 30_000);

  it('deleting the terminal buffer (:bd!) ends claude for good: no restart, one notice, :ClaudeCode starts it again', async () => {
    await claudeCodeFrom(t, `${repo.a}/hello.txt`);
    const first = await connectedOther([]);
    await deleteTerminals();
    const ended = await waitFor(async () => (await instances()).find((i) => i.state === 'exited'), 'exited');
    expect(ended.recovery ?? null).toBeNull(); // 'restarting' in the same push that shows it exited, were it a crash
    expect(ended.exitCode).not.toBe(0); // the job's SIGHUP: a crash but for the closed buffer
    await waitFor(() => !pidAlive(first.pid!), 'claude ended');
    await waitFor(async () => (await notesOf(t)).some((x) => x.includes('terminal closed')), 'the notice');
    expect((await notesOf(t)).filter((x) => x.includes('restarting'))).toEqual([]);
    expect(lockFiles(t.lockDir)).toEqual([]);
    expect(starts()).toHaveLength(1);

    await t.cmd('ClaudeCode');
    await connectedOther([first.pid!]);
    expect(starts()).toHaveLength(2);
  }, 30_000);

  it("deleting a crashed claude's terminal while its restart waits calls the restart off", async () => {
    await claudeCodeFrom(t, `${repo.a}/hello.txt`);
    const first = await connectedOther([]);
    process.kill(first.pid!, 'SIGKILL');
    await waitFor(async () => (await instances()).find((i) => i.recovery === 'restarting'), 'restarting');
    await deleteTerminals();
    // The restart timer goes ahead only while the instance is still 'restarting'.
    const off = await waitFor(async () => (await instances()).find((i) => i.state === 'exited' && (i.recovery ?? null) === null), 'restart called off');
    expect(off.exitCode).toBe(137);
    expect(await statusline()).toBe('proj exited');
    await waitFor(async () => (await notesOf(t)).some((x) => x.includes('not restarting claude')), 'the notice');
    expect(starts()).toHaveLength(1);
  }, 30_000);

  it("a claude that dies before its first hook resumes the session chosen at its launch, not its predecessor's", async () => {
    const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
    const transcript = (id: string) => {
      const projects = path.join(t.env.CLAUDE_CONFIG_DIR!, 'projects', 'p');
      fs.mkdirSync(projects, { recursive: true });
      fs.writeFileSync(path.join(projects, `${id}.jsonl`), '{"type":"user","message":{"role":"user","content":"hi"}}\n');
    };
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const first = await connectedOther([]);
    const s1 = starts().find((x) => x.pid === first.pid)!;
    const id1 = after(s1.args, '--session-id');
    transcript(id1);
    // Its hooks name its session (the instance now knows it from claude itself).
    expect(await postHook(s1.port, s1.hookToken, { hook_event_name: 'SessionStart', session_id: id1, source: 'startup' })).toBe(200);
    process.kill(first.pid!, 'SIGTERM'); // exit 0: ended, not restarted
    await waitFor(async () => (await instances()).find((i) => i.state === 'exited'), 'exited');

    // A fresh session on the same worktree; its claude dies before any hook of its own.
    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode!');
    const second = await connectedOther([first.pid!]);
    const id2 = after(starts().find((x) => x.pid === second.pid)!.args, '--session-id');
    expect(id2).not.toBe(id1);
    transcript(id2);
    process.kill(second.pid!, 'SIGKILL');
    const third = await connectedOther([first.pid!, second.pid!]);
    expect(after(starts().find((x) => x.pid === third.pid)!.args, '--resume')).toBe(id2);
  }, 30_000);

  it(':ClaudeCodeKill and an exit 0 (/exit) are never restarted', async () => {
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const first = await connectedOther([]);
    await t.cmd('ClaudeCodeKill');
    await waitFor(async () => (await instances()).length === 0 && !pidAlive(first.pid!), 'killed');

    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const second = await connectedOther([first.pid!]);
    process.kill(second.pid!, 'SIGTERM'); // the fake claude exits 0 on SIGTERM, as /exit does
    const ended = await waitFor(async () => (await instances()).find((i) => i.state === 'exited'), 'exited');
    expect(ended.exitCode).toBe(0);
    expect(ended.recovery ?? null).toBeNull(); // nil in Lua
    expect(await statusline()).toBe('proj exited');
    // recovery would be 'restarting' in the very state push that shows it exited.
    expect(starts()).toHaveLength(2);
  }, 30_000);
});
