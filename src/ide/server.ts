import * as http from 'http';
import * as path from 'path';
import type { Duplex } from 'stream';
import { EventEmitter } from 'events';
import { timingSafeEqual } from 'crypto';
import { performance } from 'perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';
import type { Editor } from './editor';
import { DiffRegistry } from './diffRegistry';
import { McpSession } from './mcpSession';
import { notificationFrame } from './jsonrpc';
import { lockDir as defaultLockDir, lockWriteError, newAuthToken, removeLock, removeStaleLocks, writeLock, type LockBody } from './lockfile';
import { nullLogger, type Logger } from '../util/log';
import { isInside } from '../util/uri';
import { PathScope } from './scope';

export const AUTH_HEADER = 'x-claude-code-ide-authorization';
/** Where claude's hooks POST their input (src/claude/hooks.ts builds the settings). */
export const HOOK_PATH = '/hook';
const DEFAULT_MAX_HOOK_BODY = 8 * 1024 * 1024;
const HOOK_BODY_TIMEOUT_MS = 10_000;
/** The whole request head must arrive within this (slow-header clients are cut off). */
const HEADERS_TIMEOUT_MS = 10_000;

export interface IdeServerOptions {
  /** The worktree root: the lock file's only workspace folder. */
  workspaceFolder: string;
  ideName: string;
  editor: Editor;
  /** Default: `$CLAUDE_CONFIG_DIR/ide` or `~/.claude/ide`. */
  lockDir?: string;
  /** More roots the tools may touch besides the worktree (claude's /add-dir), absolute. */
  extraRoots?: readonly string[];
  /** Inclusive; tried in order with bind-and-listen retry. Default: an OS-assigned port. */
  portRange?: [number, number];
  keepaliveMs?: number;
  maxPayload?: number;
  /** Largest hook request body accepted (bytes); PostToolUse carries tool output. Default 8 MiB. */
  maxHookBody?: number;
  /** A hook body must be complete this long after its headers (ms), however it trickles. Default 10 s. */
  hookBodyTimeoutMs?: number;
  /** This plugin's own lock fields (instanceId, worktree, status, ...); the CLI ignores them. */
  lockExtra?: Record<string, unknown>;
  log?: Logger;
}

/**
 * One Claude Code hook call, as POSTed to HOOK_PATH: the few fields the status needs, validated.
 * Everything else in the hook input (prompts, tool input and output) is dropped on arrival.
 */
export interface HookEvent {
  /** hook_event_name, e.g. 'UserPromptSubmit', 'PermissionRequest', 'Stop'. */
  event: string;
  /** A UUID in practice; checked against SESSION_ID_RE because it ends up in `--resume <id>`. */
  sessionId: string;
  transcriptPath?: string;
  cwd?: string;
  /** Set when a subagent (not the main thread) caused the event. */
  agentId?: string;
  toolName?: string;
  notificationType?: string;
  /** SessionStart: startup | resume | clear | compact. */
  source?: string;
  /** SessionEnd: clear | resume | logout | prompt_input_exit | other | ... */
  reason?: string;
  /** Stop: the first non-empty line of last_assistant_message (at most 200 characters). */
  lastMessage?: string;
  /** When the request arrived (epoch ms, sub-ms precision, performance clock). */
  receivedAt: number;
}

const EVENT_NAME_RE = /^[A-Za-z]{1,64}$/;
export const SESSION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function optString(v: unknown, max = 256): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !v.includes('\0') ? v : undefined;
}

/** The validated event, or null when the body is not a hook input we can use. */
/** What a "done" notice can show of claude's last message: one line, bounded, no control characters. */
function firstLine(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const head = v.slice(0, 4096);
  const line = head.split('\n').map((l) => l.replace(/[\u0000-\u001f\u007f]/g, ' ').trim()).find((l) => l !== '');
  if (!line) return undefined;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

export function parseHookEvent(body: unknown, receivedAt: number): HookEvent | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  const event = b.hook_event_name;
  const sessionId = b.session_id;
  if (typeof event !== 'string' || !EVENT_NAME_RE.test(event)) return null;
  if (typeof sessionId !== 'string' || !SESSION_ID_RE.test(sessionId)) return null;
  const transcriptPath = optString(b.transcript_path, 4096);
  const ev: HookEvent = {
    event,
    sessionId,
    // Only an absolute .jsonl path is worth tailing (src/claude/transcript.ts).
    transcriptPath: transcriptPath && path.isAbsolute(transcriptPath) && transcriptPath.endsWith('.jsonl') ? transcriptPath : undefined,
    cwd: optString(b.cwd, 4096),
    agentId: optString(b.agent_id),
    toolName: optString(b.tool_name),
    notificationType: optString(b.notification_type, 64),
    source: optString(b.source, 64),
    reason: optString(b.reason, 64),
    lastMessage: firstLine(b.last_assistant_message),
    receivedAt,
  };
  for (const k of Object.keys(ev) as Array<keyof HookEvent>) if (ev[k] === undefined) delete ev[k];
  return ev;
}

