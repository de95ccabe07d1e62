import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { attach, type NeovimClient } from 'neovim';
import { descendants, git, manifestFor, pidAlive, reap, REPO } from '../helpers/nvim';
import { waitFor } from '../helpers/waitFor';
import type { MessagesRequest, Turn } from './fakeMessagesApi';
import { READY, type Sandbox } from './claudeCli';

/**
 * The real Claude Code CLI inside a real Neovim: `nvim --embed` with the plugin loaded through
 * the real Node remote-plugin host, `:ClaudeCode` starting the CLI in the plugin's own terminal.
 * Neovim (and so the Node host and every claude it starts) runs in a makeSandbox() environment:
 * HOME, XDG_* and CLAUDE_CONFIG_DIR are private, so the plugin's lock files land in the one
 * `ide/` directory the CLI reads, and the machine's ~/.claude is never touched.
 */

const HOST_PROG = path.join(REPO, 'node_modules/neovim/bin/cli.js');

/** What a claude terminal of the plugin looks like from Lua. */
export interface TermInfo {
  buf: number;
  job: number;
  root: string;
  name: string;
}

/** A diff view of lua/claude_worktrees/diff.lua, as diffs() reports it. */
export interface DiffView {
  id: string;
  /** The worktree root of the instance that asked for it. */
  key: string;
  file: string;
  tab_name: string;
  /** Tab page number of the proposal window. */
  tab: number;
  /** Lines of the original (left) and of the proposal (right). */
  old: string[];
  new: string[];
  win_new: number;
  /** 'diff' is set in both windows. */
  old_diff: boolean;
  new_diff: boolean;
}

/** An instance as `require('claude_worktrees').instances()` returns it. */
export interface Snap {
  name: string;
  root: string;
  branch: string;
  port: number;
  pid?: number;
  claudePid?: number;
  state: string;
  connected: boolean;
  lockPath: string;
  /** From claude's hooks (src/claude/status.ts): unknown | idle | busy | waiting | exited. */
  status?: string;
  waitingFor?: string;
  unseen?: boolean;
  sessionId?: string;
}

/** One call of `require('claude_worktrees')._attention` and whether it raised a notification. */
export interface AttentionCall {
  name: string;
  root: string;
  status: string;
  waiting_for: string;
  /** The first line of claude's last message (Stop), '' otherwise. */
  last_message: string;
  raised: boolean;
}

/** What recordStatus() saw in Neovim since it was installed. */
export interface StatusRecord {
  /** instances() right after each state push from Node (_set_state), in order. */
  pushes: Snap[][];
  /** `User ClaudeWorktreesStatusChanged`: its data (Neovim >= 0.8), `{ nodata: true }` before. */
  events: Array<{ root?: string; name?: string; status?: string; previous?: string; nodata?: boolean }>;
  /** Every vim.notify message. */
  notes: string[];
  attention: AttentionCall[];
}

/** Where each list of a StatusRecord was at a point in time (StatusRecord lengths). */
export type RecordMark = { [K in keyof StatusRecord]: number };

export interface NvimCliOptions {
  nvimBin: string;
  cliBin: string;
  /** Neovim's working directory. */
  cwd: string;
  sandbox: Sandbox;
  /** The fake Messages API (ANTHROPIC_BASE_URL, given to every claude through setup's `env`). */
  apiBaseUrl: string;
  /** UI size (default 220x50): the terminal window is `termCols` wide on the right. */
  cols?: number;
  rows?: number;
  termCols?: number;
  /** More to print when a wait times out (e.g. the fake API's request log). */
  explain?: () => string;
}

/**
 * Neovim's environment: exactly the sandbox's (no variable of the machine's own session leaks
 * into the CLI, just as ClaudeCli runs it under `env -i`), plus the remote-plugin manifest.
 */
export function nvimEnvFor(sandbox: Sandbox, nvimBin: string, logFile: string): NodeJS.ProcessEnv {
  // The plugin's own host unless CW_TEST_HOST=node (as test/helpers/nvim.ts): then a manifest.
  const manifest = OWN_HOST ? path.join(sandbox.root, 'no-rplugin-manifest.vim') : manifestFor(nvimBin);
  return {
    ...sandbox.env,
    NVIM_RPLUGIN_MANIFEST: manifest,
    NVIM_NODE_LOG_FILE: logFile,
  };
}

/**
 * Nothing left to do: manifestFor() keeps one manifest per binary for the whole run, and
 * test/globalTeardown.ts removes them. Kept so callers need not change.
 */
