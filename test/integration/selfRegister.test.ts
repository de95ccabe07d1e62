/**
 * Issue 12 item 4: installing needs no :UpdateRemotePlugins. plugin/claude_worktrees.lua registers
 * the Node side from dist/rplugin-specs.json (npm run build) when no manifest did; with a manifest
 * it changes nothing; the specs are exactly the manifest's.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
const setup = `${CAPTURE_NOTIFY_LUA} require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } })`;
const PLUGINS = "return vim.fn['remote#host#PluginsForHost']('node')";

describe.each(nvimBins())('no :UpdateRemotePlugins needed (%s)', (bin) => {
  let t: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  beforeEach(() => { repo = makeRepoWithWorktree(); });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  it('without a manifest, plugin/ registers the Node side and :ClaudeCode works', async () => {
    t = await startNvim(bin, repo.a, setup, { manifest: false, pluginDir: true });
    expect(fs.existsSync(t.env.NVIM_RPLUGIN_MANIFEST!)).toBe(false);
    const plugins = await t.lua<Array<{ path: string; specs: unknown[] }>>(PLUGINS);
    expect(plugins.map((p) => p.path)).toEqual([path.join(REPO, 'rplugin/node/claude-worktrees')]);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const lock = await waitFor(() => lockFiles(t!.lockDir)[0], 'a lock file');
    expect(lock.body.workspaceFolders).toEqual([repo.a]);
    await waitFor(async () => (await t!.lua<Array<{ connected: boolean }>>("return require('claude_worktrees').instances()"))[0]?.connected,
      'claude connected');
    expect(await notesOf(t)).toEqual([]);
  }, 30_000);

  it('with a manifest it registers nothing more; its specs are the manifest\'s exactly', async () => {
    t = await startNvim(bin, repo.a, setup, { pluginDir: true });
    const plugins = await t.lua<Array<{ path: string; specs: unknown[] }>>(PLUGINS);
    expect(plugins).toHaveLength(1);
    const built = JSON.parse(fs.readFileSync(path.join(REPO, 'dist/rplugin-specs.json'), 'utf8')) as unknown[];
    expect(plugins[0].specs).toEqual(built);
    expect(await t.lua<string>("return (require('claude_worktrees.register').ensure())")).toBe('manifest');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    await waitFor(() => lockFiles(t!.lockDir)[0], 'a lock file');
    expect(await notesOf(t)).toEqual([]);
  }, 30_000);
});
