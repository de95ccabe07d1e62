/** Runtime checks for values coming back from Neovim (RPC results and Lua events are unknown). */
export type Rec = Record<string, unknown>;

export function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function rec(v: unknown, what: string): Rec {
  if (!isRec(v)) throw new Error(`${what}: expected a table, got ${JSON.stringify(v)}`);
  return v;
}

export function arr(v: unknown, what: string): unknown[] {
  // An empty Lua table arrives as an empty map (or list): both mean "none".
  if (isRec(v) && Object.keys(v).length === 0) return [];
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

export function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string`);
  return v;
}

export function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: expected a number`);
  return v;
}

export function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`${what}: expected a boolean`);
  return v;
}

export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Command arguments from remote#define: [<f-args>] arrives as a list of strings. */
export function fargs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
