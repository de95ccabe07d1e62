/**
 * Issue 11 item 1 with the fake claude: each worktree's session id is chosen before launch
 * (--session-id), kept on disk per worktree, and resumed (--resume, our --settings again) by the
 * next Neovim; :ClaudeCode! and auto_resume = false start fresh; a session claude has no
 * transcript of is not resumed (claude would exit "No conversation found").
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, lockFiles, makeRepoWithWorktree, notesOf, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Start { event: string; pid: number; cwd: string; args: string[] }
interface Snap { root: string; pid: number | null; connected: boolean }

describe.each(nvimBins())('sessions survive Neovim (%s)', (bin) => {
  let t: TestNvim | undefined;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;
  let root: string | undefined;

  const setup = (extra = '') => `${CAPTURE_NOTIFY_LUA}
    require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} }${extra} })`;
  const starts = (): Start[] => fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Start).filter((e) => e.event === 'start') : [];
  const argAfter = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  /** :ClaudeCode[!] in file's worktree; the start it made. */
  async function claudeIn(tt: TestNvim, file: string, cmd = 'ClaudeCode'): Promise<Start> {
    const before = starts().length;
    await tt.cmd(`edit ${file}`);
    await tt.cmd(cmd);
    const inst = await waitFor(async () => (await tt.lua<Snap[]>('return require("claude_worktrees").instances()'))
      .find((i) => file.startsWith(i.root + '/') && i.connected && i.pid), 'connected', 15_000);
    const s = await waitFor(() => starts().slice(before).find((x) => x.pid === inst.pid), 'its start logged');
    await tt.cmd('stopinsert');
    await tt.cmd('wincmd p');
    return s;
  }
  /** What claude would have written once the session had a message. */
  const transcript = (tt: TestNvim, id: string) => {
    const dir = path.join(tt.env.CLAUDE_CONFIG_DIR!, 'projects', repo.a.replace(/[^A-Za-z0-9]/g, '-'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${id}.jsonl`), '{"type":"user","message":{"role":"user","content":"hi"}}\n');
  };
  const restart = async (extra = '') => {
    await t!.quit({ keepRoot: true });
    t = await startNvim(bin, repo.a, setup(extra), { root });
  };

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, setup());
    root = t.root;
  });
  afterEach(async () => {
    await t?.quit();
    rmDir(root);
    rmDir(repo?.base);
  });

  it('a session id chosen before launch, kept per worktree, resumed after a restart with our hooks', async () => {
    const first = await claudeIn(t!, `${repo.a}/hello.txt`);
    const id = argAfter(first.args, '--session-id')!;
    expect(id).toMatch(UUID);
    expect(first.args).not.toContain('--resume');
    const other = await claudeIn(t!, `${repo.b}/hello.txt`);
    const idB = argAfter(other.args, '--session-id')!;
    expect(idB).toMatch(UUID);
    expect(idB).not.toBe(id);

    // On disk, atomically, private: one file per worktree.
    const dir = path.join(await t!.lua<string>("return require('claude_worktrees').state_dir()"), 'sessions');
    expect(dir.startsWith(t!.root)).toBe(true);
    const files = fs.readdirSync(dir);
    expect(files).toHaveLength(2);
    const bodies = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { root: string; sessionId: string });
    expect(bodies.map((b) => [b.root, b.sessionId]).sort()).toEqual([[repo.a, id], [repo.b, idB]].sort());
    for (const f of files) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);

    transcript(t!, id);
    await restart();
    const again = await claudeIn(t!, `${repo.a}/hello.txt`);
    expect(argAfter(again.args, '--resume')).toBe(id);
    expect(again.args).not.toContain('--session-id');
    expect(again.args).toContain('--settings'); // resume does not bring our status hooks back
    // B had no transcript (no message yet): a fresh session, not a resume claude would refuse.
    const againB = await claudeIn(t!, `${repo.b}/hello.txt`);
    expect(againB.args).not.toContain('--resume');
    expect(argAfter(againB.args, '--session-id')).toMatch(UUID);
    expect(await notesOf(t!)).toEqual([]);
  }, 60_000);

  it('a session running in another Neovim on the same worktree is not resumed twice; its lock names it', async () => {
    const first = await claudeIn(t!, `${repo.a}/hello.txt`);
    const id = argAfter(first.args, '--session-id')!;
    transcript(t!, id);
    const lock = await waitFor(() => lockFiles(t!.lockDir).find((l) => l.body.worktree === repo.a && l.body.sessionId === id),
      'the session id in the lock');
    expect(lock.body.sessionId).toBe(id);

    // A second Neovim of the same user (same state dir, same claude config) on the same worktree.
    const other = await startNvim(bin, repo.a, setup(), { root });
    try {
      const s = await claudeIn(other, `${repo.a}/hello.txt`);
      expect(s.args).not.toContain('--resume');
      expect(argAfter(s.args, '--session-id')).toMatch(UUID);
      expect(argAfter(s.args, '--session-id')).not.toBe(id);
      expect(await notesOf(other)).toEqual([
        `claude-worktrees: proj: its last session runs in another Neovim (pid ${t!.proc.pid}); starting a new session here`]);
    } finally {
      await other.quit({ keepRoot: true });
    }
  }, 60_000);

  it(':ClaudeCode! and auto_resume = false start fresh; a running instance is not restarted by !', async () => {
    const first = await claudeIn(t!, `${repo.a}/hello.txt`);
    const id = argAfter(first.args, '--session-id')!;
    transcript(t!, id);
    await t!.cmd('ClaudeCode!');
    const note = await waitFor(async () => (await notesOf(t!)).find((n) => n.includes('is running')), 'the refusal');
    expect(note).toBe('claude-worktrees: :ClaudeCode: proj is running; end it first (:ClaudeCodeKill proj) to start a fresh session there');
    expect(starts()).toHaveLength(1);

    await restart();
    const fresh = await claudeIn(t!, `${repo.a}/hello.txt`, 'ClaudeCode!');
    expect(fresh.args).not.toContain('--resume');
    const id2 = argAfter(fresh.args, '--session-id')!;
    expect(id2).toMatch(UUID);
    expect(id2).not.toBe(id);

    transcript(t!, id2);
    await restart(', auto_resume = false');
    const off = await claudeIn(t!, `${repo.a}/hello.txt`);
    expect(off.args).not.toContain('--resume');
    expect(argAfter(off.args, '--session-id')).not.toBe(id2);

    // The user's own session flags are left alone.
    await restart();
    const own = await claudeIn(t!, `${repo.a}/hello.txt`, 'ClaudeCode --continue');
    expect(own.args).toContain('--continue');
    expect(own.args).not.toContain('--resume');
    expect(own.args).not.toContain('--session-id');
  }, 60_000);
});
