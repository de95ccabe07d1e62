/**
 * A worktree nested inside another (claude's own .claude/worktrees/x, or a worktree_dir inside
 * the repository) with an instance of its own: the outer claude's tools and selections leave
 * its files alone, and get them back once that instance is gone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { claudeCodeFrom, git, lockFiles, makeRepoWithWorktree, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import { McpClient } from '../helpers/mcpClient';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

describe.each(nvimBins())('a worktree nested in another (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let nested: string;
  let outer: McpClient;
  let inner: McpClient | undefined;

  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    nested = path.join(repo.a, '.claude', 'worktrees', 'n');
    git(repo.a, 'worktree', 'add', '-q', '-b', 'n', nested);
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } })`);
    outer = await openInstanceClient(t, `${repo.a}/hello.txt`);
  });
  afterEach(async () => {
    outer?.close();
    inner?.close();
    await t?.quit();
    rmDir(repo?.base);
  });

  const synced = () => t.lua(`return require('claude_worktrees.state').sync()`);
  const answer = async (c: McpClient, name: string, args: Record<string, unknown> = {}) =>
    JSON.parse((await c.call(name, args))[0]) as Record<string, unknown>;
  const refusal = async (c: McpClient, name: string, args: Record<string, unknown>) => {
    const r = await c.request('tools/call', { name, arguments: args });
    return (r.error as { message?: string } | undefined)?.message ?? `answered ${JSON.stringify(r.result)}`;
  };
  const tabs = async (c: McpClient) => ((await answer(c, 'getOpenEditors')).tabs as Array<{ fileName: string }>).map((x) => x.fileName).sort();

  it("the outer claude's tools refuse the nested worktree's files and do not see its buffers or selections", async () => {
    const innerFile = path.join(nested, 'hello.txt');
    const outerFile = path.join(repo.a, 'hello.txt');
    // Before the nested worktree has an instance, its files are plain files under the outer root.
    expect(await answer(outer, 'checkDocumentDirty', { filePath: innerFile })).toMatchObject({ success: false });

    await claudeCodeFrom(t, innerFile);
    const lock = await waitFor(() => lockFiles(t.lockDir).find((l) => l.body.workspaceFolders[0] === nested), 'the nested lock');
    inner = await McpClient.connect(Number(path.basename(lock.file, '.lock')), lock.body.authToken);
    await synced();

    for (const [tool, args] of [
      ['openDiff', { old_file_path: innerFile, new_file_path: innerFile, new_file_contents: 'x\n', tab_name: 'X' }],
      ['openFile', { filePath: innerFile }],
      ['checkDocumentDirty', { filePath: innerFile }],
      ['saveDocument', { filePath: innerFile }],
      ['getDiagnostics', { uri: `file://${innerFile}` }],
    ] as const) {
      expect(`${tool}: ${await refusal(outer, tool, args)}`).toBe(
        `${tool}: ${tool === 'openDiff' ? 'old_file_path' : tool === 'getDiagnostics' ? 'uri' : 'filePath'} is in another worktree with its own instance, ${nested}: ${innerFile}`);
    }
    expect(fs.readFileSync(innerFile, 'utf8')).toBe('hello\nworld\n');
    // Each lists its own buffers; the cursor is in the nested file: its claude's selection only.
    expect(await tabs(outer)).toEqual([outerFile]);
    expect(await tabs(inner)).toEqual([innerFile]);
    expect(await answer(outer, 'getCurrentSelection')).toMatchObject({ success: false });
    expect(await answer(inner, 'getCurrentSelection')).toMatchObject({ success: true, filePath: innerFile });

    // The nested claude exited (exit 0, /exit: no restart): nothing serves its files, they are the
    // outer worktree's again; and so after :ClaudeCodeKill.
    type Snap = { name: string; root: string; pid: number | null; state: string };
    const snaps = () => t.lua<Snap[]>('return require("claude_worktrees").instances()');
    const n = (await snaps()).find((i) => i.root === nested)!;
    process.kill(n.pid!, 'SIGTERM'); // the fake claude exits 0 on SIGTERM
    await waitFor(async () => (await snaps()).find((i) => i.root === nested)?.state === 'exited', 'the nested claude exited');
    await synced();
    expect(await answer(outer, 'checkDocumentDirty', { filePath: innerFile })).toMatchObject({ success: true, isDirty: false });
    expect(await tabs(outer)).toEqual([innerFile, outerFile].sort());
    expect(await answer(outer, 'getCurrentSelection')).toMatchObject({ success: true, filePath: innerFile });
    await t.cmd(`ClaudeCodeKill ${n.name}`);
    await waitFor(async () => (await snaps()).length === 1, 'one instance left');
    expect(await answer(outer, 'checkDocumentDirty', { filePath: innerFile })).toMatchObject({ success: true, isDirty: false });
  }, 40_000);
});
