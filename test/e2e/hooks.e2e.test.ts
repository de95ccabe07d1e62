/**
 * Status from Claude Code's own hooks, end to end against the REAL CLI, offline: the CLI runs
 * under tmux (claudeCli.ts) with the argv and env Instance.claudeLaunch() gives it, talks to the
 * scripted fake Messages API, and its hooks POST to the instance's own IdeServer. See
 * test/e2e/README.md for the harness and how to debug it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import type { HookEvent } from '../../src/ide/server';
import { InstanceManager } from '../../src/instances/manager';
import type { Instance, StatusChange } from '../../src/instances/instance';
import { defaultHookRelay } from '../../src/claude/hooks';
import { nullLogger } from '../../src/util/log';
import { FakeEditor } from '../helpers/fakeEditor';
import { waitFor } from '../helpers/waitFor';
import { FakeMessagesApi, say, useTool, type Turn } from './fakeMessagesApi';
import {
  ClaudeCli, REPO_ROOT, makeSandbox, type Sandbox, checkPinnedCli, requireClaudeCli, runCleanups,
} from './claudeCli';

const BIN = requireClaudeCli();
// The relay as shipped (npm test builds first); SessionStart only reaches us through it.
const RELAY = defaultHookRelay(path.join(REPO_ROOT, 'dist/claude'));

jest.setTimeout(90_000);

const now = (): number => performance.timeOrigin + performance.now();

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Seen {
  /** "status" or "status/waitingFor", one entry per status change. */
  label: string;
  change: StatusChange;
  at: number;
}

/** One worktree's instance (the real InstanceManager and IdeServer), its claude and the fake API. */
interface Rig {
  api: FakeMessagesApi;
  inst: Instance;
  cli: ClaudeCli;
  hooks: HookEvent[];
  statuses: Seen[];
  pushes: () => number;
}

const cleanups: Array<() => Promise<void> | void> = [];
let sandbox: Sandbox;

async function startRig(script: Turn[]): Promise<Rig> {
  const repo = path.join(sandbox.root, 'repo');
  fs.mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q');
  fs.writeFileSync(path.join(repo, 'README.md'), 'hello\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');

  const api = await FakeMessagesApi.start({ script });
  cleanups.push(() => api.stop());
  const statuses: Seen[] = [];
  let pushes = 0;
  const manager = new InstanceManager({
    editorFor: () => new FakeEditor(),
    logFor: () => nullLogger,
    ideName: (name) => `claude-worktrees (${name})`,
    lockDir: sandbox.lockDir,
    onChange: () => { pushes++; },
    onStatus: (_inst, change) => {
      const { prev, next } = change;
      if (prev.status !== next.status || prev.waitingFor !== next.waitingFor) {
        statuses.push({ label: next.waitingFor ? `${next.status}/${next.waitingFor}` : next.status, change, at: now() });
      }
    },
    hookRelay: RELAY,
    log: nullLogger,
  });
  const inst = await manager.ensure(repo, 'main');
  cleanups.push(() => manager.kill(inst));
  const hooks: HookEvent[] = [];
  inst.server.on('hook', (e: HookEvent) => hooks.push(e));

  // What the editor side does: claudeLaunch() for argv and env, start claude, processStarted().
  const launch = inst.claudeLaunch([]);
  expect(launch.hooks).toBe(true);
  const cli = await ClaudeCli.start({
    bin: BIN!, cwd: repo, sandbox, apiBaseUrl: api.baseUrl, idePort: inst.server.port,
    args: launch.args, extraEnv: launch.env, waitReady: false,
  });
  cleanups.push(() => cli.kill());
  inst.processStarted(cli.pid, 1);
  await cli.waitReady(30_000);
  return { api, inst, cli, hooks, statuses, pushes: () => pushes };
}

async function explain(rig: Rig): Promise<string> {
  return `statuses: ${rig.statuses.map((s) => `${s.label}<-${s.change.cause}`).join(', ')}\n`
    + `hooks: ${rig.hooks.map((h) => `${h.event}${h.toolName ? `(${h.toolName})` : ''}`).join(', ')}\n`
    + `screen (${rig.cli.attachCommand}):\n${await rig.cli.capture()}\nAPI requests:\n${rig.api.describe()}`;
}

