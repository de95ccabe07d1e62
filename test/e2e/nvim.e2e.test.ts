/**
 * End to end in a REAL Neovim with the REAL Claude Code CLI (issue 3): `nvim --embed` loads the
 * plugin through the real Node remote-plugin host, `:ClaudeCode` runs the pinned CLI in the
 * plugin's own terminal, and the CLI's model is the scripted fake Messages API (offline). The
 * CLI's screen is read from the terminal buffer. Rig: nvimRig.ts; see test/e2e/README.md.
 *
 * Each describe shares one Neovim (and its CLIs) between its tests: starting the CLI is the
 * expensive part, and every prompt picks its own script (promptRouter), whatever came before.
 */
import * as fs from 'fs';
import * as path from 'path';
import { git, lockFiles, nvimBins, versionOf } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import {
  makeSandbox, type Sandbox, checkPinnedCli, requireClaudeCli,
} from './claudeCli';
import { FakeMessagesApi, say, useTool, type Turn } from './fakeMessagesApi';
import { makeRepo, NvimCli, promptRouter, removeManifests, requestText, type RecordMark, type Snap, type StatusRecord } from './nvimRig';

const BIN = requireClaudeCli();

jest.setTimeout(90_000);

/** Read the file (Edit refuses an unread file), Edit it, then whatever follows. */
function editScript(file: string, oldString: string, newString: string, ...after: Turn[]): Turn[] {
  return [
    useTool('Read', { file_path: file }),
    useTool('Edit', { file_path: file, old_string: oldString, new_string: newString }, 'Editing the file.'),
    ...after,
  ];
}

const read = (file: string): string => fs.readFileSync(file, 'utf8');

/** Claude's transcripts (CLAUDE_CONFIG_DIR/projects/<project>/<session id>.jsonl) that contain `text`. */
function transcriptsWith(sandbox: Sandbox, text: string): string[] {
  const projects = path.join(sandbox.configDir, 'projects');
  if (!fs.existsSync(projects)) return [];
  return fs.readdirSync(projects)
    .flatMap((d) => fs.readdirSync(path.join(projects, d)).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(projects, d, f)))
    .filter((f) => read(f).includes(text));
}

/** `User ClaudeWorktreesStatusChanged` carries its data from Neovim 0.8 on. */
const hasEventData = async (rig: NvimCli): Promise<boolean> => (await rig.lua<number>('return vim.fn.has("nvim-0.8")')) === 1;

