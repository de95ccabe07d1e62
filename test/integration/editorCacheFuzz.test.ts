/**
 * Issue 10: the editor-state cache is exact under every kind of edit. Explicit cases (API edit,
 * undo, redo, :e! after an external write, :checktime reload, a BufWritePre formatter, a hidden
 * buffer) must equal Neovim exactly after a state.sync() made right after the change, and API
 * edits (also of hidden buffers) must reach Node without any barrier. Then 1,000 seeded random
 * edits (API, normal mode, typed keys, undo/redo,
 * multibyte text incl. surrogate pairs, diagnostics, hidden buffers), cache compared after each
 * small group. The seed is printed on failure (CW_FUZZ_SEED=<n> reproduces it).
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { makeRepoWithWorktree, nvimBins, openInstanceClient, startNvim, REPO, type TestNvim } from '../helpers/nvim';
import type { McpClient } from '../helpers/mcpClient';
import { waitFor } from '../helpers/waitFor';
import { rmDir } from '../helpers/tmp';
import { fileUri } from '../../src/util/uri';
import { prng } from '../helpers/prng';

const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');
const EDITS = 1000;
const GROUP = 4;

interface TabView { fileName: string; isActive: boolean; isDirty: boolean; languageId: string; lineCount: number; uri: string }
interface FileDiags { uri: string; diagnostics: unknown[] }
interface View { tabs: TabView[]; diags: FileDiags[] }
interface RawTruth { tabs: Array<{ path: string; active: boolean; dirty: boolean; filetype: string; lines: number }> | Record<string, never>; diags: Array<{ path: string; diagnostics: unknown[] }> | Record<string, never> }

const list = <T>(x: T[] | Record<string, never>): T[] => (Array.isArray(x) ? x : []);

function normalize(v: RawTruth): View {
  return {
    tabs: list(v.tabs).map((x) => ({
      fileName: x.path, isActive: x.active, isDirty: x.dirty, languageId: x.filetype || 'plaintext', lineCount: x.lines, uri: fileUri(x.path),
    })).sort((a, b) => a.fileName.localeCompare(b.fileName)),
    diags: list(v.diags).map((d) => ({ uri: fileUri(d.path), diagnostics: d.diagnostics })).sort((a, b) => a.uri.localeCompare(b.uri)),
  };
}

const TRUTH_LUA = `local e = require('claude_worktrees.editor')
  return { tabs = e.open_editors(), diags = e.diagnostics(nil) }`;

// Applies ops (each a kind, a buffer index and random numbers in [0,1)) to the fuzz buffers,
// choosing positions on character boundaries of the current text; then syncs and returns truth.
const FUZZ_LUA = `
local ops, names = ...
local api = vim.api
local ns = api.nvim_create_namespace('cw-fuzz')
local pool = { 'a', 'é', '漢', '😀', 'ab é', 'x漢😀y', '', 'éé😀', '  ' }
local function buf(i) return vim.fn.bufnr(names[i]) end
local function pick(r, n) return math.min(n - 1, math.floor(r * n)) end
local function text(r) return pool[pick(r, #pool) + 1] end
local function bytecol(line, r)
  local n = vim.str_utfindex(line)
  return vim.str_byteindex(line, pick(r, n + 1))
end
for _, op in ipairs(ops) do
  local b, k, r = buf(op.b), op.k, op.r
  local n = api.nvim_buf_line_count(b)
  if k == 'set_lines' then
    local s = pick(r[1], n + 1); local e = math.min(n, s + pick(r[2], 3))
    local new = {}
    for i = 1, pick(r[3], 3) do new[i] = text(r[3 + i]) .. text(r[4 + i]) end
    if n == 1 and s == 0 and e == 1 and #new == 0 then new = { '' } end
    api.nvim_buf_set_lines(b, s, e, false, new)
  elseif k == 'set_text' then
    local row = pick(r[1], n); local line = api.nvim_buf_get_lines(b, row, row + 1, true)[1]
    local c1 = bytecol(line, r[2]); local c2 = math.max(c1, bytecol(line, r[3]))
    api.nvim_buf_set_text(b, row, c1, row, c2, { text(r[4]) })
  elseif k == 'normal' then
    local cmds = { 'x', 'dd', 'o' .. text(r[3]), 'A' .. text(r[3]), 'J', '~', 'I' .. text(r[3]), 'p', 'yyp' }
    api.nvim_buf_call(b, function()
      api.nvim_win_set_cursor(0, { pick(r[1], n) + 1, 0 })
      vim.cmd('silent! normal! ' .. cmds[pick(r[2], #cmds) + 1])
    end)
  elseif k == 'undo' or k == 'redo' then
    api.nvim_buf_call(b, function() vim.cmd('silent! ' .. k) end)
  elseif k == 'typed' then
    if api.nvim_get_current_buf() == b then
      api.nvim_feedkeys(api.nvim_replace_termcodes('A' .. text(r[1]) .. '<Esc>', true, false, true), 'nx', false)
    end
  elseif k == 'switch' then
    api.nvim_set_current_buf(b)
  elseif k == 'diag' then
    local ds = {}
    for i = 1, pick(r[1], 3) do
      local row = pick(r[i + 1], n); local line = api.nvim_buf_get_lines(b, row, row + 1, true)[1]
      local c = bytecol(line, r[i + 2]); local ec = math.max(c, bytecol(line, r[i + 3]))
      ds[i] = { lnum = row, col = c, end_lnum = row, end_col = ec, message = 'm' .. i, severity = 1 + pick(r[i + 4], 4) }
    end
    vim.diagnostic.set(ns, b, ds)
  elseif k == 'write' then
    api.nvim_buf_call(b, function() vim.cmd('silent! write') end)
  end
end
require('claude_worktrees.state').sync()
local e = require('claude_worktrees.editor')
return { tabs = e.open_editors(), diags = e.diagnostics(nil) }`;

const KINDS: Array<[string, number]> = [
  ['set_lines', 20], ['set_text', 20], ['normal', 20], ['undo', 8], ['redo', 5], ['typed', 5], ['switch', 6], ['diag', 12], ['write', 4],
];

function randomOps(rand: () => number, nBufs: number, count: number): Array<{ k: string; b: number; r: number[] }> {
  const total = KINDS.reduce((s, [, w]) => s + w, 0);
  const ops = [];
  for (let i = 0; i < count; i++) {
    let x = rand() * total;
    let k = KINDS[0][0];
    for (const [name, w] of KINDS) { if (x < w) { k = name; break; } x -= w; }
    ops.push({ k, b: 1 + Math.floor(rand() * nBufs), r: Array.from({ length: 10 }, rand) });
  }
  return ops;
}

describe.each(nvimBins())('editor cache exact under every kind of edit (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let client: McpClient;
  const names: string[] = [];

  beforeAll(async () => {
    repo = makeRepoWithWorktree();
    for (const n of ['f1.txt', 'f2.txt', 'f3.txt']) {
      fs.writeFileSync(path.join(repo.a, n), 'héllo wörld\n漢字 😀 x\nplain\n');
      names.push(path.join(repo.a, n));
    }
    t = await startNvim(bin, repo.a, `require("claude_worktrees").setup({ cmd = { "node", ${JSON.stringify(FAKE)} } })`);
    client = await openInstanceClient(t, `${repo.a}/hello.txt`);
    await t.lua(`vim.o.hidden = true; vim.o.autoread = true
      for _, n in ipairs(...) do local b = vim.fn.bufadd(n); vim.fn.bufload(b); vim.bo[b].buflisted = true end`, names);
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await t?.quit();
    rmDir(repo?.base);
  });

  async function cached(): Promise<View> {
    const tabs = (JSON.parse((await client.call('getOpenEditors', {}))[0]).tabs as TabView[])
      .map(({ fileName, isActive, isDirty, languageId, lineCount, uri }) => ({ fileName, isActive, isDirty, languageId, lineCount, uri }))
      .sort((a, b) => a.fileName.localeCompare(b.fileName));
    const diags = (JSON.parse((await client.call('getDiagnostics', {}))[0]) as FileDiags[]).sort((a, b) => a.uri.localeCompare(b.uri));
    return { tabs, diags };
  }

  const truth = async (): Promise<View> => normalize(await t.lua<RawTruth>(TRUTH_LUA));

  /** The change and state.sync() in one call (no main-loop turn between them for an autocmd): cache == Neovim. */
  async function check(what: string, change: string, ...args: unknown[]): Promise<View> {
    await t.lua(`local ns = vim.api.nvim_create_namespace('cw-explicit')\n${change}\nrequire('claude_worktrees.state').sync()`, ...args);
    const want = await truth();
    expect({ what, ...(await cached()) }).toEqual({ what, ...want });
    return want;
  }

  /** The change must reach Node by the change tracking alone, without any barrier. */
  async function pushed(what: string, change: string, ...args: unknown[]): Promise<void> {
    await t.lua(change, ...args);
    const want = await truth();
    await waitFor(async () => isDeepStrictEqual(await cached(), want), `${what}: pushed without a barrier`);
  }

  const DIAG = `vim.diagnostic.set(ns, b, { { lnum = 0, col = #'héllo w', end_col = #'héllo wörld', message = 'd', severity = 1 } })`;
  const col0 = (v: View, file: string): number =>
    (v.diags.find((d) => d.uri === fileUri(file))!.diagnostics[0] as { range: { start: { character: number } } }).range.start.character;

  it('explicit: API edit, undo, redo, :e! after an external write, :checktime, BufWritePre formatter, hidden buffer', async () => {
    const f1 = names[0];
    await t.lua(`vim.cmd('edit ' .. vim.fn.fnameescape(...))`, f1);
    let s = await check('diag', `local b = vim.fn.bufnr(...); ${DIAG}`, f1);
    expect(col0(s, f1)).toBe(7); // byte 8 after 'héllo w'
    s = await check('API edit', `vim.api.nvim_buf_set_lines(vim.fn.bufnr(...), 0, 1, false, { '😀😀héllo wörld', 'new' })`, f1);
    // The diagnostic keeps byte column 8, now just after two emoji: 4 UTF-16 units (surrogate pairs).
    expect(col0(s, f1)).toBe(4);
    expect(s.tabs.find((x) => x.fileName === f1)).toMatchObject({ isDirty: true, lineCount: 4 });
    s = await check('undo', `vim.api.nvim_buf_call(vim.fn.bufnr(...), function() vim.cmd('silent undo') end)`, f1);
    expect(col0(s, f1)).toBe(7);
    expect(s.tabs.find((x) => x.fileName === f1)).toMatchObject({ lineCount: 3 });
    s = await check('redo', `vim.api.nvim_buf_call(vim.fn.bufnr(...), function() vim.cmd('silent redo') end)`, f1);
    expect(col0(s, f1)).toBe(4);
    // Already modified: no BufModifiedSet either (the CI failure of issue 10).
    s = await check('API edit of a modified buffer', `vim.api.nvim_buf_set_lines(vim.fn.bufnr(...), 0, 1, false, { 'abcdefgh wörld' })`, f1);
    expect(col0(s, f1)).toBe(8);
    fs.writeFileSync(f1, '1\n2\n3\n4\n5\n6\n7\n');
    s = await check(':e! after an external write', `vim.cmd('silent edit!')`);
    expect(s.tabs.find((x) => x.fileName === f1)).toMatchObject({ isDirty: false, lineCount: 7 });
    await check('diag again', `local b = vim.fn.bufnr(...); vim.api.nvim_buf_set_lines(b, 0, 1, false, { 'héllo wörld' }); vim.cmd('silent write'); ${DIAG}`, f1);
    fs.writeFileSync(f1, 'é😀héllo wörld\nx\n');
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(f1, future, future); // a different mtime even within one second
    s = await check('external write + :checktime', `vim.cmd('silent checktime')`);
    expect(s.tabs.find((x) => x.fileName === f1)).toMatchObject({ isDirty: false, lineCount: 2 });
    expect(fs.readFileSync(f1, 'utf8')).toBe('é😀héllo wörld\nx\n');
    s = await check('BufWritePre formatter', `vim.api.nvim_create_autocmd('BufWritePre', { buffer = 0, once = true, callback = function(a)
        vim.api.nvim_buf_set_lines(a.buf, 0, 0, false, { '// formatted 漢字', '' }) end })
      vim.cmd('silent write')`);
    expect(s.tabs.find((x) => x.fileName === f1)).toMatchObject({ isDirty: false, lineCount: 4 });
    await pushed('API edit, no barrier', `vim.api.nvim_buf_set_lines(vim.fn.bufnr(...), 0, 0, false, { '😀' })`, f1);
    const f2 = names[1];
    await check('diag on hidden', `local b = vim.fn.bufnr(...); ${DIAG}`, f2);
    s = await check('hidden buffer edited', `vim.api.nvim_buf_set_text(vim.fn.bufnr(...), 0, 0, 0, 0, { '漢😀' })`, f2);
    expect(s.tabs.find((x) => x.fileName === f2)).toMatchObject({ isActive: false, isDirty: true });
    s = await check('hidden buffer normal-mode edit', `vim.api.nvim_buf_call(vim.fn.bufnr(...), function() vim.cmd('normal! ggdd') end)`, f2);
    expect(s.tabs.find((x) => x.fileName === f2)).toMatchObject({ lineCount: 2 });
    await pushed('hidden buffer edited, no barrier', `vim.api.nvim_buf_set_text(vim.fn.bufnr(...), 0, 0, 0, 0, { 'é', '' })`, f2);
  }, 60_000);

  it(`fuzz: ${EDITS} seeded random edits, cache == Neovim after every ${GROUP}`, async () => {
    const seed = Number(process.env.CW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const rand = prng(seed);
    for (let done = 0; done < EDITS; done += GROUP) {
      const ops = randomOps(rand, names.length, GROUP);
      const want = normalize(await t.lua<RawTruth>(FUZZ_LUA, ops, names));
      const got = await cached();
      if (!isDeepStrictEqual(got, want)) {
        throw new Error(`cache differs after edit ${done + GROUP} (CW_FUZZ_SEED=${seed}), last ops ${JSON.stringify(ops)}\n`
          + `cached ${JSON.stringify(got)}\nneovim ${JSON.stringify(want)}`);
      }
    }
    // The buffers really were edited on the way (each set/normal/undo edit bumps b:changedtick).
    const ticks = await t.lua<number>(`local n = 0
      for _, f in ipairs(...) do n = n + vim.api.nvim_buf_get_changedtick(vim.fn.bufnr(f)) end
      return n`, names);
    expect(ticks).toBeGreaterThan(EDITS / 2);
  }, 120_000);
});
