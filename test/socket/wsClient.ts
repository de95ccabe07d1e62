import * as fs from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import { IdeServer, AUTH_HEADER, type IdeServerOptions } from '../../src/ide/server';
import { FakeEditor } from '../helpers/fakeEditor';
import { waitFor as sharedWaitFor } from '../helpers/waitFor';
import { rmDir, tmpDir } from '../helpers/tmp';

/** The shared poller (test/helpers/waitFor.ts) with this suite's argument order and 5 ms step. */
export function waitFor<T>(cond: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  return sharedWaitFor(cond, what, timeoutMs, 5) as Promise<T>;
}

export interface Msg {
  jsonrpc: string;
  id?: string | number | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string };
}

/** A ws client that records every frame and close, with request helpers. */
export class TestClient {
  readonly messages: Msg[] = [];
  closeCode: number | null = null;
  closeReason = '';
  opened = false;
  error: Error | null = null;
  unexpectedStatus: number | null = null;
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('open', () => { this.opened = true; });
    ws.on('message', (data) => { this.messages.push(JSON.parse(data.toString())); });
    ws.on('close', (code, reason) => { this.closeCode = code; this.closeReason = reason.toString(); });
    ws.on('error', (err) => { this.error = err; });
    ws.on('unexpected-response', (req, res) => {
      this.unexpectedStatus = res.statusCode ?? -1;
      res.resume();
      req.destroy();
    });
  }

  static connect(port: number, token: string | undefined, opts: WebSocket.ClientOptions & { protocols?: string[] } = {}): TestClient {
    const { protocols = ['mcp'], headers, ...rest } = opts;
    const h: Record<string, string> = { ...(headers as Record<string, string> | undefined) };
    if (token !== undefined) h[AUTH_HEADER] = token;
    return new TestClient(new WebSocket(`ws://127.0.0.1:${port}`, protocols, { headers: h, ...rest }));
  }

  async open(): Promise<this> {
    await waitFor(() => this.opened || this.error || this.closeCode !== null || this.unexpectedStatus !== null, 3000, 'open');
    if (!this.opened) throw new Error(`not opened: ${this.error?.message ?? this.unexpectedStatus ?? this.closeCode}`);
    return this;
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  send(method: string, params?: unknown): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return id;
  }

  notify(method: string, params?: unknown): void {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  reply(id: string | number | null): Promise<Msg> {
    return waitFor(() => this.messages.find((m) => m.id === id && ('result' in m || 'error' in m)), 5000, `reply ${String(id)}`);
  }

  request(method: string, params?: unknown): Promise<Msg> {
    return this.reply(this.send(method, params));
  }

  notifications(method: string): Msg[] {
    return this.messages.filter((m) => m.method === method && m.id === undefined);
  }

  /** The CLI's handshake: initialize, notifications/initialized, ide_connected {pid}. */
  async handshake(pid = 4242): Promise<Msg> {
    const init = await this.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: { roots: {}, elicitation: {} },
      clientInfo: { name: 'claude-code', version: '2.1.197' },
    });
    this.notify('notifications/initialized', {});
    this.notify('ide_connected', { pid });
    return init;
  }

  async closed(timeoutMs = 5000): Promise<number> {
    return waitFor(() => this.closeCode, timeoutMs, 'close');
  }

  terminate(): void {
    try { this.ws.terminate(); } catch { /* already gone */ }
  }
}

/** Servers, clients and temp dirs of one test, torn down in afterEach. */
export class Fixture {
  readonly servers: IdeServer[] = [];
  readonly clients: TestClient[] = [];
  readonly dirs: string[] = [];

  tmpDir(prefix = 'cw-sock-'): string {
    const d = tmpDir(prefix);
    this.dirs.push(d);
    return d;
  }

  async server(over: Partial<IdeServerOptions> = {}): Promise<{ server: IdeServer; editor: FakeEditor; root: string; lockDir: string }> {
    const root = over.workspaceFolder ?? this.tmpDir('cw-ws-');
    const lockDir = over.lockDir ?? path.join(this.tmpDir('cw-cfg-'), 'ide');
    const editor = (over.editor as FakeEditor | undefined) ?? new FakeEditor();
    const server = await IdeServer.start({ ideName: 'Neovim', ...over, workspaceFolder: root, lockDir, editor });
    this.servers.push(server);
    return { server, editor, root, lockDir };
  }

  client(port: number, token: string | undefined, opts?: Parameters<typeof TestClient.connect>[2]): TestClient {
    const c = TestClient.connect(port, token, opts);
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients) c.terminate();
    await Promise.all(this.servers.map((s) => s.stop()));
    for (const d of this.dirs.splice(0)) rmDir(d);
  }
}
