import type { Editor } from './editor';
import type { DiffRegistry } from './diffRegistry';
import type { Args } from './args';

export interface TextContent {
  type: 'text';
  text: string;
}

export interface ToolResult {
  content: TextContent[];
  isError?: boolean;
}

/** What a tool may use: the editor, and this server's own workspace and diffs. */
export interface ToolContext {
  editor: Editor;
  workspaceFolder: string;
  diffs: DiffRegistry;
  /** Which socket (client) made the call: pending diffs die with their client. */
  clientId: number;
  /** The JSON-RPC id of this call, so notifications/cancelled can find it. */
  requestId: string | number;
}

export interface JsonSchema {
  type: 'object';
  properties: Record<string, unknown>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface Tool {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  /** close_tab is callable but not advertised (as the CLI expects). */
  listed: boolean;
  call(args: Args, ctx: ToolContext): ToolResult | Promise<ToolResult>;
}

export function text(...texts: string[]): ToolResult {
  return { content: texts.map((t) => ({ type: 'text' as const, text: t })) };
}

/** JSON payloads travel compactly encoded inside a text item. */
export function json(value: unknown): ToolResult {
  return text(JSON.stringify(value));
}

/**
 * f(value) now when the editor answered synchronously (from state it holds), else after the
 * promise: a cached answer then goes out in the same tick as the request came in.
 */
export function whenReady<T, R>(value: T | Promise<T>, f: (v: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}
