import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import type { HookEvent, IdeServer } from '../ide/server';
import { hookEnv, hookSettings, withHookSettings, type HookRelay } from '../claude/hooks';
import { StatusMachine, type ClaudeStatus, type StatusInput, type StatusState, type WaitingFor } from '../claude/status';
import { TranscriptTail } from '../claude/transcript';
import { nullLogger, type Logger } from '../util/log';
import { own, type OwnedProcess } from './reaper';

export type InstanceState = 'starting' | 'running' | 'exited';

/** One change of an instance's claude status (Instance.onStatus). */
export interface StatusChange {
  /** The hook event name that caused it, or 'interrupted' | 'launched' | 'exited' | 'seen'. */
  cause: string;
  prev: Readonly<StatusState>;
  next: Readonly<StatusState>;
  /** For a hook: milliseconds from the HTTP request's arrival to this change. */
  latencyMs?: number;
  /** Stop: the first line of claude's last message (for the "finished" notice). */
  lastMessage?: string;
}

export interface InstanceOptions {
  /** The session of this worktree's previous claude, to resume (`--resume <id>`). */
  resumeSessionId?: string | null;
  /** The SessionStart relay (null: no SessionStart hook; the first prompt still sets the status). */
  hookRelay?: HookRelay | null;
  /** Called after every status change, synchronously. */
  onStatus?(change: StatusChange): void;
  log?: Logger;
}

/** What to add when launching this instance's claude (Instance.claudeLaunch). */
export interface ClaudeLaunch {
  /** Claude arguments to put right after the claude command: our `--settings`, then the user's. */
  args: string[];
  /** Environment to add on top of claudeEnv() (the hook token). */
  env: Record<string, string>;
  /** False when a `--settings` of the user could not be read and merged: no status hooks then. */
  hooks: boolean;
}

/** What the Neovim side pushes to Lua for one instance (statusline, :ClaudeCodeList, picker). */
export interface InstanceSnapshot {
  name: string;
  root: string;
  branch: string;
  port: number;
  pid: number | null;        // the claude process (terminal job), once started
  claudePid: number | null;  // the pid claude reported over the socket (ide_connected)
  state: InstanceState;
  connected: boolean;
  exitCode: number | null;
  startedAt: number;
  lockPath: string;
  /** From claude's hooks: see src/claude/status.ts. */
  status: ClaudeStatus;
  waitingFor: WaitingFor | null;
  /** A finished turn not looked at yet; cleared by markSeen() or the next prompt. */
  unseen: boolean;
  /** The latest claude session id (for `claude --resume <id>`), kept after claude exits. */
  sessionId: string | null;
  /** Epoch ms of the last change of status or waitingFor. */
  statusChangedAt: number;
  /** After a crash: 'restarting' while a restart is due, 'crashed' once the plugin gave up. */
  recovery: Recovery | null;
  /** Why the status cannot be known (the user's Claude settings turn our hooks off), or null. */
  statusReason: string | null;
}

export type Recovery = 'restarting' | 'crashed';

/**
 * One worktree's Claude: its IDE server (port, token, lock file) and the claude process in its
 * terminal. starting -> running (connected or not) -> exited. When claude exits the server stops
 * (port closed, lock removed); `:ClaudeCode` then makes a new instance with a new server that
 * resumes this one's session.
 */
export class Instance {
  state: InstanceState = 'starting';
  exitCode: number | null = null;
  /** See InstanceSnapshot.recovery. */
  recovery: Recovery | null = null;
  /** See InstanceSnapshot.statusReason. */
  statusReason: string | null = null;
  process: OwnedProcess | null = null;
  termBuf: number | null = null;
  claudePid: number | null = null;
  readonly startedAt = Date.now();
  private readonly machine = new StatusMachine();
  private transcriptPath: string | null = null;
  private tail: TranscriptTail | null = null;
  private readonly log: Logger;
  /** Session id of the claude before this instance's first one (null: start fresh). */
  readonly resumeSessionId: string | null;
  /** The session chosen for this instance's claude at launch (known before its first hook). */
  plannedSessionId: string | null = null;

  constructor(
    readonly root: string,
    readonly name: string,
    readonly branch: string,
    readonly server: IdeServer,
    private readonly opts: InstanceOptions = {},
  ) {
    this.log = opts.log ?? nullLogger;
    this.resumeSessionId = opts.resumeSessionId ?? null;
  }

  /**
   * The session the next claude should resume: its own latest, else the one chosen at its launch
   * (a claude that died before its first hook), else its predecessor's.
   */
  get resumeId(): string | null {
    return this.machine.state.sessionId ?? this.plannedSessionId ?? this.resumeSessionId;
  }

  get connected(): boolean {
    return this.server.connected;
  }

