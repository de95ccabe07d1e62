/**
 * End to end against the REAL Claude Code CLI, offline: the CLI runs under a private tmux
 * server, talks to a scripted fake Messages API (fakeMessagesApi.ts) and to our IdeServer,
 * whose Editor is a FakeEditor. See test/e2e/README.md.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { IdeServer, type ClientInfo } from '../../src/ide/server';
import { FakeEditor, type FakeDiff } from '../helpers/fakeEditor';
import { FakeMessagesApi, say, useTool, type Turn } from './fakeMessagesApi';
import {
  API_KEY, ClaudeCli, isAlive, makeSandbox, type Sandbox, checkPinnedCli, requireClaudeCli, runCleanups,
} from './claudeCli';
import { waitFor as pollFor } from '../helpers/waitFor';

const IDE_NAME = 'claude-worktrees';
const BIN = requireClaudeCli();

jest.setTimeout(90_000);

/** Poll until cond() holds (helpers/waitFor), with detail() in the error on timeout. */
async function waitFor(cond: () => boolean, timeoutMs: number, what: string, detail?: () => Promise<string> | string): Promise<void> {
  try {
    await pollFor(cond, what, timeoutMs, 50);
  } catch (err) {
    const more = detail ? `\n${await detail()}` : '';
    throw new Error(`${(err as Error).message} (after ${timeoutMs} ms)${more}`);
  }
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A git repo with one committed file. */
function makeRepo(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
}

/** Read the file (Edit refuses an unread file), then Edit it, then whatever follows. */
function editScript(file: string, oldString: string, newString: string, ...after: Turn[]): Turn[] {
  return [
    useTool('Read', { file_path: file }),
    useTool('Edit', { file_path: file, old_string: oldString, new_string: newString }, 'Editing the file.'),
    ...after,
  ];
}

/** Everything one claude needs: a fake API, an IdeServer with a FakeEditor, the CLI itself. */
interface Rig {
  api: FakeMessagesApi;
  editor: FakeEditor;
  server: IdeServer;
  cli: ClaudeCli;
  connected: ClientInfo[];
}

const cleanups: Array<() => Promise<void> | void> = [];
let sandbox: Sandbox;

async function startRig(cwd: string, script: Turn[], autoDiff: FakeEditor['autoDiff']): Promise<Rig> {
  const api = await FakeMessagesApi.start({ script });
  cleanups.push(() => api.stop());
  const editor = new FakeEditor();
  editor.autoDiff = autoDiff;
  const server = await IdeServer.start({ workspaceFolder: cwd, ideName: IDE_NAME, editor, lockDir: sandbox.lockDir });
  cleanups.push(() => server.stop());
  const connected: ClientInfo[] = [];
  server.on('ide-connected', (c: ClientInfo) => connected.push(c));
  const cli = await ClaudeCli.start({ bin: BIN!, cwd, sandbox, apiBaseUrl: api.baseUrl, idePort: server.port });
  cleanups.push(() => cli.kill());
  return { api, editor, server, cli, connected };
}

/** On failure, the screen and the API log say more than the assertion. */
async function explain(rig: Rig): Promise<string> {
  return `screen (${rig.cli.attachCommand}):\n${await rig.cli.capture()}\nAPI requests:\n${rig.api.describe()}`;
}

async function waitConnected(rig: Rig): Promise<void> {
  await waitFor(() => rig.connected.length > 0, 20_000, 'ide_connected from claude', () => explain(rig));
}

if (BIN) {
  describe('IDE protocol against the real Claude Code CLI', () => {
    beforeAll(() => {
      checkPinnedCli(BIN);
    });

    beforeEach(() => {
      sandbox = makeSandbox();
      cleanups.push(() => sandbox.cleanup());
    });

    afterEach(() => runCleanups(cleanups));

    test('accepted diff: openDiff reaches the editor, the file changes, getDiagnostics reaches the model, /status shows the IDE', async () => {
      const repo = path.join(sandbox.root, 'repo');
      const file = path.join(repo, 'hello.txt');
      makeRepo(repo, { 'hello.txt': 'hello world\nsecond line\n' });
      const rig = await startRig(repo, editScript(file, 'hello world', 'hello e2e',
        useTool('mcp__ide__getDiagnostics', { uri: `file://${file}` }),
        say('All done with the edit.')), 'accept');
      // Something only the editor knows, so its arrival at the API proves the whole path.
      rig.editor.diagnostics = [{
        uri: `file://${file}`,
        diagnostics: [{
          message: 'e2e-marker: unused greeting', severity: 'Warning', source: 'e2e-lint', code: 'E2E1',
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } },
        }],
      }];

      await waitConnected(rig);
      expect(rig.connected[0].pid).toBe(rig.cli.pid);
      expect(isAlive(rig.cli.pid)).toBe(true);
      expect(rig.server.connected).toBe(true);

      await rig.cli.typePrompt('Please change the greeting in hello.txt');
      await rig.cli.waitForScreen(/All done with the edit\./, 30_000);

      expect(rig.editor.diffs).toHaveLength(1);
      const diff = rig.editor.diffs[0];
      expect(diff.req.oldFilePath).toBe(file);
      expect(diff.req.newFilePath).toBe(file);
      expect(diff.req.newContents).toBe('hello e2e\nsecond line\n');
      expect(diff.req.tabName).toContain('hello.txt');
      expect(fs.readFileSync(file, 'utf8')).toBe('hello e2e\nsecond line\n');

      const edit = rig.api.resultsFor('Edit');
      expect(edit).toHaveLength(1);
      expect(edit[0].isError).toBe(false);
      expect(edit[0].text).not.toMatch(/modified your proposed changes/);
      const diag = rig.api.resultsFor('mcp__ide__getDiagnostics');
      expect(diag).toHaveLength(1);
      expect(diag[0].isError).toBe(false);
      const payload = JSON.parse(diag[0].text) as Array<{ uri: string; diagnostics: Array<{ message: string }> }>;
      expect(payload).toEqual([expect.objectContaining({
        uri: `file://${file}`,
        diagnostics: [expect.objectContaining({ message: 'e2e-marker: unused greeting', severity: 'Warning' })],
      })]);
      expect(rig.api.turnsServed).toEqual([0, 1, 2, 3]);

      await rig.cli.typePrompt('/status');
      await rig.cli.waitForScreen(new RegExp(`IDE:\\s+Connected to ${IDE_NAME} extension`), 10_000);
      await rig.cli.sendKeys('Escape');
    });

    test('rejected diff: the file stays untouched and the turn stops', async () => {
      const repo = path.join(sandbox.root, 'repo');
      const file = path.join(repo, 'hello.txt');
      makeRepo(repo, { 'hello.txt': 'hello world\n' });
      const rig = await startRig(repo, editScript(file, 'hello world', 'hello rejected', say('SHOULD NOT BE SAID')), 'reject');
      await waitConnected(rig);

      await rig.cli.typePrompt('Please change the greeting in hello.txt');
      await waitFor(() => rig.editor.diffs.length === 1, 30_000, 'openDiff', () => explain(rig));
      // The CLI shows the refusal and goes back to its prompt without asking the model again.
      await rig.cli.waitForScreen(/User rejected update to hello\.txt/, 15_000);
      await rig.cli.waitForScreen(/\? for shortcuts/, 10_000);

      expect(rig.editor.diffs[0].settled).toEqual({ kind: 'rejected' });
      expect(fs.readFileSync(file, 'utf8')).toBe('hello world\n');
      expect(git(repo, 'status', '--porcelain')).toBe('');
      expect(rig.api.turnsServed).toEqual([0, 1]);
      expect(await rig.cli.capture()).not.toMatch(/SHOULD NOT BE SAID/);
    });

    test('diff accepted with the user\'s own edits: the file holds the edited text and the model is told', async () => {
      const repo = path.join(sandbox.root, 'repo');
      const file = path.join(repo, 'hello.txt');
      makeRepo(repo, { 'hello.txt': 'hello world\n' });
      const rig = await startRig(repo, editScript(file, 'hello world', 'hello proposal', say('Noted your changes.')), null);
      await waitConnected(rig);

      await rig.cli.typePrompt('Please change the greeting in hello.txt');
      await waitFor(() => rig.editor.diffs.length === 1, 30_000, 'openDiff', () => explain(rig));
      const diff: FakeDiff = rig.editor.diffs[0];
      expect(diff.req.newContents).toBe('hello proposal\n');
      // openDiff blocks: while the editor has not decided, the CLI waits and the file is untouched.
      // The terminal shows its own permission prompt at the same time, naming our ideName.
      const prompt = await rig.cli.waitForScreen(/Do you want to make this edit to hello\.txt\?/, 15_000);
      expect(prompt).toContain(`Opened changes in ${IDE_NAME} ⧉`);
      expect(fs.readFileSync(file, 'utf8')).toBe('hello world\n');
      expect(rig.api.turnsServed).toEqual([0, 1]);

      diff.accept('hello from the user\n');
      await rig.cli.waitForScreen(/Noted your changes\./, 20_000);

      expect(fs.readFileSync(file, 'utf8')).toBe('hello from the user\n');
      const edit = rig.api.resultsFor('Edit');
      expect(edit).toHaveLength(1);
      // 2.1.197 says so without quoting the user's text back to the model.
      expect(edit[0].text).toMatch(/The user modified your proposed changes before accepting them/);
    });

    test('first run: the "use this API key?" question is answered and remembered', async () => {
      sandbox.cleanup();
      sandbox = makeSandbox({ approveApiKey: false });
      cleanups.push(() => sandbox.cleanup());
      const repo = path.join(sandbox.root, 'repo');
      makeRepo(repo, { 'hello.txt': 'hello world\n' });
      const api = await FakeMessagesApi.start({ script: [say('pong')] });
      cleanups.push(() => api.stop());
      const cli = await ClaudeCli.start({ bin: BIN!, cwd: repo, sandbox, apiBaseUrl: api.baseUrl });
      cleanups.push(() => cli.kill());
      expect(cli.dialogsAnswered).toEqual(['api-key']);
      // The CLI saves the answer a moment after the dialog closes.
      const approved = (): unknown[] => {
        try {
          const config = JSON.parse(fs.readFileSync(path.join(sandbox.configDir, '.claude.json'), 'utf8'));
          return config.customApiKeyResponses?.approved ?? [];
        } catch {
          return []; // being rewritten
        }
      };
      await waitFor(() => approved().length === 1, 10_000, 'the API key answer saved in .claude.json');
      expect(approved()).toEqual([API_KEY.slice(-20)]);
      // And the answer was "yes": the key is used.
      await cli.typePrompt('ping');
      await cli.waitForScreen(/pong/, 15_000);
      expect(api.mainRequests).toHaveLength(1);
    });

    test('two worktrees, two servers, two claudes: each claude reaches only its own server', async () => {
      const repo = path.join(sandbox.root, 'repo');
      makeRepo(repo, { 'hello.txt': 'hello world\n' });
      const wtA = path.join(sandbox.root, 'wt-a');
      const wtB = path.join(sandbox.root, 'wt-b');
      git(repo, 'worktree', 'add', '-q', '-b', 'wt-a', wtA);
      git(repo, 'worktree', 'add', '-q', '-b', 'wt-b', wtB);
      const fileA = path.join(wtA, 'hello.txt');
      const fileB = path.join(wtB, 'hello.txt');

      const [a, b] = await Promise.all([
        startRig(wtA, editScript(fileA, 'hello world', 'hello from A', say('A is done.')), 'accept'),
        startRig(wtB, editScript(fileB, 'hello world', 'hello from B', say('B is done.')), 'accept'),
      ]);
      expect(a.server.port).not.toBe(b.server.port);
      // Both lock files sit in the one directory the CLIs read: only the port variable pairs them.
      expect(fs.readdirSync(sandbox.lockDir).filter((n) => n.endsWith('.lock')).sort())
        .toEqual([`${a.server.port}.lock`, `${b.server.port}.lock`].sort());

      await Promise.all([waitConnected(a), waitConnected(b)]);
      expect(a.connected.map((c) => c.pid)).toEqual([a.cli.pid]);
      expect(b.connected.map((c) => c.pid)).toEqual([b.cli.pid]);
      expect(a.cli.pid).not.toBe(b.cli.pid);

      await Promise.all([
        a.cli.typePrompt('Please change the greeting in hello.txt'),
        b.cli.typePrompt('Please change the greeting in hello.txt'),
      ]);
      await Promise.all([
        a.cli.waitForScreen(/A is done\./, 40_000),
        b.cli.waitForScreen(/B is done\./, 40_000),
      ]);

      expect(a.editor.diffs.map((d) => d.req.newFilePath)).toEqual([fileA]);
      expect(b.editor.diffs.map((d) => d.req.newFilePath)).toEqual([fileB]);
      expect(a.editor.diffs[0].req.newContents).toBe('hello from A\n');
      expect(b.editor.diffs[0].req.newContents).toBe('hello from B\n');
      expect(fs.readFileSync(fileA, 'utf8')).toBe('hello from A\n');
      expect(fs.readFileSync(fileB, 'utf8')).toBe('hello from B\n');
      expect(fs.readFileSync(path.join(repo, 'hello.txt'), 'utf8')).toBe('hello world\n');
      // Each server only ever had its own claude on it.
      expect(a.server.clientInfos.map((c) => c.pid)).toEqual([a.cli.pid]);
      expect(b.server.clientInfos.map((c) => c.pid)).toEqual([b.cli.pid]);
    });
  });
}
