'use strict';
// claude-worktrees against its anchor (bench/anchor: a minimal pure-Lua, in-process IDE server
// of the same architecture as coder/claudecode.nvim), in ONE run on the same Neovim, with the
// same repo contents and the same editor shape, interleaved round by round so that drift hits
// both. Ratios are plugin/anchor: below 1 means the plugin is faster. See bench/anchor/README.md.
//
//   npm run build && node bench/vsAnchor.js        (BENCH_JSON=<file> also writes the figures)
//
// Settings (env): VS_ROUNDS (10), VS_CALLS (300 sequential calls per tool, side and round),
// VS_WARMUP (500), VS_INFLIGHT_CALLS (400 per tool, side and round), VS_DIFF_RUNS (5, after 1
// warmup), VS_STARTS (10 fresh Neovims each), VS_STARTUPTIME_RUNS (20), NVIM_BIN,
// VS_ONLY=tools | diff | cold (only section a, b or c, for work on one path).
const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');
const { startPluginNvim, makeRepo, until, leaveTerminal } = require('./lib/pluginNvim');
const { startAnchorNvim, isolatedEnv, ANCHOR } = require('./lib/anchorNvim');
const { msgLenForReply } = require('./lib/fakeEditor');
const { summarize, envInt } = require('./lib/stats');
const { loadEditorShape } = require('./lib/pluginBench');
const { nvimBin: nvimBinIn } = require('./lib/nvimRpc');
const { startEchoServerProcess } = require('./lib/echoServer');

const REPO = path.resolve(__dirname, '..');
const HOST_PROG = path.join(REPO, 'node_modules', 'neovim', 'bin', 'cli.js');
const int = envInt;
const ROUNDS = int('VS_ROUNDS', 10);
const CALLS = int('VS_CALLS', 300);
// 500: with 100, the first round still ran while V8 optimized the hot paths (more tail spikes).
const WARMUP = int('VS_WARMUP', 500);
const INFLIGHT = 16;
const INFLIGHT_CALLS = int('VS_INFLIGHT_CALLS', 400);
const DIFF_RUNS = int('VS_DIFF_RUNS', 5);
const STARTS = int('VS_STARTS', 10);
const STARTUPTIME_RUNS = int('VS_STARTUPTIME_RUNS', 20);
const WATCHDOG_MS = 600_000;
const ONLY = process.env.VS_ONLY || '';
if (!['', 'tools', 'diff', 'cold'].includes(ONLY)) throw new Error(`VS_ONLY must be tools, diff or cold, not ${ONLY}`);
const RUN = { tools: !ONLY || ONLY === 'tools', diff: !ONLY || ONLY === 'diff', cold: !ONLY || ONLY === 'cold' };

// The neovim client replaces console.*; write directly.
const out = (s = '') => process.stdout.write(`${s}\n`);
const note = (s) => process.stderr.write(`vsAnchor: ${s}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const nvimBin = () => nvimBinIn(REPO);

// ---------------------------------------------------------------- cleanup

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-vs-anchor-'));
// Every child (Neovims, their Node hosts) makes its temp files under TMP, removed at the end.
process.env.TMPDIR = path.join(TMP, 'tmp');
fs.mkdirSync(process.env.TMPDIR);
const nvims = new Set(); // { proc, quit }
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await Promise.all([...nvims].map(async (n) => {
    try { await Promise.race([n.quit(), sleep(6000)]); } catch { /* gone */ }
    try { if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL'); } catch { /* gone */ }
  }));
  fs.rmSync(TMP, { recursive: true, force: true });
}
function cleanupSync() {
  for (const n of nvims) { try { n.proc.kill('SIGKILL'); } catch { /* gone */ } }
  try { fs.rmSync(TMP, { recursive: true, force: true }); } catch { /* best effort */ }
}
const watchdog = setTimeout(() => {
  note(`watchdog: still running after ${WATCHDOG_MS / 1000} s, giving up`);
  cleanupSync();
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanupSync(); process.exit(130); });
const track = (n) => { nvims.add(n); return n; };
const untrack = async (n) => { await n.quit(); nvims.delete(n); };

// ---------------------------------------------------------------- repo and editor shape

const bigLine = (l) => `line ${String(l).padStart(6, '0')}: ${'abcdefghij'.repeat(4)}`;

function repoFiles() {
  const files = {};
  for (let i = 0; i < 20; i++) {
    files[`src/module${i}/file${i}.ts`] = Array.from({ length: 300 }, (_, l) => `export const v${l} = ${l}; // line ${l}`).join('\n') + '\n';
  }
  files['big.txt'] = Array.from({ length: 20000 }, (_, l) => bigLine(l)).join('\n') + '\n'; // ~1 MiB
  files['mid.txt'] = Array.from({ length: 10000 }, (_, l) => bigLine(l)).join('\n') + '\n'; // 10,000 lines
  return files;
}

// The editor shape (20 listed buffers, 200 diagnostics over 10) is lib/pluginBench.js's, for both sides.

// ---------------------------------------------------------------- the client

/**
 * One MCP client for both sides: replies matched by id (read from the frame's first bytes: both
 * servers put jsonrpc and id first), the arrival time taken first thing in the 'message'
 * listener; frames without an id (selection_changed) are counted as notifications.
 */