export interface ClientInfo {
  id: number;
  /** The claude process on this socket, once it sent ide_connected. */
  pid?: number;
  initialized: boolean;
}

export interface AtMention {
  filePath: string;
  lineStart?: number;
  lineEnd?: number;
}

interface Client extends ClientInfo {
  ws: WebSocket;
  alive: boolean;
  session: McpSession;
  /** Its TCP socket, corked while one read's frames are handled (see batchReplies). */
  socket: Duplex;
  corked: boolean;
}

/**
 * Replies made while handling the frames of one read leave in one write: with 16 calls in
 * flight a read holds several requests, and a syscall per reply was most of a tool call's cost.
 */
function batchReplies(c: Client): void {
  if (c.corked) return;
  c.corked = true;
  c.socket.cork();
  process.nextTick(() => {
    c.corked = false;
    c.socket.uncork();
  });
}

let nextClientId = 1;

function tokenMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; compare against ourselves to keep the time flat.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::ffff:127.0.0.1' || addr === '::1';
}

/**
 * DNS rebinding guard: a browser page can make requests to 127.0.0.1 under its own host name,
 * but it cannot hide that name (Host) nor, for WebSocket and cross-site POST, its Origin. The
 * CLI sends no Origin and a Host of 127.0.0.1:<port> (see PROTOCOL.md section 2).
 */
export function foreignRequest(headers: http.IncomingHttpHeaders, port: number): string | null {
  if (headers.origin !== undefined) return `an Origin header (${String(headers.origin).slice(0, 100)})`;
  const host = (headers.host ?? '').toLowerCase();
  if (host === `127.0.0.1:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`) return null;
  return headers.host === undefined ? 'no Host header' : `a non-loopback Host header (${headers.host.slice(0, 100)})`;
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

function reject(socket: Duplex, status: number, reason: string): void {
  // Let the status line reach the client before the socket goes; never wait long for it.
  const kill = () => socket.destroy();
  try {
    socket.once('finish', kill);
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  } catch {
    kill();
    return;
  }
  setTimeout(kill, 1000).unref();
}

/**
 * A loopback listen and close, to nobody: Node's first listen costs about 2 ms of one-time
 * setup, which prestart pays ahead of the first :ClaudeCode instead of in it.
 */
export async function warmUpListen(): Promise<void> {
  const server = http.createServer();
  await listen(server, 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function listen(server: http.Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => { server.off('listening', onListening); reject(err); };
    const onListening = () => { server.off('error', onError); resolve(); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host: '127.0.0.1', exclusive: true });
  });
}

function errCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * One IDE server per Claude instance: a WebSocket (MCP) endpoint on loopback, its auth token
 * and its lock file, plus `POST /hook` for claude's status hooks (own token, hookToken).
 * Events: 'client' (ClientInfo), 'ide-connected' (ClientInfo), 'client-closed' (ClientInfo),
 * 'hook' (HookEvent); 'error' is never emitted (errors are logged).
 */
export class IdeServer extends EventEmitter {
  readonly authToken = newAuthToken();
  /**
   * Separate from authToken: it sits in claude's environment, which every command claude runs
   * inherits, and it only lets a caller report status, never drive the editor.
   */
  private currentHookToken = newAuthToken();
  private warnedEmptyHookToken = false;
  readonly diffs = new DiffRegistry();
  /** What this server's tools may touch: its worktree and the configured extra roots. */
  readonly scope: PathScope;
  port = 0;
  lockPath = '';
  private readonly lockExtra: Record<string, unknown>;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<number, Client>();
  private readonly log: Logger;
  private keepalive: NodeJS.Timeout | null = null;
  private pendingMentions: AtMention[] = [];
  private stopped = false;
  private lockWithdrawn = false;

