'use strict';
// Issue 3 and 5 figures measured on the plugin as users run it (real Neovim, real host, real
// IDE server): tool calls answered from the Node-side editor state, openDiff of 1 MiB,
// selection tracking per cursor move, memory per instance, :ClaudeCodeList with 50 instances,
// :ClaudeCode to a listening server with its lock file. Methods: bench/README.md.
const fs = require('fs');
const path = require('path');
const { startPluginNvim, makeRepo, until, IdClient, leaveTerminal } = require('./pluginNvim');
const { connect, SeqClient } = require('./wsClient');
const { summarize } = require('./stats');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

const FILLER = " Argument of type 'string | undefined' is not assignable to parameter of type 'string'.";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** 20 listed buffers, 200 diagnostics over 10 of them (message length tunes the reply to ~46 KB). */
async function loadEditorShape(p, root, msgLen) {
  const files = Array.from({ length: 20 }, (_, i) => path.join(root, `src/module${i}/file${i}.ts`));
  await p.lua(`
    local files, msg_len, filler = ...
    for _, f in ipairs(files) do vim.cmd('edit ' .. vim.fn.fnameescape(f)) end
    local ns = vim.api.nvim_create_namespace('bench')
    local sev = { 1, 2, 3, 4 }
    local per = {}
    for i = 0, 199 do
      local f = i % 10
      per[f] = per[f] or {}
      local m = 'Type mismatch (' .. i .. ').'
      if #m < msg_len then m = m .. string.rep(filler, math.ceil(msg_len / #filler)):sub(1, msg_len - #m) end
      table.insert(per[f], { lnum = 10 + i, col = 4, end_col = 18, message = m, severity = sev[i % 4 + 1], source = 'tsserver', code = tostring(2000 + i % 300) })
    end
    for f = 0, 9 do vim.diagnostic.set(ns, vim.fn.bufnr(files[f + 1]), per[f]) end
  `, files, msgLen, FILLER);
  return files;
}

function repoFiles() {
  const files = {};
  for (let i = 0; i < 20; i++) {
    // 300 lines so every diagnostic line exists.
    files[`src/module${i}/file${i}.ts`] = Array.from({ length: 300 }, (_, l) => `export const v${l} = ${l}; // line ${l}`).join('\n') + '\n';
  }
  // About 1 MiB, 20k lines: the openDiff figure.
  files['big.txt'] = Array.from({ length: 20000 }, (_, l) => `line ${String(l).padStart(6, '0')}: ${'abcdefghij'.repeat(4)}`).join('\n') + '\n';
  return files;
}

/** Start the plugin's Neovim with its first instance; returns what run.js needs for the interleaved figures. */
async function setupPlugin(bin, tmp, msgLen) {
  const root = makeRepo(path.join(tmp, 'plugin-main'), repoFiles());
  const p = await startPluginNvim(bin, path.join(tmp, 'plugin-nvim'));
  const files = await loadEditorShape(p, root, msgLen);
  await p.cmd(`edit ${root}/src/module0/file0.ts`);
  await p.cmd('ClaudeCode');
  const lock = await until(() => p.locks()[0], 'plugin lock file', 15_000);
  const url = `ws://127.0.0.1:${lock.port}`;
  const headers = { 'x-claude-code-ide-authorization': lock.body.authToken };
  const seq = new SeqClient(await connect(url, headers));
  // Back to a code window once the first :ClaudeCode's terminal (in a tab, after the lock) opened.
  await leaveTerminal(p, 'plugin');
  await p.lua(`return require('claude_worktrees.state').sync()`);
  return { p, root, files, url, headers, seq, version: (await p.nvim.request('nvim_exec_lua', ['return tostring(vim.version())', []])) };
}