class Client {
  constructor(ws) {
    this.ws = ws;
    this.seq = 0;
    this.pending = new Map(); // id -> { t0, resolve, parse }
    this.notifications = 0;
    ws.on('message', (data) => {
      const at = process.hrtime.bigint();
      const m = /^\{"jsonrpc":"2\.0","id":(\d+)/.exec(data.toString('latin1', 0, 40));
      const p = m && this.pending.get(Number(m[1]));
      if (!p) { this.notifications++; return; }
      this.pending.delete(Number(m[1]));
      p.resolve({ ns: Number(at - p.t0), at, data, msg: p.parse ? JSON.parse(data.toString()) : null });
    });
  }

  static async connect(port, token) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'mcp', {
      headers: { 'x-claude-code-ide-authorization': token }, perMessageDeflate: false,
    });
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    const c = new Client(ws);
    const init = await c.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cw-vs-anchor', version: '0' } }, true);
    if (!init.msg.result) throw new Error(`bench: initialize failed: ${init.data}`);
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return c;
  }

  /** Resolves with { ns, at, data, msg }; msg only when parse. */
  request(method, params, parse = false) {
    const id = ++this.seq;
    const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    return new Promise((resolve) => {
      this.pending.set(id, { t0: process.hrtime.bigint(), resolve, parse });
      this.ws.send(frame);
    });
  }

  call(name, args, parse = false) { return this.request('tools/call', { name, arguments: args }, parse); }

  /** `total` calls with `inflight` outstanding; returns { latenciesNs, elapsedNs }. */
  inflight(name, args, total, inflight = INFLIGHT) {
    return new Promise((resolve) => {
      const lat = [];
      let sent = 0;
      let done = 0;
      const t0 = process.hrtime.bigint();
      const one = () => {
        sent++;
        this.call(name, args).then((r) => {
          lat.push(r.ns);
          if (++done === total) return resolve({ latenciesNs: lat, elapsedNs: Number(process.hrtime.bigint() - t0) });
          if (sent < total) one();
        });
      };
      for (let i = 0; i < Math.min(inflight, total); i++) one();
    });
  }

  close() { try { this.ws.close(); } catch { /* gone */ } }
}

// ---------------------------------------------------------------- setup of both sides


async function setupPlugin(bin, msgLen) {
  const root = makeRepo(path.join(TMP, 'plugin-main'), repoFiles());
  const p = track(await startPluginNvim(bin, path.join(TMP, 'plugin-nvim')));
  const files = await loadEditorShape(p, root, msgLen);
  await p.cmd(`edit ${files[0]}`);
  await p.cmd('ClaudeCode');
  const lock = await until(() => p.locks()[0], 'plugin lock file', 20_000);
  await leaveTerminal(p, 'plugin');
  await p.lua(`return require('claude_worktrees.state').sync()`);
  await p.lua(`_G.cw_vs_opened = nil; _G.cw_vs_id = nil
    vim.api.nvim_create_autocmd('User', { pattern = 'ClaudeWorktreesDiffOpened', callback = function(ev)
      _G.cw_vs_opened = vim.loop.hrtime(); _G.cw_vs_id = ev.data and ev.data.id end })`);
  return { name: 'plugin', side: p, root, files, lock };
}

async function setupAnchor(bin, msgLen) {
  const root = makeRepo(path.join(TMP, 'anchor-main'), repoFiles());
  const a = track(await startAnchorNvim(bin, path.join(TMP, 'anchor-nvim')));
  await a.cmd(`cd ${root}`); // the anchor's workspace is Neovim's cwd, as such plugins do
  const files = await loadEditorShape(a, root, msgLen);
  await a.cmd(`edit ${files[0]}`);
  await a.cmd('CwAnchor');
  const lock = await until(() => a.locks()[0], 'anchor lock file', 10_000);
  await leaveTerminal(a, 'anchor');
  return { name: 'anchor', side: a, root, files, lock };
}

const toolArgs = (s) => ({
  checkDocumentDirty: { filePath: s.files[3] },
  getCurrentSelection: {},
  getLatestSelection: {},
  getOpenEditors: {},
  getWorkspaceFolders: {},
  getDiagnostics: {},
});
const TOOLS = Object.keys(toolArgs({ files: [] }));