  private constructor(private readonly opts: IdeServerOptions) {
    super();
    this.scope = new PathScope([opts.workspaceFolder, ...(opts.extraRoots ?? [])]);
    this.lockExtra = { ...(opts.lockExtra ?? {}) };
    this.log = opts.log ?? nullLogger;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload ?? 64 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
      perMessageDeflate: false,
    });
    this.wss.on('error', (err) => this.log.error('wss error', err));
    this.http = http.createServer((req, res) => {
      try {
        const foreign = foreignRequest(req.headers, this.port);
        if (foreign) {
          this.log.warn(`refused an HTTP request with ${foreign}`);
          res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' });
          res.end('Forbidden\n');
          return;
        }
        if ((req.url ?? '').split('?')[0] === HOOK_PATH) return this.hookRequest(req, res);
        res.writeHead(426, { 'Content-Type': 'text/plain' });
        res.end('WebSocket only\n');
      } catch (err) {
        this.log.error('http request failed', err);
        res.destroy();
      }
    });
    this.http.headersTimeout = HEADERS_TIMEOUT_MS;
    this.http.on('clientError', (_err, socket) => reject(socket, 400, 'Bad Request'));
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  static async start(opts: IdeServerOptions): Promise<IdeServer> {
    const s = new IdeServer(opts);
    await s.bind();
    try {
      s.writeLockFile();
    } catch (err) {
      s.http.close();
      throw err;
    }
    s.http.on('error', (err) => s.log.error('http error', err));
    s.startKeepalive();
    return s;
  }

  get workspaceFolder(): string {
    return this.opts.workspaceFolder;
  }

  /** The token hook requests must carry (`Authorization: Bearer <token>`). */
  get hookToken(): string {
    return this.currentHookToken;
  }

  /**
   * A fresh hook token, called for every claude launched: hooks of an earlier claude of this
   * instance (a late SessionEnd, a leftover process) are refused from then on.
   */
  rotateHookToken(): string {
    this.currentHookToken = newAuthToken();
    return this.currentHookToken;
  }

  get clientInfos(): ClientInfo[] {
    return [...this.clients.values()].map(({ id, pid, initialized }) => ({ id, pid, initialized }));
  }

  /** True when some claude finished the MCP handshake on this server. */
  get connected(): boolean {
    return [...this.clients.values()].some((c) => c.initialized);
  }

  /** Errors name the port_range and what to do: they reach the user through :ClaudeCode. */
  private async bind(): Promise<void> {
    const [lo, hi] = this.opts.portRange ?? [0, 0];
    const auto = lo === 0 && hi === 0;
    if (!auto && !(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi && hi <= 65535)) {
      throw new Error(`port_range ${lo}-${hi} is not a range of ports: give two integers, low first, within 1-65535 (or leave port_range out)`);
    }
    for (let port = lo; port <= hi; port++) {
      try {
        await listen(this.http, port);
        const addr = this.http.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        return;
      } catch (err) {
        const code = errCode(err);
        if (code === 'EADDRINUSE' && !auto) continue;
        throw new Error(`cannot listen on 127.0.0.1:${port} (${code})` +
          (code === 'EACCES' ? ': ports below 1024 need privileges; pick a port_range above 1024' : ''));
      }
    }
    throw new Error(`no free port in ${lo}-${hi} (port_range; EADDRINUSE on all ${hi - lo + 1}): ` +
      'widen port_range in setup(), or end what listens there (:ClaudeCodeList shows the instances of this Neovim)');
  }

  private writeLockFile(): void {
    const dir = this.opts.lockDir ?? defaultLockDir();
    const removed = removeStaleLocks(dir);
    if (removed.length) this.log.info('removed stale lock files', removed);
    try {
      this.lockPath = writeLock(dir, this.port, this.lockBody());
    } catch (err) {
      throw new Error(lockWriteError(dir, err));
    }
  }

  /** What the CLI reads, then this plugin's own fields (other Neovims list the instance from them). */
  private lockBody(): LockBody & Record<string, unknown> {
    return {
      ...this.lockExtra,
      pid: process.pid,
      workspaceFolders: [this.opts.workspaceFolder],
      ideName: this.opts.ideName,
      transport: 'ws',
      authToken: this.authToken,
    };
  }

  /**
   * Change this plugin's own lock fields (e.g. the status other Neovims show), rewriting the lock
   * atomically; fields it already holds cost no rewrite (a hook naming the same session each
   * time). Never throws: a failed rewrite leaves the old, still valid, lock.
   */
  updateLock(fields: Record<string, unknown>): void {
    if (Object.entries(fields).every(([k, v]) => this.lockExtra[k] === v)) return;
    Object.assign(this.lockExtra, fields);
    if (!this.lockPath || this.stopped || this.lockWithdrawn) return;
    try {
      writeLock(path.dirname(this.lockPath), this.port, this.lockBody());
    } catch (err) {
      this.log.warn('could not update the lock file', err);
    }
  }

  private startKeepalive(): void {
    const every = this.opts.keepaliveMs ?? 30_000;
    this.keepalive = setInterval(() => {
      for (const c of this.clients.values()) {
        if (!c.alive) {
          // Silent for a whole interval after a ping: close with a legal code, then cut it.
          this.log.warn(`client ${c.id} silent, closing`);
          try { c.ws.close(1001, 'keepalive timeout'); } catch { /* closing anyway */ }
          setTimeout(() => c.ws.terminate(), 1000).unref();
          continue;
        }
        c.alive = false;
        try { c.ws.ping(); } catch { /* socket closing */ }
      }
    }, every);
    this.keepalive.unref();
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.log.debug('upgrade socket error', err));
    if (this.stopped) return reject(socket, 503, 'Service Unavailable');
    const foreign = foreignRequest(req.headers, this.port);
    if (foreign) {
      this.log.warn(`refused a WebSocket upgrade with ${foreign}`);
      return reject(socket, 403, 'Forbidden');
    }
    if (!tokenMatches(req.headers[AUTH_HEADER], this.authToken)) {
      this.log.warn('rejected connection: missing or wrong auth token');
      return reject(socket, 401, 'Unauthorized');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
  }

  /**
   * POST /hook: one hook input from claude. Checked in order: loopback, method, token (before any
   * body is read), size, JSON, shape. The answer is `{}` (no hook decision), sent after the 'hook'
   * listeners ran, so claude never proceeds before the status has changed.
   */
  private hookRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const receivedAt = performance.timeOrigin + performance.now();
    const done = (status: number, body = ''): void => {
      if (res.headersSent) return;
      const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
      if (status !== 200) headers.Connection = 'close';
      res.writeHead(status, headers);
      res.end(body);
    };
    req.on('error', (err) => this.log.debug('hook request error', err));
    res.on('error', (err) => this.log.debug('hook response error', err));
    if (this.stopped) return done(503);
    if (!isLoopback(req.socket.remoteAddress)) return done(403);
    if (req.method !== 'POST') return done(405);
    const token = bearer(req.headers.authorization);
    if (!tokenMatches(token, this.currentHookToken)) {
      if (token === '' && !this.warnedEmptyHookToken) {
        // The CLI sends an empty value when it may not read the variable (httpHookAllowedEnvVars).
        this.warnedEmptyHookToken = true;
        this.log.warn('hook request with an empty token: does httpHookAllowedEnvVars leave out CLAUDE_WORKTREES_HOOK_TOKEN?');
      } else {
        this.log.warn('rejected hook request: missing or wrong token');
      }
      return done(401);
    }
    const max = this.opts.maxHookBody ?? DEFAULT_MAX_HOOK_BODY;
    const parts: Buffer[] = [];
    let size = 0;
    const tooBig = (): void => {
      this.log.warn(`hook request body over ${max} bytes, refused`);
      // Stop reading, and drop the connection once the answer is out.
      parts.length = 0;
      res.once('finish', () => req.socket.destroy());
      done(413);
    };
    if (Number(req.headers['content-length'] ?? 0) > max) return tooBig();
    // A deadline for the whole body, not an idle timeout: a byte now and then must not keep it open.
    const limitMs = this.opts.hookBodyTimeoutMs ?? HOOK_BODY_TIMEOUT_MS;
    const deadline = setTimeout(() => {
      this.log.warn(`hook request body not complete after ${limitMs} ms, dropped`);
      res.once('finish', () => req.socket.destroy());
      done(408);
      setTimeout(() => req.socket.destroy(), 1000).unref();
    }, limitMs);
    deadline.unref();
    req.once('close', () => clearTimeout(deadline));
    req.on('data', (chunk: Buffer) => {
      if (res.headersSent) return;
      size += chunk.length;
      if (size > max) return tooBig();
      parts.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(deadline);
      if (res.headersSent) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(parts, size).toString('utf8'));
      } catch {
        return done(400);
      }
      const ev = parseHookEvent(body, receivedAt);
      if (!ev) return done(400);
      this.log.debug(`hook ${ev.event}${ev.toolName ? ` ${ev.toolName}` : ''}${ev.notificationType ? ` ${ev.notificationType}` : ''}`);
      this.emitSafe('hook', ev);
      done(200, '{}');
    });
  }

  private accept(ws: WebSocket, socket: Duplex): void {
    const id = nextClientId++;
    const client: Client = {
      id, ws, socket, corked: false, alive: true, initialized: false,
      session: new McpSession({
        clientId: id,
        editor: this.opts.editor,
        workspaceFolder: this.opts.workspaceFolder,
        scope: this.scope,
        diffs: this.diffs,
        log: this.log,
        send: (frame) => this.sendTo(client, frame),
        onInitialized: () => {
          client.initialized = true;
          this.flushMentions();
        },
        onIdeConnected: (pid) => {
          client.pid = pid;
          this.emitSafe('ide-connected', this.info(client));
        },
      }),
    };
    this.clients.set(id, client);
    ws.on('error', (err) => this.log.warn(`client ${id} socket error`, err));
    ws.on('pong', () => { client.alive = true; });
    ws.on('message', (data, isBinary) => {
      client.alive = true;
      if (isBinary) return;
      batchReplies(client);
      client.session.handle(data.toString());
    });
    ws.on('close', () => {
      this.clients.delete(id);
      // Nobody is left to answer a pending diff of this client: reject it.
      const n = this.diffs.closeForClient(id);
      if (n) this.log.info(`closed ${n} diff(s) of disconnected client ${id}`);
      this.emitSafe('client-closed', this.info(client));
    });
    // A claude that never sent a frame is still alive to the keepalive until the first ping.
    this.emitSafe('client', this.info(client));
  }

  private info(c: Client): ClientInfo {
    return { id: c.id, pid: c.pid, initialized: c.initialized };
  }

  private emitSafe(event: string, arg: unknown): void {
    try {
      this.emit(event, arg);
    } catch (err) {
      this.log.error(`listener of ${event} threw`, err);
    }
  }

  private sendTo(c: Client, frame: string): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    // No per-frame callback: a failed write surfaces as the socket's 'error'/'close' (logged).
    try { c.ws.send(frame); } catch (err) { this.log.warn(`send to client ${c.id} failed`, err); }
  }

  /** Send to every claude on THIS server (and no other). Returns how many received it. */
  notify(method: string, params: unknown): number {
    const frame = notificationFrame(method, params);
    let n = 0;
    for (const c of this.clients.values()) {
      if (!c.initialized || c.ws.readyState !== WebSocket.OPEN) continue;
      this.sendTo(c, frame);
      n++;
    }
    return n;
  }

  /**
   * at_mentioned with the path relative to this worktree's root (a directory ends in '/').
   * Queued until a claude has connected, then delivered exactly once.
   */
  atMention(m: AtMention): void {
    if (this.connected) this.sendMention(m);
    else this.pendingMentions.push(m);
  }

  get queuedMentions(): number {
    return this.pendingMentions.length;
  }

  private flushMentions(): void {
    const queued = this.pendingMentions;
    this.pendingMentions = [];
    for (const m of queued) this.sendMention(m);
  }

  private sendMention(m: AtMention): void {
    const root = this.opts.workspaceFolder;
    const isDir = m.filePath.endsWith('/');
    const abs = path.resolve(root, m.filePath);
    let filePath = isInside(root, abs) ? path.relative(root, abs) || '.' : abs;
    if (isDir && !filePath.endsWith('/')) filePath += '/';
    const params: Record<string, unknown> = { filePath };
    if (m.lineStart !== undefined) params.lineStart = m.lineStart;
    if (m.lineEnd !== undefined) params.lineEnd = m.lineEnd;
    this.notify('at_mentioned', params);
  }

  /** Graceful stop: close sockets, stop listening, remove our lock file. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopSync();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /**
   * Remove the lock file now, before the rest of a stop: no claude finds this editor from here
   * on, and an instance is never listed as ended while its lock is still there. No rewrites after.
   */
  withdrawLock(): void {
    this.lockWithdrawn = true;
    removeLock(this.lockPath, this.authToken);
  }

  /**
   * Everything that must happen before the process may die, done synchronously (host
   * 'disconnect' comes about 1 ms before SIGTERM). Idempotent.
   */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.keepalive) clearInterval(this.keepalive);
    removeLock(this.lockPath, this.authToken);
    this.diffs.closeAll();
    for (const c of this.clients.values()) {
      try { c.ws.close(1001, 'server stopping'); } catch { /* ignore */ }
      c.ws.terminate();
    }
    this.clients.clear();
    this.pendingMentions = [];
    try { this.http.close(); } catch { /* not listening */ }
    this.http.closeAllConnections?.();
  }
}
