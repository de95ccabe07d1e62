import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { claudeArgv, claudeEnv } from '../../src/claude/env';
import { rmDir, tmpDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

/**
 * The real Claude Code CLI under a private tmux server, for end-to-end tests.
 * Everything it could write goes to a temporary sandbox (HOME, CLAUDE_CONFIG_DIR, XDG_*):
 * the machine's real ~/.claude is never read or written.
 */

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const CLI_VERSION = fs.readFileSync(path.join(__dirname, 'claude-cli-version.txt'), 'utf8').trim();
export const DEFAULT_CLI_BIN = path.join(REPO_ROOT, '.cache/claude-cli/node_modules/.bin/claude');
export const INSTALL_HINT = `install it with: scripts/install-claude-cli.sh (pinned ${CLI_VERSION}), `
  + 'or point CLAUDE_CLI_BIN at a claude binary';

export const API_KEY = 'sk-ant-api03-e2e-test-key-0000000000000000';

/** $CLAUDE_CLI_BIN, else the copy scripts/install-claude-cli.sh installs. Null when missing. */
export function findClaudeCli(env: NodeJS.ProcessEnv = process.env): string | null {
  const bin = env.CLAUDE_CLI_BIN || DEFAULT_CLI_BIN;
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    return fs.statSync(bin).isFile() ? bin : null;
  } catch {
    return null;
  }
}

/**
 * The CLI for an e2e file, or null after declaring one failing test that says how to install it:
 * a missing CLI must fail CI (and tell a developer what to do), never skip.
 */
export function requireClaudeCli(): string | null {
  const bin = findClaudeCli();
  if (!bin) {
    test('the Claude Code CLI is installed', () => {
      throw new Error(
        `Claude Code CLI not found at ${process.env.CLAUDE_CLI_BIN || DEFAULT_CLI_BIN} `
        + `(from ${process.env.CLAUDE_CLI_BIN ? '$CLAUDE_CLI_BIN' : 'the default location'}): ${INSTALL_HINT}`,
      );
    });
  }
  return bin;
}

/** Throws unless bin is the pinned version (CLAUDE_CLI_ANY_VERSION=1 lets any through). */
export function checkPinnedCli(bin: string): void {
  const v = cliVersion(bin);
  if (v !== CLI_VERSION && process.env.CLAUDE_CLI_ANY_VERSION !== '1') {
    throw new Error(`${bin} is claude ${v}, the tests are pinned to ${CLI_VERSION} `
      + `(set CLAUDE_CLI_ANY_VERSION=1 to run anyway); ${INSTALL_HINT}`);
  }
}

export function cliVersion(bin: string): string {
  const out = execFileSync(bin, ['--version'], {
    encoding: 'utf8', timeout: 20_000, env: { ...process.env, DISABLE_AUTOUPDATER: '1' },
  });
  return out.trim().split(/\s+/)[0];
}

/** A temporary HOME with CLAUDE_CONFIG_DIR, XDG dirs and TMPDIR inside it. */
export interface Sandbox {
  root: string;
  home: string;
  configDir: string;
  /** Where the CLI looks for IDE lock files: pass it to IdeServer.start({lockDir}). */
  lockDir: string;
  /** The env every CLI started in this sandbox gets (before ANTHROPIC_BASE_URL and claudeEnv's IDE part). */
  env: Record<string, string>;
  /** Mark a project dir as trusted (call before starting a CLI there). */
  trust(dir: string): void;
  cleanup(): void;
}

export interface SandboxOptions {
  /** Pre-approve ANTHROPIC_API_KEY in .claude.json (default true); false shows the CLI's question. */
  approveApiKey?: boolean;
}

