import type { PathScope } from '../scope';

/**
 * A filter of editor snapshots down to what lies inside one instance's scope (one claude never
 * learns of another worktree's files). A frozen snapshot (the editor state's) is filtered once
 * per scope and snapshot and the result frozen too, so jsonOnce still serializes it once;
 * `post` shapes the kept entries (e.g. a cap) before that.
 */
export function scopedFilter<T>(pathOf: (x: T) => string, post: (kept: T[]) => T[] = (k) => k):
  (all: T[], scope: PathScope) => T[] {
  const cache = new WeakMap<PathScope, WeakMap<object, { generation: number; out: T[] }>>();
  return (all, scope) => {
    const frozen = Object.isFrozen(all);
    let perScope = cache.get(scope);
    if (frozen) {
      const hit = perScope?.get(all);
      if (hit && hit.generation === scope.generation) return hit.out;
    }
    const kept = post(all.filter((x) => scope.contains(pathOf(x))));
    const same = kept.length === all.length && kept.every((k, i) => k === all[i]);
    const out = same ? all : frozen ? (Object.freeze(kept) as T[]) : kept;
    if (frozen) {
      if (!perScope) cache.set(scope, perScope = new WeakMap());
      perScope.set(all, { generation: scope.generation, out });
    }
    return out;
  };
}
