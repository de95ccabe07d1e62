/**
 * Issue 11 item 1 with the REAL Claude Code CLI (offline, scripted fake Messages API): the first
 * Neovim starts claude under a session id of the plugin's choosing; after that Neovim quits, the
 * next one's :ClaudeCode resumes that session, and the resumed claude sends the model the earlier
 * conversation. Our status hooks are passed again (resume does not restore them).
 */
import * as fs from 'fs';
import * as path from 'path';
import { nvimBins } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import { makeSandbox, type Sandbox, checkPinnedCli, requireClaudeCli } from './claudeCli';
import { FakeMessagesApi, say } from './fakeMessagesApi';
import { makeRepo, NvimCli, promptRouter, requestText } from './nvimRig';

const BIN = requireClaudeCli();
jest.setTimeout(120_000);

/** argv of a live process (Linux /proc). */
const argvOf = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const after = (argv: string[], flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);

if (BIN) {
  beforeAll(() => checkPinnedCli(BIN));

  describe.each(nvimBins())('a session survives a Neovim restart (real CLI, %s)', (nvimBin) => {
    let sandbox: Sandbox;
    let api: FakeMessagesApi;
    let rig: NvimCli | undefined;

    afterEach(async () => {
      await rig?.stop();
      await api?.stop();
      sandbox?.cleanup();
    });

    test('the next Neovim resumes the worktree session and the model sees the earlier conversation', async () => {
      sandbox = makeSandbox();
      const root = makeRepo(sandbox).a;
      const file = path.join(root, 'hello.txt');
      const router = promptRouter({
        first: [say('Noted: the word is pelican.')],
        second: [say('Resumed: I still know the word.')],
      });
      api = await FakeMessagesApi.start(router);
      const start = () => NvimCli.start({ nvimBin, cliBin: BIN!, cwd: root, sandbox, apiBaseUrl: api.baseUrl, explain: () => api.describe() });

      rig = await start();
      const first = await rig.startClaudeFor(file);
      const id = after(argvOf(first.claudePid!), '--session-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await rig.typePrompt(root, 'Remember the word pelican [[first]]');
      await rig.waitScreen(root, /Noted: the word is pelican\./, 30_000);
      // The CLI's own session is the one we chose, and it has its transcript now.
      await waitFor(async () => (await rig!.waitStatus(root, 'idle')).sessionId === id, 'the session id from the hooks');
      // (The CLI writes the file at start with mode lines only, the conversation follows.)
      await waitFor(() => {
        const dir = path.join(sandbox.configDir, 'projects');
        return fs.existsSync(dir) && fs.readdirSync(dir).map((d) => path.join(dir, d, `${id}.jsonl`))
          .some((f) => fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('Noted: the word is pelican.'));
      }, 'the conversation in the session transcript');
      await rig.stop();

      rig = await start();
      const again = await rig.startClaudeFor(file);
      const argv = argvOf(again.claudePid!);
      expect(after(argv, '--resume')).toBe(id);
      expect(argv).not.toContain('--session-id');
      expect(argv).toContain('--settings');
      await rig.typePrompt(root, 'Which word was it? [[second]]');
      await rig.waitScreen(root, /Resumed: I still know the word\./, 30_000);
      const asked = api.requests.filter((r) => r.kind === 'main' && requestText(r.body).includes('[[second]]'));
      expect(asked.length).toBeGreaterThan(0);
      const text = requestText(asked[0].body);
      expect(text).toContain('Remember the word pelican [[first]]');
      expect(text).toContain('Noted: the word is pelican.');
      // Hooks work in the resumed claude: its turn ends in idle, under the same session.
      const done = await rig.waitStatus(root, 'idle');
      expect(done.sessionId).toBe(id);
    });
  });
}