export function makeSandbox(opts: SandboxOptions = {}): Sandbox {
  const root = tmpDir('cw-e2e-');
  liveSandboxes.add(root);
  const home = path.join(root, 'home');
  // The CLI's per-uid temp dir (claude-<uid>/<project>/...) and anything else it makes.
  const tmp = path.join(root, 'tmp');
  const configDir = path.join(home, '.claude');
  const lockDir = path.join(configDir, 'ide');
  const xdg = {
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_RUNTIME_DIR: path.join(root, 'run'),
  };
  for (const d of [home, configDir, tmp, ...Object.values(xdg)]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });

  const projects: Record<string, unknown> = {};
  const writeConfig = (): void => {
    const config = {
      hasCompletedOnboarding: true,
      lastOnboardingVersion: CLI_VERSION,
      theme: 'dark',
      numStartups: 1,
      // Skip "Do you want to use this API key?": the CLI stores the key's last 20 characters.
      customApiKeyResponses: { approved: opts.approveApiKey === false ? [] : [API_KEY.slice(-20)], rejected: [] },
      autoUpdates: false,
      hasIdeOnboardingBeenShown: { vscode: true, cursor: true, windsurf: true },
      bypassPermissionsModeAccepted: false,
      projects,
    };
    const text = JSON.stringify(config, null, 2);
    // With CLAUDE_CONFIG_DIR set the CLI reads <dir>/.claude.json; without, ~/.claude.json.
    fs.writeFileSync(path.join(configDir, '.claude.json'), text, { mode: 0o600 });
    fs.writeFileSync(path.join(home, '.claude.json'), text, { mode: 0o600 });
  };
  writeConfig();
  // The IDE's getDiagnostics tool runs without a terminal permission prompt. Edit and Write are
  // NOT allowed: their permission prompt is what makes the CLI call openDiff.
  fs.writeFileSync(path.join(configDir, 'settings.json'), JSON.stringify({
    permissions: { allow: ['mcp__ide__getDiagnostics'] },
  }), { mode: 0o600 });

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TERM: 'xterm-256color',
    SHELL: '/bin/bash',
    TMPDIR: tmp,
    ...xdg,
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_API_KEY: API_KEY,
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
    // The IDE socket and the fake API are on loopback: never through a proxy.
    no_proxy: 'localhost,127.0.0.1,::1',
    NO_PROXY: 'localhost,127.0.0.1,::1',
  };

  return {
    root, home, configDir, lockDir, env,
    trust(dir: string) {
      projects[dir] = {
        hasTrustDialogAccepted: true,
        hasCompletedProjectOnboarding: true,
        projectOnboardingSeenCount: 1,
        allowedTools: [],
      };
      writeConfig();
    },
    cleanup() {
      rmDir(root);
      liveSandboxes.delete(root);
    },
  };
}

export interface StartOptions {
  bin: string;
  cwd: string;
  sandbox: Sandbox;
  /** The fake Messages API, e.g. FakeMessagesApi.baseUrl. */
  apiBaseUrl: string;
  /** The IdeServer's port: CLAUDE_CODE_SSE_PORT and friends come from claudeEnv(). */
  idePort?: number;
  args?: string[];
  extraEnv?: Record<string, string>;
  cols?: number;
  rows?: number;
  /** Handle first-run dialogs and wait for the prompt (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

// Polling interval of the screen loops: a tmux pane has no change event to await.
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tmux ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** tmux servers still running: killed synchronously if the test process exits without kill(). */
const liveSockets = new Set<string>();
let exitHookInstalled = false;
function killLiveServers(): void {
  for (const s of liveSockets) {
    try { execFileSync('tmux', ['-L', s, 'kill-server'], { stdio: 'ignore', timeout: 2000 }); } catch { /* gone */ }
    rmDir(socketPath(s));
  }
  liveSockets.clear();
}
function trackSocket(socket: string): void {
  liveSockets.add(socket);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killLiveServers);
}

/**
 * Where tmux -L puts a socket: $TMUX_TMPDIR (the run root's tmux/, see test/tmpGate.ts) or
 * /tmp, then tmux-<uid>/. The server leaves the file behind when it is killed.
 */
function socketPath(socket: string): string {
  return path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket);
}

/** Sandboxes not cleaned up yet: removed (after their tmux servers) when the test file ends. */
const liveSandboxes = new Set<string>();
if (typeof afterAll === 'function') {
  afterAll(() => {
    killLiveServers();
    for (const d of liveSandboxes) rmDir(d);
    liveSandboxes.clear();
  });
}