/** openDiff of ~1 MiB: from the request leaving the client to the diff windows existing (User event time, same monotonic clock). */
async function benchOpenDiff(ctx, runs = 7) {
  const { p, root } = ctx;
  const file = path.join(root, 'big.txt');
  const old = fs.readFileSync(file, 'utf8');
  const lines = old.split('\n');
  for (let i = 50; i < lines.length; i += 100) lines[i] = lines[i].replace('abcdefghij', 'ABCDEFGHIJ');
  const proposal = lines.join('\n');
  await p.lua(`_G.cw_bench_opened = nil
    vim.api.nvim_create_autocmd('User', { pattern = 'ClaudeWorktreesDiffOpened', callback = function() _G.cw_bench_opened = vim.loop.hrtime() end })`);
  const client = await IdClient.connect(ctx.lockPort, ctx.lockToken);
  const viaPlugin = [];
  for (let i = 0; i < runs + 1; i++) {
    await p.lua('_G.cw_bench_opened = nil');
    const tab = `bench-${i}`;
    const t0 = process.hrtime.bigint();
    const reply = client.request('tools/call', { name: 'openDiff', arguments: { old_file_path: file, new_file_path: file, new_file_contents: proposal, tab_name: tab } });
    const opened = await until(() => p.lua('return _G.cw_bench_opened'), 'diff windows', 20_000, 2);
    const wins = await p.lua(`local n = 0
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do if vim.b[vim.api.nvim_win_get_buf(w)].claude_worktrees_diff then n = n + 1 end end
      return n`);
    if (wins !== 2) throw new Error(`bench: expected 2 diff windows, got ${wins}`);
    if (i > 0) viaPlugin.push(Number(BigInt(Math.round(opened)) - t0));
    await client.request('tools/call', { name: 'close_tab', arguments: { tab_name: tab } });
    const r = await reply;
    if (!JSON.stringify(r).includes('DIFF_REJECTED')) throw new Error(`bench: openDiff answered ${JSON.stringify(r).slice(0, 200)}`);
  }
  // The same diff built directly inside Neovim by the same Lua (no request, no transport).
  const direct = [];
  for (let i = 0; i < runs + 1; i++) {
    const ns = await p.lua(`local spec = ...
      local t = vim.loop.hrtime()
      local r = require('claude_worktrees.diff').open(spec)
      local dt = vim.loop.hrtime() - t
      require('claude_worktrees.diff').close(spec.id)
      assert(r.ok, r.err)
      return dt`, { id: `direct${i}`, key: root, tab_name: `direct${i}`, file, new_text: proposal });
    if (i > 0) direct.push(ns);
  }
  client.close();
  // The transport floor: the same request frame (built the same way) echoed by a bare ws server.
  const echo = [];
  if (ctx.echoUrl) {
    const e = new SeqClient(await connect(ctx.echoUrl));
    for (let i = 0; i < runs + 1; i++) {
      const t0 = process.hrtime.bigint();
      const frame = JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'openDiff', arguments: { old_file_path: file, new_file_path: file, new_file_contents: proposal, tab_name: `e${i}` } } });
      await e.roundTrip(frame);
      if (i > 0) echo.push(Number(process.hrtime.bigint() - t0));
    }
    await e.close();
  }
  return { plugin: summarize(viaPlugin), direct: summarize(direct), echo: echo.length ? summarize(echo) : null, bytes: Buffer.byteLength(proposal) };
}

/**
 * Selection tracking per cursor move, inside Neovim, with the plugin's autocmds and without
 * them (same Neovim, interleaved): (a) the CursorMoved dispatch alone, (b) a whole move
 * (set cursor, CursorMoved, redraw to the attached UI).
 */
