import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import type { NvimPlugin } from 'neovim';
import { Bridge } from './bridge';
import { fargs, isRec, num, optStr, rec, str } from './check';
import { DiffTable, NvimEditor, parseSelection } from './nvimEditor';
import { EditorState } from './editorState';
import { InstanceManager } from '../instances/manager';
import type { Instance, InstanceSnapshot, StatusChange } from '../instances/instance';
import { warmUpListen, type HookEvent } from '../ide/server';
import { lockDir } from '../ide/lockfile';
import { worktreeOf } from '../git/worktree';
import { worktreeCommand } from './worktreeCommand';
import { whenWritten } from './acceptedWrite';
import { claudeArgv, claudeEnv } from '../claude/env';
import { FileLogger, type Logger } from '../util/log';
import { DEFAULT_AUTO_RESTART, DEFAULT_MAX_INSTANCES, parseConfig, type Config } from './config';
import { hookUrl } from '../claude/hooks';
import { claudeConfigDir, planSession, SessionStore, transcriptExists } from '../instances/sessionStore';
import { isInside } from '../util/uri';

type Nvim = NvimPlugin['nvim'];

let gcFn: (() => void) | null = null;
/** A full GC without starting node with --expose-gc (memory figures only). */
function fullGc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

export interface Context {
  file: string;
  cwd: string;
  termRoot: string;
  diffId: string;
  /** The instance Lua marks current (longest pushed root holding the buffer or cwd), or ''. */
  currentRoot: string;
  /** Window and buffer the command was typed in (0 when a caller did not say). */
  win: number;
  buf: number;
}

/** Where a command was typed (Context.win/buf); 0 = not known. */
type Origin = Pick<Context, 'win' | 'buf'>;
/** A restart nobody typed: its terminal never takes the focus (except from its own old one). */
const NOWHERE: Origin = { win: -1, buf: -1 };

/** busy | waiting (permission) | done (idle, turn not seen yet) | idle | exited | starting. */
function statusLabel(s: InstanceSnapshot): string {
  if (s.state === 'exited') return s.recovery === 'crashed' ? `crashed(${s.exitCode ?? '?'})` : s.recovery ?? 'exited';
  if (s.status === 'waiting') return s.waitingFor ? `waiting:${s.waitingFor}` : 'waiting';
  if (s.status === 'idle') return s.unseen ? 'done' : 'idle';
  if (s.status === 'unknown') return s.statusReason ? 'unknown' : 'starting';
  return s.status;
}

/**
 * The plugin inside the Node host: created on the first command, it attaches to the Lua side,
 * owns the InstanceManager and routes every command to the instance of the current worktree.
 */
export class App {
  readonly bridge: Bridge;
  readonly diffs = new DiffTable();
  readonly editorState = new EditorState();
  private manager!: InstanceManager;
  private editors = new Map<string, NvimEditor>();
  private config: Config = { cmd: 'claude', env: {}, logLevel: 'info', extraRoots: [], maxInstances: DEFAULT_MAX_INSTANCES, autoResume: true,
    autoRestart: { ...DEFAULT_AUTO_RESTART } };
  private log: Logger;
  private logDir = '';
  private ready: Promise<void> | null = null;
  private pushQueued = false;
  private launching = new Map<string, Promise<void>>();
  /** Instances end() is ending: a launch of one of them stops before it starts claude. */
  private readonly ending = new Set<Instance>();
  private mentionQueue: Promise<unknown> = Promise.resolve();
  /** The args each worktree's claude was last started with (a crash restart uses them again). */
  private launchArgs = new Map<string, string[]>();
  /** When each worktree's claude was restarted after a crash (epoch ms), for the limit. */
  private restarts = new Map<string, number[]>();
  /** Each worktree's session on disk (null until attached). */
  private sessions: SessionStore | null = null;
  private reloadQueued = new Set<string>();

  constructor(private readonly nvim: Nvim, private readonly method: string, private readonly syncMethod: string) {
    this.bridge = new Bridge(nvim);
    this.log = new FileLogger(null);
  }

  /** Attach to Lua once: learn config and log dir, tell Lua where to send events. */
  init(): Promise<void> {
    if (!this.ready) {
      this.ready = this.attach();
      this.ready.catch(() => { this.ready = null; });
    }
    return this.ready;
  }

