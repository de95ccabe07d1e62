import type { HookEvent } from '../ide/server';

/**
 * What one instance's claude is doing, from its own hooks (src/claude/hooks.ts):
 * - unknown: no hook seen since claude was (re)started (still starting, or hooks are disabled);
 * - idle: at its prompt (a turn finished, or none started yet);
 * - busy: working on a prompt;
 * - waiting: a dialog waits for the user, see WaitingFor;
 * - exited: its process ended (or its session ended for good).
 */
export type ClaudeStatus = 'unknown' | 'idle' | 'busy' | 'waiting' | 'exited';
export type WaitingFor = 'permission' | 'question';

export interface StatusState {
  status: ClaudeStatus;
  /** Set exactly when status is 'waiting'. */
  waitingFor: WaitingFor | null;
  /** A turn finished and the user has not looked at it yet (cleared by 'seen' or a new prompt). */
  unseen: boolean;
  /** The latest claude session id (for `claude --resume <id>`); kept across restarts. */
  sessionId: string | null;
  /** Epoch ms of the last change of status or waitingFor. */
  changedAt: number;
}

/** Everything that moves the machine: hook events and what the plugin itself knows. */
export type StatusInput =
  | { kind: 'hook'; event: HookEvent }
  /** The transcript shows the user interrupted the turn (Esc, or "No" at a prompt): no hook fires then. */
  | { kind: 'interrupted' }
  /** A new claude process was started for the instance. */
  | { kind: 'launched' }
  /** Its process ended. */
  | { kind: 'exited' }
  /** The user looked at the finished turn. */
  | { kind: 'seen' };

/** Tools whose whole point is a question to the user. */
const QUESTION_TOOLS = new Set(['AskUserQuestion']);

const NOTIFICATION_WAIT: Record<string, WaitingFor> = {
  permission_prompt: 'permission',
  worker_permission_prompt: 'permission',
  elicitation_dialog: 'question',
  elicitation_url_dialog: 'question',
};

/** SessionEnd reasons after which the same process goes on with another session. */
const SESSION_SWITCH_REASONS = new Set(['clear', 'resume']);

/** Who asked: the main thread, a subagent, or an MCP server's elicitation. */
function askerOf(ev: HookEvent): string {
  return ev.agentId ? `agent:${ev.agentId}` : 'main';
}

/**
 * The status state machine of one instance. Waits are tracked per asker: a subagent's tool
 * finishing must not hide the main thread's permission prompt that is still on screen.
 */
export class StatusMachine {
  private s: StatusState;
  /** Open dialogs by asker, in the order they opened (the newest decides waitingFor). */
  private readonly waits = new Map<string, WaitingFor>();

  constructor(now = Date.now()) {
    this.s = { status: 'unknown', waitingFor: null, unseen: false, sessionId: null, changedAt: now };
  }

  get state(): Readonly<StatusState> {
    return this.s;
  }

  /** Apply one input; true when anything in state changed. */
  apply(input: StatusInput, now = Date.now()): boolean {
    const before = this.s;
    const next: StatusState = { ...before };
    switch (input.kind) {
      case 'hook':
        this.onHook(input.event, next);
        break;
      case 'interrupted':
        if (before.status === 'busy' || before.status === 'waiting') this.settle(next, 'idle', false);
        break;
      case 'launched':
        this.settle(next, 'unknown', false);
        break;
      case 'exited':
        this.settle(next, 'exited', false);
        break;
      case 'seen':
        next.unseen = false;
        break;
    }
    if (next.status !== 'waiting') next.waitingFor = null;
    if (next.status !== before.status || next.waitingFor !== before.waitingFor) next.changedAt = now;
    const changed = (Object.keys(next) as Array<keyof StatusState>).some((k) => next[k] !== before[k]);
    if (changed) this.s = next;
    return changed;
  }

  /** Leave every dialog and land in `status`. */
  private settle(next: StatusState, status: ClaudeStatus, unseen: boolean): void {
    this.waits.clear();
    next.status = status;
    next.unseen = unseen;
  }

  private wait(next: StatusState, asker: string, what: WaitingFor): void {
    this.waits.delete(asker);
    this.waits.set(asker, what);
    this.fromWaits(next);
  }

  private unwait(next: StatusState, asker: string): void {
    this.waits.delete(asker);
    this.fromWaits(next);
  }

  /** waiting while any dialog is open (the newest says what for), else busy. */
  private fromWaits(next: StatusState): void {
    const last = [...this.waits.values()].pop();
    next.status = last ? 'waiting' : 'busy';
    next.waitingFor = last ?? null;
  }

  private onHook(ev: HookEvent, next: StatusState): void {
    next.sessionId = ev.sessionId;
    const asker = askerOf(ev);
    switch (ev.event) {
      case 'SessionStart':
        // Our SessionStart hook is async (a relay process), so it can come after the first
        // prompt's UserPromptSubmit; and 'compact' happens in the middle of a turn.
        if (next.status === 'unknown' || next.status === 'idle') this.settle(next, 'idle', false);
        return;
      case 'UserPromptSubmit':
        this.settle(next, 'busy', false);
        return;
      case 'PreToolUse':
        // The next tool of the same asker means its previous dialog was answered.
        if (ev.toolName && QUESTION_TOOLS.has(ev.toolName)) return this.wait(next, asker, 'question');
        return this.unwait(next, asker);
      case 'PermissionRequest':
        // Sent as the CLI shows its permission dialog (AskUserQuestion's dialog goes through it too).
        return this.wait(next, asker, ev.toolName && QUESTION_TOOLS.has(ev.toolName) ? 'question' : 'permission');
      case 'PostToolUse':
      case 'PostToolUseFailure':
        return this.unwait(next, asker);
      case 'Elicitation':
        return this.wait(next, 'elicitation', 'question');
      case 'ElicitationResult':
        return this.unwait(next, 'elicitation');
      case 'Notification': {
        const what = ev.notificationType ? NOTIFICATION_WAIT[ev.notificationType] : undefined;
        // A fallback only: PermissionRequest came about 6 s earlier (the CLI notifies after 6 s
        // without user activity).
        if (what && this.waits.size === 0) return this.wait(next, asker, what);
        // Sent after 60 s at the prompt, never while a turn runs: safe to trust.
        if (ev.notificationType === 'idle_prompt' && next.status !== 'exited') {
          this.waits.clear();
          next.status = 'idle';
        }
        return;
      }
      case 'Stop':
      case 'StopFailure':
        // The turn is over (StopFailure: ended by an API error): something new to look at.
        this.settle(next, 'idle', true);
        return;
      case 'SessionEnd':
        if (!ev.reason || !SESSION_SWITCH_REASONS.has(ev.reason)) this.settle(next, 'exited', false);
        return;
      default:
        // Other events (SubagentStop, PostToolBatch, ...) say nothing about the status.
        return;
    }
  }
}