async function benchSelection(ctx, rounds = 5) {
  const { p } = ctx;
  await p.cmd(`edit ${ctx.files[1]}`);
  // The CursorMoved dispatch, with the plugin's autocmds and with its selection augroup
  // removed (the plugin puts no handler on the cursor, so this shows what a move pays).
  const code = `local n, with_plugin = ...
    local api = vim.api
    if not with_plugin then pcall(api.nvim_del_augroup_by_name, 'claude_worktrees_selection') end
    local t = vim.loop.hrtime()
    for _ = 1, n do api.nvim_exec_autocmds('CursorMoved', { modeline = false }) end
    local total = vim.loop.hrtime() - t
    if not with_plugin then require('claude_worktrees')._track() end
    return total / n`;
  const r = { with: [], without: [] };
  await p.lua(code, 500, true);
  await p.lua(code, 500, false);
  for (let i = 0; i < rounds; i++) {
    r.with.push(await p.lua(code, 20000, true));
    r.without.push(await p.lua(code, 20000, false));
  }
  // The sampler's look, once per window: when nothing moved, and when it sends.
  const ticks = await p.lua(`local sel = require('claude_worktrees.selection')
    local api = vim.api
    local n = 2000
    sel._tick()
    local t = vim.loop.hrtime()
    for _ = 1, n do sel._tick() end
    local same = (vim.loop.hrtime() - t) / n
    local sent, moved = 0, 0
    for i = 1, 200 do
      api.nvim_win_set_cursor(0, { 1 + (i % 200), i % 20 })
      local t0 = vim.loop.hrtime()
      local what = sel._tick()
      local dt = vim.loop.hrtime() - t0
      if what == 'sent' then sent = sent + dt; moved = moved + 1 end
    end
    return { same = same, sent = moved > 0 and sent / moved or -1, moved = moved, running = sel.running() }`);
  // Whole moves, with and without the plugin alternated in chunks inside one call (the UI's
  // redraw traffic makes separate runs drift): the median of the chunk pairs' ratios.
  const moves = await p.lua(`local chunks, per = ...
    local api = vim.api
    local function run(k)
      local t = vim.loop.hrtime()
      for i = 1, per do
        api.nvim_win_set_cursor(0, { 1 + ((i + k) % 200), i % 20 })
        api.nvim_exec_autocmds('CursorMoved', { modeline = false })
        vim.cmd('redraw')
      end
      return vim.loop.hrtime() - t
    end
    local with, without = {}, {}
    for k = 1, chunks do
      with[k] = run(k)
      pcall(api.nvim_del_augroup_by_name, 'claude_worktrees_selection')
      pcall(api.nvim_del_augroup_by_name, 'claude_worktrees_state')
      without[k] = run(k)
      require('claude_worktrees')._track()
    end
    return { with = with, without = without }`, 60, 100);
  const ratios = moves.with.map((w, k) => w / moves.without[k]);
  const us = (xs) => median(xs) / 1000;
  return {
    addedUs: us(r.with) - us(r.without), withUs: us(r.with), withoutUs: us(r.without),
    tickSameUs: ticks.same / 1000, tickSentUs: ticks.sent / 1000, ticksPerSec: 1000 / (await p.lua(`return require('claude_worktrees').config.selection_debounce_ms`)),
    samplerRunning: ticks.running,
    moveWithUs: median(moves.with) / 100 / 1000, moveWithoutUs: median(moves.without) / 100 / 1000, moveRatio: median(ratios),
  };
}