export function removeManifests(): void {}

const OWN_HOST = process.env.CW_TEST_HOST !== 'node';

export class NvimCli {
  /** Every claude pid seen, to make sure none outlives the test. */
  readonly claudePids = new Set<number>();
  private stopped = false;

  private constructor(
    readonly nvim: NeovimClient,
    readonly proc: cp.ChildProcess,
    readonly opts: NvimCliOptions,
    readonly logFile: string,
  ) {}

  static async start(opts: NvimCliOptions): Promise<NvimCli> {
    const logFile = path.join(opts.sandbox.root, 'node-host.log');
    const env = nvimEnvFor(opts.sandbox, opts.nvimBin, logFile);
    const proc = cp.spawn(opts.nvimBin, ['--embed', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
      '--cmd', `let g:node_host_prog='${HOST_PROG}'`, '--cmd', 'set nomore shortmess+=I noswapfile',
      '-c', 'runtime! plugin/rplugin.vim', ...(OWN_HOST ? ['-c', 'runtime! plugin/claude_worktrees.lua'] : [])],
    { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const nvim = attach({ proc });
    const rig = new NvimCli(nvim, proc, opts, logFile);
    try {
      await nvim.request('nvim_ui_attach', [opts.cols ?? 220, opts.rows ?? 50, { ext_linegrid: true }]);
      const setup = {
        cmd: [opts.cliBin],
        env: { ANTHROPIC_BASE_URL: opts.apiBaseUrl },
        terminal: { position: 'right', size: opts.termCols ?? 110 },
      };
      await rig.lua('require("claude_worktrees").setup(...)', setup);
    } catch (err) {
      await rig.stop();
      throw err;
    }
    return rig;
  }

  async lua<T = unknown>(code: string, ...args: unknown[]): Promise<T> {
    return (await this.nvim.request('nvim_exec_lua', [code, args])) as T;
  }

  async cmd(c: string): Promise<void> {
    await this.nvim.command(c);
  }

  instances(): Promise<Snap[]> {
    return this.lua<Snap[]>('return require("claude_worktrees").instances()');
  }

  /**
   * Record, in Neovim, what the plugin shows of instance status: instances() after every state
   * push (a wrapper around `_set_state`, which Node calls through the bridge), the `User
   * ClaudeWorktreesStatusChanged` autocmd, every vim.notify, and every `_attention` call with
   * its result. Idempotent; read it back with statusRecord().
   */
  async recordStatus(): Promise<void> {
    await this.lua(`if _G.cw_rec then return end
      local cw = require('claude_worktrees')
      local rec = { pushes = {}, events = {}, notes = {}, attention = {} }
      _G.cw_rec = rec
      local set_state = cw._set_state
      cw._set_state = function(...)
        local r = set_state(...)
        table.insert(rec.pushes, cw.instances())
        return r
      end
      vim.api.nvim_create_autocmd('User', { pattern = 'ClaudeWorktreesStatusChanged', callback = function(a)
        local d = a.data
        table.insert(rec.events, type(d) == 'table'
          and { root = d.root, name = d.name, status = d.status, previous = d.previous } or { nodata = true })
      end })
      local notify = vim.notify
      vim.notify = function(msg, ...)
        table.insert(rec.notes, tostring(msg))
        return notify(msg, ...)
      end
      local attention = cw._attention
      cw._attention = function(a, ...)
        local raised = attention(a, ...)
        table.insert(rec.attention, { name = a.name, root = a.root, status = a.status,
          waiting_for = a.waiting_for, last_message = a.last_message, raised = raised })
        return raised
      end`);
  }

  async statusRecord(since?: RecordMark): Promise<StatusRecord> {
    const r = await this.lua<StatusRecord>('return _G.cw_rec');
    if (!r) throw new Error('recordStatus() was not called');
    // Empty Lua tables come back as {} or []: make every list a list.
    const list = <T>(v: T[] | Record<string, never>): T[] => (Array.isArray(v) ? v : []);
    const out: StatusRecord = {
      pushes: list(r.pushes).map((p) => list(p)), events: list(r.events), notes: list(r.notes), attention: list(r.attention),
    };
    if (since) for (const k of Object.keys(since) as Array<keyof StatusRecord>) (out[k] as unknown[]) = out[k].slice(since[k]);
    return out;
  }

  /** The current end of each list of the record: pass it to statusRecord() to see what came after. */
  async recordMark(): Promise<RecordMark> {
    const r = await this.statusRecord();
    return { pushes: r.pushes.length, events: r.events.length, notes: r.notes.length, attention: r.attention.length };
  }

  /**
   * The statuses of `root`'s instance in the pushes of a record, as 'status' or
   * 'status/waitingFor', repeats (pushes for other changes) dropped.
   */
  static statusTrail(rec: StatusRecord, root: string): string[] {
    const trail: string[] = [];
    for (const push of rec.pushes) {
      const i = push.find((s) => s.root === root);
      if (!i || i.status === undefined) continue;
      const label = i.waitingFor ? `${i.status}/${i.waitingFor}` : i.status;
      if (trail[trail.length - 1] !== label) trail.push(label);
    }
    return trail;
  }

  /** Wait until instances() shows `root`'s instance with `status` (and `waitingFor`, when given). */
  async waitStatus(root: string, status: string, waitingFor?: string, timeoutMs = 20_000): Promise<Snap> {
    try {
      return await waitFor(async () => {
        const s = (await this.instances()).find((i) => i.root === root);
        return s && s.status === status && (waitingFor === undefined || s.waitingFor === waitingFor) ? s : null;
      }, `status ${status}${waitingFor ? `/${waitingFor}` : ''} of ${root}`, timeoutMs, 50);
    } catch (err) {
      const rec = await this.statusRecord().catch(() => null);
      const trail = rec ? `\nstatus trail: ${NvimCli.statusTrail(rec, root).join(' -> ')}` : '';
      throw new Error(`${(err as Error).message}${trail}\n${await this.explain(root)}`);
    }
  }

  /** The plugin's claude terminals (b:claude_worktrees_root names the worktree). */
  terminals(): Promise<TermInfo[]> {
    return this.lua<TermInfo[]>(`local out = {}
      for _, b in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].buftype == 'terminal' and vim.b[b].claude_worktrees_root then
          table.insert(out, { buf = b, job = vim.b[b].terminal_job_id, root = vim.b[b].claude_worktrees_root,
            name = vim.b[b].claude_worktrees_name })
        end
      end
      return out`);
  }

  async terminal(root: string): Promise<TermInfo> {
    return waitFor(async () => (await this.terminals()).find((t) => t.root === root), `the claude terminal of ${root}`, 10_000);
  }

  /**
   * The CLI's screen: the terminal buffer's last `rows` lines (the buffer also holds the
   * scrollback above them), trailing blanks dropped.
   */
  async screen(root: string, all = false): Promise<string> {
    const t = await this.terminal(root);
    const lines = await this.lua<string[]>(`local buf = ...
      local n = vim.api.nvim_buf_line_count(buf)
      local rows = ${all ? 'n' : (this.opts.rows ?? 50)}
      return vim.api.nvim_buf_get_lines(buf, math.max(0, n - rows), -1, false)`, t.buf);
    return lines.map((l) => l.replace(/\s+$/, '')).join('\n').replace(/\n+$/, '');
  }

  /** Poll the CLI's screen until it matches; the screen is in the error on timeout. */
  async waitScreen(root: string, re: RegExp, timeoutMs = 15_000): Promise<string> {
    try {
      return await waitFor(async () => {
        const s = await this.screen(root);
        return re.test(s) ? s : null;
      }, `${re} on the claude screen of ${root}`, timeoutMs, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await this.explain(root)}`);
    }
  }

  /** Write raw bytes to the CLI's pty (no terminal mode or focus needed). */
  async send(root: string, data: string): Promise<void> {
    const t = await this.terminal(root);
    await this.nvim.request('nvim_chan_send', [t.job, data]);
  }

  /** Type text into the CLI's input box and wait until the box shows it (not submitted). */
  async typeText(root: string, text: string, timeoutMs = 10_000): Promise<void> {
    await this.send(root, text);
    const probe = text.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await this.waitScreen(root, new RegExp(probe), timeoutMs);
  }

  /** Type a prompt, wait until the input box shows it, then submit it with Enter. */
  async typePrompt(root: string, text: string, timeoutMs = 10_000): Promise<void> {
    await this.typeText(root, text, timeoutMs);
    await this.send(root, '\r');
  }

  /**
   * Wait for the CLI's empty prompt, answering the first-run dialogs it may still show (as
   * ClaudeCli.waitReady does); keys are re-sent until the screen moves on.
   */
  async waitReady(root: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastKeyAt = 0;
    const answer = async (keys: string): Promise<void> => {
      if (Date.now() - lastKeyAt < 500) return;
      lastKeyAt = Date.now();
      await this.send(root, keys);
    };
    while (Date.now() < deadline) {
      const screen = await this.screen(root);
      if (/Do you want to use this API key\?/.test(screen)) {
        await answer(/❯\s*1\. Yes/.test(screen) ? '\r' : '\x1b[A');
      } else if (/Do you trust the files in this folder\?|Is this a project you/i.test(screen)) {
        await answer('\r');
      } else if (/Choose the text style|Press Enter to continue|Security notes/i.test(screen)) {
        await answer('\r');
      } else if (READY.test(screen) && /\? for shortcuts/.test(screen)) {
        return;
      }
      const snap = (await this.instances()).find((i) => i.root === root);
      if (snap && snap.state === 'exited') throw new Error(`claude of ${root} exited during startup\n${await this.explain(root)}`);
      await new Promise((r) => setTimeout(r, 100)); // poll: the terminal has no change event to await
    }
    throw new Error(`claude of ${root} not ready after ${timeoutMs} ms\n${await this.explain(root)}`);
  }

  /** Wait until the instance of `root` runs a claude that sent ide_connected; returns it. */
  async waitConnected(root: string, timeoutMs = 20_000): Promise<Snap> {
    const snap = await waitFor(async () => {
      const s = (await this.instances()).find((i) => i.root === root);
      if (s?.pid) this.claudePids.add(s.pid);
      return s && s.connected && s.claudePid ? s : null;
    }, `claude of ${root} connected to its IDE server`, timeoutMs, 50).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await this.explain(root)}`);
    });
    return snap;
  }

