/** Issue 3: one log for the plugin and one per instance, at the level setup() asks for; errors reach the user and the log. */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, notesOf, lockFiles, makeRepoWithWorktree, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

describe.each(nvimBins())('logs (%s)', (bin) => {
  let t: TestNvim;
  afterEach(async () => {
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  it('log_level = debug: plugin and per-instance logs; a failing command is logged and notified', async () => {
    const repo = makeRepoWithWorktree();
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, log_level = 'debug' }) ${CAPTURE_NOTIFY_LUA}`);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    await waitFor(() => lockFiles(t.lockDir)[0], 'lock file');
    const dir = await t.lua<string>(`return require('claude_worktrees').log_dir()`);
    expect(dir.startsWith(t.root)).toBe(true); // inside the isolated XDG dirs
    const plugin = path.join(dir, 'claude-worktrees.log');
    await waitFor(() => fs.existsSync(path.join(dir, 'proj.log')), 'per-instance log named after the worktree');
    await t.cmd('ClaudeCodeKill no-such-instance');
    await waitFor(async () => (await notesOf(t)).some((n) => n.includes("no instance named 'no-such-instance'")), 'error notified');
    await waitFor(() => /ERROR \[claude-worktrees\] :ClaudeCodeKill/.test(fs.readFileSync(plugin, 'utf8')), 'error logged');
    expect(fs.readFileSync(plugin, 'utf8')).toMatch(/ DEBUG /);
  }, 30_000);

  it('rejects a bad log_level with a clear error, without starting Node', async () => {
    const repo = makeRepoWithWorktree();
    t = await startNvim(bin, repo.a);
    const err = await t.lua<string>(`local ok, e = pcall(require('claude_worktrees').setup, { log_level = 'loud' }) return tostring(e)`);
    expect(err).toContain("log_level must be 'debug', 'info', 'warn' or 'error'");
  }, 30_000);
});
