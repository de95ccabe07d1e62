import * as http from 'http';
import type { AddressInfo } from 'net';

/**
 * A loopback stand-in for the Anthropic Messages API, enough for the real Claude Code CLI
 * (pointed at it with ANTHROPIC_BASE_URL) to run a scripted conversation offline.
 *
 * MAIN requests (those that offer the model the `Edit` tool: the agent loop) are answered from
 * the script. Everything else the CLI asks on the side (title/summary calls on a small model,
 * quota probes, token counting, /api/... endpoints) gets a short plausible answer, so the CLI
 * never hangs or shows an error. Every request is logged in `requests`.
 */

export interface ToolUseSpec {
  name: string;
  input: unknown;
  /** Default: a fresh toolu_ id. */
  id?: string;
}

export type Block = { text: string } | { tool_use: ToolUseSpec };

export interface Turn {
  /** Content blocks of the assistant message, in order. */
  blocks: Block[];
  /** Default: 'tool_use' when a block is a tool_use, else 'end_turn'. */
  stopReason?: string;
}

/** Shorthands for scripts. */
export const say = (text: string): Turn => ({ blocks: [{ text }] });
export const useTool = (name: string, input: unknown, preamble?: string): Turn => ({
  blocks: [...(preamble ? [{ text: preamble }] : []), { tool_use: { name, input } }],
});

/** The part of a Messages API request body we look at. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  max_tokens?: number;
  system?: unknown;
  tools?: Array<{ name?: string }>;
  messages?: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
}

export interface RequestLog {
  method: string;
  /** Path with query, e.g. /v1/messages?beta=true */
  url: string;
  path: string;
  model?: string;
  stream: boolean;
  /** 'main' = answered from the script; 'side' = anything else. */
  kind: 'main' | 'side';
  /** Index of the script turn replayed (main requests only). */
  turn?: number;
  toolNames?: string[];
  body?: MessagesRequest;
  at: number;
}

export interface ToolResultLog {
  toolUseId: string;
  /** The tool_use it answers, when it came from this server. */
  toolName?: string;
  isError: boolean;
  /** All text of the result, joined with newlines. */
  text: string;
}

export interface FakeMessagesApiOptions {
  /** The turns, replayed in order. */
  script: Turn[];
  /**
   * Which turn answers a main request. Default: the number of assistant messages already in the
   * conversation (each turn becomes one assistant message), so turn i answers after i turns.
   */
  chooseTurn?: (req: MessagesRequest, api: FakeMessagesApi) => number;
  /** Answered when the script has no turn left (default: a short text). */
  fallbackText?: string;
  /** Milliseconds between SSE events (default 0). */
  eventDelayMs?: number;
}

let nextId = 1;
const newId = (prefix: string): string =>
  `${prefix}_e2e${process.pid.toString(36)}${(nextId++).toString(36).padStart(6, '0')}`;

function contentOf(msg: { content: string | Array<Record<string, unknown>> }): Array<Record<string, unknown>> {
  return typeof msg.content === 'string' ? [{ type: 'text', text: msg.content }] : msg.content ?? [];
}

function textOfResult(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((c) => (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string'
        ? (c as { text: string }).text : ''))
      .join('\n');
  }
  return '';
}

/** Is this request the agent loop (the model is offered file-editing tools)? */
export function isMainRequest(req: MessagesRequest): boolean {
  return Array.isArray(req.tools) && req.tools.some((t) => t?.name === 'Edit');
}

export class FakeMessagesApi {
  readonly requests: RequestLog[] = [];
  /** tool_result blocks seen in main requests, each recorded once (by tool_use_id). */
  readonly toolResults: ToolResultLog[] = [];
  /** tool_use blocks this server emitted, by id. */
  readonly toolUses = new Map<string, ToolUseSpec & { id: string; turn: number }>();
  port = 0;
  script: Turn[];
  private readonly server: http.Server;
  private readonly opts: FakeMessagesApiOptions;
  private readonly waiters = new Set<() => void>();

