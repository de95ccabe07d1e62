import { optString } from '../args';
import type { FileDiagnostics, Severity } from '../editor';
import { jsonOnce, whenReady, type Tool } from '../tool';
import { scopedFilter } from './scoped';
import { uriOrPathToPath } from '../../util/uri';

/**
 * Never an error for a file without a buffer or diagnostics: the CLI takes a failed baseline
 * call to mean "never report new diagnostics for this file". A file outside the worktree is
 * refused, and the sweep (no uri) holds only this worktree's files: one claude never learns of
 * another worktree's files.
 */
export const getDiagnostics: Tool = {
  name: 'getDiagnostics',
  description:
    'Get language diagnostics (errors, warnings) from the editor, for one file (uri) or for all files',
  listed: true,
  inputSchema: {
    type: 'object',
    properties: {
      uri: { type: 'string', description: 'Optional file URI (or path) to get diagnostics for; omit for all files' },
    },
    additionalProperties: false,
  },
  call(args, ctx) {
    const uri = optString(args, 'uri');
    const file = uri ? ctx.scope.resolve(uriOrPathToPath(uri, ctx.workspaceFolder), 'uri') : undefined;
    return whenReady(ctx.editor.getDiagnostics(file), (d) => jsonOnce(file === undefined ? inScope(d, ctx.scope) : capped(d)));
  },
};

/**
 * At most this many diagnostics in one answer, most severe first: thousands of LSP warnings would
 * fill claude's context and stall it, and the errors are what it needs.
 */
export const MAX_DIAGNOSTICS = 500;

const RANK: Record<Severity, number> = { Error: 0, Warning: 1, Info: 2, Hint: 3 };

/** The MAX_DIAGNOSTICS most severe entries (files and diagnostics keep their order). */
export function capDiagnostics(all: FileDiagnostics[], max = MAX_DIAGNOSTICS): FileDiagnostics[] {
  let total = 0;
  for (const f of all) total += f.diagnostics.length;
  if (total <= max) return all;
  // The severity that fills the cap, and how many of it still fit.
  const per = [0, 0, 0, 0];
  for (const f of all) for (const d of f.diagnostics) per[RANK[d.severity] ?? 3]++;
  let cut = 0;
  let room = max;
  while (cut < 3 && per[cut] <= room) room -= per[cut++];
  const out: FileDiagnostics[] = [];
  for (const f of all) {
    const kept = f.diagnostics.filter((d) => {
      const r = RANK[d.severity] ?? 3;
      if (r < cut) return true;
      if (r !== cut || room === 0) return false;
      room--;
      return true;
    });
    if (kept.length) out.push({ uri: f.uri, diagnostics: kept });
  }
  return out;
}

const cappedOf = new WeakMap<object, FileDiagnostics[]>();

/** capDiagnostics, once per frozen snapshot (so the answer is still serialized only once). */
function capped(all: FileDiagnostics[]): FileDiagnostics[] {
  if (!Object.isFrozen(all)) return capDiagnostics(all);
  let out = cappedOf.get(all);
  if (!out) {
    const c = capDiagnostics(all);
    out = c === all ? all : (Object.freeze(c) as FileDiagnostics[]);
    cappedOf.set(all, out);
  }
  return out;
}

/** The entries of a sweep inside scope, capped (once per scope and frozen snapshot). */
const inScope = scopedFilter<FileDiagnostics>((d) => uriOrPathToPath(d.uri), capDiagnostics);