/** One call of every tool on one side: shape checks; returns { tool: { bytes, summary } }. */
async function validate(s) {
  const r = {};
  const [file0] = s.files;
  for (const tool of TOOLS) {
    const rep = await s.seq.call(tool, toolArgs(s)[tool], true);
    const res = rep.msg.result;
    if (!res || res.isError || !Array.isArray(res.content) || res.content[0].type !== 'text') {
      throw new Error(`bench: ${s.name} ${tool} answered ${rep.data.toString().slice(0, 300)}`);
    }
    const v = JSON.parse(res.content[0].text);
    let what;
    switch (tool) {
      case 'checkDocumentDirty':
        if (v.success !== true || v.isDirty !== false || v.filePath !== s.files[3]) throw new Error(`bench: ${s.name} ${tool}: ${res.content[0].text}`);
        what = 'clean';
        break;
      case 'getCurrentSelection':
      case 'getLatestSelection':
        if (v.success !== true || v.filePath !== file0 || !v.selection || typeof v.selection.isEmpty !== 'boolean') throw new Error(`bench: ${s.name} ${tool}: ${res.content[0].text}`);
        what = `${path.basename(v.filePath)} L${v.selection.start.line}`;
        break;
      case 'getOpenEditors':
        if (!Array.isArray(v.tabs) || v.tabs.length !== 20 || !v.tabs.every((t) => t.uri && t.fileName)) throw new Error(`bench: ${s.name} ${tool}: ${v.tabs && v.tabs.length} tabs`);
        what = `${v.tabs.length} tabs`;
        break;
      case 'getWorkspaceFolders':
        if (v.success !== true || v.rootPath !== s.root || v.folders[0].path !== s.root) throw new Error(`bench: ${s.name} ${tool}: ${res.content[0].text}`);
        what = '1 folder';
        break;
      case 'getDiagnostics': {
        const n = v.reduce((k, f) => k + f.diagnostics.length, 0);
        const d = v[0].diagnostics[0];
        if (v.length !== 10 || n !== 200 || !/^file:\/\//.test(v[0].uri) || !['Error', 'Warning', 'Info', 'Hint'].includes(d.severity) || typeof d.range.start.line !== 'number') {
          throw new Error(`bench: ${s.name} ${tool}: ${v.length} files, ${n} diagnostics`);
        }
        what = `${v.length} files, ${n} diags`;
        break;
      }
      default:
    }
    r[tool] = { bytes: rep.data.length, what };
  }
  return r;
}

// ---------------------------------------------------------------- a. read-only tools

async function benchTools(sides) {
  const seq = {};
  const rates = {};
  for (const s of sides) {
    seq[s.name] = {};
    rates[s.name] = {};
    for (const tool of TOOLS) {
      seq[s.name][tool] = [];
      rates[s.name][tool] = [];
      for (let i = 0; i < WARMUP; i++) await s.seq.call(tool, toolArgs(s)[tool]);
      await s.inf.inflight(tool, toolArgs(s)[tool], WARMUP);
    }
  }
  const inflightLat = {};
  for (const s of sides) { inflightLat[s.name] = {}; for (const t of TOOLS) inflightLat[s.name][t] = []; }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    // Each round starts at another tool: what runs before a tool (the 46 KB replies of
    // getDiagnostics x16, say, and their garbage) then weighs on every tool alike.
    const tools = [...TOOLS.slice(round % TOOLS.length), ...TOOLS.slice(0, round % TOOLS.length)];
    for (const tool of tools) {
      for (const s of order) {
        const args = toolArgs(s)[tool];
        const xs = seq[s.name][tool];
        for (let i = 0; i < CALLS; i++) xs.push((await s.seq.call(tool, args)).ns);
      }
      for (const s of order) {
        const r = await s.inf.inflight(tool, toolArgs(s)[tool], INFLIGHT_CALLS);
        rates[s.name][tool].push(INFLIGHT_CALLS / (r.elapsedNs / 1e9));
        inflightLat[s.name][tool].push(...r.latenciesNs);
      }
    }
  }
  const res = {};
  for (const s of sides) {
    res[s.name] = {};
    for (const tool of TOOLS) {
      const lat = summarize(inflightLat[s.name][tool]);
      res[s.name][tool] = { seq: summarize(seq[s.name][tool]), inflightRate: median(rates[s.name][tool]), inflightRates: rates[s.name][tool], inflightP50: lat.p50, inflightMax: lat.max };
    }
  }
  return res;
}

// ---------------------------------------------------------------- b. openDiff

function proposalOf(text) {
  const lines = text.split('\n');
  for (let i = 50; i < lines.length; i += 100) lines[i] = lines[i].replace('abcdefghij', 'ABCDEFGHIJ');
  return lines.join('\n');
}

