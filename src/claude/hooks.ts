import * as fs from 'fs';
import * as path from 'path';
import { HOOK_PATH } from '../ide/server';

/**
 * Claude Code hooks that report one instance's status to that instance's own IdeServer
 * (`POST http://127.0.0.1:<port>/hook`, see IdeServer.hookRequest). They reach claude through
 * `--settings`, never through the user's settings files. Facts about CLI 2.1.197 behind this:
 * - `--settings <json|file>` is one more settings layer ("flagSettings") deep-merged over user,
 *   project and local settings; hook arrays are concatenated, so the user's own hooks still run.
 *   The flag is single-valued (the last one wins), hence withHookSettings() below.
 * - `http` hooks POST the hook input JSON, wait for the answer (an empty object = no decision)
 *   and interpolate only the env vars listed in allowedEnvVars into headers. The CLI skips them
 *   for SessionStart, which gets a `command` hook in exec form (`args`: no shell) instead.
 * - `disableAllHooks`, `allowedHttpHookUrls` or `httpHookAllowedEnvVars` in the user's or
 *   managed settings can turn these hooks off; the status then stays 'unknown'.
 */

/** The env var holding the instance's hook token (only claude's env, never argv or a file). */
export const HOOK_TOKEN_ENV = 'CLAUDE_WORKTREES_HOOK_TOKEN';

/** Events posted over HTTP: everything the status machine (status.ts) listens to. */
export const HTTP_HOOK_EVENTS = [
  'UserPromptSubmit',
  'PreToolUse',
  'PermissionRequest',
  'PostToolUse',
  'PostToolUseFailure',
  'Notification',
  'Elicitation',
  'ElicitationResult',
  'Stop',
  'StopFailure',
  'SessionEnd',
] as const;

/** Seconds claude waits for our answer: it blocks on most hooks, so fail fast if the host hangs. */
export const HOOK_TIMEOUT_S = 3;

/** How to run the SessionStart relay (dist/claude/hookRelay.js) without a shell. */
export interface HookRelay {
  /** An absolute node binary, e.g. process.execPath of the remote-plugin host. */
  node: string;
  /** The absolute path of hookRelay.js. */
  script: string;
}

export interface HttpHook {
  type: 'http';
  url: string;
  headers: Record<string, string>;
  allowedEnvVars: string[];
  timeout: number;
}

export interface CommandHook {
  type: 'command';
  command: string;
  args: string[];
  async: boolean;
  timeout: number;
}

export interface HookMatcher {
  hooks: Array<HttpHook | CommandHook>;
}

/** The part of Claude Code's settings.json this plugin adds. */
export interface HookSettings {
  hooks: Record<string, HookMatcher[]>;
}

export function hookUrl(port: number): string {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad hook port ${port}`);
  return `http://127.0.0.1:${port}${HOOK_PATH}`;
}

/** The settings object for a claude whose instance server listens on `port`. */
export function hookSettings(port: number, relay: HookRelay | null): HookSettings {
  const url = hookUrl(port);
  const http: HttpHook = {
    type: 'http',
    url,
    // The CLI fills in the variable from its own env; the token never appears in argv.
    headers: { Authorization: `Bearer \${${HOOK_TOKEN_ENV}}` },
    allowedEnvVars: [HOOK_TOKEN_ENV],
    timeout: HOOK_TIMEOUT_S,
  };
  const hooks: Record<string, HookMatcher[]> = {};
  for (const ev of HTTP_HOOK_EVENTS) hooks[ev] = [{ hooks: [http] }];
  if (relay) {
    // async: starting node must not delay claude's startup; exec form: paths stay plain argv.
    hooks.SessionStart = [{ hooks: [{ type: 'command', command: relay.node, args: [relay.script, url], async: true, timeout: 10 }] }];
  }
  return { hooks };
}

/** The env a claude needs on top of claudeEnv() for its hooks to authenticate. */
export function hookEnv(token: string): Record<string, string> {
  return { [HOOK_TOKEN_ENV]: token };
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The user's settings with our hooks appended per event (what the CLI's own merge would do). */
export function mergeHookSettings(user: JsonObject, ours: HookSettings): JsonObject {
  const hooks: JsonObject = isObject(user.hooks) ? { ...user.hooks } : {};
  for (const [ev, matchers] of Object.entries(ours.hooks)) {
    const theirs = hooks[ev];
    hooks[ev] = Array.isArray(theirs) ? [...theirs, ...matchers] : matchers;
  }
  return { ...user, hooks };
}

/** The CLI reads inline JSON when the value looks like an object, else a file path. */
function isInlineJson(v: string): boolean {
  const t = v.trim();
  return t.startsWith('{') && t.endsWith('}');
}

export interface HookArgs {
  /** Claude arguments: our `--settings` first, then the user's (minus a `--settings` merged into ours). */
  args: string[];
  /** False when a user `--settings` could not be read: it is left alone and our hooks are off. */
  hooks: boolean;
}

/**
 * Put our hook settings in front of the user's claude arguments. A `--settings` of the user
 * (before any `--`; `--settings X` or `--settings=X`) would replace ours, so it is merged into
 * ours: inline JSON directly, a file through readFile (paths as given, the caller resolves them).
 */
export function withHookSettings(
  userArgs: readonly string[],
  ours: HookSettings,
  readFile?: (file: string) => string,
): HookArgs {
  const rest: string[] = [];
  let user: string | undefined;
  for (let i = 0; i < userArgs.length; i++) {
    const a = userArgs[i];
    if (a === '--') {
      rest.push(...userArgs.slice(i));
      break;
    }
    if (a.startsWith('--settings=')) {
      user = a.slice('--settings='.length);
    } else if (a === '--settings' && i + 1 < userArgs.length) {
      user = userArgs[++i];
    } else {
      rest.push(a);
    }
  }
  if (user === undefined) return { args: ['--settings', JSON.stringify(ours), ...userArgs], hooks: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(isInlineJson(user) ? user : readFile ? readFile(user) : '');
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) return { args: [...userArgs], hooks: false };
  return { args: ['--settings', JSON.stringify(mergeHookSettings(parsed, ours)), ...rest], hooks: true };
}

/** The relay next to this module (dist/claude/hookRelay.js), or null when it is not built. */
export function defaultHookRelay(dir = __dirname, node = process.execPath): HookRelay | null {
  const script = path.join(dir, 'hookRelay.js');
  return fs.existsSync(script) ? { node, script } : null;
}
