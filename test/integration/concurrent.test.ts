/**
 * Issue 10 item 3: 20 :ClaudeCode sent at once over 10 worktrees make exactly 10 instances,
 * 10 servers on 10 ports, 10 lock files and 10 claude processes: one each, never two.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, notesOf, git, lockFiles, makeRepoWithWorktree, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { root: string; port: number; pid: number | null; state: string; connected: boolean }
interface Start { event: string; pid: number; cwd: string }

describe.each(nvimBins())('20 concurrent :ClaudeCode over 10 worktrees (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `${CAPTURE_NOTIFY_LUA} require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
  });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  it('exactly 10 instances, 10 ports, 10 locks, 10 claudes', async () => {
    const roots = [repo.a, repo.b];
    for (let i = 2; i < 10; i++) {
      const wt = path.join(repo.base, `wt${i}`);
      git(repo.a, 'worktree', 'add', '-q', '-b', `b${i}`, wt);
      roots.push(wt);
    }
    // Twice each, the second of a pair right behind the first (the likeliest double start), all
    // sent without waiting on any: the Node side works on all of them at once.
    const order = roots.flatMap((r) => [r, r]);
    const sent = order.map((r, i) => t.nvim.command(`tabnew ${path.join(r, i % 2 ? 'src/main.ts' : 'hello.txt')} | ClaudeCode`));
    await Promise.all(sent);

    const all = await waitFor(async () => {
      const list = await t.lua<Snap[]>('return require("claude_worktrees").instances()');
      return list.length === 10 && list.every((i) => i.connected && i.pid) ? list : null;
    }, '10 connected instances', 30_000);
    expect(all.map((i) => i.root).sort()).toEqual([...roots].sort());
    expect(new Set(all.map((i) => i.port)).size).toBe(10);
    expect(await notesOf(t)).toEqual([]);

    const locks = lockFiles(t.lockDir);
    expect(locks).toHaveLength(10);
    expect(locks.map((l) => l.body.workspaceFolders[0]).sort()).toEqual([...roots].sort());
    expect(locks.map((l) => path.basename(l.file, '.lock')).sort()).toEqual(all.map((i) => String(i.port)).sort());

    // One claude per worktree was ever started, and each runs in its own worktree.
    const starts = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Start).filter((e) => e.event === 'start');
    expect(starts.map((s) => s.cwd).sort()).toEqual([...roots].sort());
    expect(starts.every((s) => pidAlive(s.pid))).toBe(true);

    // The 20 commands left nothing half-made: :ClaudeCodeKillAll ends exactly these 10.
    await t.cmd('ClaudeCodeKillAll');
    await waitFor(() => lockFiles(t.lockDir).length === 0 && starts.every((s) => !pidAlive(s.pid)), 'all ended', 10_000);
  }, 60_000);
});
