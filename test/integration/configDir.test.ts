/**
 * A CLAUDE_CONFIG_DIR given in setup()'s env reaches claude, so the lock file must land there
 * too: claude looks for the lock of CLAUDE_CODE_SSE_PORT under its own config dir. Discovery
 * and :checkhealth read the same dir.
 */
import * as fs from 'fs';
import * as path from 'path';
import { makeRepoWithWorktree, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { root: string; pid: number | null; connected: boolean; lockPath?: string | null }

describe.each(nvimBins())('CLAUDE_CONFIG_DIR from setup() env (%s)', (bin) => {
  let t: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree>;

  beforeEach(() => { repo = makeRepoWithWorktree(); });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  it('writes the lock where claude looks, and discovery and health read it there', async () => {
    const cfg = path.join(repo.base, 'claude-work');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({
      cmd = { "node", ${JSON.stringify(FAKE)} }, env = { CLAUDE_CONFIG_DIR = ${JSON.stringify(cfg)} } })`);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    // The fake claude reads the lock under ITS CLAUDE_CONFIG_DIR: connected means it found it.
    const inst = await waitFor(async () => (await t!.lua<Snap[]>('return require("claude_worktrees").instances()'))
      .find((i) => i.root === repo.a && i.connected), 'claude connected with the lock in its config dir', 15_000);
    const locks = fs.readdirSync(path.join(cfg, 'ide')).filter((f) => f.endsWith('.lock'));
    expect(locks).toHaveLength(1);
    expect((fs.statSync(path.join(cfg, 'ide', locks[0])).mode & 0o777)).toBe(0o600);
    // Nothing in Neovim's own CLAUDE_CONFIG_DIR, which claude would never read.
    const own = fs.existsSync(t.lockDir) ? fs.readdirSync(t.lockDir).filter((f) => f.endsWith('.lock')) : [];
    expect(own).toEqual([]);
    expect(await t.lua<string>("return require('claude_worktrees.discovery').lock_dir()")).toBe(path.join(cfg, 'ide'));
    const health = await t.lua<string>(`vim.cmd('silent checkhealth claude_worktrees')
      return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')`);
    expect(health).toContain(`1 lock file(s) in ${cfg}/ide`);

    await t.cmd('stopinsert');
    await t.cmd('wincmd p');
    await t.cmd('ClaudeCodeKill');
    await waitFor(() => fs.readdirSync(path.join(cfg, 'ide')).filter((f) => f.endsWith('.lock')).length === 0, 'lock removed on kill');
    expect(inst.pid).not.toBeNull();
  });
});
