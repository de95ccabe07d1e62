/** Issue 11 item 5: thousands of LSP warnings never stall claude: at most 500, the most severe first. */
import * as path from 'path';
import { makeRepoWithWorktree, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import type { McpClient } from '../helpers/mcpClient';
import { rmDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
interface Diag { severity: string; range: { start: { line: number } } }

describe.each(nvimBins())('getDiagnostics cap (%s)', (bin) => {
  let t: TestNvim;
  let client: McpClient;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  beforeEach(async () => {
    repo = makeRepoWithWorktree();
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } })`);
    client = await openInstanceClient(t, `${repo.a}/hello.txt`);
  });
  afterEach(async () => {
    client?.close();
    await t?.quit();
    rmDir(repo?.base);
  });

  it('3,000 warnings and 3 errors: 500 answered, every error kept, for one file and for the sweep', async () => {
    const hello = path.join(repo.a, 'hello.txt');
    await t.lua(`local ns = vim.api.nvim_create_namespace('cw-cap')
      local d = {}
      for i = 1, 3000 do d[#d + 1] = { lnum = 0, col = 0, message = 'w' .. i, severity = vim.diagnostic.severity.WARN } end
      for i = 1, 3 do d[#d + 1] = { lnum = 1, col = 0, message = 'e' .. i, severity = vim.diagnostic.severity.ERROR } end
      vim.diagnostic.set(ns, vim.fn.bufnr(...), d)`, hello);
    const one = await waitFor(async () => {
      const r = JSON.parse((await client.call('getDiagnostics', { uri: `file://${hello}` }))[0]) as Array<{ diagnostics: Diag[] }>;
      return r.length === 1 && r[0].diagnostics.length === 500 ? r : null;
    }, 'the capped answer');
    const sev = one[0].diagnostics.map((x) => x.severity);
    expect(sev.filter((s) => s === 'Error')).toHaveLength(3);
    expect(sev.filter((s) => s === 'Warning')).toHaveLength(497);
    const sweep = JSON.parse((await client.call('getDiagnostics', {}))[0]) as Array<{ diagnostics: Diag[] }>;
    expect(sweep.flatMap((f) => f.diagnostics)).toHaveLength(500);
    expect(sweep.flatMap((f) => f.diagnostics).filter((x) => x.severity === 'Error')).toHaveLength(3);
  }, 30_000);
});
