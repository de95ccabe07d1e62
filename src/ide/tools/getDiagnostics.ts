import { optString } from '../args';
import type { FileDiagnostics } from '../editor';
import type { PathScope } from '../scope';
import { jsonOnce, whenReady, type Tool } from '../tool';
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
    return whenReady(ctx.editor.getDiagnostics(file), (d) => jsonOnce(file === undefined ? inScope(d, ctx.scope) : d));
  },
};

const filtered = new WeakMap<PathScope, WeakMap<object, FileDiagnostics[]>>();

/**
 * The entries of a sweep inside scope. A frozen answer (the editor's snapshot) is filtered once
 * per scope and snapshot, and the result frozen too, so it is still serialized only once.
 */
function inScope(all: FileDiagnostics[], scope: PathScope): FileDiagnostics[] {
  const frozen = Object.isFrozen(all);
  let perScope = filtered.get(scope);
  if (frozen) {
    const hit = perScope?.get(all);
    if (hit) return hit;
  }
  const kept = all.filter((d) => scope.contains(uriOrPathToPath(d.uri)));
  const out = kept.length === all.length ? all : frozen ? Object.freeze(kept) as FileDiagnostics[] : kept;
  if (frozen) {
    if (!perScope) filtered.set(scope, perScope = new WeakMap());
    perScope.set(all, out);
  }
  return out;
}
