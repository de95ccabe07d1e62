/**
 * Issue 4: the instance picker (lua/claude_worktrees/picker.lua, colors.lua and the telescope
 * extension), driven in a real embedded Neovim with a pushed state of five instances whose roots
 * are real git worktrees and whose pids are real processes. No Node host is involved: the picker
 * is pure Lua, and the commands it runs are stubbed to capture their arguments.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { git, makeRepoWithWorktree, nvimBins, startNvim, versionOf, type TestNvim } from '../helpers/nvim';
import { rmDir, tmpDir } from '../helpers/tmp';

interface Entry {
  name: string; root: string; branch: string; port?: number; pid?: number; status: string; waitingFor?: string; unseen?: boolean;
  age?: string; cpu_seconds?: number; cpu_percent?: number; mem_mb?: number; hl: string; status_hl: string;
}

const DARK = ['#e06c75', '#e5a05b', '#e5c07b', '#98c379', '#4ec9b0', '#61afef', '#8f9cf7', '#c678dd', '#f38ba8', '#c8a27c'];
const LIGHT = ['#c0392b', '#b35900', '#8a6d00', '#3c7d22', '#00796b', '#1f6fbf', '#3949ab', '#7b3fb0', '#c2185b', '#8d5524'];

/** The palette index colors.lua must pick: djb2 of the name's bytes, mod 2^32. */
function paletteIndex(name: string): number {
  let h = 5381;
  for (const b of Buffer.from(name, 'utf8')) h = (h * 33 + b) % 4294967296;
  return h % DARK.length;
}

const hex = (n: number) => `#${n.toString(16).padStart(6, '0')}`;

