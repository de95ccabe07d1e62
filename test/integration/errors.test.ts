/**
 * Issue 10 item 5, "clear errors, nothing lost": a repository without commits, a directory outside
 * git, a bare repository, a broken `.git` file, and worktrees whose paths hold spaces and
 * non-ASCII characters, each met by `:ClaudeCode` in a real Neovim next to an instance of a good
 * repository that must stay untouched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { McpClient } from '../helpers/mcpClient';
import {
  CAPTURE_NOTIFY_LUA, git, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, startNvim, versionOf, REPO, type TestNvim,
} from '../helpers/nvim';
import { rmDir, tmpDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { name: string; root: string; branch: string; port: number; pid: number | null; state: string; connected: boolean }
interface Frame { pid: number; cwd: string; event: string; frame?: { method?: string; params?: Record<string, unknown> } }

function frames(log: string): Frame[] {
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Frame);
}

describe.each(nvimBins())('clear errors, nothing lost (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let dir: string;
  let log: string;

  const instances = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');
  const fnameescape = (p: string) => t.lua<string>('return vim.fn.fnameescape(...)', p);
  const edit = async (p: string) => t.cmd(`edit ${await fnameescape(p)}`);
  const cd = async (p: string) => t.cmd(`cd ${await fnameescape(p)}`);
  const lockOf = (root: string) => lockFiles(t.lockDir).find((l) => l.body.workspaceFolders[0] === root);

  /** The instance of root once its claude connected. */
  const connected = (root: string) => waitFor(async () => (await instances()).find((i) => i.root === root && i.connected),
    `the instance of ${root} connected`, 15_000);

  /** An MCP client on root's instance, with its lock file's token. */
  async function clientOf(root: string): Promise<McpClient> {
    const lock = await waitFor(() => lockOf(root), `lock file of ${root}`);
    return McpClient.connect(Number(path.basename(lock.file, '.lock')), lock.body.authToken);
  }

  /** :ClaudeCode in repo A, connected: the instance every bad case must leave alone. */
  async function startGood(): Promise<{ snap: Snap; client: McpClient }> {
    await edit(`${repo.a}/hello.txt`);
    await t.cmd('ClaudeCode');
    const snap = await connected(repo.a);
    await t.cmd('stopinsert');
    await t.cmd('wincmd p');
    return { snap, client: await clientOf(repo.a) };
  }

  /** A is still the same instance: same port and claude, still connected, its lock file in place, its server answering. */
  async function expectGoodUntouched(good: { snap: Snap; client: McpClient }): Promise<void> {
    const now = (await instances()).find((i) => i.root === repo.a);
    expect(now).toMatchObject({ port: good.snap.port, pid: good.snap.pid, state: 'running', connected: true });
    expect(lockOf(repo.a)?.file).toBe(path.join(t.lockDir, `${good.snap.port}.lock`));
    const [text] = await good.client.call('getWorkspaceFolders', {});
    expect(JSON.parse(text).rootPath).toBe(repo.a);
  }

  /** Wait for the next notice after `before` of them, then make sure it stays the only one. */
  async function oneNotice(before: number): Promise<string> {
    const notes = await waitFor(async () => {
      const n = await notesOf(t);
      return n.length > before ? n : null;
    }, 'a notice');
    // A barrier: everything the command sent has reached Neovim once this round trip returns.
    await t.lua('return vim.fn.ClaudeWorktreesSync()');
    const after = await notesOf(t);
    expect(after.slice(before)).toEqual([notes[before]]);
    return notes[before];
  }

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    dir = tmpDir('cw-errors-');
    log = path.join(dir, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `${CAPTURE_NOTIFY_LUA}
      require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
  });

  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
    rmDir(dir);
  });

  it(`runs on ${versionOf(bin)}: a repository without commits gets its instance; adding a worktree there says to commit first`, async () => {
    const good = await startGood();
    const fresh = path.join(dir, 'fresh');
    fs.mkdirSync(fresh);
    git(fresh, 'init', '-q', '-b', 'trunk');
    await cd(fresh);
    await edit(`${fresh}/notes.md`);
    await t.cmd('ClaudeCode');
    const snap = await connected(fresh);
    expect(snap.branch).toBe('trunk');
    expect(lockOf(fresh)?.body.workspaceFolders).toEqual([fresh]);
    expect(frames(log).filter((f) => f.event === 'start').map((f) => f.cwd)).toEqual([repo.a, fresh]);
    await t.cmd('stopinsert');
    await t.cmd('wincmd p');

    const before = (await notesOf(t)).length;
    await t.cmd('ClaudeCodeWorktree add topic');
    const note = await oneNotice(before);
    expect(note).toMatch(/no commit yet/);
    expect(note).toMatch(/make a first commit/);
    expect(git(fresh, 'branch', '--list')).toBe('');
    expect((await instances()).map((i) => i.root).sort()).toEqual([repo.a, fresh].sort());
    expect(lockFiles(t.lockDir)).toHaveLength(2);
    await expectGoodUntouched(good);
    good.client.close();
  }, 60_000);

  it('a directory outside git is its own root; :ClaudeCodeWorktree there says to git init', async () => {
    const good = await startGood();
    const plain = path.join(dir, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'a.txt'), 'a\n');
    await cd(plain);
    await edit(`${plain}/a.txt`);
    await t.cmd('ClaudeCode');
    const snap = await connected(plain);
    expect(snap.branch).toBe('');
    expect(lockOf(plain)?.body.workspaceFolders).toEqual([plain]);
    await t.cmd('stopinsert');
    await t.cmd('wincmd p');

    const before = (await notesOf(t)).length;
    await t.cmd('ClaudeCodeWorktree add topic');
    const note = await oneNotice(before);
    expect(note).toContain(`${plain} is not in a git repository`);
    expect(note).toMatch(/git init/);
    expect(lockFiles(t.lockDir)).toHaveLength(2);
    await expectGoodUntouched(good);
    good.client.close();
  }, 60_000);

  it('a bare repository and a .git file pointing nowhere: one message each, no server, no lock file', async () => {
    const good = await startGood();
    const bare = path.join(dir, 'bare.git');
    git(dir, 'clone', '-q', '--bare', repo.a, bare);
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, '.git'), `gitdir: ${path.join(dir, 'gone/.git/worktrees/broken')}\n`);
    fs.writeFileSync(path.join(broken, 'b.txt'), 'b\n');

    let before = (await notesOf(t)).length;
    await cd(bare);
    await t.cmd('enew');
    await t.cmd('ClaudeCode');
    let note = await oneNotice(before);
    expect(note).toContain(`${bare} is a bare repository`);
    expect(note).toMatch(/worktree/);

    before = (await notesOf(t)).length;
    await cd(broken);
    await edit(`${broken}/b.txt`);
    await t.cmd('ClaudeCode');
    note = await oneNotice(before);
    expect(note).toContain(`${broken}/.git`);
    expect(note).toMatch(/git worktree prune|remove/);

    expect((await instances()).map((i) => i.root)).toEqual([repo.a]);
    expect(lockFiles(t.lockDir)).toHaveLength(1);
    expect(frames(log).filter((f) => f.event === 'start')).toHaveLength(1);
    await expectGoodUntouched(good);
    good.client.close();
  }, 60_000);

  it('a file inside .git (a commit message) belongs to its worktree', async () => {
    const good = await startGood();
    const msg = path.join(repo.a, '.git', 'COMMIT_EDITMSG');
    fs.writeFileSync(msg, 'wip\n');
    await cd(path.join(repo.a, '.git'));
    await edit(msg);
    const before = (await notesOf(t)).length;
    await t.cmd('ClaudeCode'); // A runs: its terminal toggles, nothing new starts
    await t.lua('return vim.fn.ClaudeWorktreesSync()');
    expect((await notesOf(t)).slice(before)).toEqual([]);
    expect((await instances()).map((i) => i.root)).toEqual([repo.a]);
    // A linked worktree's own git dir maps to that worktree.
    await edit(path.join(repo.a, '.git', 'worktrees', 'proj-feat', 'HEAD'));
    await t.cmd('ClaudeCode');
    await connected(repo.b);
    expect(lockFiles(t.lockDir)).toHaveLength(2);
    await expectGoodUntouched(good);
    good.client.close();
  }, 60_000);

  it('worktrees and files with spaces and non-ASCII in their paths', async () => {
    const good = await startGood();
    const main = path.join(dir, 'my proj');
    fs.mkdirSync(main);
    git(main, 'init', '-q', '-b', 'main');
    fs.mkdirSync(path.join(main, 'sub dir'));
    fs.writeFileSync(path.join(main, 'sub dir', 'a b ü.txt'), 'x\n');
    git(main, 'add', '.');
    git(main, 'commit', '-qm', 'init');
    const wt = path.join(dir, 'wörk tree 漢字');
    git(main, 'worktree', 'add', '-q', '-b', 'feat', wt);
    const file = path.join(wt, 'sub dir', 'a b ü.txt');

    await edit(file);
    await t.cmd('ClaudeCode');
    const snap = await connected(wt);
    expect(snap).toMatchObject({ name: 'wörk tree 漢字', branch: 'feat' });
    expect(lockOf(wt)?.body.workspaceFolders).toEqual([wt]);
    expect(lockOf(wt)?.body.ideName).toBe('Neovim (wörk tree 漢字@feat)');
    expect(frames(log).find((f) => f.event === 'start' && f.pid === snap.pid)?.cwd).toBe(wt);
    await t.cmd('stopinsert');
    await t.cmd('wincmd p');

    const client = await clientOf(wt);
    const folders = JSON.parse((await client.call('getWorkspaceFolders', {}))[0]);
    const uri = pathToFileURL(wt).href;
    expect(uri).toContain('w%C3%B6rk%20tree%20%E6%BC%A2%E5%AD%97');
    expect(folders).toMatchObject({ rootPath: wt, folders: [{ name: 'wörk tree 漢字', uri, path: wt }] });
    const tabs = await waitFor(async () => {
      const all = JSON.parse((await client.call('getOpenEditors', {}))[0]).tabs as Array<{ uri: string; fileName: string; label: string }>;
      return all.find((tab) => tab.fileName === file);
    }, 'the file in getOpenEditors');
    expect(tabs).toMatchObject({ uri: pathToFileURL(file).href, label: 'a b ü.txt' });
    expect(tabs.uri).toMatch(/%20tree%20%E6%BC%A2%E5%AD%97\/sub%20dir\/a%20b%20%C3%BC\.txt$/);

    // At-mentions: the buffer's lines, then a path with escaped spaces.
    await edit(file);
    await t.cmd('1ClaudeCodeSend');
    const mentions = () => frames(log).filter((f) => f.pid === snap.pid && f.frame?.method === 'at_mentioned').map((f) => f.frame!.params);
    await waitFor(() => mentions().length === 1, 'the first at_mentioned');
    await cd(wt);
    await t.cmd('ClaudeCodeAdd sub\\ dir/a\\ b\\ ü.txt 1');
    await t.cmd('ClaudeCodeAdd sub\\ dir');
    await waitFor(() => mentions().length === 3, 'three at_mentioned');
    expect(mentions()).toEqual([
      { filePath: 'sub dir/a b ü.txt', lineStart: 0, lineEnd: 0 },
      { filePath: 'sub dir/a b ü.txt', lineStart: 0, lineEnd: 0 },
      { filePath: 'sub dir/' },
    ]);

    // :ClaudeCodeList and the picker name it; the picker's switch reaches it by that name.
    const listed = await t.nvim.commandOutput('ClaudeCodeList'); console.log(JSON.stringify(await notesOf(t)));
    expect(listed).toMatch(/wörk tree 漢字 +feat /);
    expect(listed).toContain(wt);
    const entry = await t.lua<string>(`local p = require("claude_worktrees.picker")
      for _, e in ipairs(p.entries()) do if e.root == ... then return p.format(e) end end`, wt);
    expect(entry).toContain('wörk tree 漢字');
    const diff = await t.lua<string[]>('return require("claude_worktrees.picker").diff_stat(...)', wt);
    expect(diff[0]).toMatch(/^changes against/);
    await t.cmd('ClaudeCodeKill wörk tree 漢字');
    await waitFor(async () => !(await instances()).some((i) => i.root === wt), 'the instance killed by name');
    expect(lockOf(wt)).toBeUndefined();

    // A new worktree next to a base dir with spaces and non-ASCII.
    await cd(main);
    await edit(path.join(main, 'sub dir', 'a b ü.txt'));
    await t.cmd('ClaudeCodeWorktree add topic');
    const added = path.join(dir, 'my proj-topic');
    const inst = await connected(added);
    expect(inst.branch).toBe('topic');
    expect(fs.existsSync(path.join(added, 'sub dir', 'a b ü.txt'))).toBe(true);
    expect(frames(log).find((f) => f.event === 'start' && f.pid === inst.pid)?.cwd).toBe(added);
    expect(lockOf(added)?.body.workspaceFolders).toEqual([added]);

    client.close();
    await expectGoodUntouched(good);
    good.client.close();
  }, 90_000);
});