/** The first status change after `after` (hi-res ms) that lands on `label`. */
async function waitStatus(rig: Rig, label: string, after = 0, timeoutMs = 20_000): Promise<Seen> {
  try {
    return await waitFor(() => rig.statuses.find((s) => s.label === label && s.at > after), `status ${label}`, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await explain(rig)}`);
  }
}

function fmt(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}

if (BIN) {
  describe('status from the real Claude Code CLI\'s hooks', () => {
    beforeAll(() => {
      checkPinnedCli(BIN);
      if (!RELAY) throw new Error('dist/claude/hookRelay.js is missing: run `npm run build` first');
    });

    beforeEach(() => {
      sandbox = makeSandbox();
      cleanups.push(() => sandbox.cleanup());
    });

    afterEach(() => runCleanups(cleanups));

    test('idle -> busy -> waiting for a permission -> busy -> idle (unseen), session id, exit; latency printed', async () => {
      const made = 'made-by-claude.txt';
      const rig = await startRig([
        // Not read-only, not pre-allowed: the CLI asks for permission.
        useTool('Bash', { command: `touch ${made}`, description: 'Create a file' }),
        say('All done.'),
      ]);
      const file = path.join(rig.inst.root, made);

      // SessionStart (through the relay) says claude is up, with its session id.
      const up = await waitStatus(rig, 'idle');
      expect(up.change.cause).toBe('SessionStart');
      const sessionId = rig.inst.statusState.sessionId;
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);

      await rig.cli.typePrompt('Please create the file');
      const waiting = await waitStatus(rig, 'waiting/permission');
      expect(waiting.change.cause).toBe('PermissionRequest');
      // The prompt is on screen, the command has not run.
      await rig.cli.waitForScreen(/Do you want to proceed\?/, 10_000);
      const promptSeenAt = now();
      expect(fs.existsSync(file)).toBe(false);
      expect(rig.inst.snapshot()).toMatchObject({ status: 'waiting', waitingFor: 'permission', unseen: false });

      await rig.cli.sendKeys('Enter'); // "1. Yes"
      const idle = await waitStatus(rig, 'idle', waiting.at);
      expect(idle.change.cause).toBe('Stop');
      await rig.cli.waitForScreen(/All done\./, 10_000);
      expect(fs.existsSync(file)).toBe(true);

      // Every status change, in order, and what caused it.
      expect(rig.statuses.map((s) => `${s.label}<-${s.change.cause}`)).toEqual([
        'idle<-SessionStart',
        'busy<-UserPromptSubmit',
        'waiting/permission<-PermissionRequest',
        'busy<-PostToolUse',
        'idle<-Stop',
      ]);
      const snap = rig.inst.snapshot();
      expect(snap).toMatchObject({ status: 'idle', waitingFor: null, unseen: true, sessionId });
      expect(snap.statusChangedAt).toBeGreaterThan(0);
      // The session id is claude's own: its transcript is named after it.
      const projects = path.join(sandbox.configDir, 'projects');
      const transcripts = fs.readdirSync(projects).flatMap((d) => fs.readdirSync(path.join(projects, d)));
      expect(transcripts).toContain(`${sessionId}.jsonl`);
      expect(new Set(rig.hooks.map((h) => h.sessionId))).toEqual(new Set([sessionId]));

      // The editor marks the turn seen: the state is pushed again.
      const pushes = rig.pushes();
      expect(rig.inst.markSeen()).toBe(true);
      expect(rig.inst.snapshot().unseen).toBe(false);
      expect(rig.pushes()).toBe(pushes + 1);

      // /exit: SessionEnd says so before the process is gone; the session id stays for --resume.
      await rig.cli.typePrompt('/exit');
      const exited = await waitStatus(rig, 'exited');
      expect(exited.change.cause).toBe('SessionEnd');
      expect(rig.inst.snapshot()).toMatchObject({ status: 'exited', sessionId });

      const latencies = rig.statuses.map((s) => s.change.latencyMs).filter((l): l is number => l !== undefined);
      expect(latencies).toHaveLength(rig.statuses.length);
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log([
        'hook HTTP request arrival -> instance status change (real CLI 2.1.197):',
        ...rig.statuses.map((s) => `  ${s.change.cause.padEnd(17)} -> ${s.label.padEnd(19)} ${fmt(s.change.latencyMs!)}`),
        `  median ${fmt(sorted[Math.floor(sorted.length / 2)])}, max ${fmt(sorted[sorted.length - 1])}`,
        // An upper bound only: the screen is polled every 100 ms through tmux.
        `status 'waiting' set ${fmt(promptSeenAt - waiting.at)} before the prompt was seen on screen`,
        `hooks received: ${rig.hooks.map((h) => h.event + (h.toolName ? `(${h.toolName})` : '')).join(' ')}`,
      ].join('\n'));
      expect(Math.max(...latencies)).toBeLessThan(100);
    });

    test('waiting for a question, then interrupts (no hook fires for them) bring it back to idle', async () => {
      // Bash(sleep ...) runs without a prompt, so the second turn is plainly busy.
      fs.writeFileSync(path.join(sandbox.configDir, 'settings.json'), JSON.stringify({ permissions: { allow: ['Bash(sleep:*)'] } }));
      const rig = await startRig([
        useTool('AskUserQuestion', {
          questions: [{
            question: 'Which color?', header: 'Color', multiSelect: false,
            options: [{ label: 'Red', description: 'warm' }, { label: 'Blue', description: 'cool' }],
          }],
        }),
        useTool('Bash', { command: 'sleep 60', description: 'Wait a minute' }),
        say('SHOULD NOT BE SAID'),
      ]);
      await waitStatus(rig, 'idle');

      await rig.cli.typePrompt('Ask me something');
      const question = await waitStatus(rig, 'waiting/question');
      expect(question.change.cause).toBe('PreToolUse');
      await rig.cli.waitForScreen(/Which color\?/, 10_000);
      await rig.cli.sendKeys('Escape');
      const back = await waitStatus(rig, 'idle', question.at, 10_000);
      expect(back.change.cause).toBe('interrupted');
      expect(rig.inst.snapshot()).toMatchObject({ status: 'idle', waitingFor: null, unseen: false });

      await rig.cli.typePrompt('Now wait a minute');
      await rig.cli.waitForScreen(/Running…/, 15_000);
      const busy = rig.statuses[rig.statuses.length - 1];
      expect(busy.label).toBe('busy');
      await rig.cli.sendKeys('Escape');
      const stopped = await waitStatus(rig, 'idle', busy.at, 10_000);
      expect(stopped.change.cause).toBe('interrupted');

      expect(rig.statuses.map((s) => `${s.label}<-${s.change.cause}`)).toEqual([
        'idle<-SessionStart',
        'busy<-UserPromptSubmit',
        'waiting/question<-PreToolUse',
        'idle<-interrupted',
        'busy<-UserPromptSubmit',
        'idle<-interrupted',
      ]);
      // Indeed no hook reported either interrupt.
      expect(rig.hooks.map((h) => h.event).filter((e) => e === 'Stop' || e === 'PostToolUse')).toEqual([]);
      expect(await rig.cli.capture()).not.toMatch(/SHOULD NOT BE SAID/);
    });
  });
}
