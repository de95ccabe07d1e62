/** JSON-RPC 2.0 shapes and error codes, and a runtime check of what arrives off the wire. */

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

export type Id = string | number;

export interface Request {
  id: Id;
  method: string;
  params: unknown;
}

export interface Notification {
  method: string;
  params: unknown;
}

export type Incoming =
  | { kind: 'request'; msg: Request }
  | { kind: 'notification'; msg: Notification }
  | { kind: 'response'; id: Id | null }
  | { kind: 'invalid'; id: Id | null; code: number; message: string };

/** An error that maps to a JSON-RPC error reply. */
export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

function isId(v: unknown): v is Id {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

export function classify(text: string): Incoming {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', id: null, code: PARSE_ERROR, message: 'Parse error' };
  }
  if (Array.isArray(value)) {
    // One answer for the whole batch: MCP (2025-06-18 on) dropped JSON-RPC batching, and the CLI never sends one.
    return { kind: 'invalid', id: null, code: INVALID_REQUEST, message: 'Invalid Request: batches are not supported, send one message per frame' };
  }
  if (typeof value !== 'object' || value === null) {
    return { kind: 'invalid', id: null, code: INVALID_REQUEST, message: 'Invalid Request' };
  }
  const o = value as Record<string, unknown>;
  const hasId = 'id' in o && o.id !== undefined;
  const id = isId(o.id) ? o.id : null;
  if (o.jsonrpc !== '2.0' || (hasId && o.id !== null && !isId(o.id))) {
    return { kind: 'invalid', id, code: INVALID_REQUEST, message: 'Invalid Request' };
  }
  if (typeof o.method !== 'string') {
    // A response to something we sent (we send no requests today) or junk.
    if (hasId && ('result' in o || 'error' in o)) return { kind: 'response', id };
    return { kind: 'invalid', id, code: INVALID_REQUEST, message: 'Invalid Request' };
  }
  if (!hasId) return { kind: 'notification', msg: { method: o.method, params: o.params } };
  if (id === null) return { kind: 'invalid', id: null, code: INVALID_REQUEST, message: 'Invalid Request' };
  return { kind: 'request', msg: { id, method: o.method, params: o.params } };
}

/** A result whose JSON text is already known (see SerializedResult in tool.ts). */
export interface PreSerialized {
  readonly json: string;
}

export function resultFrame(id: Id, result: unknown, pre?: PreSerialized): string {
  if (pre) return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${pre.json}}`;
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}

export function errorFrame(id: Id | null, code: number, message: string, data?: unknown): string {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error.data = data;
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

export function notificationFrame(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}
