import WebSocket from 'ws';

/** A minimal MCP client over the IDE socket, as the CLI speaks it (for tests and benches). */
export class McpClient {
  private seq = 0;
  private pending = new Map<number, (msg: Record<string, unknown>) => void>();
  readonly notifications: Array<{ method: string; params: unknown }> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>;
      if (typeof msg.id === 'number' && this.pending.has(msg.id)) {
        this.pending.get(msg.id)!(msg);
        this.pending.delete(msg.id);
      } else if (typeof msg.method === 'string') {
        this.notifications.push({ method: msg.method, params: msg.params });
      }
    });
  }

  static async connect(port: number, token: string, pid = process.pid): Promise<McpClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'mcp', { headers: { 'x-claude-code-ide-authorization': token } });
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    const c = new McpClient(ws);
    await c.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '0' } });
    c.notify('notifications/initialized', {});
    c.notify('ide_connected', { pid });
    return c;
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  notify(method: string, params: unknown): void {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** tools/call; resolves with the text items of the result (or throws the JSON-RPC error). */
  async call(name: string, args: Record<string, unknown>): Promise<string[]> {
    const r = await this.request('tools/call', { name, arguments: args });
    if (r.error) throw Object.assign(new Error((r.error as { message: string }).message), { rpc: r.error });
    return ((r.result as { content: Array<{ text: string }> }).content).map((c) => c.text);
  }

  close(): void {
    this.ws.close();
  }
}
