import type { DiffHandle } from './editor';

interface Entry {
  handle: DiffHandle;
  clientId: number;
  requestId: string | number | undefined;
}

/**
 * The diffs ONE server opened, by tab name. closeAllDiffTabs and close_tab only ever reach
 * these, so the user's own diff windows and other instances' diffs are never touched.
 */
export class DiffRegistry {
  private entries = new Map<string, Entry>();

  add(tabName: string, handle: DiffHandle, clientId: number, requestId?: string | number): void {
    // A second openDiff with the same tab name replaces (and so rejects) the first.
    this.close(tabName);
    this.entries.set(tabName, { handle, clientId, requestId });
  }

  has(tabName: string): boolean {
    return this.entries.has(tabName);
  }

  /** Drop the entry without closing the view (it settled and closed itself). */
  forget(tabName: string, handle: DiffHandle): void {
    if (this.entries.get(tabName)?.handle === handle) this.entries.delete(tabName);
  }

  close(tabName: string): boolean {
    const e = this.entries.get(tabName);
    if (!e) return false;
    this.entries.delete(tabName);
    e.handle.close();
    return true;
  }

  closeAll(): number {
    const names = [...this.entries.keys()];
    for (const n of names) this.close(n);
    return names.length;
  }

  closeForClient(clientId: number): number {
    let n = 0;
    for (const [name, e] of [...this.entries]) {
      if (e.clientId === clientId && this.close(name)) n++;
    }
    return n;
  }

  closeForRequest(clientId: number, requestId: string | number): boolean {
    for (const [name, e] of this.entries) {
      if (e.clientId === clientId && e.requestId === requestId) return this.close(name);
    }
    return false;
  }

  get size(): number {
    return this.entries.size;
  }
}
