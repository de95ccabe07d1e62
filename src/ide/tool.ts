import type { Editor } from './editor';
import type { DiffRegistry } from './diffRegistry';
import type { Args } from './args';
import type { PathScope } from './scope';

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
  /** The roots this instance's tools may touch (the worktree and any extra roots), see scope.ts. */
  scope: PathScope;
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
  call(args: Args, ctx: ToolContext): ToolResult | SerializedResult | Promise<ToolResult | SerializedResult>;
}

export function text(...texts: string[]): ToolResult {
  return { content: texts.map((t) => ({ type: 'text' as const, text: t })) };
}

/** JSON payloads travel compactly encoded inside a text item. */
export function json(value: unknown): ToolResult {
  return text(JSON.stringify(value));
}

/**
 * A tool result already serialized as the JSON of the `result` member: the reply frame is
 * then a concatenation, not two JSON.stringify passes over (say) 46 KB of diagnostics.
 */
export class SerializedResult {
  constructor(readonly json: string) {}
}

const serialized = new WeakMap<object, Map<string, SerializedResult>>();
/** Variants kept per value: a few (the spellings of one path asked); never an unbounded map. */
const MAX_VARIANTS = 8;

/**
 * json(wrap(value, variant)) for an answer the editor promises never to change (a frozen array
 * or object: the Neovim editor state hands out frozen snapshots and makes new ones on change),
 * serialized once per snapshot and variant (what else the answer holds, e.g. the path the
 * request named); anything else is serialized per call.
 */
export function jsonOnce<T extends object>(
  value: T, wrap: (v: T, variant: string) => unknown = (v) => v, variant = '',
): ToolResult | SerializedResult {
  if (!Object.isFrozen(value)) return json(wrap(value, variant));
  let byVariant = serialized.get(value);
  if (!byVariant) serialized.set(value, (byVariant = new Map()));
  let s = byVariant.get(variant);
  if (!s) {
    if (byVariant.size >= MAX_VARIANTS) byVariant.clear();
    s = new SerializedResult(JSON.stringify(json(wrap(value, variant))));
    byVariant.set(variant, s);
  }
  return s;
}

/**
 * f(value) now when the editor answered synchronously (from state it holds), else after the
 * promise: a cached answer then goes out in the same tick as the request came in.
 */
export function whenReady<T, R>(value: T | Promise<T>, f: (v: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}