/** A minimal telescope: just what the extension touches, recording what it is given. */
function writeFakeTelescope(dir: string): void {
  const files: Record<string, string> = {
    'telescope/init.lua': `
      local M = { extensions = {} }
      function M.register_extension(mod) _G.fake_tel.registered = mod; return mod end
      function M.load_extension(name)
        local mod = require('telescope._extensions.' .. name)
        M.extensions[name] = mod.exports
        return mod.exports
      end
      return M`,
    'telescope/pickers.lua': `
      return { new = function(opts, spec)
        _G.fake_tel.opts = opts
        _G.fake_tel.spec = spec
        return { find = function()
          _G.fake_tel.found = true
          _G.fake_tel.maps = {}
          spec.attach_mappings(42, function(mode, lhs, fn) _G.fake_tel.maps[mode .. ' ' .. lhs] = fn end)
        end }
      end }`,
    'telescope/finders.lua': `
      return { new_table = function(t) return { results = t.results, entry_maker = t.entry_maker } end }`,
    'telescope/config.lua': `
      return { values = { generic_sorter = function() return { sorter = true } end } }`,
    'telescope/previewers/init.lua': `
      return { new_buffer_previewer = function(spec) return spec end }`,
    'telescope/actions/init.lua': `
      local M = { closed = {} }
      M.select_default = { replace = function(_, fn) _G.fake_tel.default = fn end }
      function M.close(bufnr) table.insert(_G.fake_tel.closed, bufnr) end
      return M`,
    'telescope/actions/state.lua': `
      return { get_selected_entry = function() return _G.fake_tel.selected end }`,
    'telescope/pickers/entry_display.lua': `
      return { create = function(cfg)
        _G.fake_tel.items = cfg.items
        return function(cols)
          local text, hls = {}, {}
          local pos = 0
          for k, c in ipairs(cols) do
            if k > 1 then pos = pos + #cfg.separator end
            text[#text + 1] = c[1]
            if c[2] then hls[#hls + 1] = { { pos, pos + #c[1] }, c[2] } end
            pos = pos + #c[1]
          end
          return table.concat(text, cfg.separator), hls
        end
      end }`,
  };
  for (const [rel, body] of Object.entries(files)) {
    const file = path.join(dir, 'lua', rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
  }
}

describe.each(nvimBins())('the instance picker (%s)', (bin) => {
  let t: TestNvim;
  let repo: ReturnType<typeof makeRepoWithWorktree>;
  let roots: { a: string; b: string; c: string; d: string; e: string };
  let sleeper: cp.ChildProcess;
  let deadPid: number;
  let fakeTel: string;
  const names = ['proj', 'proj-feat', 'proj-fix', 'proj-docs', 'proj#2'];

  const entries = () => t.lua<Entry[]>('return require("claude_worktrees.picker").entries()');
  const loadedTelescope = () => t.lua<string[]>(`
    local out = {}
    for k in pairs(package.loaded) do if k == 'telescope' or k:find('^telescope%.') then out[#out + 1] = k end end
    table.sort(out)
    return out`);
  // Stubs of the plugin's commands, with the same nargs as the real ones, capturing <f-args>.
  const stubCommands = async () => t.lua(`
    _G.captured = {}
    vim.cmd([[command! -nargs=? ClaudeCodeSwitch lua table.insert(_G.captured, { 'switch', <f-args> })]])
    vim.cmd([[command! -nargs=? ClaudeCodeKill lua table.insert(_G.captured, { 'kill', <f-args> })]])
    vim.cmd([[command! -nargs=* ClaudeCodeWorktree lua table.insert(_G.captured, { 'worktree', <f-args> })]])`);

  beforeAll(async () => {
    repo = makeRepoWithWorktree();
    const wt = (branch: string, dir: string) => { git(repo.a, 'worktree', 'add', '-q', '-b', branch, dir); return dir; };
    roots = {
      a: repo.a,
      b: repo.b,
      c: wt('fix', path.join(repo.base, 'proj-fix')),
      d: wt('docs', path.join(repo.base, 'proj-docs')),
      e: wt('wip', path.join(repo.base, 'other', 'proj')),
    };
    // main: an uncommitted change. feat: a commit of its own plus an uncommitted change, while
    // main moves on (must not show up: the base is the merge-base). fix: many files (bounded).
    fs.appendFileSync(path.join(roots.a, 'hello.txt'), 'on main, uncommitted\n');
    fs.writeFileSync(path.join(roots.b, 'feature.ts'), 'export const f = 1;\n');
    git(roots.b, 'add', 'feature.ts');
    git(roots.b, 'commit', '-qm', 'feature');
    fs.appendFileSync(path.join(roots.b, 'src', 'main.ts'), 'export const y = 2;\n');
    fs.writeFileSync(path.join(roots.a, 'later-on-main.txt'), 'x\n');
    git(roots.a, 'add', 'later-on-main.txt');
    git(roots.a, 'commit', '-qm', 'main moves on');
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(roots.c, `gen-${String(i).padStart(3, '0')}.txt`), `${i}\n`);
    git(roots.c, 'add', '.');
    git(roots.c, 'commit', '-qm', 'many');

    sleeper = cp.spawn('sleep', ['600'], { stdio: 'ignore' });
    deadPid = cp.spawnSync('true').pid!;
    fakeTel = tmpDir('cw-faketel-');
    writeFakeTelescope(fakeTel);

    t = await startNvim(bin, repo.a);
    const now = Date.now();
    const inst = (name: string, root: string, branch: string, extra: Record<string, unknown>) => ({
      name, root, branch, port: null, pid: null, claudePid: null, state: 'running', connected: true, exitCode: null,
      startedAt: now, lockPath: '', status: 'idle', waitingFor: null, unseen: false, sessionId: null, statusChangedAt: now, ...extra,
    });
    await t.lua('require("claude_worktrees")._set_state({ instances = ... })', [
      inst('proj', roots.a, 'main', { port: 40001, pid: sleeper.pid, status: 'idle', startedAt: now - 5 * 60_000 - 5_000 }),
      // The jest worker itself: a process with real CPU time to measure.
      inst('proj-feat', roots.b, 'feat', { port: 40002, pid: process.pid, status: 'busy', startedAt: now - 2 * 3_600_000 - 60_000 }),
      // No terminal pid yet, only the one claude reported.
      inst('proj-fix', roots.c, 'fix', { port: 40003, claudePid: sleeper.pid, status: 'waiting', waitingFor: 'permission', unseen: true, startedAt: now - 30_500 }),
      // Exited: its pid may be reused by now, so it gets no CPU/memory even though it is alive.
      inst('proj-docs', roots.d, 'docs', { port: 40004, pid: sleeper.pid, state: 'exited', exitCode: 1, status: 'exited', startedAt: now - 3 * 86_400_000 - 3_600_000 }),
      inst('proj#2', roots.e, 'wip', { pid: deadPid, state: 'starting', connected: false, status: 'unknown', startedAt: null }),
    ]);
  });

  afterAll(async () => {
    await t?.quit(); // idempotent: also removes its root after a crash or an earlier quit
    sleeper?.kill();
    rmDir(repo?.base);
    rmDir(fakeTel);
  });

  it(`runs on ${versionOf(bin)}: setup() and the picker load no telescope module`, async () => {
    expect(await loadedTelescope()).toEqual([]);
    await entries();
    await t.lua('require("claude_worktrees.picker").format(require("claude_worktrees.picker").entries()[1])');
    expect(await loadedTelescope()).toEqual([]);
  });

  it('entries() has one entry per instance: status, port, age, CPU and memory', async () => {
    const before = process.cpuUsage();
    const list = await entries();
    const after = process.cpuUsage();
    expect(list.map((e) => e.name)).toEqual(names);
    expect(list.map((e) => e.status)).toEqual(['idle', 'busy', 'waiting', 'exited', 'unknown']);
    expect(list.map((e) => e.branch)).toEqual(['main', 'feat', 'fix', 'docs', 'wip']);
    expect(list.map((e) => e.port ?? null)).toEqual([40001, 40002, 40003, 40004, null]);
    expect(list[2].waitingFor).toBe('permission');
    expect(list[2].unseen).toBe(true);
    expect(list[0].unseen).toBe(false);
    expect(list[0].age).toBe('5m');
    expect(list[1].age).toBe('2h');
    expect(list[2].age).toMatch(/^[3-5]\ds$/); // 30s ago at the push, plus the time the suite took
    expect(list[3].age).toBe('3d');
    expect(list[4].age).toBeUndefined();

    // The sleeper: resident, idle. Its RSS agrees with what /proc says to Node.
    const rssKb = Number(/VmRSS:\s*(\d+)/.exec(fs.readFileSync(`/proc/${sleeper.pid}/status`, 'utf8'))![1]);
    expect(list[0].mem_mb).toBeCloseTo(rssKb / 1024, 1);
    expect(list[0].cpu_seconds).toBeGreaterThanOrEqual(0);
    expect(list[0].cpu_seconds).toBeLessThan(0.5);
    expect(list[0].cpu_percent).toBeLessThan(5);
    // claudePid is used when the terminal pid is unknown.
    expect(list[2].mem_mb).toBeCloseTo(rssKb / 1024, 1);

    // The jest worker: its CPU time as Lua read it lies within what Node measured around the call
    // (one clock tick of slack each side).
    const secs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
    expect(list[1].cpu_seconds!).toBeGreaterThan(0);
    expect(list[1].cpu_seconds!).toBeGreaterThanOrEqual(secs(before) - 0.02);
    expect(list[1].cpu_seconds!).toBeLessThanOrEqual(secs(after) + 0.02);
    expect(list[1].cpu_percent!).toBeGreaterThan(0);
    expect(list[1].mem_mb!).toBeGreaterThan(10);

    // Exited, and a pid that is gone: no numbers, no error.
    for (const e of [list[3], list[4]]) {
      expect(e.cpu_seconds).toBeUndefined();
      expect(e.cpu_percent).toBeUndefined();
      expect(e.mem_mb).toBeUndefined();
    }
    expect(await t.lua('return vim.tbl_isempty(require("claude_worktrees.picker").proc_stats(...))', deadPid)).toBe(true);
    expect(await t.lua('return vim.tbl_isempty(require("claude_worktrees.picker").proc_stats(nil))')).toBe(true);
  });

  it('format() puts status, name, branch, port, age, cpu and mem on one aligned line', async () => {
    const lines = await t.lua<string[]>(`
      local p = require('claude_worktrees.picker')
      local list = p.entries()
      local w = p.widths(list)
      local out = {}
      for i, e in ipairs(list) do out[i] = p.format(e, w) end
      out[#out + 1] = p.format(list[1])
      list[1].unseen = true
      out[#out + 1] = p.status_text(list[1])
      return out`);
    expect(lines[0]).toMatch(/^○ idle\s+proj\s+main\s+:40001\s+5m\s+cpu \d+\.\ds \d+%\s+mem \d+(\.\d)?MB$/);
    expect(lines[1]).toMatch(/^● busy\s+proj-feat\s+feat\s+:40002\s+2h\s+cpu (\d+\.\ds|\d+m\d\ds) \d+%\s+mem \d+MB$/);
    expect(lines[2]).toMatch(/^▲ waiting \(permission\)\s+proj-fix\s+fix\s+:40003\s+[3-5]\ds\s+cpu /);
    expect(lines[3]).toMatch(/^✕ exited\s+proj-docs\s+docs\s+:40004\s+3d\s+cpu -\s+mem -$/);
    expect(lines[4]).toMatch(/^· starting\s+proj#2\s+wip\s+-\s+-\s+cpu -\s+mem -$/);
    // Aligned: every name starts in the same display column.
    const col = (l: string, name: string) => [...l.slice(0, l.indexOf(`  ${name} `) + 2)].length;
    const cols = names.map((n, i) => col(lines[i], n));
    expect(new Set(cols).size).toBe(1);
    // Without widths: single separators, still every field.
    expect(lines[5]).toMatch(/^○ idle {2}proj {2}main {2}:40001 {2}5m {2}cpu /);
    // Idle with a result not seen yet reads 'done', as in the statusline.
    expect(lines[6]).toBe('○ done');
  });

  it('preview_lines(): the terminal tail, then diff --stat against the merge-base with main', async () => {
    // A terminal buffer for proj-feat: output, then the blank rows a terminal pads with.
    await t.lua(`
      local buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'first', 'Reading src/main.ts', '', 'Edited feature.ts   ', '> ', '', '', '' })
      require('claude_worktrees.terminal').terms[...] = { buf = buf }`, roots.b);
    const preview = (i: number, n?: number) => t.lua<string[]>(
      'local a, n = ...; local e = require("claude_worktrees.picker").entries()[a]; return require("claude_worktrees.picker").preview_lines(e, { lines = n })', i, n ?? null);

    const feat = await preview(2);
    expect(feat[0]).toMatch(/^proj-feat {2}feat {2}● busy$/);
    expect(feat[1]).toBe(roots.b);
    const term = feat.indexOf('terminal:');
    const changes = feat.findIndex((l) => l.startsWith('changes against '));
    expect(feat.slice(term + 1, changes).filter(Boolean)).toEqual(['first', 'Reading src/main.ts', 'Edited feature.ts', '>']);
    const base = git(roots.b, 'merge-base', 'HEAD', 'main').trim();
    expect(feat[changes]).toBe(`changes against main (merge-base ${base.slice(0, 8)}):`);
    const stat = feat.slice(changes + 1).join('\n');
    expect(stat).toMatch(/feature\.ts\s+\|\s+1 \+/);       // committed on feat
    expect(stat).toMatch(/src\/main\.ts\s+\|\s+1 \+/);     // uncommitted on feat
    expect(stat).toContain('2 files changed, 2 insertions(+)');
    expect(stat).not.toContain('later-on-main.txt');       // main's own later commit

    // Only the last n non-empty lines.
    const two = await preview(2, 2);
    expect(two.slice(two.indexOf('terminal:') + 1, two.indexOf('terminal:') + 3)).toEqual(['Edited feature.ts', '>']);

    // The main worktree on the main branch: the uncommitted changes against HEAD. No terminal.
    const main = await preview(1);
    expect(main).toContain('terminal: (none)');
    expect(main).toContain('changes against HEAD (uncommitted):');
    expect(main.join('\n')).toMatch(/hello\.txt\s+\|\s+1 \+/);

    // 100 changed files: bounded, with git's summary line kept.
    const fix = await preview(3);
    const fixStat = fix.slice(fix.findIndex((l) => l.startsWith('changes against ')));
    expect(fixStat.length).toBeLessThanOrEqual(60);
    expect(fixStat.join('\n')).toMatch(/\.\.\. \d+ more/);
    expect(fixStat[fixStat.length - 1]).toContain('100 files changed');

    // A worktree without changes, and a directory that is not in git.
    expect((await preview(4)).slice(-2)).toEqual(['changes against main (merge-base ' + git(roots.d, 'merge-base', 'HEAD', 'main').trim().slice(0, 8) + '):', '  (none)']);
    const plain = tmpDir('cw-plain-');
    try {
      const lines = await t.lua<string[]>('return require("claude_worktrees.picker").diff_stat(...)', plain);
      expect(lines[0]).toMatch(/^changes: \(not a git worktree: /);
    } finally {
      rmDir(plain);
    }
  });

  it('colors: one stable colour per name, overridable, surviving :colorscheme and background', async () => {
    const fg = (name: string) => t.lua<{ group: string; fg: number; again: string }>(`
      local c = require('claude_worktrees.colors')
      local g = c.hl_for(...)
      return { group = g, fg = vim.api.nvim_get_hl_by_name(g, true).foreground, again = c.hl_for(...) }`, name);
    const list = await entries();
    for (const e of list) {
      const r = await fg(e.name);
      expect(e.hl).toBe(r.group);
      expect(r.again).toBe(r.group);
      expect(hex(r.fg)).toBe(DARK[paletteIndex(e.name)]);
    }
    expect(list[1].hl).toBe('ClaudeWorktreesInstance_proj_2dfeat');
    expect(list[4].hl).toBe('ClaudeWorktreesInstance_proj_232');

    // config.colors overrides; removing the override restores the palette colour.
    await t.lua('require("claude_worktrees").config.colors = { ["proj-feat"] = "#123456" }');
    expect(hex((await fg('proj-feat')).fg)).toBe('#123456');
    expect((await entries())[1].hl).toBe('ClaudeWorktreesInstance_proj_2dfeat');
    await t.lua('require("claude_worktrees").config.colors = nil');
    expect(hex((await fg('proj-feat')).fg)).toBe(DARK[paletteIndex('proj-feat')]);

    // :colorscheme clears every group; ours come back. A light background switches palettes.
    await t.lua('require("claude_worktrees").config.colors = { ["proj"] = "#abcdef" }');
    await fg('proj');
    await t.cmd('colorscheme default');
    const probe = (g: string) => t.lua<number | null>('return vim.api.nvim_get_hl_by_name(..., true).foreground', g);
    expect(hex((await probe('ClaudeWorktreesInstance_proj'))!)).toBe('#abcdef');
    expect(hex((await probe('ClaudeWorktreesInstance_proj_2dfeat'))!)).toBe(DARK[paletteIndex('proj-feat')]);
    await t.cmd('set background=light');
    expect(hex((await probe('ClaudeWorktreesInstance_proj_2dfeat'))!)).toBe(LIGHT[paletteIndex('proj-feat')]);
    await t.cmd('set background=dark');
    expect(hex((await probe('ClaudeWorktreesInstance_proj_2dfeat'))!)).toBe(DARK[paletteIndex('proj-feat')]);
    await t.lua('require("claude_worktrees").config.colors = nil');

    // Status groups link to the diagnostic groups by default; a user's definition wins.
    const links = await t.lua<Record<string, boolean>>(`
      local function links(a, b) return vim.fn.execute('highlight ' .. a):match('links to (%S+)') == b end
      local ok = vim.fn.hlexists('DiagnosticOk') == 1 and 'DiagnosticOk' or 'String'
      return { busy = links('ClaudeWorktreesBusy', 'DiagnosticWarn'), waiting = links('ClaudeWorktreesWaiting', 'DiagnosticError'),
        idle = links('ClaudeWorktreesIdle', ok), exited = links('ClaudeWorktreesExited', 'Comment'),
        unknown = links('ClaudeWorktreesUnknown', 'NonText') }`);
    expect(links).toEqual({ busy: true, waiting: true, idle: true, exited: true, unknown: true });
    expect(list.map((e) => e.status_hl)).toEqual(['ClaudeWorktreesIdle', 'ClaudeWorktreesBusy', 'ClaudeWorktreesWaiting', 'ClaudeWorktreesExited', 'ClaudeWorktreesUnknown']);
    await t.cmd('highlight clear ClaudeWorktreesBusy | highlight ClaudeWorktreesBusy guifg=#ff0000');
    await t.lua('require("claude_worktrees.colors").setup()');
    expect(hex((await probe('ClaudeWorktreesBusy'))!)).toBe('#ff0000');
  });

  it('select(): vim.ui.select lists every entry and the choice runs :ClaudeCodeSwitch with the name', async () => {
    await stubCommands();
    const r = await t.lua<{ items: string[]; prompt: string; captured: string[][] }>(`
      local seen = {}
      local orig = vim.ui.select
      vim.ui.select = function(items, opts, on_choice)
        for i, it in ipairs(items) do seen[i] = opts.format_item(it) end
        seen.prompt = opts.prompt
        on_choice(items[5])
      end
      -- pick() without telescope on the runtimepath falls back to select().
      require('claude_worktrees.picker').pick()
      vim.ui.select = orig
      local items = {}
      for i = 1, #seen do items[i] = seen[i] end
      return { items = items, prompt = seen.prompt, captured = _G.captured }`);
    expect(r.items).toHaveLength(5);
    names.forEach((n, i) => expect(r.items[i]).toContain(` ${n} `));
    expect(r.items[2]).toContain('waiting (permission)');
    expect(r.prompt).toBe('Claude instance');
    // The name arrives verbatim ('#' not escaped): the commands take it as one raw argument.
    expect(r.captured).toEqual([['switch', 'proj#2']]);
    expect(await loadedTelescope()).toEqual([]);
  });

  it('kill() asks first unless forced; new_worktree() asks for a branch', async () => {
    await stubCommands();
    const captured = await t.lua<string[][]>(`
      local p = require('claude_worktrees.picker')
      local e = p.entries()[2]
      local asked = {}
      local orig_confirm, orig_input = vim.fn.confirm, vim.ui.input
      local answer = 2
      vim.fn.confirm = function(msg) table.insert(asked, msg); return answer end
      p.kill(e)                      -- answered No
      answer = 1
      p.kill(e)                      -- answered Yes
      p.kill(e, { force = true })    -- not asked
      vim.ui.input = function(opts, cb) table.insert(asked, opts.prompt); cb('  feature-x ') end
      p.new_worktree()
      vim.ui.input = function(_, cb) cb(nil) end
      p.new_worktree()               -- cancelled
      vim.fn.confirm, vim.ui.input = orig_confirm, orig_input
      table.insert(_G.captured, asked)
      return _G.captured`);
    expect(captured).toEqual([
      ['kill', 'proj-feat'],
      ['kill', 'proj-feat'],
      ['worktree', 'add', 'feature-x'],
      ['Kill claude instance proj-feat?', 'Kill claude instance proj-feat?', 'New worktree branch: '],
    ]);
  });

  it('the telescope extension loads lazily, lists the entries and wires the actions', async () => {
    await stubCommands();
    await t.lua('vim.opt.runtimepath:append(...); _G.fake_tel = { closed = {} }', fakeTel);
    // Loading the extension only needs telescope itself; the picker modules come when it opens.
    await t.lua('require("telescope").load_extension("claude_worktrees")');
    expect(await loadedTelescope()).toEqual(['telescope', 'telescope._extensions.claude_worktrees']);
    expect(await t.lua('return type(_G.fake_tel.registered.exports.claude_worktrees)')).toBe('function');

    // pick() prefers telescope now that it is installed.
    const r = await t.lua<{
      found: boolean; results: string[]; ordinals: string[]; displays: Array<{ text: string; hls: Array<[[number, number], string]> }>;
      maps: string[]; widths: number; preview: string[]; expected: string[]; sorter: boolean;
    }>(`
      local p = require('claude_worktrees.picker')
      p.pick()
      local ft = _G.fake_tel
      local out = { found = ft.found, results = {}, ordinals = {}, displays = {}, maps = {}, sorter = ft.spec.sorter.sorter }
      ft.made = {}
      for i, e in ipairs(ft.spec.finder.results) do
        local made = ft.spec.finder.entry_maker(e)
        ft.made[i] = made
        out.results[i] = made.value.name
        out.ordinals[i] = made.ordinal
        local text, hls = made.display(made)
        out.displays[i] = { text = text, hls = hls }
      end
      for k in pairs(ft.maps) do table.insert(out.maps, k) end
      table.sort(out.maps)
      out.widths = #ft.items
      local buf = vim.api.nvim_create_buf(false, true)
      ft.spec.previewer.define_preview({ state = { bufnr = buf } }, ft.made[2], {})
      out.preview = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
      out.expected = p.preview_lines(ft.made[2].value)
      return out`);
    expect(r.found).toBe(true);
    expect(r.sorter).toBe(true);
    expect(r.results).toEqual(names);
    expect(r.ordinals[1]).toContain('proj-feat feat busy');
    expect(r.widths).toBe(7);
    expect(r.displays[1].text).toMatch(/^● busy {2}proj-feat {2}feat {2}:40002 {2}2h {2}cpu /);
    // The status column in its status group, the name in the instance's colour.
    expect(r.displays[1].hls.map((h) => h[1])).toEqual(['ClaudeWorktreesBusy', 'ClaudeWorktreesInstance_proj_2dfeat']);
    const [[s, e]] = r.displays[1].hls[1];
    expect(Buffer.from(r.displays[1].text).subarray(s, e).toString()).toBe('proj-feat');
    expect(r.preview).toEqual(r.expected);
    expect(r.preview.join('\n')).toContain('feature.ts');
    expect(r.maps).toEqual(['i <C-n>', 'i <C-x>', 'n <C-n>', 'n <C-x>']);
    expect(await loadedTelescope()).toEqual(expect.arrayContaining(['telescope.pickers', 'telescope.finders', 'telescope.previewers']));

    // Default action: close, then switch. <C-x>: close, confirm, kill. <C-n>: close, ask, add.
    const captured = await t.lua<{ captured: string[][]; closed: number[] }>(`
      local ft = _G.fake_tel
      local orig_confirm, orig_input = vim.fn.confirm, vim.ui.input
      vim.fn.confirm = function() return 1 end
      vim.ui.input = function(_, cb) cb('feature-y') end
      ft.selected = ft.made[5]
      ft.default(42)
      ft.selected = ft.made[3]
      ft.maps['i <C-x>'](42)
      ft.maps['n <C-n>'](42)
      vim.fn.confirm, vim.ui.input = orig_confirm, orig_input
      return { captured = _G.captured, closed = ft.closed }`);
    expect(captured.captured).toEqual([['switch', 'proj#2'], ['kill', 'proj-fix'], ['worktree', 'add', 'feature-y']]);
    expect(captured.closed).toEqual([42, 42, 42]);
  });
});
