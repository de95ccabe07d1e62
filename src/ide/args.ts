import { INVALID_PARAMS, RpcError } from './jsonrpc';

/**
 * Runtime checks for tool arguments: everything off the wire is `unknown` until one of these
 * says otherwise. Failures become JSON-RPC -32602.
 */
export type Args = Record<string, unknown>;

export function asArgs(value: unknown): Args {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RpcError(INVALID_PARAMS, 'arguments must be an object');
  }
  return value as Args;
}

export function reqString(a: Args, key: string): string {
  const v = a[key];
  if (typeof v !== 'string') throw new RpcError(INVALID_PARAMS, `'${key}' must be a string`);
  return v;
}

export function optString(a: Args, key: string): string | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RpcError(INVALID_PARAMS, `'${key}' must be a string`);
  return v;
}

export function optBool(a: Args, key: string, dflt: boolean): boolean {
  const v = a[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new RpcError(INVALID_PARAMS, `'${key}' must be a boolean`);
  return v;
}

export function optInt(a: Args, key: string): number | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new RpcError(INVALID_PARAMS, `'${key}' must be an integer`);
  return v;
}