  /**
   * `:ClaudeCode` with a buffer of `file` current (so the plugin picks that file's worktree);
   * waits until that claude is connected and at its prompt, then goes back to normal mode in the
   * code window.
   */
  async startClaudeFor(file: string): Promise<Snap> {
    const root = git(path.dirname(file), 'rev-parse', '--show-toplevel').trim();
    this.opts.sandbox.trust(root); // no trust dialog
    await this.lua('vim.cmd("edit " .. vim.fn.fnameescape(...))', file);
    await this.cmd('ClaudeCode');
    await this.terminal(root);
    const snap = await this.waitConnected(root);
    await this.waitReady(root);
    await this.focusFile(file);
    return snap;
  }

  /** Normal mode in a code window showing `file`. */
  async focusFile(file: string): Promise<void> {
    await this.lua(`vim.cmd('stopinsert')
      local file = ...
      for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local b = vim.api.nvim_win_get_buf(w)
        if vim.bo[b].buftype == '' and vim.b[b].claude_worktrees_diff == nil then
          vim.api.nvim_set_current_win(w)
          vim.cmd('edit ' .. vim.fn.fnameescape(file))
          return
        end
      end
      error('no code window in this tab')`, file);
  }

  /** The plugin's diff views (lua/claude_worktrees/diff.lua), with their windows' tab. */
  diffs(): Promise<DiffView[]> {
    return this.lua(`local out = {}
      for id, d in pairs(require('claude_worktrees.diff').diffs) do
        if vim.api.nvim_win_is_valid(d.win_new) and vim.api.nvim_buf_is_valid(d.buf_new) then
          table.insert(out, { id = id, key = d.key, file = d.file, tab_name = d.tab_name, win_new = d.win_new,
            tab = vim.api.nvim_tabpage_get_number(vim.api.nvim_win_get_tabpage(d.win_new)),
            old = vim.api.nvim_buf_get_lines(d.buf_old, 0, -1, false),
            new = vim.api.nvim_buf_get_lines(d.buf_new, 0, -1, false),
            old_diff = vim.wo[d.win_old].diff, new_diff = vim.wo[d.win_new].diff })
        end
      end
      return out`);
  }

