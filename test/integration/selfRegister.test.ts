/**
 * Issue 12 items 3 and 4: installing needs no :UpdateRemotePlugins, and nothing starts with
 * Neovim. plugin/claude_worktrees.lua only defines the commands as stubs (from the specs `npm
 * run build` wrote); the first one registers the plugin's own remote host (node
 * dist/host/loader.js) and runs. With a manifest, the shared 'node' host as before. prestart
 * starts the own host in the background.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, descendants, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, pidAlive, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir, tmpDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
const setupWith = (extra = '') => `${CAPTURE_NOTIFY_LUA} require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }${extra} })`;
const setup = setupWith();
const PLUGINS = (host: string) => `return vim.fn['remote#host#PluginsForHost']('${host}')`;
const RPLUGIN = path.join(REPO, 'rplugin/node/claude-worktrees');

/** The Node hosts under a Neovim, by what they run. */
function hosts(nvimPid: number): { own: number[]; shared: number[] } {
  const out = { own: [] as number[], shared: [] as number[] };
  for (const { pid } of descendants(nvimPid)) {
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes('dist/host/loader.js')) out.own.push(pid);
    else if (cmd.includes('neovim/bin/cli.js')) out.shared.push(pid);
  }
  return out;
}

describe.each(nvimBins())('no :UpdateRemotePlugins needed, nothing started with Neovim (%s)', (bin) => {
  let t: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  beforeEach(() => { repo = makeRepoWithWorktree(); });
  afterEach(async () => {
    await t?.quit();
    t = undefined;
    rmDir(repo?.base);
  });

  const connected = () => waitFor(async () => (await t!.lua<Array<{ connected: boolean }>>("return require('claude_worktrees').instances()"))[0]?.connected,
    'claude connected', 15_000);

  it('without a manifest: stubs at startup, no host; the first :ClaudeCode registers and starts the own host', async () => {
    t = await startNvim(bin, repo.a, setup, { manifest: false, pluginDir: true });
    expect(fs.existsSync(t.env.NVIM_RPLUGIN_MANIFEST!)).toBe(false);
    // Startup defined every command and started nothing.
    const built = JSON.parse(fs.readFileSync(path.join(REPO, 'dist/rplugin-specs.json'), 'utf8')) as Array<{ type: string; name: string }>;
    for (const s of built.filter((x) => x.type === 'command')) expect(await t.lua<number>(`return vim.fn.exists(':${s.name}')`)).toBe(2);
    expect(await t.lua<unknown[]>(PLUGINS('claude_worktrees'))).toEqual([]);
    expect(hosts(t.proc.pid!)).toEqual({ own: [], shared: [] });

    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const lock = await waitFor(() => lockFiles(t!.lockDir)[0], 'a lock file');
    expect(lock.body.workspaceFolders).toEqual([repo.a]);
    await connected();
    const plugins = await t.lua<Array<{ path: string }>>(PLUGINS('claude_worktrees'));
    expect(plugins.map((p) => p.path)).toEqual([RPLUGIN]);
    expect(await t.lua<unknown[]>(PLUGINS('node'))).toEqual([]);
    const h = hosts(t.proc.pid!);
    expect(h.own).toHaveLength(1);
    expect(h.shared).toEqual([]);
    expect(lock.body.pid).toBe(h.own[0]);
    expect(await notesOf(t)).toEqual([]);
  }, 30_000);

  it('a stub forwards what it was given: arguments, output (execute() of the first command)', async () => {
    t = await startNvim(bin, repo.a, setup, { manifest: false, pluginDir: true });
    // The first command of the session prints through the stub: the output belongs to it.
    const listed = await t.lua<string>("return vim.fn.execute('ClaudeCodeList')");
    expect(listed).toMatch(/no instances/i);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCodeKill nosuchname');
    await waitFor(async () => (await notesOf(t!)).some((n) => n.includes("no instance named 'nosuchname'")), 'the argument reached Node');
  }, 30_000);

  it('prestart = <event>: nothing until the event; then the host starts in the background and :ClaudeCode finds it up', async () => {
    t = await startNvim(bin, repo.a, setupWith(", prestart = 'InsertEnter'"), { manifest: false, pluginDir: true });
    expect(await t.lua<boolean>("return require('claude_worktrees.host').chan == nil")).toBe(true);
    expect(hosts(t.proc.pid!).own).toEqual([]);
    await t.cmd('doautocmd InsertEnter');
    await waitFor(() => t!.lua<boolean>("return require('claude_worktrees.host').warm"), 'host warm', 15_000);
    const pid = hosts(t.proc.pid!).own;
    expect(pid).toHaveLength(1);
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const lock = await waitFor(() => lockFiles(t!.lockDir)[0], 'a lock file');
    expect(lock.body.pid).toBe(pid[0]);
    await connected();
    expect(hosts(t.proc.pid!).own).toEqual(pid);
    expect(await notesOf(t)).toEqual([]);
  }, 30_000);

  it("prestart = 'User VeryLazy' (lazy.nvim's event) waits for that User event; an unknown event is a clear setup() error", async () => {
    t = await startNvim(bin, repo.a, setupWith(", prestart = 'User VeryLazy'"), { manifest: false, pluginDir: true });
    await t.cmd('doautocmd User SomethingElse');
    expect(await t.lua<boolean>("return require('claude_worktrees.host').chan == nil")).toBe(true);
    await t.cmd('doautocmd User VeryLazy');
    await waitFor(() => t!.lua<boolean>("return require('claude_worktrees.host').warm"), 'host warm', 15_000);
    expect(hosts(t.proc.pid!).own).toHaveLength(1);
    const err = await t.lua<string>("local ok, e = pcall(require('claude_worktrees').setup, { prestart = 'VeryLazy' }); return tostring(e)");
    expect(err).toContain("claude_worktrees: prestart: \"VeryLazy\" is not an event (a User event is written 'User VeryLazy')");
  }, 30_000);

  it('prestart = true starts the host after setup; a bad prestart is a clear setup() error', async () => {
    t = await startNvim(bin, repo.a, setupWith(', prestart = true'), { manifest: false, pluginDir: true });
    await waitFor(() => t!.lua<boolean>("return require('claude_worktrees.host').warm"), 'host warm', 15_000);
    expect(hosts(t.proc.pid!).own).toHaveLength(1);
    const err = await t.lua<string>("local ok, e = pcall(require('claude_worktrees').setup, { prestart = 3 }); return tostring(e)");
    expect(err).toContain('prestart must be true, false, an event name or a list of them');
  }, 30_000);

  it('the own host killed with -9: its claude ends, its lock goes, one message, :ClaudeCode starts a new host', async () => {
    t = await startNvim(bin, repo.a, setup, { manifest: false, pluginDir: true });
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    await connected();
    const first = hosts(t.proc.pid!).own;
    expect(first).toHaveLength(1);
    const claudePid = (await t.lua<Array<{ pid: number }>>("return require('claude_worktrees').instances()"))[0].pid;
    process.kill(first[0], 'SIGKILL');
    await waitFor(() => !pidAlive(claudePid), 'its claude gone', 5_000);
    await waitFor(() => lockFiles(t!.lockDir).length === 0, 'its lock removed', 5_000);
    await waitFor(async () => (await notesOf(t!)).some((m) => m.includes('plugin host died')), 'one message', 5_000);

    await t.cmd('wincmd p');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const lock = await waitFor(() => lockFiles(t!.lockDir)[0], 'a new lock file', 15_000);
    await connected();
    const second = hosts(t.proc.pid!).own;
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    expect(lock.body.pid).toBe(second[0]);
  }, 40_000);

  it('with a manifest it uses the shared host as before; its specs are the manifest\'s exactly', async () => {
    t = await startNvim(bin, repo.a, setup, { pluginDir: true });
    const plugins = await t.lua<Array<{ path: string; specs: unknown[] }>>(PLUGINS('node'));
    expect(plugins).toHaveLength(1);
    const built = JSON.parse(fs.readFileSync(path.join(REPO, 'dist/rplugin-specs.json'), 'utf8')) as unknown[];
    expect(plugins[0].specs).toEqual(built);
    expect(await t.lua<string>("return (require('claude_worktrees.register').ensure())")).toBe('manifest');
    await t.cmd(`edit ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    await waitFor(() => lockFiles(t!.lockDir)[0], 'a lock file');
    await connected();
    expect(await t.lua<unknown[]>(PLUGINS('claude_worktrees'))).toEqual([]);
    const h = hosts(t.proc.pid!);
    expect(h.own).toEqual([]);
    expect(h.shared).toHaveLength(1);
    expect(await notesOf(t)).toEqual([]);
  }, 30_000);

  it('a host that cannot start: one clear message per command, no error or prompt; it starts once it can', async () => {
    t = await startNvim(bin, repo.a, setupWith(', node = "/nonexistent/node"'), { manifest: false, pluginDir: true });
    await t.cmd(`edit ${repo.a}/hello.txt`);
    // Before the fix the second command went through remote#define's bootstrap: a raw E5108.
    for (const cmd of ['ClaudeCode', 'ClaudeCodeList', 'ClaudeCode']) await t.cmd(cmd);
    const notes = await notesOf(t);
    expect(notes).toHaveLength(3);
    for (const n of notes) expect(n).toMatch(/^claude-worktrees: :ClaudeCode(List)?: node not found \(\/nonexistent\/node\): install Node\.js >= 20 or set setup\(\{ node = /);
    expect(hosts(t.proc.pid!)).toEqual({ own: [], shared: [] });
    expect(lockFiles(t.lockDir)).toEqual([]);

    // node fixed: the same stubs start the host and hand over to the remote commands.
    await t.lua('require("claude_worktrees").config.node = nil');
    await t.cmd('ClaudeCode');
    await connected();
    expect(hosts(t.proc.pid!).own).toHaveLength(1);
    expect(await t.lua<string>("return vim.api.nvim_get_commands({})['ClaudeCodeList'].definition")).not.toContain('registers its host');
    expect(await notesOf(t)).toHaveLength(3);
  }, 30_000);

  it('not built: :ClaudeCode says what to run, and starts nothing', async () => {
    // A copy of the plugin without dist/ (what a clone is before its build step).
    const bare = tmpDir('cw-unbuilt-');
    try {
      for (const d of ['plugin', 'lua', 'autoload', 'rplugin']) fs.cpSync(path.join(REPO, d), path.join(bare, d), { recursive: true });
      t = await startNvim(bin, repo.a, `${CAPTURE_NOTIFY_LUA} vim.opt.rtp:prepend(${JSON.stringify(bare)}); package.loaded['claude_worktrees'] = nil; package.loaded['claude_worktrees.register'] = nil`,
        { manifest: false });
      await t.cmd(`source ${bare}/plugin/claude_worktrees.lua`);
      await t.cmd('ClaudeCode');
      expect((await notesOf(t)).join('\n')).toContain('not built: run `npm ci && npm run build`');
      expect(hosts(t.proc.pid!)).toEqual({ own: [], shared: [] });
    } finally {
      await t?.quit();
      t = undefined;
      rmDir(bare);
    }
  }, 30_000);
});