/** One variable of a live process's environment (Linux /proc). */
function envOf(pid: number, name: string): string | undefined {
  const entry = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((kv) => kv.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

if (BIN) {
  beforeAll(() => {
    checkPinnedCli(BIN);
  });

  afterAll(() => removeManifests());

  describe.each(nvimBins())('the real Claude Code CLI in the plugin\'s terminal (%s)', (nvimBin) => {
    const version = versionOf(nvimBin);

    describe(`one worktree, Neovim ${version}`, () => {
      let sandbox: Sandbox;
      let router: ReturnType<typeof promptRouter>;
      let api: FakeMessagesApi;
      let rig: NvimCli;
      let root: string;
      let file: string;

      beforeAll(async () => {
        sandbox = makeSandbox();
        root = makeRepo(sandbox).a;
        file = path.join(root, 'hello.txt');
        router = promptRouter({
          accept: editScript(file, 'hello', 'hello accepted', say('The accepted edit is done.')),
          deny: editScript(file, 'world', 'denied world', say('SHOULD NOT BE SAID')),
          select: [say('I can see your selection.')],
          // Bash is not pre-allowed in the sandbox's settings: the CLI asks for permission.
          status: [useTool('Bash', { command: 'touch made-by-claude.txt', description: 'Create a file' }), say('The file is made.')],
        });
        api = await FakeMessagesApi.start(router);
        rig = await NvimCli.start({ nvimBin, cliBin: BIN, cwd: root, sandbox, apiBaseUrl: api.baseUrl, explain: () => api.describe() });
        const snap = await rig.startClaudeFor(file);
        expect(snap.claudePid).toBe(snap.pid);
      });

      afterAll(async () => {
        await rig?.stop();
        await api?.stop();
        sandbox?.cleanup();
      });

      /** The lines of the file's own buffer in Neovim. */
      const bufferLines = (): Promise<string[]> =>
        rig.lua<string[]>('return vim.api.nvim_buf_get_lines(vim.fn.bufnr(...), 0, -1, false)', file);

      test('the model edits a file: the diff shows in Neovim, :ClaudeCodeDiffAccept lands it on disk', async () => {
        await rig.typePrompt(root, 'Please change the greeting [[accept]]');
        const d = await rig.waitDiff(root);
        expect(d).toMatchObject({
          key: root, file, old: ['hello', 'world'], new: ['hello accepted', 'world'], old_diff: true, new_diff: true,
        });
        expect(d.tab_name).toContain('hello.txt');
        // The CLI waits for Neovim's answer, names the instance's IDE, and the file is untouched.
        const prompt = await rig.waitScreen(root, /Do you want to make this edit to hello\.txt\?/);
        expect(prompt).toContain('Opened changes in Neovim (proj@main) ⧉');
        expect(read(file)).toBe('hello\nworld\n');

        await rig.inDiff(d.win_new, 'ClaudeCodeDiffAccept');
        await rig.waitScreen(root, /The accepted edit is done\./, 20_000);
        expect(read(file)).toBe('hello accepted\nworld\n');
        expect(await rig.diffs()).toEqual([]);
        const edit = api.resultsFor('Edit');
        expect(edit).toHaveLength(1);
        expect(edit[0].isError).toBe(false);
        // The file's buffer is reloaded once the CLI has written it.
        await waitFor(async () => (await bufferLines())[0] === 'hello accepted', 'the buffer reloaded', 10_000);
      });

      test('a denied diff: :ClaudeCodeDiffDeny leaves the file unchanged and the CLI shows the rejection', async () => {
        const before = read(file);
        await rig.typePrompt(root, 'Please change the second line [[deny]]');
        const d = await rig.waitDiff(root);
        expect(d).toMatchObject({ key: root, file, new: [before.split('\n')[0], 'denied world'] });
        await rig.waitScreen(root, /Do you want to make this edit to hello\.txt\?/);

        await rig.inDiff(d.win_new, 'ClaudeCodeDiffDeny');
        await rig.waitScreen(root, /User rejected update to hello\.txt/, 15_000);
        await rig.waitScreen(root, /\? for shortcuts/, 10_000);
        expect(await rig.diffs()).toEqual([]);
        expect(read(file)).toBe(before);
        expect(await bufferLines()).toEqual(before.replace(/\n$/, '').split('\n'));
        // The turn stopped there: the model was not asked again.
        expect(router.served.filter((s) => s.key === 'deny').map((s) => s.step)).toEqual([0, 1]);
        expect(await rig.screen(root)).not.toMatch(/SHOULD NOT BE SAID/);
      });

      test('a visual selection in Neovim shows in the CLI and reaches the model with the next prompt', async () => {
        const [l1, l2] = read(file).split('\n');
        await rig.focusFile(file);
        await rig.nvim.input('ggVj');
        // 2.1.197 shows it under its prompt box: "⧉ 2 lines selected".
        await rig.waitScreen(root, /⧉ 2 lines selected/, 10_000);
        // Typed while the selection is still up in Neovim.
        await rig.typePrompt(root, 'What did I select? [[select]]');
        const screen = await rig.waitScreen(root, /I can see your selection\./, 20_000);
        expect(screen).toContain('⧉ Selected 2 lines from hello.txt in Neovim (proj@main)');
        const req = api.mainRequests[api.mainRequests.length - 1];
        expect(router.served[router.served.length - 1]).toMatchObject({ key: 'select', step: 0 });
        expect(requestText(req.body)).toContain(`The user selected the lines 1 to 2 from ${file}:\n${l1}\n${l2}\n`);

        // Leaving visual mode empties the selection: the CLI is back to naming the open file.
        await rig.nvim.input('<Esc>');
        await rig.waitScreen(root, /⧉ In hello\.txt/, 10_000);
      });

      test('status from the CLI\'s hooks: busy, waiting for permission, approved in the terminal, idle; the session id is the CLI\'s', async () => {
        const made = path.join(root, 'made-by-claude.txt');
        await rig.recordStatus();
        // At its prompt: SessionStart (or the turn of a test before) said so, with the session id.
        const before = await rig.waitStatus(root, 'idle');
        const mark = await rig.recordMark();

        await rig.typePrompt(root, 'Please create the file [[status]]');
        const waiting = await rig.waitStatus(root, 'waiting', 'permission');
        await rig.waitScreen(root, /Do you want to proceed\?/);
        expect(fs.existsSync(made)).toBe(false);
        expect(waiting.sessionId).toBe(before.sessionId);

        await rig.send(root, '\r'); // "❯ 1. Yes"
        await rig.waitScreen(root, /The file is made\./, 20_000);
        const done = await rig.waitStatus(root, 'idle');
        expect(fs.existsSync(made)).toBe(true);
        expect(done.waitingFor).toBeUndefined();

        // Every status Neovim was pushed, in order (the approved Bash ran busy again before Stop).
        const rec = await rig.statusRecord(mark);
        expect(NvimCli.statusTrail(rec, root)).toEqual(['busy', 'waiting/permission', 'busy', 'idle']);
        // The User autocmd fired once per status change, with what changed where it can say so.
        if (await hasEventData(rig)) {
          expect(rec.events).toEqual([['idle', 'busy'], ['busy', 'waiting'], ['waiting', 'busy'], ['busy', 'idle']]
            .map(([previous, status]) => ({ root, name: 'proj', previous, status })));
        } else {
          expect(rec.events).toEqual(Array(4).fill({ nodata: true }));
        }
        // The permission prompt is announced even in plain sight; the finished turn, on screen, is not.
        expect(rec.attention).toEqual([
          { name: 'proj', root, status: 'waiting', waiting_for: 'permission', last_message: '', raised: true },
          { name: 'proj', root, status: 'idle', waiting_for: '', last_message: expect.any(String), raised: false },
        ]);
        expect(rec.notes).toEqual(['claude-worktrees: proj is waiting for permission to use a tool (:ClaudeCodeNext)']);

        // The session id Neovim shows is the CLI's own: its transcript of this prompt is named after it.
        expect(done.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(done.sessionId).toBe(before.sessionId);
        const transcripts = await waitFor(() => {
          const t = transcriptsWith(sandbox, 'Please create the file [[status]]');
          return t.length ? t : null;
        }, 'the transcript of the prompt', 10_000);
        expect(transcripts.map((f) => path.basename(f))).toEqual([`${done.sessionId}.jsonl`]);
      });
    });

    describe(`two worktrees, two CLIs in one Neovim, Neovim ${version}`, () => {
      let sandbox: Sandbox;
      let router: ReturnType<typeof promptRouter>;
      let api: FakeMessagesApi;
      let rig: NvimCli;
      let repo: { a: string; b: string };

      beforeAll(async () => {
        sandbox = makeSandbox();
        repo = makeRepo(sandbox, true);
        // One fake API for both CLIs (the plugin's `env` is global): each prompt picks its script.
        router = promptRouter({
          'edit-b': editScript(path.join(repo.b, 'hello.txt'), 'hello', 'hello from B', say('B is done.')),
          'hello-a': [say('A is here.')],
          'done-b': [say('B finished out of sight.')],
          'done-a': [say('A finished in sight.')],
        });
        api = await FakeMessagesApi.start(router);
        rig = await NvimCli.start({
          nvimBin, cliBin: BIN, cwd: repo.a, sandbox, apiBaseUrl: api.baseUrl, cols: 240, termCols: 80, explain: () => api.describe(),
        });
      });

      afterAll(async () => {
        await rig?.stop();
        await api?.stop();
        sandbox?.cleanup();
      });

      test('each CLI is paired with its own instance; an edit in B shows B\'s diff and never reaches A', async () => {
        const fileA = path.join(repo.a, 'hello.txt');
        const fileB = path.join(repo.b, 'hello.txt');
        await rig.startClaudeFor(fileA);
        await rig.startClaudeFor(fileB);
        const all = await rig.instances();
        expect(all.map((i) => i.root).sort()).toEqual([repo.a, repo.b].sort());
        const a = all.find((i) => i.root === repo.a) as Snap;
        const b = all.find((i) => i.root === repo.b) as Snap;
        expect([a.branch, b.branch]).toEqual(['main', 'feat']);
        expect(a.port).not.toBe(b.port);
        expect(a.pid).not.toBe(b.pid);
        // The pid that sent ide_connected on each server is the CLI in that worktree's terminal,
        for (const i of [a, b]) {
          expect(i.connected).toBe(true);
          expect(i.claudePid).toBe(i.pid);
          // started in that worktree and pointed at that instance's port.
          expect(fs.realpathSync(`/proc/${i.pid}/cwd`)).toBe(i.root);
          expect(envOf(i.pid!, 'CLAUDE_CODE_SSE_PORT')).toBe(String(i.port));
        }
        // Two lock files in the one directory both CLIs read, one per worktree.
        const locks = lockFiles(sandbox.lockDir);
        expect(locks.map((l) => l.file).sort()).toEqual([a.lockPath, b.lockPath].sort());
        for (const i of [a, b]) {
          const lock = locks.find((l) => l.file === path.join(sandbox.lockDir, `${i.port}.lock`))!;
          expect(lock.body.workspaceFolders).toEqual([i.root]);
        }
        expect(locks.find((l) => l.file === b.lockPath)!.body.ideName).toBe('Neovim (proj-feat@feat)');

        // Record every diff that reaches Neovim, and for which instance.
        await rig.lua(`local diff = require('claude_worktrees.diff')
          _G.cw_test_diff_keys = {}
          local open = diff.open
          diff.open = function(spec) table.insert(_G.cw_test_diff_keys, spec.key) return open(spec) end`);

        await Promise.all([
          rig.typePrompt(repo.b, 'Please change the greeting [[edit-b]]'),
          rig.typePrompt(repo.a, 'Say hello [[hello-a]]'),
        ]);
        const d = await rig.waitDiff(repo.b);
        expect(d).toMatchObject({ key: repo.b, file: fileB, old: ['hello', 'world'], new: ['hello from B', 'world'] });
        const promptB = await rig.waitScreen(repo.b, /Do you want to make this edit to hello\.txt\?/);
        expect(promptB).toContain('Opened changes in Neovim (proj-feat@feat) ⧉');
        await rig.waitScreen(repo.a, /A is here\./, 20_000);

        await rig.inDiff(d.win_new, 'ClaudeCodeDiffAccept');
        await rig.waitScreen(repo.b, /B is done\./, 20_000);
        expect(read(fileB)).toBe('hello from B\nworld\n');
        expect(read(fileA)).toBe('hello\nworld\n');
        expect(git(repo.a, 'status', '--porcelain')).toBe('');
        expect(await rig.lua('return _G.cw_test_diff_keys')).toEqual([repo.b]);
        const screenA = await rig.screen(repo.a, true);
        expect(screenA).not.toMatch(/Do you want to make this edit|Opened changes|hello from B/);
        // Each conversation ran in its own CLI (the system prompt names the working directory).
        expect(router.served.filter((s) => s.key === 'edit-b').map((s) => [s.step, s.cwd]))
          .toEqual([[0, repo.b], [1, repo.b], [2, repo.b]]);
        expect(router.served.filter((s) => s.key === 'hello-a').map((s) => [s.step, s.cwd])).toEqual([[0, repo.a]]);

        // Selections stay apart too: one line in B, two in A; neither CLI sees the other's.
        await rig.focusFile(fileB);
        await rig.nvim.input('ggV');
        await rig.waitScreen(repo.b, /⧉ 1 line selected/, 10_000);
        await rig.nvim.input('<Esc>');
        await rig.waitScreen(repo.b, /⧉ In hello\.txt/, 10_000);
        await rig.focusFile(fileA);
        await rig.nvim.input('ggVj');
        await rig.waitScreen(repo.a, /⧉ 2 lines selected/, 10_000);
        expect(await rig.screen(repo.a)).not.toMatch(/1 line selected/);
        expect(await rig.screen(repo.b)).not.toMatch(/2 lines selected/);
        await rig.nvim.input('<Esc>');
      });

      test('a turn that finishes out of sight (B\'s terminal hidden) is announced; one in plain sight (A) is not', async () => {
        const fileA = path.join(repo.a, 'hello.txt');
        const fileB = path.join(repo.b, 'hello.txt');
        // Started by the test before; started here when this test runs alone.
        for (const [r, f] of [[repo.a, fileA], [repo.b, fileB]]) {
          if (!(await rig.instances()).some((i) => i.root === r)) await rig.startClaudeFor(f);
        }
        await rig.recordStatus();
        await rig.waitStatus(repo.a, 'idle');
        await rig.waitStatus(repo.b, 'idle');

        const windows = (): Promise<string[]> => rig.lua<string[]>(`local out = {}
          for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
            local b = vim.api.nvim_win_get_buf(w)
            local root = vim.b[b].claude_worktrees_root
            table.insert(out, root and ('terminal of ' .. root) or vim.api.nvim_buf_get_name(b))
          end
          return out`);
        /** Wait until `root`'s pushed statuses since `mark` went busy, then idle. */
        const waitTurn = async (root: string, mark: RecordMark): Promise<StatusRecord> => {
          let rec: StatusRecord | null = null;
          try {
            return await waitFor(async () => {
              rec = await rig.statusRecord(mark);
              return NvimCli.statusTrail(rec, root).join(' ') === 'busy idle' ? rec : null;
            }, `a turn of ${root} (busy, then idle)`, 20_000, 50);
          } catch (err) {
            throw new Error(`${(err as Error).message}\nrecord: ${JSON.stringify(rec)}\n${await rig.explain(root)}`);
          }
        };
        const mark = await rig.recordMark();

        // B's prompt is typed while its terminal is on screen (Neovim 0.7 does not keep a hidden
        // terminal's buffer current), then :ClaudeCode from B's file toggles B's terminal away,
        // the code window shows A's file, and the prompt is submitted: B works out of sight.
        await rig.focusFile(fileA);
        await rig.typeText(repo.b, 'Work while I look elsewhere [[done-b]]');
        await rig.focusFile(fileB);
        await rig.cmd('ClaudeCode');
        await waitFor(async () => !(await windows()).includes(`terminal of ${repo.b}`), "B's terminal window closed", 10_000);
        await rig.focusFile(fileA);
        expect((await windows()).sort()).toEqual([fileA, `terminal of ${repo.a}`].sort());
        await rig.send(repo.b, '\r');
        await waitTurn(repo.b, mark);
        // The notice carries the first line of claude's last message (the Stop hook's last_assistant_message).
        expect((await rig.statusRecord(mark)).notes).toEqual(['claude-worktrees: proj-feat finished its turn (:ClaudeCodeNext): B finished out of sight.']);
        expect((await rig.instances()).find((i) => i.root === repo.b)).toMatchObject({ status: 'idle', unseen: true });

        // As the notice says, :ClaudeCodeNext brings B's terminal back, with the finished turn.
        await rig.cmd('ClaudeCodeNext');
        await waitFor(async () => (await windows()).includes(`terminal of ${repo.b}`), "B's terminal shown again", 10_000);
        await rig.waitScreen(repo.b, /B finished out of sight\./, 10_000);
        await waitFor(async () => (await rig.instances()).find((i) => i.root === repo.b)?.unseen === false, "B's turn seen", 10_000);

        // A's turn, with A's terminal (and file) on screen.
        await rig.focusFile(fileA);
        const markA = await rig.recordMark();
        await rig.typePrompt(repo.a, 'Work while I watch [[done-a]]');
        await rig.waitScreen(repo.a, /A finished in sight\./, 20_000);
        await waitTurn(repo.a, markA);

        // Node asks Lua before it pushes the state that shows the turn over: both answers are in.
        const rec = await rig.statusRecord(mark);
        expect(rec.attention).toEqual([
          { name: 'proj-feat', root: repo.b, status: 'idle', waiting_for: '', last_message: 'B finished out of sight.', raised: true },
          { name: 'proj', root: repo.a, status: 'idle', waiting_for: '', last_message: 'A finished in sight.', raised: false },
        ]);
        expect(rec.notes).toEqual(['claude-worktrees: proj-feat finished its turn (:ClaudeCodeNext): B finished out of sight.']);
        expect(NvimCli.statusTrail(rec, repo.b)).toEqual(['busy', 'idle']);
        if (await hasEventData(rig)) {
          expect(rec.events.map((e) => `${e.name}: ${e.previous} -> ${e.status}`)).toEqual([
            'proj-feat: idle -> busy', 'proj-feat: busy -> idle', 'proj: idle -> busy', 'proj: busy -> idle',
          ]);
        }
      });
    });
  });
}
