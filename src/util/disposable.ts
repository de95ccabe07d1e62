export interface Disposable {
  dispose(): void;
}

/** Disposes in reverse order of registration; each disposer runs at most once, errors swallowed. */
export class DisposableStack implements Disposable {
  private items: Array<() => void> = [];
  add(fn: () => void): void {
    this.items.push(fn);
  }
  dispose(): void {
    const items = this.items.reverse();
    this.items = [];
    for (const fn of items) {
      try { fn(); } catch { /* keep disposing the rest */ }
    }
  }
}