  /** prestart: attach, and pay the one-time costs of a first start now (nothing is started). */
  async warm(): Promise<void> {
    await this.init();
    await warmUpListen();
    await this.bridge.call('claude_worktrees.host', 'warmed');
  }

  private async attach(): Promise<void> {
    const chan = num((await this.nvim.request('nvim_get_api_info', []) as unknown[])[0], 'channel id');
    const info = rec(await this.bridge.call('claude_worktrees', '_attach', chan, this.method, this.syncMethod), '_attach');
    this.editorState.apply(info.state);
    this.editorState.current = parseSelection(info.selection);
    this.config = parseConfig(info.config);
    this.logDir = str(info.log_dir, 'log_dir');
    const neovimPid = typeof info.pid === 'number' ? info.pid : null;
    const servername = optStr(info.servername) ?? '';
    const stateDir = optStr(info.state_dir);
    if (stateDir) this.sessions = new SessionStore(path.join(stateDir, 'sessions'));
    this.log = new FileLogger(path.join(this.logDir, 'claude-worktrees.log'), 'claude-worktrees', this.config.logLevel);
    this.log.info(`attached on channel ${chan} (node ${process.version}, pid ${process.pid})`);
    this.log.debug('config', { ...this.config, env: Object.keys(this.config.env) });
    this.manager = new InstanceManager({
      editorFor: (root, name) => this.editorFor(root, name),
      logFor: (name) => new FileLogger(path.join(this.logDir, `${name.replace(/[^\w.-]+/g, '_')}.log`), name, this.config.logLevel),
      ideName: (name, branch) => `Neovim (${name}${branch ? '@' + branch : ''})`,
      // Where claude looks for our lock: setup()'s env (given to claude) may set CLAUDE_CONFIG_DIR.
      lockDir: lockDir({ ...process.env, ...this.config.env }),
      portRange: this.config.portRange,
      extraRoots: this.config.extraRoots,
      maxInstances: this.config.maxInstances,
      lockExtra: (root, name, branch) => ({
        instanceId: randomUUID(), name, worktree: root, branch, neovimPid, servername, createdAt: new Date().toISOString(),
        status: 'starting',
      }),
      onChange: () => this.pushState(),
      onStatus: (inst, change) => this.statusChanged(inst, change),
      onHook: (inst, ev) => this.afterHook(inst, ev),
      onRootGone: (inst) => {
        this.log.warn(`worktree ${inst.root} of ${inst.name} is gone: ending its instance`);
        this.bridge.notify(`worktree ${inst.root} was deleted: instance ${inst.name} ended (claude stopped, lock removed)`, 'warn');
      },
      log: this.log,
    });
  }

  private editorFor(root: string, name: string): NvimEditor {
    const ed = new NvimEditor(this.bridge, this.editorState, root, this.diffs, this.log.child(name), (file, contents) =>
      this.reloadWhenWritten(file, contents), () => (this.logDir ? path.join(this.logDir, 'proposals') : ''),
      (file) => this.ownerOf(file)?.root === root);
    this.editors.set(root, ed);
    return ed;
  }

  /** Report an error to the user and the log. Never throws. */
  report(what: string, err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    this.log.error(what, err);
    this.bridge.notify(`${what}: ${msg}`, 'error');
  }

  /** Push every instance's snapshot to Lua, coalesced to one call per tick. */
  pushState(): void {
    if (this.pushQueued) return;
    this.pushQueued = true;
    setImmediate(() => {
      this.pushQueued = false;
      const instances = this.manager ? this.manager.list().map((i) => i.snapshot()) : [];
      this.bridge.call('claude_worktrees', '_set_state', { instances }).catch((e) => this.log.warn('state push failed', e));
    });
  }

  /**
   * Where the user is. Commands get it evaluated by Neovim as they run (their `eval`): asking
   * afterwards would race with our own requests still queued in Neovim (a terminal opened for an
   * earlier :ClaudeCode moves the focus), and a command would act on the wrong worktree.
   */
  async context(given?: unknown): Promise<Context> {
    return App.contextOf(given ?? (await this.bridge.call('claude_worktrees', 'context')));
  }