/** One openDiff on one side, decided by `action` ('accept' | 'deny'); returns { openNs, decideNs }. */
async function diffOnce(s, file, proposal, action, n) {
  const L = s.side.lua;
  const plugin = s.name === 'plugin';
  const tab = `✻ [Claude Code] ${path.basename(file)} (${n}) ⧉`;
  await L(plugin ? '_G.cw_vs_opened = nil; _G.cw_vs_id = nil' : '_G.cw_anchor_opened = nil');
  const t0 = process.hrtime.bigint();
  const reply = s.diff.call('openDiff', { old_file_path: file, new_file_path: file, new_file_contents: proposal, tab_name: tab }, true);
  const opened = await until(() => L(plugin ? 'return _G.cw_vs_opened' : 'return _G.cw_anchor_opened'), `${s.name} diff windows`, 30_000, 1);
  const openNs = Number(BigInt(Math.round(opened)) - t0);
  // Both diff windows exist on screen (the current tab holds two 'diff' windows).
  const wins = await L(`local n = 0
    for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do if vim.wo[w].diff then n = n + 1 end end
    return n`);
  if (wins !== 2) throw new Error(`bench: ${s.name} openDiff: ${wins} diff windows`);
  let tDecide;
  if (plugin) {
    const id = await L('return _G.cw_vs_id');
    if (id === null || id === undefined) throw new Error('bench: plugin ClaudeWorktreesDiffOpened without data.id');
    tDecide = await L(`local id, action = ...
      local t = vim.loop.hrtime()
      require('claude_worktrees.diff').decide(id, action)
      return t`, id, action === 'accept' ? 'accept' : 'reject');
  } else {
    tDecide = await L(`local tab, action = ...
      local t = vim.loop.hrtime()
      require('cw_anchor')[action](tab)
      return t`, tab, action);
  }
  const r = await reply;
  const decideNs = Number(r.at - BigInt(Math.round(tDecide)));
  const c = r.msg.result && r.msg.result.content;
  if (action === 'accept') {
    if (!c || c[0].text !== 'FILE_SAVED' || c[1].text !== proposal) {
      throw new Error(`bench: ${s.name} accept answered ${c ? c[0].text : r.data.toString().slice(0, 200)}${c && c[1] ? ` (${c[1].text.length} chars, proposal ${proposal.length})` : ''}`);
    }
  } else if (!c || c[0].text !== 'DIFF_REJECTED' || c[1].text !== tab) {
    throw new Error(`bench: ${s.name} deny answered ${r.data.toString().slice(0, 200)}`);
  }
  // The CLI closes the tab after each decision; both must answer TAB_CLOSED.
  const ct = await s.diff.call('close_tab', { tab_name: tab }, true);
  if (ct.msg.result.content[0].text !== 'TAB_CLOSED') throw new Error(`bench: ${s.name} close_tab answered ${ct.data}`);
  await s.side.cmd('tabfirst');
  return { openNs, decideNs };
}

async function benchDiffs(sides) {
  const files = { '1 MiB (20k lines)': 'big.txt', '10k lines': 'mid.txt' };
  const res = {};
  const proposals = {};
  for (const [label, rel] of Object.entries(files)) {
    proposals[label] = proposalOf(fs.readFileSync(path.join(sides[0].root, rel), 'utf8'));
    res[label] = {};
    for (const s of sides) res[label][s.name] = { open: [], accept: [], deny: [] };
  }
  let n = 0;
  for (let run = 0; run <= DIFF_RUNS; run++) {
    const order = run % 2 === 0 ? sides : [...sides].reverse();
    for (const [label, rel] of Object.entries(files)) {
      for (const s of order) {
        const file = path.join(s.root, rel);
        const acc = await diffOnce(s, file, proposals[label], 'accept', ++n);
        const den = await diffOnce(s, file, proposals[label], 'deny', ++n);
        if (run === 0) continue; // warmup
        const r = res[label][s.name];
        r.open.push(acc.openNs, den.openNs);
        r.accept.push(acc.decideNs);
        r.deny.push(den.decideNs);
      }
    }
  }
  const outp = {};
  for (const [label, bySide] of Object.entries(res)) {
    outp[label] = { bytes: Buffer.byteLength(proposals[label]) };
    for (const [name, r] of Object.entries(bySide)) outp[label][name] = { open: summarize(r.open), accept: summarize(r.accept), deny: summarize(r.deny) };
  }
  for (const [label, rel] of Object.entries(files)) {
    outp[label].floor = await openFloor(sides[0], path.join(sides[0].root, rel), proposals[label]);
  }
  const df = await denyFloor(sides[0]);
  for (const label of Object.keys(files)) outp[label].denyFloor = df; // one figure, any file
  return outp;
}

/**
 * What a server outside Neovim pays for deny -> reply however little it does: the decision's
 * delivery from Neovim into another Node process (an rpcnotify to this bench, decoded by the
 * node-client the host uses too), then one small frame from a server in another process to the
 * client (the echo server's stamped answer). The in-process anchor pays the second part only.
 * Back-to-back sends, so if anything below what the figure's conditions cost. Medians, ms.
 */
async function denyFloor(s) {
  const nvim = s.side.nvim;
  const chan = await nvim.channelId;
  const hop = [];
  const leg = [];
  let got = null;
  const onNote = (method, args) => {
    if (method === 'cw_floor' && got) got(process.hrtime.bigint() - BigInt(String(args[0])));
  };
  nvim.on('notification', onNote);
  try {
    for (let i = 0; i <= FLOOR_RUNS; i++) {
      const arrived = new Promise((res) => { got = res; });
      await s.side.lua(`vim.rpcnotify(..., 'cw_floor', tostring(vim.loop.hrtime()))`, chan);
      const ns = await arrived;
      if (i > 0) hop.push(Number(ns) / 1e6);
    }
  } finally {
    nvim.removeListener('notification', onNote);
  }
  await withEchoClient(async (ws) => {
    for (let i = 0; i <= FLOOR_RUNS; i++) {
      // The server stamps its answer as it sends it: arrival - stamp is the one-way leg.
      const ns = await new Promise((res) => {
        ws.once('message', (d) => res(process.hrtime.bigint() - BigInt(d.toString())));
        ws.send('@');
      });
      if (i > 0) leg.push(Number(ns) / 1e6);
    }
  });
  const f = { hop: median(hop), leg: median(leg) };
  f.total = f.hop + f.leg;
  return f;
}

const FLOOR_RUNS = 21;