/** selection_changed messages: cursor moves spread over time, and moves that end where they began. */
async function benchSelectionMessages(ctx) {
  const { p } = ctx;
  const client = await IdClient.connect(ctx.lockPort, ctx.lockToken);
  const debounce = await p.lua(`return require('claude_worktrees').config.selection_debounce_ms`);
  const count = () => client.notifications.filter((n) => n.method === 'selection_changed').length;
  // Settle: one message for wherever the cursor is now.
  await p.lua(`vim.api.nvim_win_set_cursor(0, { 5, 0 }) vim.api.nvim_exec_autocmds('CursorMoved', {})`);
  await new Promise((r) => setTimeout(r, debounce * 4));
  const c0 = count();
  const t0 = Date.now();
  const moves = 200;
  for (let i = 0; i < moves; i++) {
    await p.lua(`vim.api.nvim_win_set_cursor(0, { ${10 + (i % 100)}, 0 }) vim.api.nvim_exec_autocmds('CursorMoved', {})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, debounce * 4));
  const spreadMs = Date.now() - t0;
  const spread = count() - c0;
  // Down then back up within one window: the selection did not change, nothing may be sent.
  const c1 = count();
  await p.lua(`local r = vim.api.nvim_win_get_cursor(0)
    vim.api.nvim_win_set_cursor(0, { r[1] + 1, 0 }) vim.api.nvim_exec_autocmds('CursorMoved', {})
    vim.api.nvim_win_set_cursor(0, r) vim.api.nvim_exec_autocmds('CursorMoved', {})`);
  await new Promise((r) => setTimeout(r, debounce * 4));
  const unchanged = count() - c1;
  client.close();
  return { moves, spread, spreadMs, windows: Math.ceil(spreadMs / debounce), unchanged, debounce };
}

/** Start instance number i in a fresh repo; resolves with ms from :ClaudeCode to its lock file. */
async function startInstance(ctx, i) {
  const { p } = ctx;
  const dir = makeRepo(path.join(ctx.tmp, `wt-${i}`), { 'a.txt': `instance ${i}\n` });
  await p.cmd(`edit ${dir}/a.txt`);
  fs.mkdirSync(p.lockDir, { recursive: true, mode: 0o700 });
  const before = new Set(fs.readdirSync(p.lockDir));
  let seen = null;
  const watcher = fs.watch(p.lockDir, (_ev, name) => {
    if (!seen && name && /^\d+\.lock$/.test(name) && !before.has(name) && fs.existsSync(path.join(p.lockDir, name))) seen = process.hrtime.bigint();
  });
  const t0 = process.hrtime.bigint();
  await p.cmd('ClaudeCode');
  if (process.env.BENCH_DEBUG) process.stderr.write(`instance ${i}: command returned after ${Number(process.hrtime.bigint() - t0) / 1e6} ms\n`);
  await until(() => seen, `lock file of instance ${i}`, 15_000, 1);
  watcher.close();
  await leaveTerminal(p, `instance ${i}`);
  return Number(seen - t0) / 1e6;
}

async function stats(p) {
  return p.nvim.call('ClaudeWorktreesStats', ['gc']);
}

async function benchInstances(ctx) {
  const { p } = ctx;
  const startMs = [];
  const base = await stats(p);
  let n = base.instances;
  let i = 0;
  for (; n < 10; i++, n++) startMs.push(await startInstance(ctx, i));
  const at10 = await stats(p);
  for (; n < 21; i++, n++) startMs.push(await startInstance(ctx, i));
  const at21 = await stats(p);
  for (i = 21; n < 51; i++, n++) await startInstance(ctx, i);
  // From the command to its output on screen: 52 lines end in the hit-enter prompt, which
  // nvim_get_mode (answered even while Neovim blocks) sees; then Enter dismisses it.
  const listMs = [];
  for (let i = 0; i < 25; i++) {
    const t0 = process.hrtime.bigint();
    const done = p.cmd('ClaudeCodeList');
    await until(async () => (await p.nvim.request('nvim_get_mode', [])).blocking, ':ClaudeCodeList output', 10_000, 0);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    await p.nvim.input('<CR>');
    await done;
    if (i >= 5) listMs.push(dt);
  }
  const at51 = await stats(p);
  const added = at21.instances - base.instances;
  return {
    startMs, start: summarize(startMs.map((ms) => ms * 1e6)),
    heapPerInstanceMB: (at21.heapUsed - base.heapUsed) / added / 1e6,
    rssPerInstanceMB: (at21.rss - base.rss) / added / 1e6,
    added, base, at10, at21, at51,
    list: summarize(listMs.map((ms) => ms * 1e6)), listInstances: at51.instances,
  };
}

/** statusline() in a bare Neovim (pure Lua, no Node): 10 instances, cached and rebuilt calls. */
async function benchStatusline(bin) {
  const cp = require('child_process');
  const lua = `
    local cw = require('claude_worktrees')
    cw.setup({})
    local insts = {}
    local sts = { 'busy', 'waiting', 'idle', 'busy', 'idle', 'waiting', 'busy', 'idle', 'unknown', 'busy' }
    for i = 1, 10 do
      insts[i] = { name = 'wt' .. i, root = (i == 1) and vim.fn.getcwd() or ('/w/wt' .. i), branch = 'b' .. i,
        state = 'running', status = sts[i], connected = true, port = 1000 + i, unseen = i % 2 == 0 }
    end
    cw._set_state({ instances = insts })
    local n = 200000
    for _ = 1, 1000 do cw.statusline() end
    local t = vim.loop.hrtime()
    for _ = 1, n do cw.statusline() end
    local cached = (vim.loop.hrtime() - t) / n
    local m = 20000
    t = vim.loop.hrtime()
    for _ = 1, m do cw._invalidate_statusline(); cw.statusline() end
    local rebuilt = (vim.loop.hrtime() - t) / m
    io.stdout:write(vim.json and vim.json.encode({ cached = cached, rebuilt = rebuilt, sample = cw.statusline() })
      or vim.fn.json_encode({ cached = cached, rebuilt = rebuilt, sample = cw.statusline() }))
    vim.cmd('qa!')`;
  const out = cp.execFileSync(bin, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--cmd', `set rtp^=${REPO_ROOT}`,
    '-c', `lua ${lua.replace(/\n/g, ' ')}`], { encoding: 'utf8', timeout: 60_000, cwd: REPO_ROOT });
  const r = JSON.parse(out.slice(out.indexOf('{')));
  return { cachedUs: r.cached / 1000, rebuiltUs: r.rebuilt / 1000, sample: r.sample };
}

/** From a hook POSTed to an instance's server to the state pushed into Lua (User event time). */
async function benchHookLatency(ctx, runs = 21) {
  const http = require('http');
  const { p } = ctx;
  const inst = (await p.lua(`return require('claude_worktrees').instances()`)).find((i) => i.port === ctx.lockPort);
  if (!inst || !inst.pid) throw new Error('bench: no instance with a claude pid');
  // The token claude would use: the environment the plugin gave its (here: sleep) process.
  const env = fs.readFileSync(`/proc/${inst.pid}/environ`, 'utf8').split('\0');
  const token = (env.find((e) => e.startsWith('CLAUDE_WORKTREES_HOOK_TOKEN=')) || '').split('=')[1];
  if (!token) throw new Error('bench: no hook token in the claude environment');
  await p.lua(`_G.cw_bench_status = nil
    vim.api.nvim_create_autocmd('User', { pattern = 'ClaudeWorktreesStatusChanged', callback = function() _G.cw_bench_status = vim.loop.hrtime() end })`);
  const post = (event) => new Promise((resolve, reject) => {
    const body = JSON.stringify({ hook_event_name: event, session_id: 'bench-session', cwd: ctx.root });
    const req = http.request({ host: '127.0.0.1', port: ctx.lockPort, path: '/hook', method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
    (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(body);
  });
  const ns = [];
  for (let i = 0; i < runs; i++) {
    await p.lua('_G.cw_bench_status = nil');
    const t0 = process.hrtime.bigint();
    const code = await post(i % 2 === 0 ? 'UserPromptSubmit' : 'Stop');
    if (code !== 200) throw new Error(`bench: hook answered ${code}`);
    const at = await until(() => p.lua('return _G.cw_bench_status'), 'status pushed', 5000, 1);
    if (i > 0) ns.push(Number(BigInt(Math.round(at)) - t0));
  }
  return summarize(ns);
}

module.exports = { loadEditorShape, benchStatusline, benchHookLatency, setupPlugin, benchOpenDiff, benchSelection, benchSelectionMessages, benchInstances };
