import type { HookEvent } from '../../src/ide/server';
import { StatusMachine, type StatusInput } from '../../src/claude/status';

const SID = '3f2c9d1e-0000-4000-8000-000000000001';

function hook(event: string, extra: Partial<HookEvent> = {}): StatusInput {
  return { kind: 'hook', event: { event, sessionId: SID, receivedAt: 0, ...extra } };
}

/** Feed inputs and return the status after each, as "status[/waitingFor][*unseen]". */
function run(m: StatusMachine, ...inputs: StatusInput[]): string[] {
  return inputs.map((i) => {
    m.apply(i);
    const s = m.state;
    return `${s.status}${s.waitingFor ? `/${s.waitingFor}` : ''}${s.unseen ? '*' : ''}`;
  });
}

describe('StatusMachine', () => {
  test('starts unknown, with no session', () => {
    const m = new StatusMachine(5);
    expect(m.state).toEqual({ status: 'unknown', waitingFor: null, unseen: false, sessionId: null, changedAt: 5 });
  });

  test('a turn with a permission prompt: idle -> busy -> waiting -> busy -> idle (unseen)', () => {
    const m = new StatusMachine();
    expect(run(m,
      hook('SessionStart', { source: 'startup' }),
      hook('UserPromptSubmit'),
      hook('PreToolUse', { toolName: 'Bash' }),
      hook('PermissionRequest', { toolName: 'Bash' }),
      hook('Notification', { notificationType: 'permission_prompt' }), // ~6 s later: no change
      hook('PostToolUse', { toolName: 'Bash' }),
      hook('PostToolBatch'),
      hook('Stop'),
    )).toEqual(['idle', 'busy', 'busy', 'waiting/permission', 'waiting/permission', 'busy', 'busy', 'idle*']);
    expect(m.state.sessionId).toBe(SID);
  });

  test('AskUserQuestion waits for a question, from PreToolUse on', () => {
    const m = new StatusMachine();
    expect(run(m,
      hook('UserPromptSubmit'),
      hook('PreToolUse', { toolName: 'AskUserQuestion' }),
      hook('PermissionRequest', { toolName: 'AskUserQuestion' }),
      hook('PostToolUse', { toolName: 'AskUserQuestion' }),
    )).toEqual(['busy', 'waiting/question', 'waiting/question', 'busy']);
  });

  test('PostToolUseFailure and the next PreToolUse of the same asker end a wait', () => {
    const m = new StatusMachine();
    expect(run(m, hook('UserPromptSubmit'), hook('PermissionRequest', { toolName: 'Bash' }), hook('PostToolUseFailure', { toolName: 'Bash' })))
      .toEqual(['busy', 'waiting/permission', 'busy']);
    expect(run(m, hook('PermissionRequest', { toolName: 'Write' }), hook('PreToolUse', { toolName: 'Read' })))
      .toEqual(['waiting/permission', 'busy']);
  });

  test('a subagent finishing a tool does not hide the main thread\'s open prompt', () => {
    const m = new StatusMachine();
    expect(run(m,
      hook('UserPromptSubmit'),
      hook('PermissionRequest', { toolName: 'Bash' }),
      hook('PreToolUse', { toolName: 'Read', agentId: 'a1' }),
      hook('PostToolUse', { toolName: 'Read', agentId: 'a1' }),
      hook('PermissionRequest', { toolName: 'AskUserQuestion', agentId: 'a2' }),
      hook('PostToolUse', { toolName: 'AskUserQuestion', agentId: 'a2' }),
      hook('PostToolUse', { toolName: 'Bash' }),
    )).toEqual(['busy', 'waiting/permission', 'waiting/permission', 'waiting/permission', 'waiting/question', 'waiting/permission', 'busy']);
  });

  test('Notification: a permission/elicitation dialog is a fallback wait; idle_prompt means idle', () => {
    const m = new StatusMachine();
    expect(run(m,
      hook('UserPromptSubmit'),
      hook('Notification', { notificationType: 'permission_prompt' }),
      hook('PostToolUse', { toolName: 'Bash' }),
      hook('Notification', { notificationType: 'elicitation_dialog' }),
      hook('Notification', { notificationType: 'auth_success' }),
      hook('Notification', { notificationType: 'idle_prompt' }),
    )).toEqual(['busy', 'waiting/permission', 'busy', 'waiting/question', 'waiting/question', 'idle']);
  });

  test('MCP elicitation waits for a question until its result', () => {
    const m = new StatusMachine();
    expect(run(m, hook('UserPromptSubmit'), hook('Elicitation'), hook('ElicitationResult'))).toEqual(['busy', 'waiting/question', 'busy']);
  });

  test('unseen: set by Stop and StopFailure, cleared by seen and by the next prompt', () => {
    const m = new StatusMachine();
    expect(run(m, hook('UserPromptSubmit'), hook('Stop'), { kind: 'seen' }, hook('UserPromptSubmit'), hook('StopFailure'), hook('UserPromptSubmit')))
      .toEqual(['busy', 'idle*', 'idle', 'busy', 'idle*', 'busy']);
  });

  test('an interrupt (from the transcript) ends a busy or waiting turn, seen; it never wakes an idle one', () => {
    const m = new StatusMachine();
    expect(run(m, { kind: 'interrupted' }, hook('UserPromptSubmit'), hook('PermissionRequest', { toolName: 'Bash' }), { kind: 'interrupted' }))
      .toEqual(['unknown', 'busy', 'waiting/permission', 'idle']);
    expect(run(m, hook('UserPromptSubmit'), { kind: 'interrupted' }, { kind: 'interrupted' })).toEqual(['busy', 'idle', 'idle']);
  });

  test('SessionStart never ends a running turn (async relay, or compact mid-turn)', () => {
    const m = new StatusMachine();
    expect(run(m,
      hook('UserPromptSubmit'),
      hook('SessionStart', { source: 'startup' }),
      hook('SessionStart', { source: 'compact' }),
      hook('Stop'),
      hook('SessionEnd', { reason: 'clear' }),
      hook('SessionStart', { source: 'clear', sessionId: 'new-session' }),
    )).toEqual(['busy', 'busy', 'busy', 'idle*', 'idle*', 'idle']);
    expect(m.state.sessionId).toBe('new-session');
  });

  test('SessionEnd: exited unless the process goes on with another session', () => {
    for (const reason of ['prompt_input_exit', 'logout', 'other', undefined]) {
      const m = new StatusMachine();
      expect(run(m, hook('UserPromptSubmit'), hook('SessionEnd', { reason }))).toEqual(['busy', 'exited']);
    }
    const m = new StatusMachine();
    expect(run(m, hook('UserPromptSubmit'), hook('SessionEnd', { reason: 'resume' }))).toEqual(['busy', 'busy']);
  });

  test('launched resets to unknown and keeps the session id; exited clears any wait', () => {
    const m = new StatusMachine();
    run(m, hook('UserPromptSubmit'), hook('PermissionRequest', { toolName: 'Bash' }));
    expect(run(m, { kind: 'exited' }, { kind: 'launched' })).toEqual(['exited', 'unknown']);
    expect(m.state.sessionId).toBe(SID);
    // A wait from before the restart does not linger.
    expect(run(m, hook('PostToolUse', { toolName: 'Read', agentId: 'x' }))).toEqual(['busy']);
  });

  test('apply() reports changes, and changedAt moves only with status or waitingFor', () => {
    const m = new StatusMachine(0);
    expect(m.apply(hook('UserPromptSubmit'), 10)).toBe(true);
    expect(m.state.changedAt).toBe(10);
    expect(m.apply(hook('PreToolUse', { toolName: 'Read' }), 20)).toBe(false);
    expect(m.apply(hook('PermissionRequest', { toolName: 'Bash' }), 30)).toBe(true);
    expect(m.state.changedAt).toBe(30);
    expect(m.apply(hook('Stop'), 40)).toBe(true);
    expect(m.apply({ kind: 'seen' }, 50)).toBe(true);
    expect(m.state.changedAt).toBe(40);
    expect(m.apply({ kind: 'seen' }, 60)).toBe(false);
    expect(m.apply(hook('UserPromptSubmit', { sessionId: 'other' }), 70)).toBe(true);
    expect(m.apply(hook('SubagentStop', { sessionId: 'other' }), 80)).toBe(false);
    expect(m.apply(hook('UnknownFutureEvent', { sessionId: 'other' }), 90)).toBe(false);
    // A new session id alone is a change (the editor keeps it for --resume).
    expect(m.apply(hook('SubagentStop'), 100)).toBe(true);
    expect(m.state.changedAt).toBe(70);
  });

  test('the state object is replaced, never mutated (safe to keep as "prev")', () => {
    const m = new StatusMachine();
    const before = m.state;
    m.apply(hook('UserPromptSubmit'));
    expect(before.status).toBe('unknown');
    expect(m.state).not.toBe(before);
  });
});