/** Run fn with a client of a bare echo server in a child process (bench/lib/echoServer.js). */
async function withEchoClient(fn) {
  const echo = await startEchoServerProcess();
  try {
    const ws = new WebSocket(echo.url, 'mcp', { perMessageDeflate: false });
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    try {
      return await fn(ws);
    } finally {
      ws.close();
    }
  } finally {
    await echo.close();
  }
}

/**
 * What any design with the IDE server outside Neovim and Neovim's own diff mode pays for
 * request -> diff windows, each part measured alone: the request's delivery into another
 * process (a bare ws server stamps its arrival), JSON.parse of it, and in the plugin's Neovim
 * :read of the original and of the proposal into scratch buffers, then the two windows in diff
 * mode (Neovim computes the diff there), with plain API calls rather than the plugin's
 * diff.lua, so that the floor holds none of the plugin's own work. Medians of FLOOR_RUNS, ms.
 */
async function openFloor(s, file, proposal) {
  const deliver = [];
  const parse = [];
  const args = { old_file_path: file, new_file_path: file, new_file_contents: proposal, tab_name: 'floor' };
  // Built per send, as the bench's client does (its JSON.stringify is part of every figure).
  const request = (id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'openDiff', arguments: args } });
  await withEchoClient(async (ws) => {
    for (let i = 0; i <= FLOOR_RUNS; i++) {
      const stamped = new Promise((res) => ws.once('message', (d) => res(BigInt(d.toString()))));
      const t0 = process.hrtime.bigint();
      ws.send(`@${request(i)}`);
      const at = await stamped;
      if (i > 0) deliver.push(Number(at - t0) / 1e6);
    }
  });
  const frame = Buffer.from(request(1));
  for (let i = 0; i <= FLOOR_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    JSON.parse(frame.toString());
    if (i > 0) parse.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const proposalFile = path.join(TMP, 'floor-proposal');
  fs.writeFileSync(proposalFile, proposal);
  const reads = [];
  const diff = [];
  for (let i = 0; i <= FLOOR_RUNS; i++) {
    const [r1, r2, d] = await s.side.lua(`local old, new = ...
      local h = vim.loop.hrtime
      local function fill(f)
        local b = vim.api.nvim_create_buf(false, true)
        vim.bo[b].undolevels = -1
        vim.api.nvim_buf_call(b, function() vim.cmd('noautocmd silent keepalt read ++ff=unix ' .. vim.fn.fnameescape(f)) end)
        vim.api.nvim_buf_set_lines(b, 0, 1, false, {})
        return b
      end
      vim.cmd('tabnew')
      local first = vim.api.nvim_get_current_buf()
      local t0 = h()
      local a = fill(old)
      local t1 = h()
      local b = fill(new)
      local t2 = h()
      local w1 = vim.api.nvim_get_current_win()
      vim.api.nvim_win_set_buf(w1, a)
      vim.wo[w1].diff = true
      vim.cmd('rightbelow vsplit')
      local w2 = vim.api.nvim_get_current_win()
      vim.api.nvim_win_set_buf(w2, b)
      vim.wo[w2].diff = true
      local t3 = h()
      vim.cmd('tabclose!')
      for _, x in ipairs({ a, b, first }) do pcall(vim.api.nvim_buf_delete, x, { force = true }) end
      return { (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6 }`, file, proposalFile);
    if (i > 0) { reads.push(r1 + r2); diff.push(d); }
  }
  fs.rmSync(proposalFile, { force: true });
  await s.side.cmd('tabfirst');
  const f = { deliver: median(deliver), parse: median(parse), reads: median(reads), diff: median(diff) };
  f.total = f.deliver + f.parse + f.reads + f.diff;
  return f;
}

// ---------------------------------------------------------------- c. cold start

/** Milliseconds from startup to "NVIM STARTED", and the time spent sourcing files under `under`. */
function startuptime(bin, env, init, under) {
  const log = path.join(TMP, `st-${process.hrtime.bigint()}.log`);
  cp.execFileSync(bin, ['--headless', '-i', 'NONE', '-n', '--startuptime', log, '-u', init], { env, stdio: 'ignore', timeout: 30_000, cwd: TMP });
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  fs.rmSync(log, { force: true });
  let total = NaN;
  let sourcing = 0;
  let vimenter = 0;
  for (const l of lines) {
    const m = /^(\d+\.\d+)\s+(\d+\.\d+)(?:\s+(\d+\.\d+))?:\s+(.*)$/.exec(l);
    if (!m) continue;
    if (m[4].includes('NVIM STARTED')) total = Number(m[1]);
    if (!m[3] && m[4].startsWith('VimEnter autocommands')) vimenter = Number(m[2]);
    // "sourcing <file>" lines: elapsed, self+sourced, self. Only the plugin's own top files.
    if (under && m[3] && m[4].startsWith('sourcing ') && m[4].slice(9).startsWith(under) && m[4].includes('/plugin/')) sourcing += Number(m[2]);
  }
  return { total, sourcing, vimenter };
}