  /** The hook-driven status, whole (snapshot() has the same fields, flattened). */
  get statusState(): Readonly<StatusState> {
    return this.machine.state;
  }

  /**
   * The extra argv and env for launching this instance's claude with status hooks:
   * `argv = claudeArgv(cmd, launch.args)` (userArgs are inside launch.args), env = claudeEnv(...)
   * plus launch.env. Rotates the hook token, so an earlier claude of this instance can no longer
   * report. A user `--settings` file is read relative to the worktree root.
   */
  claudeLaunch(userArgs: readonly string[] = []): ClaudeLaunch {
    const token = this.server.rotateHookToken();
    const read = (file: string): string => {
      const expanded = file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
      return fs.readFileSync(path.resolve(this.root, expanded), 'utf8');
    };
    const r = withHookSettings(userArgs, hookSettings(this.server.port, this.opts.hookRelay ?? null), read);
    if (!r.hooks) this.log.warn('could not read the --settings given to claude: status hooks are off for this run');
    return { args: r.args, env: hookEnv(token), hooks: r.hooks };
  }

  processStarted(pid: number, buf: number): void {
    this.process = own(pid);
    this.termBuf = buf;
    this.state = 'running';
    this.exitCode = null;
    this.claudePid = null;
    this.transcriptPath = null;
    this.move({ kind: 'launched' }, 'launched');
  }

  processExited(code: number): void {
    this.state = 'exited';
    this.exitCode = code;
    this.move({ kind: 'exited' }, 'exited');
  }

  /** A hook event from this instance's server. True when the status changed. */
  applyHook(ev: HookEvent): boolean {
    if (ev.transcriptPath) this.transcriptPath = ev.transcriptPath;
    return this.move({ kind: 'hook', event: ev }, ev.event, ev.receivedAt, ev.lastMessage);
  }

  /** The user looked at the finished turn (the editor side calls this). True when it changed. */
  markSeen(): boolean {
    return this.move({ kind: 'seen' }, 'seen');
  }

  /** Stop watching the transcript (the instance is going away). Idempotent. */
  dispose(): void {
    this.tail?.stop();
    this.tail = null;
  }

  private move(input: StatusInput, cause: string, receivedAt?: number, lastMessage?: string): boolean {
    const prev = this.machine.state;
    const changed = this.machine.apply(input);
    const next = this.machine.state;
    // Measured before anything else runs: the cost of getting from the request to the state.
    const latencyMs = receivedAt === undefined ? undefined : performance.timeOrigin + performance.now() - receivedAt;
    if (changed) {
      if (prev.status !== next.status || prev.waitingFor !== next.waitingFor) {
        this.log.debug(`status ${prev.status} -> ${next.status}${next.waitingFor ? ` (${next.waitingFor})` : ''} on ${cause}`
          + (latencyMs === undefined ? '' : ` in ${latencyMs.toFixed(2)} ms`));
      }
      try {
        this.opts.onStatus?.({ cause, prev, next, latencyMs, ...(lastMessage ? { lastMessage } : {}) });
      } catch (err) {
        this.log.error('status listener threw', err);
      }
    }
    // After the listeners: file system work must not delay the state push.
    this.followTranscript();
    return changed;
  }

  /** Tail the transcript only while a turn runs: that is when an interrupt can come. */
  private followTranscript(): void {
    const s = this.machine.state.status;
    const want = (s === 'busy' || s === 'waiting') ? this.transcriptPath : null;
    if (this.tail && this.tail.file === want) return;
    this.tail?.stop();
    this.tail = want ? new TranscriptTail(want, () => this.move({ kind: 'interrupted' }, 'interrupted'), { log: this.log }) : null;
  }

  snapshot(): InstanceSnapshot {
    return {
      name: this.name,
      root: this.root,
      branch: this.branch,
      port: this.server.port,
      pid: this.process?.pid ?? null,
      claudePid: this.claudePid,
      state: this.state,
      connected: this.connected,
      exitCode: this.exitCode,
      recovery: this.recovery,
      statusReason: this.statusReason,
      startedAt: this.startedAt,
      lockPath: this.server.lockPath,
      status: this.machine.state.status,
      waitingFor: this.machine.state.waitingFor,
      unseen: this.machine.state.unseen,
      sessionId: this.machine.state.sessionId,
      statusChangedAt: this.machine.state.changedAt,
    };
  }
}

/** Short, unique name: the worktree directory's name, disambiguated with its parent. */
export function shortName(root: string, taken: Set<string>): string {
  let name = path.basename(root) || root;
  if (taken.has(name)) name = `${path.basename(path.dirname(root))}/${name}`;
  let n = 2;
  const base = name;
  while (taken.has(name)) name = `${base}#${n++}`;
  return name;
}