  /** Wait until exactly one diff view is open and return it (the CLI's screen on timeout). */
  async waitDiff(root: string, timeoutMs = 30_000): Promise<DiffView> {
    try {
      return (await waitFor(async () => {
        const ds = await this.diffs();
        return ds.length === 1 ? ds : null;
      }, 'the diff view in Neovim', timeoutMs, 50))[0];
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await this.explain(root)}`);
    }
  }

  /** Run a command with the proposal window of a diff current (where :ClaudeCodeDiff* act). */
  async inDiff(winNew: number, command: string): Promise<void> {
    await this.nvim.request('nvim_set_current_win', [winNew]);
    await this.cmd(command);
  }

  /** Screen, node host log and whatever opts.explain adds: for failure messages. */
  async explain(root: string): Promise<string> {
    const screen = await this.screen(root).catch((e) => `<${String(e)}>`);
    return `--- screen of ${root} ---\n${screen}\n${this.hostLog()}${this.opts.explain ? `\n${this.opts.explain()}` : ''}`;
  }

  hostLog(): string {
    try {
      return `--- node host log ---\n${fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n')}`;
    } catch {
      return '';
    }
  }

  /**
   * :qa! (the plugin ends its claudes and removes its lock files), SIGKILL after 10 s; then make
   * sure no claude it started is left. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A bound, not a wait: a hung Neovim must not keep stop() from killing it.
      const late = new Promise<Snap[]>((r) => { timer = setTimeout(() => r([]), 2000); });
      for (const s of await Promise.race([this.instances(), late])) {
        if (s.pid) this.claudePids.add(s.pid);
      }
    } catch { /* Neovim already gone */ } finally {
      clearTimeout(timer);
    }
    // The Node host (and whatever else Neovim started) writes into the sandbox: it must be gone
    // before the sandbox is removed.
    const kids = this.proc.pid ? descendants(this.proc.pid) : [];
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.nvim.command('qa!').catch(() => undefined);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000); // only if :qa! hangs
      await exited;
      clearTimeout(timer);
    }
    await reap(kids);
    for (const pid of this.claudePids) {
      try {
        await waitFor(() => !pidAlive(pid), `claude ${pid} gone after Neovim quit`, 5_000, 50);
      } catch {
        try { process.kill(pid, 'SIGKILL'); } catch { /* raced */ }
      }
    }
  }
}

