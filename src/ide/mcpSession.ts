import type { Editor } from './editor';
import type { DiffRegistry } from './diffRegistry';
import type { Logger } from '../util/log';
import {
  classify, errorFrame, resultFrame, RpcError,
  INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, type Request, type Notification,
} from './jsonrpc';
import { asArgs } from './args';
import { ALL_TOOLS, TOOLS_BY_NAME } from './tools';
import { SerializedResult } from './tool';
import type { PathScope } from './scope';

export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
export const SERVER_INFO = { name: 'claude-worktrees', version: '0.1.0' };

const TOOL_LIST = ALL_TOOLS.filter((t) => t.listed).map((t) => ({
  name: t.name,
  description: t.description,
  inputSchema: t.inputSchema,
}));

export interface SessionDeps {
  clientId: number;
  editor: Editor;
  workspaceFolder: string;
  scope: PathScope;
  diffs: DiffRegistry;
  send(frame: string): void;
  /** ide_connected {pid}: which claude process is on this socket. */
  onIdeConnected(pid: number): void;
  onInitialized(): void;
  log: Logger;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** One MCP session = one WebSocket client. handle() never throws. */
export class McpSession {
  constructor(private readonly d: SessionDeps) {}

  handle(text: string): void {
    const msg = classify(text);
    switch (msg.kind) {
      case 'invalid':
        this.d.send(errorFrame(msg.id, msg.code, msg.message));
        return;
      case 'response':
        return;
      case 'notification':
        this.notification(msg.msg);
        return;
      case 'request':
        this.request(msg.msg);
        return;
    }
  }

  private notification(n: Notification): void {
    switch (n.method) {
      case 'notifications/initialized':
        this.d.onInitialized();
        return;
      case 'ide_connected': {
        const pid = (n.params as { pid?: unknown } | undefined)?.pid;
        if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0) this.d.onIdeConnected(pid);
        else this.d.log.warn('ide_connected without a valid pid', n.params);
        return;
      }
      case 'notifications/cancelled': {
        const id = (n.params as { requestId?: unknown } | undefined)?.requestId;
        if (typeof id === 'string' || typeof id === 'number') this.d.diffs.closeForRequest(this.d.clientId, id);
        return;
      }
      default:
        this.d.log.debug(`ignored notification ${n.method}`);
    }
  }

  /**
   * Answers in the same tick when the handler is synchronous (most reads are): a promise hop per
   * call is measurable next to a loopback round trip.
   */
  private request(r: Request): void {
    let result: unknown;
    try {
      result = this.dispatch(r);
    } catch (err) {
      this.fail(r, err);
      return;
    }
    if (isThenable(result)) {
      result.then((value) => this.reply(r, value), (err: unknown) => this.fail(r, err));
    } else {
      this.reply(r, result);
    }
  }

  private reply(r: Request, result: unknown): void {
    this.d.send(result instanceof SerializedResult ? resultFrame(r.id, null, result) : resultFrame(r.id, result));
  }

  private fail(r: Request, err: unknown): void {
    if (err instanceof RpcError) {
      this.d.send(errorFrame(r.id, err.code, err.message, err.data));
    } else {
      this.d.log.error(`${r.method} failed`, err);
      this.d.send(errorFrame(r.id, INTERNAL_ERROR, err instanceof Error ? err.message : String(err)));
    }
  }

  private dispatch(r: Request): unknown {
    switch (r.method) {
      case 'initialize': {
        const asked = (r.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        const protocolVersion =
          typeof asked === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : SUPPORTED_PROTOCOL_VERSIONS[0];
        return {
          protocolVersion,
          capabilities: { tools: { listChanged: true }, prompts: { listChanged: false } },
          serverInfo: SERVER_INFO,
        };
      }
      case 'ping':
        return {};
      case 'tools/list':
        return { tools: TOOL_LIST };
      case 'prompts/list':
        return { prompts: [] };
      case 'resources/list':
        return { resources: [] };
      case 'tools/call':
        return this.callTool(r);
      default:
        throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${r.method}`);
    }
  }

  private callTool(r: Request): unknown {
    const p = r.params;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      throw new RpcError(INVALID_PARAMS, 'tools/call needs params {name, arguments}');
    }
    const { name, arguments: rawArgs } = p as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string') throw new RpcError(INVALID_PARAMS, "'name' must be a string");
    const tool = TOOLS_BY_NAME.get(name);
    if (!tool) throw new RpcError(INVALID_PARAMS, `Unknown tool: ${name}`);
    return tool.call(asArgs(rawArgs), {
      editor: this.d.editor,
      workspaceFolder: this.d.workspaceFolder,
      scope: this.d.scope,
      diffs: this.d.diffs,
      clientId: this.d.clientId,
      requestId: r.id,
    });
  }
}