  /** A context table from Lua, checked; what a command got as its last argument, if it is one. */
  static isContext(v: unknown): boolean {
    return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Record<string, unknown>).cwd === 'string';
  }

  private static contextOf(raw: unknown): Context {
    const c = rec(raw, 'context');
    return {
      file: optStr(c.file) ?? '',
      cwd: str(c.cwd, 'cwd'),
      termRoot: optStr(c.term_root) ?? '',
      diffId: optStr(c.diff_id) ?? '',
      currentRoot: optStr(c.current_root) ?? '',
      win: typeof c.win === 'number' ? c.win : 0,
      buf: typeof c.buf === 'number' ? c.buf : 0,
    };
  }

  /** The worktree a command acts on: the Claude terminal's own, else the buffer's file, else cwd. */
  private async worktreeFor(ctx: Context): Promise<{ root: string; branch: string }> {
    if (ctx.termRoot) {
      const inst = this.manager.get(ctx.termRoot);
      if (inst) return { root: inst.root, branch: inst.branch };
    }
    const dir = ctx.file ? path.dirname(ctx.file) : ctx.cwd;
    const wt = await worktreeOf(dir);
    if (!wt.isGit && ctx.file) return worktreeOf(ctx.cwd);
    return wt;
  }

  private async current(ctx: Context): Promise<Instance | undefined> {
    const wt = await this.worktreeFor(ctx);
    return this.manager.get(wt.root);
  }

  private named(name: string): Instance {
    const inst = this.manager.byName(name);
    if (!inst) throw new Error(`no instance named '${name}' (see :ClaudeCodeList)`);
    return inst;
  }

  // ---- commands -------------------------------------------------------------------------

  /** :ClaudeCode[!]: start (resuming the worktree's session; `!` starts a fresh one) or toggle. */
  async claudeCode(ctx: Context, rawArgs: unknown, fresh = false): Promise<void> {
    const wt = await this.worktreeFor(ctx);
    const running = this.manager.get(wt.root);
    if (fresh && running && running.state === 'running') {
      throw new Error(`${running.name} is running; end it first (:ClaudeCodeKill ${running.name}) to start a fresh session there`);
    }
    const inst = await this.manager.ensure(wt.root, wt.branch);
    if (inst.state !== 'running') {
      await this.startClaude(inst, fargs(rawArgs), fresh, ctx);
      return;
    }
    if (this.launching.has(inst.root)) return;
    await this.bridge.call('claude_worktrees.terminal', 'toggle', inst.root);
  }

  /**
   * One launch per worktree at a time, however fast the commands come. `from`: where the user
   * typed the command; its terminal takes the focus only if they are still there when it opens.
   */
  private startClaude(inst: Instance, args: string[], fresh: boolean, from: Origin): Promise<void> {
    let p = this.launching.get(inst.root);
    if (!p) {
      p = this.launch(inst, args, fresh, from).finally(() => this.launching.delete(inst.root));
      this.launching.set(inst.root, p);
    }
    return p;
  }

  private async launch(inst: Instance, args: string[], fresh: boolean, from: Origin): Promise<void> {
    // The worktree's session: resumed when claude has a transcript of it, else a new one whose id
    // we choose and keep before claude starts (a Neovim restart or crash can then resume it).
    let known = inst.resumeId ?? this.sessions?.get(inst.root)?.sessionId ?? null;
    // Another Neovim's claude on this worktree may run that session now: two claudes appending
    // to one transcript would tangle it, so this one starts a new session.
    const inUse = known && !fresh && this.config.autoResume
      ? (await this.otherInstances()).find((o) => o.root === inst.root && o.sessionId === known) : undefined;
    if (inUse) {
      this.bridge.notify(`${inst.name}: its last session runs in another Neovim (pid ${inUse.neovimPid}); starting a new session here`, 'warn');
      known = null;
    }
    const cfgDir = claudeConfigDir({ ...process.env, ...this.config.env });
    const plan = planSession(args, known, fresh || !this.config.autoResume, (id) => transcriptExists(cfgDir, id));
    inst.plannedSessionId = plan.sessionId;
    if (plan.sessionId) this.keepSession(inst, plan.sessionId);
    if (plan.resumed) this.log.info(`${inst.name}: resuming session ${plan.sessionId}`);
    // Our --settings (status hooks to this instance's own server; resume does not restore them)
    // first, then the session flag, then the user's args.
    this.launchArgs.set(inst.root, args);
    const hooked = inst.claudeLaunch([...plan.args, ...args]);
    // Settings of the user's that keep our hooks from running: say so, and show `unknown`, not a
    // status that would never change.
    const blocked = optStr(await this.bridge.call('claude_worktrees.claude_config', 'hooks_blocked', inst.root, hookUrl(inst.server.port))
      .catch((e) => { this.log.warn('reading the Claude settings failed', e); return null; }));
    // Being ended (:ClaudeCodeKill, the worktree removed) while we asked: no claude for it.
    if (this.ending.has(inst) || this.manager.get(inst.root) !== inst || inst.state !== 'starting') {
      this.log.info(`${inst.name}: ended before its claude started; not starting it`);
      return;
    }
    inst.statusReason = blocked ?? null;
    if (blocked) this.bridge.notify(`${inst.name}: live status is off: ${blocked}`, 'warn');
    if (!hooked.hooks) {
      this.bridge.notify(`${inst.name}: could not read the --settings you passed to claude; live status is off for this run`, 'warn');
    }
    const argv = claudeArgv(this.config.cmd, hooked.args);
    const full = claudeEnv(inst.server.port, process.env, this.config.env);
    // termopen merges env into Neovim's own: pass only what we set.
    const env: Record<string, string> = { ...this.config.env, ...hooked.env };
    for (const k of ['CLAUDE_CODE_SSE_PORT', 'ENABLE_IDE_INTEGRATION', 'CLAUDE_CODE_AUTO_CONNECT_IDE', 'FORCE_CODE_TERMINAL', 'no_proxy', 'NO_PROXY']) {
      env[k] = full[k];
    }
    const r = rec(await this.bridge.call('claude_worktrees.terminal', 'open', {
      key: inst.root, name: inst.name, argv, cwd: inst.root, env, from_win: from.win, from_buf: from.buf,
    }), 'terminal.open');
    if (r.ok !== true) throw new Error(optStr(r.err) ?? 'could not start claude');
    inst.processStarted(num(r.pid, 'pid'), num(r.buf, 'buf'));
    this.log.info(`started ${argv.join(' ')} for ${inst.name} (pid ${r.pid}, port ${inst.server.port})`);
    this.pushState();
  }

  /** Local state only (no git, one echo): fast enough to run while Neovim waits. */
  async list(ctx: Context): Promise<void> {
    const cur = ctx.currentRoot ? this.manager.get(ctx.currentRoot) : undefined;
    const all = this.manager.list();
    const others = await this.otherInstances();
    if (all.length === 0 && others.length === 0) {
      await this.bridge.echo([[['claude-worktrees: no instances', 'Comment']]]);
      return;
    }
    const lines: Array<Array<[string, string]>> = [[
      ['  name                 branch           status       port   pid      state     connected  worktree', 'Title'],
    ]];
    for (const i of all) {
      const s = i.snapshot();
      const mark = i === cur ? '> ' : '  ';
      const pid = s.claudePid ?? s.pid;
      lines.push([[
        `${mark}${s.name.padEnd(20)} ${(s.branch || '-').padEnd(16)} ${statusLabel(s).padEnd(12)} ${String(s.port).padEnd(6)} ${String(pid ?? '-').padEnd(8)} ` +
          `${(s.state + (s.exitCode !== null ? `(${s.exitCode})` : '')).padEnd(9)} ${(s.connected ? 'yes' : 'no').padEnd(10)} ${s.root}`,
        i === cur ? 'Identifier' : 'Normal',
      ]]);
    }
    for (const o of others) {
      lines.push([[
        `  ${o.name.padEnd(20)} ${(o.branch || '-').padEnd(16)} ${o.label.padEnd(12)} ${String(o.port).padEnd(6)} ${'-'.padEnd(8)} ` +
          `${'other'.padEnd(9)} ${'-'.padEnd(10)} ${o.root} (in Neovim ${o.neovimPid})`,
        'Comment',
      ]]);
    }
    await this.bridge.echo(lines);
  }

  /** Instances of other Neovims on this machine, from their live lock files (discovery.lua). */
  private async otherInstances(): Promise<Array<{ name: string; branch: string; label: string; port: number; root: string; neovimPid: number; sessionId: string | null }>> {
    const raw = await this.bridge.call('claude_worktrees.discovery', 'others').catch((e) => {
      this.log.warn('listing other Neovims failed', e);
      return [];
    });
    if (!Array.isArray(raw)) return []; // Lua's empty table arrives as {} or []
    return raw.filter(isRec).map((o) => ({
      name: optStr(o.name) ?? '?', branch: optStr(o.branch) ?? '', label: optStr(o.label) ?? 'starting',
      port: typeof o.port === 'number' ? o.port : 0, root: optStr(o.root) ?? '', neovimPid: typeof o.neovim_pid === 'number' ? o.neovim_pid : 0,
      sessionId: optStr(o.session_id) ?? null,
    }));
  }

  async switchTo(ctx: Context, rawArgs: unknown): Promise<void> {
    const name = fargs(rawArgs)[0];
    if (!name) {
      await this.bridge.call('claude_worktrees', 'pick');
      return;
    }
    const inst = this.named(name);
    const shown = await this.bridge.call('claude_worktrees.terminal', 'show', inst.root);
    if (shown !== true) await this.startClaude(inst, [], false, ctx);
    else inst.markSeen();
  }

  async kill(ctx: Context, rawArgs: unknown): Promise<void> {
    const name = fargs(rawArgs)[0];
    const inst = name ? this.named(name) : await this.current(ctx);
    if (!inst) throw new Error('no Claude instance for this worktree');
    await this.end([inst]);
  }

  async killAll(): Promise<void> {
    await this.end(this.manager.list());
  }

  private async end(insts: Instance[]): Promise<void> {
    const ended: string[] = [];
    for (const inst of insts) {
      // A launch under way either stops (it sees `ending`) or finishes first: its claude is
      // then ended with the rest, never left running for a closed server.
      this.ending.add(inst);
      await this.launching.get(inst.root)?.catch(() => undefined);
      this.ending.delete(inst);
      const pid = inst.process?.pid;
      await this.bridge.call('claude_worktrees.terminal', 'close', inst.root).catch(() => false);
      await this.manager.kill(inst);
      this.editors.delete(inst.root);
      ended.push(`${inst.name} (${pid ? `pid ${pid}, ` : ''}port ${inst.server.port})`);
    }
    this.bridge.notify(ended.length ? `ended ${ended.join(', ')}` : 'no instances to end');
  }

  async send(ctx: Context, rawRange: unknown): Promise<void> {
    if (!ctx.file) throw new Error('this buffer has no file to send');
    const range = Array.isArray(rawRange) && rawRange.length === 2 ? rawRange.map(Number) : null;
    await this.mention(ctx, ctx.file, range ? range[0] - 1 : undefined, range ? range[1] - 1 : undefined);
  }

  async add(ctx: Context, rawArgs: unknown): Promise<void> {
    const [p, start, end] = fargs(rawArgs);
    if (!p) throw new Error('usage: :ClaudeCodeAdd {path} [start-line] [end-line]');
    const abs = path.resolve(ctx.cwd, p);
    if (!fs.existsSync(abs)) throw new Error(`no such file or directory: ${abs}`);
    const isDir = fs.statSync(abs).isDirectory();
    const toLine = (s: string | undefined): number | undefined => {
      if (s === undefined) return undefined;
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`line numbers start at 1: '${s}'`);
      return n - 1;
    };
    const ls = toLine(start);
    const le = toLine(end) ?? ls;
    await this.mention({ ...ctx, file: abs }, isDir ? abs + '/' : abs, ls, le);
  }

  /** :[range]ClaudeCodeSendTo {name}: the file (and range) to that instance, whatever the file's worktree. */
  async sendTo(ctx: Context, rawArgs: unknown, rawRange: unknown): Promise<void> {
    const name = fargs(rawArgs)[0];
    if (!name) throw new Error('usage: :[range]ClaudeCodeSendTo {instance} (see :ClaudeCodeList)');
    if (!ctx.file) throw new Error('this buffer has no file to send');
    const target = this.named(name);
    const range = Array.isArray(rawRange) && rawRange.length === 2 ? rawRange.map(Number) : null;
    await this.mention(ctx, ctx.file, range ? range[0] - 1 : undefined, range ? range[1] - 1 : undefined,
      { root: target.root, branch: target.branch });
  }

  /** at_mentioned to the claude of the file's worktree (or `to`'s); queued until it connects. */
  private async mention(ctx: Context, file: string, lineStart?: number, lineEnd?: number,
    to?: { root: string; branch: string }): Promise<void> {
    // Mentions reach claude in the order of their commands, however long finding each one's
    // worktree takes (a directory's git lookup can take longer than a file's).
    // A directory is looked up itself (a worktree's root belongs to it, not to its parent).
    const found = to ? Promise.resolve(to) : worktreeOf(file.endsWith('/') ? file.slice(0, -1) || '/' : path.dirname(file));
    found.catch(() => undefined); // awaited below, in turn: not an unhandled rejection meanwhile
    const turn = this.mentionQueue.then(async () => {
      const wt = await found;
      const i = await this.manager.ensure(wt.root, wt.branch);
      i.server.atMention({ filePath: file, lineStart, lineEnd });
      return i;
    });
    this.mentionQueue = turn.catch(() => undefined);
    const inst = await turn;
    if (inst.state !== 'running') await this.startClaude(inst, [], false, ctx);
    else if (!ctx.termRoot) await this.bridge.call('claude_worktrees.terminal', 'show', inst.root);
  }

  async diffDecide(ctx: Context, action: 'accept' | 'reject'): Promise<void> {
    if (!ctx.diffId) throw new Error('not in a Claude diff');
    await this.bridge.call('claude_worktrees.diff', 'decide', ctx.diffId, action);
  }

  async status(ctx: Context): Promise<void> {
    const inst = await this.current(ctx);
    if (!inst) {
      await this.bridge.echo([[['claude-worktrees: no instance for this worktree (:ClaudeCode starts one)', 'Comment']]]);
      return;
    }
    const s = inst.snapshot();
    const rows: Array<[string, string]> = [
      ['name', s.name], ['worktree', s.root], ['branch', s.branch || '-'], ['state', s.state],
      ['status', statusLabel(s) + (s.statusReason ? ` (${s.statusReason})` : '')], ['session', s.sessionId ?? '-'],
      ['exit code', s.exitCode === null ? '-' : String(s.exitCode)],
      ['connected', s.connected ? `yes (claude pid ${s.claudePid ?? '?'})` : 'no'],
      ['terminal pid', s.pid === null ? '-' : String(s.pid)], ['port', String(s.port)], ['lock file', s.lockPath],
      ['queued mentions', String(inst.server.queuedMentions)],
      ['log', path.join(this.logDir, `${s.name.replace(/[^\w.-]+/g, '_')}.log`)],
    ];
    await this.bridge.echo(rows.map(([k, v]) => [[`${k.padEnd(16)}`, 'Title'], [v, 'Normal']]));
  }

  /**
   * A claude that starts waiting for the user, or finishes a turn out of sight, says so: Lua
   * decides "out of sight" (is its terminal or a file of its worktree in a window of this tab).
   */
  private statusChanged(inst: Instance, change: StatusChange): void {
    const { prev, next } = change;
    if (prev.status !== next.status || prev.waitingFor !== next.waitingFor || prev.unseen !== next.unseen) {
      inst.server.updateLock({ status: statusLabel(inst.snapshot()) });
    }
    const waiting = next.status === 'waiting' && (prev.status !== 'waiting' || prev.waitingFor !== next.waitingFor);
    const finished = next.status === 'idle' && prev.status === 'busy';
    if (!waiting && !finished) return;
    this.bridge.call('claude_worktrees', '_attention', {
      name: inst.name, root: inst.root, status: next.status, waiting_for: next.waitingFor ?? '',
      last_message: change.lastMessage ?? '',
    }).catch((e) => this.log.warn('attention failed', e));
  }

  /** The session a worktree runs, on disk; a failure to write costs only the resume. */
  private keepSession(inst: Instance, sessionId: string): void {
    // In the lock too: another Neovim on this worktree must not resume it while it runs.
    inst.server.updateLock({ sessionId });
    try {
      this.sessions?.set(inst.root, sessionId);
    } catch (err) {
      this.log.warn(`${inst.name}: could not keep session ${sessionId} on disk`, err);
    }
  }

  /** After claude's tools ran, buffers of files it changed on disk are reloaded (or protected). */
  private afterHook(inst: Instance, ev: HookEvent): void {
    // The main thread's session (SessionStart after /clear or /resume names the new one).
    if (!ev.agentId && ev.sessionId) this.keepSession(inst, ev.sessionId);
    if (ev.event !== 'PostToolUse' && ev.event !== 'Stop') return;
    if (this.reloadQueued.has(inst.root)) return;
    this.reloadQueued.add(inst.root);
    setTimeout(() => {
      this.reloadQueued.delete(inst.root);
      this.bridge.call('claude_worktrees.editor', 'reload_changed', inst.root)
        .catch((e) => this.log.warn('reload after tool use failed', e));
    }, 30).unref();
  }

  /** :ClaudeCodeWorktree (see worktreeCommand.ts). */
  worktree(ctx: Context, rawArgs: unknown, bang: boolean): Promise<void> {
    return worktreeCommand({
      bridge: this.bridge,
      manager: this.manager,
      worktreeDir: this.config.worktreeDir,
      log: this.log,
      worktreeFor: (c) => this.worktreeFor(c),
      end: (insts) => this.end(insts),
      startClaude: (inst) => this.startClaude(inst, [], false, ctx),
    }, ctx, fargs(rawArgs), bang);
  }

  /** :ClaudeCodeNext: the next instance (after the current one) that waits, else one with an unseen turn. */
  async next(ctx: Context): Promise<void> {
    const all = this.manager.list();
    const start = Math.max(0, all.findIndex((i) => i.root === (ctx.termRoot || ctx.currentRoot)));
    const order = all.length ? [...all.slice(start + 1), ...all.slice(0, start + 1)] : [];
    const pick = order.find((i) => i.statusState.status === 'waiting') ?? order.find((i) => i.statusState.unseen);
    if (!pick) {
      this.bridge.notify('no instance needs attention');
      return;
    }
    const shown = await this.bridge.call('claude_worktrees.terminal', 'show', pick.root);
    if (shown !== true) throw new Error(`${pick.name} has no terminal to show (:ClaudeCodeSwitch ${pick.name} starts it)`);
    pick.markSeen();
  }

  // ---- events from Lua ------------------------------------------------------------------

  event(raw: unknown): void {
    const list = Array.isArray(raw) ? raw : [raw];
    for (const ev of list) {
      if (!isRec(ev)) continue;
      try {
        this.handleEvent(ev);
      } catch (err) {
        this.report(`event ${String(ev.type)} failed`, err);
      }
    }
  }

  /**
   * The instance whose worktree holds `file`: the longest root of a live one (a nested worktree
   * is its own while its claude runs, as its carve-out from the outer scope).
   */
  private ownerOf(file: string): Instance | undefined {
    let best: Instance | undefined;
    for (const i of this.manager?.list() ?? []) {
      if (i.state === 'exited') continue;
      if (isInside(i.root, file) && (!best || i.root.length > best.root.length)) best = i;
    }
    return best;
  }

  private handleEvent(ev: Record<string, unknown>): void {
    switch (ev.type) {
      case 'selection': {
        const sel = ev.none === true ? null : parseSelection(ev.selection);
        this.editorState.current = sel;
        if (!sel || ev.quiet === true || !this.manager) return;
        // Only the instance whose worktree holds the file hears about it.
        const best = this.ownerOf(sel.filePath);
        if (!best) return;
        const ed = this.editors.get(best.root);
        if (ed) ed.latest = sel;
        best.server.notify('selection_changed', sel);
        return;
      }
      case 'state':
        this.editorState.apply(ev.state);
        return;
      case 'seen': {
        // The user looked at this instance's terminal.
        this.manager?.get(str(ev.key, 'key'))?.markSeen();
        return;
      }
      case 'diff': {
        const d = this.diffs.open.get(str(ev.id, 'id'));
        if (!d) return;
        if (ev.action === 'accept') d.settle({ kind: 'accepted', contents: optStr(ev.contents) ?? d.req.newContents });
        else d.settle({ kind: 'rejected' });
        return;
      }
      case 'exit': {
        const inst = this.manager?.get(str(ev.key, 'key'));
        if (!inst) return;
        const buf = typeof ev.buf === 'number' ? ev.buf : null;
        if (buf !== null && inst.termBuf !== null && buf !== inst.termBuf) return; // an older terminal
        if (inst.state !== 'running') return; // already ended, or a fresh instance not started yet
        const code = num(ev.code, 'code');
        const closed = ev.closed === true; // its terminal buffer deleted by the user: ended on purpose
        this.log.info(`claude of ${inst.name} exited with ${code}${closed ? ' (its terminal was closed)' : ''}`);
        if (closed) this.bridge.notify(`${inst.name}: terminal closed, claude ended (:ClaudeCode starts it again)`);
        const delay = closed ? null : this.restartDelay(inst, code);
        this.manager?.retire(inst, code).then(() => {
          this.pushState();
          if (delay !== null) this.restartLater(inst, delay);
        }, (err) => this.log.error('retire failed', err));
        return;
      }
      case 'closed': {
        // The dead claude's terminal deleted while its restart waited: the user wants it gone.
        const inst = this.manager?.get(str(ev.key, 'key'));
        if (!inst || inst.recovery !== 'restarting' || (typeof ev.buf === 'number' && ev.buf !== inst.termBuf)) return;
        inst.recovery = null;
        this.bridge.notify(`${inst.name}: terminal closed, not restarting claude (:ClaudeCode starts it)`);
        this.pushState();
        return;
      }
      default:
        this.log.debug('unknown event', ev);
    }
  }

  /**
   * A claude that exits non-zero by itself (not through :ClaudeCodeKill, which ends the instance
   * first, nor /exit, which exits 0) is restarted after 1, 2, 4 s, at most auto_restart.max times
   * within its window; then the instance shows `crashed` with the code. Null: no restart.
   */
  private restartDelay(inst: Instance, code: number): number | null {
    const limit = this.config.autoRestart;
    if (code === 0 || !limit) return null;
    const now = Date.now();
    const recent = (this.restarts.get(inst.root) ?? []).filter((t) => now - t < limit.windowMs);
    if (recent.length >= limit.max) {
      this.restarts.set(inst.root, recent);
      inst.recovery = 'crashed';
      this.bridge.notify(`${inst.name}: claude crashed (exit ${code}) after ${recent.length} restarts within `
        + `${Math.round(limit.windowMs / 1000)} s; not restarting (:ClaudeCode starts it)`, 'error');
      return null;
    }
    recent.push(now);
    this.restarts.set(inst.root, recent);
    inst.recovery = 'restarting';
    const delay = 1000 * 2 ** (recent.length - 1);
    this.bridge.notify(`${inst.name}: claude exited with ${code}; restarting in ${delay / 1000} s, resuming its session`, 'warn');
    return delay;
  }

  private restartLater(inst: Instance, delayMs: number): void {
    setTimeout(() => {
      // Killed, or started again by hand, meanwhile: nothing to do.
      if (this.manager.get(inst.root) !== inst || inst.recovery !== 'restarting') return;
      this.manager.ensure(inst.root, inst.branch)
        .then((next) => this.startClaude(next, this.launchArgs.get(inst.root) ?? [], false, NOWHERE))
        .catch((err) => this.report(`restarting ${inst.name}`, err));
    }, delayMs);
  }

  /** After an accepted diff, reload the file's buffer once claude has written it (or give up). */
  private reloadWhenWritten(file: string, contents: string): void {
    whenWritten(file, contents, () => {
      this.bridge.call('claude_worktrees.editor', 'reload', file).catch((e) => this.log.warn('reload failed', e));
    });
  }

  /** Memory of this host process; with gc, after a full collection (for measuring, not for use). */
  stats(gc = false): Record<string, number> {
    if (gc) fullGc();
    const m = process.memoryUsage();
    return {
      pid: process.pid, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external,
      arrayBuffers: m.arrayBuffers, instances: this.manager ? this.manager.list().length : 0,
      openDiffs: this.diffs.open.size, stateBatches: this.editorState.batches,
    };
  }

  /** Synchronous teardown for 'disconnect' / SIGTERM / exit. */
  disposeSync(): void {
    try {
      this.manager?.disposeSync();
    } catch (err) {
      this.log.error('dispose failed', err);
    }
  }

}