async function benchStartuptime(bin) {
  const root = path.join(TMP, 'startuptime');
  const env = isolatedEnv(root);
  env.NVIM_RPLUGIN_MANIFEST = path.join(root, 'no-such-rplugin.vim'); // no manifest: the plugin self-registers
  // Quit once VimEnter handlers ran (the plugin registers its Node side at VimEnter), so
  // "NVIM STARTED" includes them: a plain +qa quits before VimEnter.
  const quit = "vim.api.nvim_create_autocmd('VimEnter', { callback = function() vim.schedule(function() vim.cmd('qa!') end) end })\n";
  const inits = {
    none: quit,
    plugin: `vim.opt.rtp:prepend(${JSON.stringify(REPO)})\nvim.g.node_host_prog = ${JSON.stringify(HOST_PROG)}\n${quit}`,
    anchor: `vim.opt.rtp:prepend(${JSON.stringify(ANCHOR)})\n${quit}`,
  };
  const files = {};
  for (const [k, v] of Object.entries(inits)) { files[k] = path.join(root, `init-${k}.lua`); fs.writeFileSync(files[k], v); }
  const under = { none: null, plugin: REPO + '/plugin/', anchor: ANCHOR + '/plugin/' };
  const r = { none: [], plugin: [], anchor: [] };
  const src = { plugin: [], anchor: [] };
  const ve = { none: [], plugin: [], anchor: [] };
  for (let i = 0; i <= STARTUPTIME_RUNS; i++) {
    for (const k of ['none', 'plugin', 'anchor']) {
      const st = startuptime(bin, env, files[k], under[k]);
      if (i === 0) continue;
      r[k].push(st.total);
      ve[k].push(st.vimenter);
      if (k !== 'none') src[k].push(st.sourcing);
    }
  }
  // Check the plugin did register itself (the :ClaudeCode command exists after startup).
  const probe = path.join(root, 'init-probe.lua');
  fs.writeFileSync(probe, `vim.opt.rtp:prepend(${JSON.stringify(REPO)})\nvim.g.node_host_prog = ${JSON.stringify(HOST_PROG)}\n`
    + "vim.api.nvim_create_autocmd('VimEnter', { callback = function() vim.schedule(function() io.stdout:write(vim.fn.exists(':ClaudeCode') .. ' ' .. vim.fn.exists(':CwAnchor') .. '\\n'); vim.cmd('qa!') end) end })\n"
    + `vim.opt.rtp:prepend(${JSON.stringify(ANCHOR)})\n`);
  const registered = cp.execFileSync(bin, ['--headless', '-i', 'NONE', '-n', '-u', probe], { env, encoding: 'utf8', timeout: 30_000, cwd: TMP }).trim();
  const base = median(r.none);
  return {
    baseMs: base,
    plugin: { totalMs: median(r.plugin), addedMs: median(r.plugin) - base, sourcingMs: median(src.plugin), vimEnterAddedMs: median(ve.plugin) - median(ve.none) },
    anchor: { totalMs: median(r.anchor), addedMs: median(r.anchor) - base, sourcingMs: median(src.anchor), vimEnterAddedMs: median(ve.anchor) - median(ve.none) },
    commandsAfterStartup: registered, // "2 2": both commands defined
    runs: STARTUPTIME_RUNS,
  };
}