/** The empty prompt line (not a "❯ 1. Yes" menu cursor): the CLI is ready for input. */
export const READY = /^[>❯](?:[ \u00a0]|$)(?![ \u00a0]*\d+\.)/m;

export class ClaudeCli {
  /** Pid of the claude process (the pane's process: tmux execs the argv directly). */
  pid = 0;
  /** First-run dialogs waitReady() answered: 'api-key', 'trust', 'continue'. */
  readonly dialogsAnswered: string[] = [];
  private killed = false;
  /** Distinct screens seen, kept when CW_E2E_SCREENS names a directory (written on kill). */
  private readonly screens: string[] = [];

  private constructor(
    readonly socket: string,
    readonly session: string,
    readonly opts: StartOptions,
  ) {}

  /** How to look at it live: `tmux -L <socket> attach` (printed in failure messages). */
  get attachCommand(): string {
    return `tmux -L ${this.socket} attach -t ${this.session}`;
  }

  static async start(opts: StartOptions): Promise<ClaudeCli> {
    const socket = `cw-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
    const cli = new ClaudeCli(socket, 'claude', opts);
    opts.sandbox.trust(opts.cwd);
    const extra = { ANTHROPIC_BASE_URL: opts.apiBaseUrl, ...(opts.extraEnv ?? {}) };
    const env = opts.idePort !== undefined
      ? claudeEnv(opts.idePort, opts.sandbox.env, extra)
      : { ...opts.sandbox.env, ...extra };
    // `env` as argv[0] makes the pane process exec claude with exactly this environment
    // (tmux adds its own TMUX/TERM vars to the pane otherwise), without any shell.
    const argv = claudeArgv([opts.bin], opts.args ?? []);
    const paneArgv = ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv];
    await new Promise<void>((resolve, reject) => {
      execFile('tmux', [
        '-L', socket, '-f', '/dev/null',
        // Options first, so a claude that dies at once still leaves its last screen to read.
        'start-server',
        ';', 'set-option', '-g', 'remain-on-exit', 'on',
        ';', 'set-option', '-g', 'history-limit', '5000',
        ';', 'new-session', '-d', '-s', cli.session,
        '-x', String(opts.cols ?? 120), '-y', String(opts.rows ?? 40),
        '-c', opts.cwd, '--', ...paneArgv,
      ], { env: { ...process.env, TMUX: '' }, timeout: 10_000 }, (err, _o, stderr) => (err ? reject(new Error(`tmux new-session: ${err.message} ${stderr}`)) : resolve()));
    });
    trackSocket(socket);
    const pid = Number((await run(['-L', socket, 'display-message', '-p', '-t', cli.session, '#{pane_pid}'])).trim());
    cli.pid = pid;
    if (opts.waitReady !== false) {
      try {
        await cli.waitReady(opts.readyTimeoutMs ?? 30_000);
      } catch (err) {
        await cli.kill();
        throw err;
      }
    }
    return cli;
  }

  /**
   * Answer the first-run dialogs the CLI may still show, until the prompt box is up. Keys sent
   * before the CLI reads its input are lost, so every answer is re-sent until the screen moves.
   */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastKeyAt = 0;
    const answer = async (name: string, ...keys: string[]): Promise<void> => {
      if (Date.now() - lastKeyAt < 500) return;
      lastKeyAt = Date.now();
      if (this.dialogsAnswered[this.dialogsAnswered.length - 1] !== name) this.dialogsAnswered.push(name);
      for (const k of keys) await this.sendKeys(k);
    };
    while (Date.now() < deadline) {
      const screen = await this.capture();
      if (/Do you want to use this API key\?/.test(screen)) {
        // The default is "No (recommended)": move up to "Yes", then confirm (PROTOCOL.md §7).
        if (/❯\s*1\. Yes/.test(screen)) await answer('api-key', 'Enter');
        else await answer('api-key', 'Up');
      } else if (/Do you trust the files in this folder\?|Is this a project you/i.test(screen)) {
        await answer('trust', 'Enter');
      } else if (/Choose the text style|Press Enter to continue|Security notes/i.test(screen)) {
        await answer('continue', 'Enter');
      } else if (READY.test(screen) && /\? for shortcuts/.test(screen)) {
        return;
      }
      if (!(await this.paneAlive())) {
        throw new Error(`claude exited during startup; screen:\n${screen}`);
      }
      await sleep(100); // poll: dialogs are answered between looks at the screen
    }
    throw new Error(`claude not ready after ${timeoutMs} ms; screen:\n${await this.capture()}`);
  }

  async paneAlive(): Promise<boolean> {
    try {
      const out = await run(['-L', this.socket, 'display-message', '-p', '-t', this.session, '#{pane_dead}']);
      return out.trim() === '0';
    } catch {
      return false;
    }
  }

  /** The visible screen, as text. */
  async capture(): Promise<string> {
    try {
      const screen = await run(['-L', this.socket, 'capture-pane', '-p', '-t', this.session]);
      if (process.env.CW_E2E_SCREENS && this.screens[this.screens.length - 1] !== screen) this.screens.push(screen);
      return screen;
    } catch (err) {
      return `<capture failed: ${(err as Error).message}>`;
    }
  }

  /** Poll the screen until it matches; returns the matching screen. */
  async waitForScreen(re: RegExp, timeoutMs = 15_000): Promise<string> {
    let screen = '';
    try {
      return await waitFor(async () => {
        screen = await this.capture();
        return re.test(screen) ? screen : null;
      }, `${re} on the screen`, timeoutMs, 100);
    } catch {
      throw new Error(`screen did not match ${re} within ${timeoutMs} ms (${this.attachCommand}); screen:\n${screen}`);
    }
  }

  /** tmux key names (Enter, Up, Escape, C-c) or literal text with {literal: true}. */
  async sendKeys(...keys: string[]): Promise<void> {
    await run(['-L', this.socket, 'send-keys', '-t', this.session, ...keys]);
  }

  async sendLiteral(text: string): Promise<void> {
    await run(['-L', this.socket, 'send-keys', '-t', this.session, '-l', '--', text]);
  }

  /** Type a prompt and submit it once the text shows in the input box. */
  async typePrompt(text: string, timeoutMs = 10_000): Promise<void> {
    await this.sendLiteral(text);
    const probe = text.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await this.waitForScreen(new RegExp(probe), timeoutMs);
    await this.sendKeys('Enter');
  }

  /** Kill the tmux server and make sure the claude process is gone. Idempotent. */
  async kill(): Promise<void> {
    if (this.killed) return;
    if (process.env.CW_E2E_SCREENS) {
      await this.capture();
      fs.mkdirSync(process.env.CW_E2E_SCREENS, { recursive: true });
      const text = this.screens.map((s, i) => `===== screen ${i} =====\n${s.replace(/\s+$/, '')}\n`).join('');
      fs.writeFileSync(path.join(process.env.CW_E2E_SCREENS, `${this.socket}.txt`), `cwd ${this.opts.cwd}\n${text}`);
    }
    this.killed = true;
    try { await run(['-L', this.socket, 'kill-server']); } catch { /* already gone */ }
    liveSockets.delete(this.socket);
    if (this.pid > 0) {
      const pid = this.pid;
      try {
        await waitFor(() => !isAlive(pid), `claude ${pid} gone with its tmux server`, 3000, 50);
      } catch {
        try { process.kill(pid, 'SIGKILL'); } catch { /* raced */ }
        await waitFor(() => !isAlive(pid), `claude ${pid} gone after SIGKILL`, 2000, 50).catch(() => undefined);
      }
    }
    rmDir(socketPath(this.socket));
  }
}

/**
 * Run and empty a cleanup stack in reverse order (CLIs die before their servers, servers before
 * the API, the sandbox last); every step runs, the first error is rethrown.
 */
export async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  const errors: unknown[] = [];
  for (const fn of cleanups.splice(0).reverse()) {
    try { await fn(); } catch (err) { errors.push(err); }
  }
  if (errors.length) throw errors[0];
}
