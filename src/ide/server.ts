import * as http from 'http';
import * as path from 'path';
import type { Duplex } from 'stream';
import { EventEmitter } from 'events';
import { timingSafeEqual } from 'crypto';
import { WebSocketServer, WebSocket } from 'ws';
import type { Editor } from './editor';
import { DiffRegistry } from './diffRegistry';
import { McpSession } from './mcpSession';
import { notificationFrame } from './jsonrpc';
import { lockDir as defaultLockDir, newAuthToken, removeLock, removeStaleLocks, writeLock } from './lockfile';
import { nullLogger, type Logger } from '../util/log';
import { isInside } from '../util/uri';

export const AUTH_HEADER = 'x-claude-code-ide-authorization';

export interface IdeServerOptions {
  /** The worktree root: the lock file's only workspace folder. */
  workspaceFolder: string;
  ideName: string;
  editor: Editor;
  /** Default: `$CLAUDE_CONFIG_DIR/ide` or `~/.claude/ide`. */
  lockDir?: string;
  /** Inclusive; tried in order with bind-and-listen retry. Default: an OS-assigned port. */
  portRange?: [number, number];
  keepaliveMs?: number;
  maxPayload?: number;
  log?: Logger;
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
}

let nextClientId = 1;

function tokenMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; compare against ourselves to keep the time flat.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
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

async function listen(server: http.Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => { server.off('listening', onListening); reject(err); };
    const onListening = () => { server.off('error', onError); resolve(); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host: '127.0.0.1', exclusive: true });
  });
}

/**
 * One IDE server per Claude instance: a WebSocket (MCP) endpoint on loopback, its auth token
 * and its lock file. Events: 'client' (ClientInfo), 'ide-connected' (ClientInfo),
 * 'client-closed' (ClientInfo), 'error' is never emitted (errors are logged).
 */
export class IdeServer extends EventEmitter {
  readonly authToken = newAuthToken();
  readonly diffs = new DiffRegistry();
  port = 0;
  lockPath = '';
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<number, Client>();
  private readonly log: Logger;
  private keepalive: NodeJS.Timeout | null = null;
  private pendingMentions: AtMention[] = [];
  private stopped = false;

  private constructor(private readonly opts: IdeServerOptions) {
    super();
    this.log = opts.log ?? nullLogger;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload ?? 64 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
      perMessageDeflate: false,
    });
    this.wss.on('error', (err) => this.log.error('wss error', err));
    this.http = http.createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain' });
      res.end('WebSocket only\n');
    });
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

  get clientInfos(): ClientInfo[] {
    return [...this.clients.values()].map(({ id, pid, initialized }) => ({ id, pid, initialized }));
  }

  /** True when some claude finished the MCP handshake on this server. */
  get connected(): boolean {
    return [...this.clients.values()].some((c) => c.initialized);
  }

  private async bind(): Promise<void> {
    const [lo, hi] = this.opts.portRange ?? [0, 0];
    let lastErr: unknown;
    for (let port = lo; port <= hi; port++) {
      try {
        await listen(this.http, port);
        const addr = this.http.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        return;
      } catch (err) {
        lastErr = err;
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      }
    }
    throw new Error(`no free port in ${lo}-${hi}: ${String(lastErr)}`);
  }

  private writeLockFile(): void {
    const dir = this.opts.lockDir ?? defaultLockDir();
    const removed = removeStaleLocks(dir);
    if (removed.length) this.log.info('removed stale lock files', removed);
    this.lockPath = writeLock(dir, this.port, {
      pid: process.pid,
      workspaceFolders: [this.opts.workspaceFolder],
      ideName: this.opts.ideName,
      transport: 'ws',
      authToken: this.authToken,
    });
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
    if (!tokenMatches(req.headers[AUTH_HEADER], this.authToken)) {
      this.log.warn('rejected connection: missing or wrong auth token');
      return reject(socket, 401, 'Unauthorized');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const id = nextClientId++;
    const client: Client = {
      id, ws, alive: true, initialized: false,
      session: new McpSession({
        clientId: id,
        editor: this.opts.editor,
        workspaceFolder: this.opts.workspaceFolder,
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