/** A fresh Neovim, first :ClaudeCode (resp. :CwAnchor) until its lock file exists. */
async function firstStart(bin, which, i, prestart = false) {
  const dir = path.join(TMP, `fresh-${which}-${prestart ? 'pre-' : ''}${i}`);
  const repo = makeRepo(path.join(dir, 'repo'), { 'a.txt': `fresh ${i}\n` });
  const env = isolatedEnv(path.join(dir, 'nvim'));
  const args = ['--embed', '-u', 'NONE', '-i', 'NONE', '-n', '--cmd', 'set nomore shortmess+=I noswapfile hidden'];
  if (which === 'plugin') {
    env.NVIM_RPLUGIN_MANIFEST = path.join(dir, 'no-such-rplugin.vim');
    args.push('--cmd', `set rtp^=${REPO}`, '--cmd', `let g:node_host_prog='${HOST_PROG}'`,
      '-c', 'runtime! plugin/rplugin.vim', '-c', 'runtime! plugin/claude_worktrees.lua');
  } else {
    args.push('--cmd', `set rtp^=${ANCHOR}`, '-c', 'runtime! plugin/cw_anchor.lua');
  }
  const { attach } = require('neovim');
  const proc = cp.spawn(bin, args, { cwd: repo, env, stdio: ['pipe', 'pipe', 'ignore'] });
  const nvim = attach({ proc });
  const n = track({
    proc,
    async quit() {
      const exited = new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', resolve);
      });
      nvim.command('qa!').catch(() => { /* closing */ });
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  });
  try {
    await nvim.request('nvim_ui_attach', [160, 48, { ext_linegrid: true }]);
    const setup = which === 'plugin' ? 'claude_worktrees' : 'cw_anchor';
    const pre = prestart ? ', prestart = true' : '';
    await nvim.request('nvim_exec_lua', [`require('${setup}').setup({ cmd = { 'sh', '-c', 'exec sleep 3600', 'claude' }, terminal = { position = 'tab' }${pre} })`, []]);
    await nvim.command(`edit ${repo}/a.txt`);
    // prestart: the host started in the background; time the command once it is warm.
    if (prestart) await until(async () => (await nvim.request('nvim_exec_lua', ["return require('claude_worktrees.host').warm", []])), 'prestarted host warm', 30_000, 2);
    const lockDir = path.join(env.CLAUDE_CONFIG_DIR, 'ide');
    fs.mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    let seen = null;
    const look = () => {
      if (!seen && fs.readdirSync(lockDir).some((f) => /^\d+\.lock$/.test(f))) seen = process.hrtime.bigint();
    };
    const watcher = fs.watch(lockDir, look);
    const poll = setInterval(look, 1);
    const t0 = process.hrtime.bigint();
    const cmdDone = nvim.command(which === 'plugin' ? 'ClaudeCode' : 'CwAnchor');
    try {
      await until(() => { look(); return seen; }, `${which} lock file (fresh Neovim ${i})`, 30_000, 1);
    } finally {
      watcher.close();
      clearInterval(poll);
    }
    await cmdDone;
    return Number(seen - t0) / 1e6;
  } finally {
    await untrack(n);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchFirstStart(bin) {
  const r = { plugin: [], prestarted: [], anchor: [] };
  const order = ['plugin', 'prestarted', 'anchor'];
  for (let i = 0; i < STARTS; i++) {
    for (let k = 0; k < order.length; k++) {
      const which = order[(k + i) % order.length];
      r[which].push(which === 'prestarted' ? await firstStart(bin, 'plugin', i, true) : await firstStart(bin, which, i));
    }
  }
  const of = (xs) => ({ medianMs: median(xs), all: xs });
  return { plugin: of(r.plugin), prestarted: of(r.prestarted), anchor: of(r.anchor), n: STARTS };
}

// ---------------------------------------------------------------- output

const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-');
/** For startup deltas: no ratio against a difference lost in the noise. */
const ratioAbove = (a, b, floor) => (Number.isFinite(b) && b >= floor ? ratio(a, b) : `(anchor < ${floor})`);
function table(head, rows) {
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  out(line(head));
  out(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) out(line(r));
}

async function benchWarm(msgLen, bin) {
  note('starting the plugin and the anchor');
  const pl = await setupPlugin(bin, msgLen);
  const an = await setupAnchor(bin, msgLen);
  const sides = [pl, an];
  for (const s of sides) {
    s.seq = await Client.connect(s.lock.port, s.lock.body.authToken);
    s.inf = await Client.connect(s.lock.port, s.lock.body.authToken);
    s.diff = await Client.connect(s.lock.port, s.lock.body.authToken);
  }
  await sleep(300); // let any selection_changed from setup arrive before timing
  const shapes = { plugin: await validate(pl), anchor: await validate(an) };

  let tools = null;
  let diffs = null;
  if (RUN.tools) {
    note('a. read-only tools');
    tools = await benchTools(sides);
  }
  if (RUN.diff) {
    note('b. openDiff');
    diffs = await benchDiffs(sides);
  }
  for (const s of sides) { s.seq.close(); s.inf.close(); s.diff.close(); }
  await untrack(pl.side);
  await untrack(an.side);
  return { shapes, tools, diffs };
}

async function main() {
  const t00 = Date.now();
  if (!fs.existsSync(path.join(REPO, 'dist', 'rplugin-specs.json'))) throw new Error('dist/ missing: run `npm run build` first');
  const bin = nvimBin();
  const version = cp.execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  // Same diagnostics message length as bench/run.js (getDiagnostics {} reply about 46 KB for the plugin).
  const msgLen = msgLenForReply(path.join(fs.realpathSync(TMP), 'plugin-main'), 200, 10, 46_000);

  let shapes = null;
  let tools = null;
  let diffs = null;
  if (RUN.tools || RUN.diff) ({ shapes, tools, diffs } = await benchWarm(msgLen, bin));
  let st = null;
  let first = null;
  if (RUN.cold) {
    note('c. cold start');
    st = await benchStartuptime(bin);
    first = await benchFirstStart(bin);
  }

  out('');
  out(`claude-worktrees vs cw_anchor (pure-Lua in-process IDE server), ${version}, ${os.cpus().length} CPUs`);
  out(process.env.CW_ANCHOR_MODEL === 'lean'
    ? 'anchor: the lean stand-in (CW_ANCHOR_MODEL=lean): none of the per-call work claudecode.nvim does beyond the protocol'
    : "anchor: with claudecode.nvim's per-call costs (bench/anchor/README.md; CW_ANCHOR_MODEL=lean for the lean stand-in)");
  out(`ratio = plugin / anchor (below 1: the plugin is faster). ${ROUNDS} rounds x ${CALLS} sequential calls per tool and side (after ${WARMUP} warmup), ${ROUNDS} x ${INFLIGHT_CALLS} with ${INFLIGHT} in flight; rounds interleaved.`);
  if (shapes) {
    out('');
    table(['reply (validated once)', 'plugin bytes', 'anchor bytes', 'plugin', 'anchor'],
      TOOLS.map((t) => [t, shapes.plugin[t].bytes, shapes.anchor[t].bytes, shapes.plugin[t].what, shapes.anchor[t].what]));
  }
  if (tools) {
    out('');
    table(['a. tools/call, ms', 'plugin p50', 'anchor p50', 'ratio', 'plugin p99', 'anchor p99', 'ratio', 'plugin/s x16', 'anchor/s x16', 'ratio', 'plugin max x16', 'anchor max x16'],
      TOOLS.map((t) => {
        const p = tools.plugin[t];
        const a = tools.anchor[t];
        return [t, f3(p.seq.p50), f3(a.seq.p50), ratio(p.seq.p50, a.seq.p50), f3(p.seq.p99), f3(a.seq.p99), ratio(p.seq.p99, a.seq.p99),
          Math.round(p.inflightRate), Math.round(a.inflightRate), ratio(a.inflightRate, p.inflightRate), f1(p.inflightMax), f1(a.inflightMax)];
      }));
    out('(calls/s ratio is anchor/plugin, so below 1 still means the plugin is faster; max x16 = worst latency under 16 in flight, ms)');
  }
  if (diffs) {
    out('');
    const drows = [];
    for (const [label, d] of Object.entries(diffs)) {
      for (const [what, key] of [['request -> diff windows', 'open'], ['accept -> reply', 'accept'], ['deny -> reply', 'deny']]) {
        drows.push([`${label}: ${what}`, f3(d.plugin[key].p50), f3(d.anchor[key].p50), ratio(d.plugin[key].p50, d.anchor[key].p50), f3(d.plugin[key].max), f3(d.anchor[key].max), d.plugin[key].n]);
      }
    }
    table(['b. openDiff, ms', 'plugin p50', 'anchor p50', 'ratio', 'plugin max', 'anchor max', 'n'], drows);
    out(`(proposal: 1 line in 100 changed; accept replies checked: FILE_SAVED + the proposal byte for byte; ${Object.entries(diffs).map(([l, d]) => `${l} = ${d.bytes} B`).join(', ')})`);
    for (const [label, d] of Object.entries(diffs)) {
      const fl = d.floor;
      out(`floor of request -> diff windows, ${label}: delivery into another process ${f3(fl.deliver)} + JSON.parse ${f3(fl.parse)} + Neovim's :read of both ${f3(fl.reads)} + its diff ${f3(fl.diff)} = ${f3(fl.total)} ms = ${ratio(fl.total, d.anchor.open.p50)} the anchor`);
    }
    out('(the floor: what a server outside Neovim that shows the diff in Neovim\'s diff mode cannot avoid, each part measured alone; medians)');
    for (const [label, d] of Object.entries(diffs)) {
      const df = d.denyFloor;
      out(`floor of deny -> reply, ${label}: the decision from Neovim into another process ${f3(df.hop)} + one frame from another process to the client ${f3(df.leg)} = ${f3(df.total)} ms = ${ratio(df.total, d.anchor.deny.p50)} the anchor`);
    }
    out('(the in-process anchor pays the second part only; the plugin, whose host is a process of its own, pays both)');
  }
  if (st) {
    out('');
    table(['c. cold start, ms', 'plugin', 'anchor', 'ratio'], [
      [`Neovim startup added (median of ${st.runs}; bare ${f1(st.baseMs)})`, f3(st.plugin.addedMs), f3(st.anchor.addedMs), ratioAbove(st.plugin.addedMs, st.anchor.addedMs, 0.2)],
      ['  sourcing its plugin/* files', f3(st.plugin.sourcingMs), f3(st.anchor.sourcingMs), ratio(st.plugin.sourcingMs, st.anchor.sourcingMs)],
      ['  VimEnter autocommands, added', f3(st.plugin.vimEnterAddedMs), f3(st.anchor.vimEnterAddedMs), ratioAbove(st.plugin.vimEnterAddedMs, st.anchor.vimEnterAddedMs, 0.05)],
      [`first :ClaudeCode / :CwAnchor -> lock file (median of ${first.n} fresh Neovims)`, f1(first.plugin.medianMs), f1(first.anchor.medianMs), ratio(first.plugin.medianMs, first.anchor.medianMs)],
      ['  the same, host prestarted (setup({ prestart = true }))', f1(first.prestarted.medianMs), f1(first.anchor.medianMs), ratio(first.prestarted.medianMs, first.anchor.medianMs)],
    ]);
    out(`(startup: nvim --headless -u <init with only the rtp entry>, quit after VimEnter; commands defined after startup: ${st.commandsAfterStartup === '2 2' ? 'both' : st.commandsAfterStartup}.`);
    out(` first command: all ${first.n}: plugin ${first.plugin.all.map((x) => x.toFixed(0)).join(' ')}; prestarted ${first.prestarted.all.map((x) => x.toFixed(1)).join(' ')}; anchor ${first.anchor.all.map((x) => x.toFixed(1)).join(' ')})`);
  }
  out(`total ${((Date.now() - t00) / 1000).toFixed(1)} s`);

  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({
      version, anchorModel: process.env.CW_ANCHOR_MODEL === 'lean' ? 'lean' : 'claudecode', settings: { ROUNDS, CALLS, WARMUP, INFLIGHT, INFLIGHT_CALLS, DIFF_RUNS, STARTS, STARTUPTIME_RUNS },
      shapes, tools, diffs, startuptime: st, firstStart: first,
    }, null, 2));
  }
}

main().then(async () => {
  await cleanup();
  clearTimeout(watchdog);
  process.exit(0);
}, async (err) => {
  note(`failed: ${err && err.stack || err}`);
  await cleanup();
  process.exit(1);
});
