/** Issue 4: :ClaudeCodeWorktree add / remove on real repositories, through the real host. */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, notesOf, git, lockFiles, makeRepoWithWorktree, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

describe.each(nvimBins())(':ClaudeCodeWorktree (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;

  const frames = () => fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; cwd: string; pid: number })
    : [];
  const instances = () => t.lua<Array<{ name: string; root: string; pid?: number }>>(`return require('claude_worktrees').instances()`);
  const notes = () => notesOf(t);
  const branches = () => git(repo.a, 'branch', '--format=%(refname:short)').trim().split('\n').sort();

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} },
      env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} }, terminal = { position = 'tab' } }) ${CAPTURE_NOTIFY_LUA}`);
    await t.cmd(`edit ${repo.a}/hello.txt`);
  });

  afterEach(async () => {
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  it('add: a new branch in a sibling <repo>-<branch> with its claude started; an existing branch is checked out', async () => {
    await t.cmd('ClaudeCodeWorktree add topic/x');
    const root = path.join(repo.base, 'proj-topic-x');
    await waitFor(() => frames().find((f) => f.event === 'connected' && f.cwd === root), 'claude started in the new worktree');
    expect(git(root, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('topic/x');
    expect(lockFiles(t.lockDir).map((l) => l.body.workspaceFolders[0])).toContain(root);
    await waitFor(async () => (await notes()).some((n) => n.includes(`created branch topic/x`)), 'told');

    git(repo.a, 'branch', 'old-branch');
    await t.cmd('tabfirst');
    await t.cmd('ClaudeCodeWorktree add old-branch');
    const old = path.join(repo.base, 'proj-old-branch');
    await waitFor(() => frames().find((f) => f.event === 'connected' && f.cwd === old), 'claude in the existing branch');
    await waitFor(async () => (await notes()).some((n) => n.includes('checked out old-branch')), 'told (existing)');

    await t.cmd('ClaudeCodeWorktree add bad..name');
    await waitFor(async () => (await notes()).some((n) => /ClaudeCodeWorktree.*bad\.\.name/.test(n)), 'invalid branch refused');
  }, 60_000);

  it('remove: refuses a dirty worktree (instance untouched), removes with !, keeps the branch unless asked', async () => {
    await t.cmd(`edit ${repo.b}/hello.txt`);
    await t.cmd('ClaudeCode');
    const b = await waitFor(async () => (await instances()).find((i) => i.root === repo.b && i.pid), 'B running');
    fs.writeFileSync(path.join(repo.b, 'untracked.txt'), 'work in progress\n');
    await t.cmd('tabfirst');
    await t.cmd('ClaudeCodeWorktree remove proj-feat');
    await waitFor(async () => (await notes()).some((n) => n.includes('has uncommitted changes') && n.includes('untracked.txt')), 'dirty refused');
    expect(fs.existsSync(repo.b)).toBe(true);
    expect(pidAlive(b.pid!)).toBe(true);

    await t.cmd('ClaudeCodeWorktree! remove proj-feat');
    await waitFor(() => !fs.existsSync(repo.b), 'worktree removed');
    await waitFor(() => !pidAlive(b.pid!), 'its claude ended');
    await waitFor(async () => (await instances()).every((i) => i.root !== repo.b), 'instance gone');
    expect(lockFiles(t.lockDir).map((l) => l.body.workspaceFolders[0])).not.toContain(repo.b);
    expect(branches()).toContain('feat');
    await waitFor(async () => (await notes()).some((n) => n.includes('branch feat kept')), 'told the branch is kept');

    // A clean worktree needs no !, and --delete-branch deletes its (merged) branch.
    await t.cmd('ClaudeCodeWorktree add gone');
    const gone = path.join(repo.base, 'proj-gone');
    await waitFor(() => frames().find((f) => f.event === 'connected' && f.cwd === gone), 'claude in gone');
    await t.cmd('tabfirst');
    await t.cmd('ClaudeCodeWorktree remove proj-gone --delete-branch');
    await waitFor(() => !fs.existsSync(gone), 'clean worktree removed');
    await waitFor(() => !branches().includes('gone'), 'branch deleted when asked');

    await t.cmd('ClaudeCodeWorktree remove proj');
    await waitFor(async () => (await notes()).some((n) => n.includes('main worktree')), 'the main worktree is never removed');
    expect(fs.existsSync(repo.a)).toBe(true);
  }, 60_000);
});