  private constructor(opts: FakeMessagesApiOptions) {
    this.opts = opts;
    this.script = opts.script;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        try {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(err) } }));
        } catch { /* socket gone */ }
      });
    });
    this.server.keepAliveTimeout = 1000;
  }

  static async start(opts: FakeMessagesApiOptions): Promise<FakeMessagesApi> {
    const api = new FakeMessagesApi(opts);
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
    });
    api.port = (api.server.address() as AddressInfo).port;
    return api;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mainRequests(): RequestLog[] {
    return this.requests.filter((r) => r.kind === 'main');
  }

  /** Turns replayed so far (indexes), in order. */
  get turnsServed(): number[] {
    return this.mainRequests.map((r) => r.turn!).filter((t) => t !== undefined);
  }

  resultsFor(toolName: string): ToolResultLog[] {
    return this.toolResults.filter((r) => r.toolName === toolName);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** One-line summary of every request, for failure messages. */
  describe(): string {
    return this.requests
      .map((r) => `${r.method} ${r.url} ${r.kind}${r.turn !== undefined ? `#${r.turn}` : ''} model=${r.model ?? '-'} stream=${r.stream}`)
      .join('\n');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0];
    let body: MessagesRequest | undefined;
    if (raw.length) {
      try { body = JSON.parse(raw) as MessagesRequest; } catch { body = undefined; }
    }
    const entry: RequestLog = {
      method: req.method ?? 'GET', url, path: pathOnly, model: body?.model, stream: body?.stream === true,
      kind: 'side', body, at: Date.now(),
      toolNames: Array.isArray(body?.tools) ? body!.tools!.map((t) => String(t?.name)) : undefined,
    };
    this.requests.push(entry);

    try {
      if (req.method === 'POST' && pathOnly === '/v1/messages' && body) {
        if (isMainRequest(body)) {
          entry.kind = 'main';
          this.recordToolResults(body);
          const turnIdx = (this.opts.chooseTurn ?? defaultChooseTurn)(body, this);
          entry.turn = turnIdx;
          const turn = this.script[turnIdx] ?? say(this.opts.fallbackText ?? 'Done.');
          return await this.reply(res, body, this.materialize(turn, turnIdx));
        }
        return await this.reply(res, body, { blocks: [{ text: sideAnswer(body) }] });
      }
      if (req.method === 'POST' && pathOnly === '/v1/messages/count_tokens') {
        return sendJson(res, 200, { input_tokens: Math.max(1, Math.round(raw.length / 4)) });
      }
      if (pathOnly === '/v1/models' || pathOnly.startsWith('/v1/models/')) {
        return sendJson(res, 200, { data: [], has_more: false, first_id: null, last_id: null });
      }
      // /api/... (hello, oauth, metrics, settings, feature flags) and anything else.
      return sendJson(res, 200, {});
    } finally {
      this.wake();
    }
  }

  private recordToolResults(body: MessagesRequest): void {
    for (const m of body.messages ?? []) {
      if (m.role !== 'user') continue;
      for (const c of contentOf(m)) {
        if (c.type !== 'tool_result') continue;
        const id = String(c.tool_use_id);
        if (this.toolResults.some((r) => r.toolUseId === id)) continue;
        this.toolResults.push({
          toolUseId: id,
          toolName: this.toolUses.get(id)?.name,
          isError: c.is_error === true,
          text: textOfResult(c.content),
        });
      }
    }
  }

  /** Give every tool_use of this turn an id (the same one when the turn is replayed again). */
  private materialize(turn: Turn, idx: number): Turn {
    return {
      ...turn,
      blocks: turn.blocks.map((b, i) => {
        if (!('tool_use' in b)) return b;
        const id = b.tool_use.id ?? `toolu_e2e_${idx}_${i}_${process.pid.toString(36)}`;
        this.toolUses.set(id, { ...b.tool_use, id, turn: idx });
        return { tool_use: { ...b.tool_use, id } };
      }),
    };
  }

  private async reply(res: http.ServerResponse, req: MessagesRequest, turn: Turn): Promise<void> {
    const model = req.model ?? 'claude-sonnet-4-5';
    const hasTool = turn.blocks.some((b) => 'tool_use' in b);
    const stopReason = turn.stopReason ?? (hasTool ? 'tool_use' : 'end_turn');
    const id = newId('msg');
    const usage = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const content = turn.blocks.map((b) => ('tool_use' in b
      ? { type: 'tool_use', id: b.tool_use.id!, name: b.tool_use.name, input: b.tool_use.input }
      : { type: 'text', text: b.text }));

    if (!req.stream) {
      return sendJson(res, 200, {
        id, type: 'message', role: 'assistant', model, content,
        stop_reason: stopReason, stop_sequence: null, usage,
      }, { 'request-id': newId('req') });
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': newId('req'),
    });
    const delay = this.opts.eventDelayMs ?? 0;
    const send = async (event: string, data: unknown): Promise<void> => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (delay) await new Promise((r) => setTimeout(r, delay)); // deliberate pacing: a model that streams slowly
    };
    await send('message_start', {
      type: 'message_start',
      message: {
        id, type: 'message', role: 'assistant', model, content: [],
        stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 },
      },
    });
    for (const [index, block] of content.entries()) {
      if (block.type === 'text') {
        await send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        for (const piece of chunks(block.text as string, 40)) {
          await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
        }
      } else {
        await send('content_block_start', {
          type: 'content_block_start', index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        for (const piece of chunks(JSON.stringify(block.input ?? {}), 60)) {
          await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
      }
      await send('content_block_stop', { type: 'content_block_stop', index });
    }
    await send('message_delta', {
      type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 20 },
    });
    await send('message_stop', { type: 'message_stop' });
    res.end();
  }

  /** Resolves when `cond` holds, re-checked after every request; rejects after timeoutMs. */
  async waitFor(cond: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (cond()) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake API: timed out after ${timeoutMs} ms waiting for ${what}; requests:\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function defaultChooseTurn(req: MessagesRequest): number {
  return (req.messages ?? []).filter((m) => m.role === 'assistant').length;
}

/** A plausible answer to a side request, by what it seems to ask for. */
function sideAnswer(req: MessagesRequest): string {
  const sys = JSON.stringify(req.system ?? '').toLowerCase();
  const last = req.messages?.[req.messages.length - 1];
  const lastText = last ? contentOf(last).map((c) => (typeof c.text === 'string' ? c.text : '')).join(' ').toLowerCase() : '';
  if (lastText === 'quota' || (req.max_tokens ?? 0) <= 1) return 'ok';
  if (sys.includes('json') && sys.includes('title')) return '{"title": "E2E test session"}';
  if (sys.includes('title') || lastText.includes('title')) return 'E2E test session';
  return 'OK';
}

function* chunks(s: string, n: number): Generator<string> {
  if (s.length === 0) { yield ''; return; }
  for (let i = 0; i < s.length; i += n) yield s.slice(i, i + n);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}