/**
 * A fake-API script per prompt: a prompt containing `[[key]]` is answered by scripts[key], step
 * i after i assistant messages since that prompt. So several prompts (and several CLIs sharing
 * one fake API) each get their own conversation, whatever came before. Past the end of a
 * script the API's fallbackText answers. `served` lists what was answered, in order.
 */
export function promptRouter(scripts: Record<string, Turn[]>): {
  script: Turn[];
  chooseTurn: (req: MessagesRequest) => number;
  served: Array<{ key: string; step: number; cwd: string | null }>;
} {
  const script: Turn[] = [];
  const offsets = new Map<string, { at: number; len: number }>();
  for (const [key, turns] of Object.entries(scripts)) {
    offsets.set(key, { at: script.length, len: turns.length });
    script.push(...turns);
  }
  const served: Array<{ key: string; step: number; cwd: string | null }> = [];
  return {
    script,
    served,
    chooseTurn(req) {
      const msgs = req.messages ?? [];
      for (let i = msgs.length - 1; i >= 0; i--) {
        if (msgs[i].role !== 'user') continue;
        const m = /\[\[([\w-]+)\]\]/.exec(messageText(msgs[i]));
        if (!m) continue;
        const step = msgs.slice(i + 1).filter((x) => x.role === 'assistant').length;
        served.push({ key: m[1], step, cwd: workingDirectory(req) });
        const o = offsets.get(m[1]);
        return o && step < o.len ? o.at + step : -1;
      }
      return -1;
    },
  };
}

function messageText(m: NonNullable<MessagesRequest['messages']>[number]): string {
  return typeof m.content === 'string'
    ? m.content
    : m.content.map((c) => (typeof c.text === 'string' ? c.text : '')).join('\n');
}

/** The CLI's working directory, as its system prompt tells the model. */
export function workingDirectory(req: MessagesRequest | undefined): string | null {
  const m = /Primary working directory: ([^\n"\\]+)/.exec(JSON.stringify(req?.system ?? ''));
  return m ? m[1] : null;
}

/** Every text of a request's messages (with the context the CLI adds), joined. */
export function requestText(req: MessagesRequest | undefined): string {
  return (req?.messages ?? []).map(messageText).join('\n');
}

/** A repo with one committed file in the sandbox; with `linked`, a `git worktree add` beside it. */
export function makeRepo(sandbox: Sandbox, linked = false): { a: string; b: string } {
  const a = path.join(sandbox.root, 'proj');
  const b = path.join(sandbox.root, 'proj-feat');
  fs.mkdirSync(a);
  git(a, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(a, 'hello.txt'), 'hello\nworld\n');
  git(a, 'add', '.');
  git(a, 'commit', '-qm', 'init');
  if (linked) git(a, 'worktree', 'add', '-q', '-b', 'feat', b);
  return { a, b };
}
