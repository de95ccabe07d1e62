/**
 * Issue 4 in a real Neovim through the real host: status from hooks (played by the test as
 * claude would POST them), attention notifications, :ClaudeCodeNext, the statusline, User
 * events, and reloading buffers claude changed on disk.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CAPTURE_NOTIFY_LUA, notesOf, terminalInFront, lockFiles, makeRepoWithWorktree, nvimBins, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import { postHook } from '../helpers/hooks';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

interface Snap { name: string; root: string; status?: string; waitingFor?: string; unseen?: boolean; sessionId?: string; current?: boolean }

describe.each(nvimBins())('live status, attention, statusline and reloads (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let log: string;
  const hooks = new Map<string, { port: number; token: string }>();

  const frames = () => fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; cwd: string; port?: string; hookToken?: string })
    : [];
  const instances = () => t.lua<Snap[]>(`return require('claude_worktrees').instances()`);
  const inst = async (root: string) => (await instances()).find((i) => i.root === root);
  const notes = () => notesOf(t);
  const hook = (root: string, event: string, extra: Record<string, unknown> = {}) => {
    const h = hooks.get(root)!;
    return postHook(h.port, h.token, { hook_event_name: event, ...extra });
  };

  beforeAll(async () => {
    repo = makeRepoWithWorktree();
    log = path.join(repo.base, 'claude.jsonl');
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} },
      env = { FAKE_CLAUDE_LOG = ${JSON.stringify(log)} }, terminal = { position = 'tab' } }) ${CAPTURE_NOTIFY_LUA}
      _G.cw_events = {}
      vim.api.nvim_create_autocmd('User', { pattern = 'ClaudeWorktrees*', callback = function(a)
        table.insert(_G.cw_events, { match = a.match, data = a.data }) end })`);
    expect(await t.lua(`return require('claude_worktrees').statusline()`)).toBe('');
    for (const [root, file] of [[repo.b, 'hello.txt'], [repo.a, 'hello.txt']]) {
      await t.cmd(`edit ${path.join(root, file)}`);
      await t.cmd('ClaudeCode');
      const start = await waitFor(() => frames().find((f) => f.event === 'start' && f.cwd === root), `claude of ${root}`);
      hooks.set(root, { port: Number(start.port), token: start.hookToken! });
      await t.cmd('stopinsert');
      await t.cmd('tabfirst');
    }
    await waitFor(async () => (await instances()).length === 2, 'two instances');
    // The code tab shows A's file; B's terminal is in a tab of its own: B is out of sight.
    await t.cmd(`edit ${path.join(repo.a, 'hello.txt')}`);
  }, 60_000);

  afterAll(async () => {
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  it('takes each status from hooks, keeps the session id, notifies for the waiting and the hidden', async () => {
    expect(await hook(repo.b, 'SessionStart', { source: 'startup', session_id: 'b-session' })).toBe(200);
    expect(await hook(repo.b, 'UserPromptSubmit', { session_id: 'b-session' })).toBe(200);
    await waitFor(async () => (await inst(repo.b))?.status === 'busy', 'B busy');
    expect((await inst(repo.b))!.sessionId).toBe('b-session');
    expect(await t.lua(`return require('claude_worktrees').statusline({ highlights = false })`)).toBe('proj starting +1 busy');

    await hook(repo.b, 'PermissionRequest', { session_id: 'b-session', tool_name: 'Bash' });
    await waitFor(async () => (await inst(repo.b))?.status === 'waiting', 'B waiting');
    expect((await inst(repo.b))!.waitingFor).toBe('permission');
    await waitFor(async () => (await notes()).some((n) => n.includes('proj-feat is waiting for permission to use a tool')), 'waiting notice');
    expect(await t.lua(`return require('claude_worktrees').statusline({ highlights = false })`)).toBe('proj starting +1 waiting');

    await hook(repo.b, 'PostToolUse', { session_id: 'b-session', tool_name: 'Bash' });
    await hook(repo.b, 'Stop', { session_id: 'b-session', last_assistant_message: '\n\n  Done: tests pass.\u001b[31m\nSecond line' });
    await waitFor(async () => (await inst(repo.b))?.status === 'idle', 'B idle');
    expect((await inst(repo.b))!.unseen).toBe(true);
    // The first line of claude's last message, control characters blanked.
    const done = await waitFor(async () => (await notes()).find((n) => n.includes('proj-feat finished its turn')), 'finished notice (B hidden)');
    expect(done).toBe('claude-worktrees: proj-feat finished its turn (:ClaudeCodeNext): Done: tests pass. [31m');

    // A finishes in plain sight: no notice for it.
    await hook(repo.a, 'UserPromptSubmit');
    await waitFor(async () => (await inst(repo.a))?.status === 'busy', 'A busy');
    await hook(repo.a, 'Stop');
    await waitFor(async () => (await inst(repo.a))?.status === 'idle', 'A idle');
    expect((await notes()).filter((n) => n.includes('proj finished'))).toEqual([]);

    if (!bin.endsWith('nvim') || (await t.lua<number>('return vim.fn.has("nvim-0.8")')) === 1) {
      const evs = await t.lua<Array<{ match: string; data?: { name?: string; status?: string; previous?: string } }>>('return _G.cw_events');
      const changes = evs.filter((e) => e.match === 'ClaudeWorktreesStatusChanged' && e.data?.name === 'proj-feat').map((e) => e.data!.status);
      expect(changes).toEqual(expect.arrayContaining(['busy', 'waiting', 'idle']));
      expect(evs.some((e) => e.match === 'ClaudeWorktreesInstanceStarted')).toBe(true);
    }
  }, 60_000);

  it(':ClaudeCodeNext shows the instance that needs attention and marks its turn seen', async () => {
    expect((await inst(repo.b))!.unseen).toBe(true);
    await t.cmd('ClaudeCodeNext');
    await terminalInFront(t, repo.b, "B's terminal shown");
    await waitFor(async () => (await inst(repo.b))?.unseen === false, 'B seen');
    await t.cmd('stopinsert');
    await t.cmd('tabfirst');
    // A finished with only its file on screen, not its terminal: its turn is unseen too.
    await t.cmd('ClaudeCodeNext');
    await terminalInFront(t, repo.a, "A's terminal shown");
    await waitFor(async () => (await inst(repo.a))?.unseen === false, 'A seen');
    await t.cmd('stopinsert');
    await t.cmd('tabfirst');
    await t.cmd('ClaudeCodeNext');
    await waitFor(async () => (await notes()).some((n) => n.includes('no instance needs attention')), 'nothing to attend');
  }, 30_000);

  it('reloads an unmodified buffer claude changed on disk and keeps a modified one', async () => {
    const clean = path.join(repo.a, 'hello.txt');
    const dirty = path.join(repo.a, 'src/main.ts');
    await t.cmd(`edit ${dirty}`);
    await t.lua(`vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'my unsaved work' })`);
    await t.cmd(`edit ${clean}`);
    // Claude writes both files (e.g. through Bash), then its PostToolUse hook arrives. Their
    // times move on by a few seconds, as a later write would (no sleep for coarse clocks).
    const later = new Date(Date.now() + 5000);
    for (const [file, text] of [[clean, 'changed by claude\n'], [dirty, 'also changed by claude\n']]) {
      fs.writeFileSync(file, text);
      fs.utimesSync(file, later, later);
    }
    await hook(repo.a, 'PostToolUse', { tool_name: 'Bash' });
    const lines = (file: string) => t.lua<string[]>(`return vim.api.nvim_buf_get_lines(vim.fn.bufnr(${JSON.stringify(file)}), 0, -1, false)`);
    await waitFor(async () => (await lines(clean))[0] === 'changed by claude', 'clean buffer reloaded');
    await waitFor(async () => (await notes()).some((n) => n.includes('main.ts changed on disk but its buffer has unsaved changes')), 'user told');
    expect(await lines(dirty)).toEqual(['my unsaved work']);
    expect(await t.lua(`return vim.bo[vim.fn.bufnr(${JSON.stringify(dirty)})].modified`)).toBe(true);
  }, 30_000);
});

describe.each(nvimBins())('statusline from a given state, no Node host (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  beforeAll(async () => {
    repo = makeRepoWithWorktree();
    t = await startNvim(bin, repo.a);
  });
  afterAll(async () => {
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
  });

  it('statusline for 0, 1 and 5 instances in mixed states', async () => {
    const sl = (plain: boolean) => t.lua<string>(`return require('claude_worktrees').statusline(${plain ? '{ highlights = false }' : ''})`);
    const set = (list: unknown[]) => t.lua(`require('claude_worktrees')._set_state({ instances = ... })`, list);
    // The current instance is the one whose worktree holds the current buffer (repo A's file).
    await t.cmd(`edit ${path.join(repo.a, 'hello.txt')}`);
    // No Node host in this Neovim: the state is only what the test sets.
    const mk = (name: string, status: string, extra: Record<string, unknown> = {}) =>
      ({ name, root: extra.current ? repo.a : `/w/${name}`, branch: name, state: 'running', status, connected: true, port: 1, ...extra });
    await set([]);
    expect(await sl(true)).toBe('');
    await set([mk('one', 'busy', { current: true })]);
    expect(await sl(true)).toBe('one busy');
    await set([
      mk('cur', 'waiting', { waitingFor: 'question', current: true }), mk('b', 'busy'), mk('c', 'busy'),
      mk('d', 'idle', { unseen: true }), mk('e', 'waiting', { waitingFor: 'permission' }),
    ]);
    expect(await sl(true)).toBe('cur waiting (question) +1 waiting 2 busy 1 idle');
    const hl = await sl(false);
    expect(hl).toContain('%#ClaudeWorktreesWaiting#1 waiting%*');
    expect(hl).toContain('%#ClaudeWorktreesBusy#2 busy%*');
    expect(hl).toContain('%#ClaudeWorktreesWaiting#waiting (question)%*');
    await set([mk('x', 'idle', { root: '/w/x' }), mk('y', 'exited', { state: 'exited' })]);
    // No instance for this buffer's worktree: a plain label, exited ones not counted.
    expect(await sl(true)).toBe('claude +1 idle');
  }, 30_000);
});
