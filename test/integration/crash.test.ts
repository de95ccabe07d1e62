/**
 * Issue 10 item 3, crash recovery, in a real Neovim through the real host: claude killed with -9
 * (exited within 1 s, lock removed, port closed, :ClaudeCode starts a fresh claude on a new
 * server resuming the session).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, claudeCodeFrom, descendants, lockFiles, notesOf, makeRepoWithWorktree, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import { portClosed, portOpen } from '../helpers/port';
import { postHook } from '../helpers/hooks';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { name: string; root: string; port: number; pid: number | null; state: string; connected: boolean; sessionId?: string | null; lockPath: string }
interface Start { event: string; pid: number; cwd: string; args: string[]; port: string; hookToken: string }


/** The Node remote-plugin host(s) among Neovim's descendants. */
function hostPids(nvimPid: number): number[] {
  return descendants(nvimPid).map((p) => p.pid).filter((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmd.includes('neovim/bin/cli.js') || cmd.includes('dist/host/loader.js');
    } catch {
      return false;
    }
  });
}

describe.each(nvimBins())('crash recovery (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;
  const started: number[] = [];

  const instances = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');
  /** :ClaudeCode in repo A, connected, its lock written; the one host it runs in. */
  const oneRunning = async () => {
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const first = await waitFor(async () => (await instances()).find((i) => i.connected && i.pid), 'connected', 15_000);
    started.push(first.pid!);
    expect(fs.existsSync(first.lockPath)).toBe(true);
    const hosts = hostPids(t.proc.pid!);
    expect(hosts.length).toBe(1);
    return { first, hosts };
  };
  const starts = (): Start[] => fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Start).filter((e) => e.event === 'start')
    : [];

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    // auto_restart off: these tests look at what a dead claude leaves, and start the next by hand
    // (restart.test covers the automatic restart).
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} }, auto_restart = false })`);
  });

  afterEach(async () => {
    await t?.quit();
    for (const pid of started.splice(0)) {
      if (pidAlive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      expect(pidAlive(pid)).toBe(false);
    }
  });

  it('claude killed with -9: exited within 1 s, lock removed, port closed; :ClaudeCode resumes on a new server', async () => {
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const first = await waitFor(async () => (await instances()).find((i) => i.connected && i.pid), 'connected', 15_000);
    started.push(first.pid!);
    const start = await waitFor(() => starts().find((s) => s.pid === first.pid), 'start logged', 5_000);
    expect(start.args).not.toContain('--resume');
    expect(await postHook(first.port, start.hookToken, { hook_event_name: 'SessionStart', source: 'startup', session_id: 'sess-crash-1' })).toBe(200);
    await waitFor(async () => (await instances())[0]?.sessionId === 'sess-crash-1', 'session id learned', 5_000);
    expect(lockFiles(t.lockDir).map((l) => l.file)).toEqual([first.lockPath]);

    process.kill(first.pid!, 'SIGKILL');
    const killedAt = Date.now();
    const gone = await waitFor(async () => {
      const i = (await instances())[0];
      return i?.state === 'exited' && !fs.existsSync(first.lockPath) && !(await portOpen(first.port)) ? i : null;
    }, 'exited, lock removed, port closed', 1_000);
    expect(Date.now() - killedAt).toBeLessThan(1_000);
    expect(gone.state).toBe('exited');
    expect(lockFiles(t.lockDir)).toEqual([]);

    // :ClaudeCode again from the same worktree: a fresh claude on a fresh server resumes the session
    // (claude has a transcript of it: the real CLI writes one once the session has a message).
    const projects = path.join(t.env.CLAUDE_CONFIG_DIR!, 'projects', 'p');
    fs.mkdirSync(projects, { recursive: true });
    fs.writeFileSync(path.join(projects, 'sess-crash-1.jsonl'), '{"type":"user","message":{"role":"user","content":"hi"}}\n');
    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const second = await waitFor(async () => (await instances()).find((i) => i.connected && i.pid && i.pid !== first.pid), 'reconnected', 15_000);
    started.push(second.pid!);
    expect((await instances()).length).toBe(1);
    const again = await waitFor(() => starts().find((s) => s.pid === second.pid), 'second start logged', 5_000);
    expect(again.args.slice(again.args.indexOf('--resume'), again.args.indexOf('--resume') + 2)).toEqual(['--resume', 'sess-crash-1']);
    expect(second.port).not.toBe(first.port);
    expect(await portOpen(second.port)).toBe(true);
    const locks = lockFiles(t.lockDir);
    expect(locks.map((l) => l.file)).toEqual([second.lockPath]);
    expect(locks[0].body.workspaceFolders).toEqual([repo.a]);
    // The old hook token is dead with its server; the new one works.
    expect(await postHook(second.port, again.hookToken, { hook_event_name: 'UserPromptSubmit', session_id: 'sess-crash-1' })).toBe(200);

    // :ClaudeCodeKill still ends it all.
    await t.cmd('ClaudeCodeKill');
    await waitFor(async () => (await instances()).length === 0, 'killed', 5_000);
    await waitFor(() => !pidAlive(second.pid!), 'claude gone', 5_000);
    // The lock went before the instance left the list (manager.kill withdraws it first).
    expect(lockFiles(t.lockDir)).toEqual([]);
    await portClosed(second.port);
  });

  it('Neovim killed with -9: its claude and lock go; the next Neovim removes dead-pid locks', async () => {
    const { first, hosts } = await oneRunning();

    t.proc.kill('SIGKILL');
    // The pty closes (SIGHUP to claude) and the host's stdin ends (it tears down its servers).
    await waitFor(() => !pidAlive(first.pid!), 'claude of the dead Neovim gone', 5_000);
    await waitFor(() => !fs.existsSync(first.lockPath), 'its lock removed', 5_000);
    // The listener closes on the host's next loop turn after the lock goes (fresh-clone CI run 4).
    await portClosed(first.port);
    await waitFor(() => !pidAlive(hosts[0]), 'the host of the dead Neovim gone', 5_000);
    await t.quit();

    // The next Neovim finds a lock of a dead editor (pid 4194305 is above any pid_max) and a live one.
    t = await startNvim(bin, repo.b, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
    fs.mkdirSync(t.lockDir, { recursive: true, mode: 0o700 });
    const stale = path.join(t.lockDir, '1.lock');
    const live = path.join(t.lockDir, '2.lock');
    const body = (pid: number) => JSON.stringify({ pid, workspaceFolders: [repo.b], ideName: 'Neovim (claude-worktrees)', transport: 'ws', authToken: 'x' });
    fs.writeFileSync(stale, body(4194305), { mode: 0o600 });
    fs.writeFileSync(live, body(process.pid), { mode: 0o600 });
    await t.cmd(`edit ${repo.b}/hello.txt`);
    await t.cmd('ClaudeCode');
    const next = await waitFor(async () => (await instances()).find((i) => i.connected && i.pid), 'second Neovim connected', 15_000);
    started.push(next.pid!);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });

  it('the terminal closes (SIGHUP to the host, then Neovim): the host removes its locks as it goes', async () => {
    const { first, hosts } = await oneRunning();

    // Neovim is gone at once, so nothing in Lua can clean up after the host: it must do so itself.
    process.kill(hosts[0], 'SIGHUP');
    t.proc.kill('SIGKILL');
    await waitFor(() => !pidAlive(hosts[0]), 'the host gone', 5_000);
    expect(fs.existsSync(first.lockPath)).toBe(false);
    await waitFor(() => !pidAlive(first.pid!), 'its claude gone', 5_000);
    await portClosed(first.port);
  });

  it('the Node host killed with -9: its claudes end, its locks go, one message, :ClaudeCode restarts it', async () => {
    await t.lua(CAPTURE_NOTIFY_LUA);
    await claudeCodeFrom(t, `${repo.a}/hello.txt`); // A's terminal shown before B's command
    await t.cmd(`edit ${repo.b}/hello.txt`);
    await t.cmd('ClaudeCode');
    const two = await waitFor(async () => {
      const l = await instances();
      return l.length === 2 && l.every((i) => i.connected && i.pid) ? l : null;
    }, 'both connected', 15_000);
    for (const i of two) started.push(i.pid!);
    const hosts = hostPids(t.proc.pid!);
    expect(hosts.length).toBe(1);
    expect(lockFiles(t.lockDir).length).toBe(2);

    process.kill(hosts[0], 'SIGKILL');
    await waitFor(() => two.every((i) => !pidAlive(i.pid!)), 'claudes of the dead host gone', 5_000);
    await waitFor(() => lockFiles(t.lockDir).length === 0, 'its locks removed', 5_000);
    const notes = await waitFor(async () => {
      const n = (await notesOf(t)).filter((m) => m.includes('plugin host died'));
      return n.length ? n : null;
    }, 'one message', 5_000);
    expect(notes).toEqual(['claude-worktrees: the plugin host died (killed?); 2 instances ended; the next :ClaudeCode restarts it']);

    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const again = await waitFor(async () => (await instances()).find((i) => i.connected && i.pid && i.root === repo.a), 'restarted host connected', 20_000);
    started.push(again.pid!);
    expect(hostPids(t.proc.pid!).filter((p) => p !== hosts[0]).length).toBe(1);
    expect(lockFiles(t.lockDir).map((l) => l.file)).toEqual([again.lockPath]);
  });
});
