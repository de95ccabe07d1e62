/** Issue 11 item 4: :[range]ClaudeCodeSendTo {instance} mentions the file to a NAMED instance. */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, claudeCodeFrom, terminalInFront, makeRepoWithWorktree, notesOf, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
interface Frame { pid: number; event: string; frame?: { method?: string; params?: Record<string, unknown> } }
interface Snap { root: string; pid: number | null; connected: boolean }

describe.each(nvimBins())(':ClaudeCodeSendTo (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;
  const frames = (): Frame[] => fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Frame) : [];
  const mentionsOf = (pid: number) => frames().filter((f) => f.pid === pid && f.frame?.method === 'at_mentioned').map((f) => f.frame!.params);

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `${CAPTURE_NOTIFY_LUA}
      require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} }, env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} } })`);
  });
  afterEach(async () => {
    await t?.quit();
    rmDir(repo?.base);
  });

  it("sends the range of a file of worktree A to B's claude only; names complete; an unknown name is one message", async () => {
    // One at a time: a terminal opening late would take the focus from the next :ClaudeCode,
    // which would then toggle that terminal instead of starting its own worktree's claude.
    for (const r of [repo.a, repo.b]) {
      await t.cmd('tabnew');
      await claudeCodeFrom(t, `${r}/hello.txt`);
    }
    let seen: unknown = null;
    const all = await waitFor(async () => {
      const list = await t.lua<Snap[]>('return require("claude_worktrees").instances()');
      seen = list;
      return list.length === 2 && list.every((i) => i.connected) ? list : null;
    }, 'two connected', 15_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; instances: ${JSON.stringify(seen)}; notes: ${JSON.stringify(await notesOf(t))}`);
    });
    const a = all.find((i) => i.root === repo.a)!;
    const b = all.find((i) => i.root === repo.b)!;
    expect(await t.lua<string[]>("return vim.fn.getcompletion('ClaudeCodeSendTo proj', 'cmdline')")).toEqual(['proj', 'proj-feat']);

    await t.cmd('stopinsert');
    await t.cmd(`tabnew ${repo.a}/hello.txt`);
    await t.cmd('2ClaudeCodeSendTo proj-feat');
    await waitFor(() => mentionsOf(b.pid!).length === 1, "B's mention");
    // Then B's terminal comes to the front (after the mention): wait for it, or it could take
    // the focus from the next command's file buffer.
    await terminalInFront(t, b.root, "B's terminal shown");
    // Outside B's worktree, the path stays absolute.
    expect(mentionsOf(b.pid!)).toEqual([{ filePath: path.join(repo.a, 'hello.txt'), lineStart: 1, lineEnd: 1 }]);
    expect(mentionsOf(a.pid!)).toEqual([]);

    await t.cmd('stopinsert');
    await t.cmd(`tabnew ${repo.a}/hello.txt`);
    await t.cmd('ClaudeCodeSendTo nope');
    const note = await waitFor(async () => (await notesOf(t)).find((n) => n.includes('nope')), 'the refusal');
    expect(note).toBe("claude-worktrees: :ClaudeCodeSendTo: no instance named 'nope' (see :ClaudeCodeList)");
    expect(mentionsOf(a.pid!)).toEqual([]);
    expect(mentionsOf(b.pid!)).toHaveLength(1);
  }, 60_000);
});
