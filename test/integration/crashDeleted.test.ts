/**
 * Issue 10 item 5 (part): a worktree deleted from outside while its instance runs gives one
 * clear message and ends that instance cleanly (claude stopped, lock removed, port closed);
 * the other worktree's instance is untouched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { claudeCodeFrom, CAPTURE_NOTIFY_LUA, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import { portClosed, portOpen } from '../helpers/port';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { name: string; root: string; port: number; pid: number | null; state: string; connected: boolean; lockPath: string }


describe.each(nvimBins())('a worktree deleted under its instance (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  const started: number[] = [];
  const instances = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    const log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
    await t.lua(CAPTURE_NOTIFY_LUA);
  });

  afterEach(async () => {
    await t?.quit();
    for (const pid of started.splice(0)) {
      if (pidAlive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      expect(pidAlive(pid)).toBe(false);
    }
  });

  it('rm -rf of worktree B: one message, B ends cleanly, A keeps running', async () => {
    await claudeCodeFrom(t, `${repo.a}/hello.txt`);
    await t.cmd(`edit ${repo.b}/hello.txt`);
    await t.cmd('ClaudeCode');
    const two = await waitFor(async () => {
      const l = await instances();
      return l.length === 2 && l.every((i) => i.connected && i.pid) ? l : null;
    }, 'both connected', 15_000);
    for (const i of two) started.push(i.pid!);
    const a = two.find((i) => i.root === repo.a)!;
    const b = two.find((i) => i.root === repo.b)!;

    fs.rmSync(repo.b, { recursive: true, force: true });
    await waitFor(async () => (await instances()).length === 1 && !fs.existsSync(b.lockPath), 'B ended, its lock removed', 10_000);
    await waitFor(() => !pidAlive(b.pid!), "B's claude stopped", 5_000);
    await portClosed(b.port);
    const notes = (await notesOf(t)).filter((n) => n.includes('was deleted'));
    expect(notes).toEqual([`claude-worktrees: worktree ${repo.b} was deleted: instance ${b.name} ended (claude stopped, lock removed)`]);

    const left = await instances();
    expect(left.map((i) => [i.root, i.state, i.connected])).toEqual([[repo.a, 'running', true]]);
    expect(pidAlive(a.pid!)).toBe(true);
    expect(lockFiles(t.lockDir).map((l) => l.file)).toEqual([a.lockPath]);
    expect(await portOpen(a.port)).toBe(true);
  });
});
