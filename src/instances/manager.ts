import * as fs from 'fs';
import { IdeServer, type HookEvent } from '../ide/server';
import type { Editor } from '../ide/editor';
import { defaultHookRelay, type HookRelay } from '../claude/hooks';
import type { Logger } from '../util/log';
import { Instance, shortName, type StatusChange } from './instance';
import { terminate, terminateSync } from './reaper';
import { isInside } from '../util/uri';

export interface ManagerOptions {
  editorFor(root: string, name: string): Editor;
  logFor(name: string): Logger;
  ideName(name: string, branch: string): string;
  lockDir?: string;
  portRange?: [number, number];
  /** Roots besides the worktree that every instance's tools may touch (config extra_roots). */
  extraRoots?: readonly string[];
  /** This plugin's own lock-file fields for a new instance (cross-Neovim discovery). */
  lockExtra?(root: string, name: string, branch: string): Record<string, unknown>;
  /** At most this many live instances (config max_instances); default unlimited. */
  maxInstances?: number;
  /** Called after every change of any instance (state push to Lua), hook-driven status included. */
  onChange(): void;
  /** Called after every status change of an instance, before onChange (e.g. to notify the user). */
  onStatus?(inst: Instance, change: StatusChange): void;
  /** Every hook event of an instance's claude, after its status took it (e.g. reload edited files). */
  onHook?(inst: Instance, ev: HookEvent): void;
  /** A worktree's directory vanished (rm -rf, `git worktree remove --force`): its instance is then killed. */
  onRootGone?(inst: Instance): void;
  /** How often to look for vanished worktrees while instances exist (ms). Default 2000. */
  rootCheckMs?: number;
  /** The SessionStart hook relay; default: dist/claude/hookRelay.js run by this node. Null: none. */
  hookRelay?: HookRelay | null;
  log: Logger;
}

/**
 * Every Claude instance of this Neovim, keyed by worktree root. Starting the same worktree
 * twice, even concurrently, yields one instance.
 */
export class InstanceManager {
  private readonly byRoot = new Map<string, Instance>();
  private readonly starting = new Map<string, Promise<Instance>>();
  private readonly hookRelay: HookRelay | null;
  private rootTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: ManagerOptions) {
    this.hookRelay = o.hookRelay === undefined ? defaultHookRelay() : o.hookRelay;
  }

  list(): Instance[] {
    return [...this.byRoot.values()];
  }

  get(root: string): Instance | undefined {
    return this.byRoot.get(root);
  }

  byName(name: string): Instance | undefined {
    return this.list().find((i) => i.name === name);
  }

  /**
   * The instance of a worktree, creating it (server listening, lock written) if needed. An
   * exited instance has no server any more: it is replaced by a fresh one that remembers the
   * old session id, so the next claude can resume it.
   */
  ensure(root: string, branch: string): Promise<Instance> {
    const have = this.byRoot.get(root);
    if (have && have.state !== 'exited') return Promise.resolve(have);
    let p = this.starting.get(root);
    if (!p) {
      const full = this.roomError(root);
      if (full) return Promise.reject(full);
      p = this.create(root, have?.branch || branch, have).finally(() => this.starting.delete(root));
      this.starting.set(root, p);
    }
    return p;
  }

  /** Refuses a new instance past max_instances, naming the ones that could be ended. */
  private roomError(root: string): Error | null {
    const max = this.o.maxInstances;
    if (max === undefined) return null;
    const live = this.list().filter((i) => i.state !== 'exited' && i.root !== root);
    const pending = [...this.starting.keys()].filter((r) => r !== root && !this.byRoot.has(r)).length;
    if (live.length + pending < max) return null;
    return new Error(`max_instances (${max}) reached: end one first with :ClaudeCodeKill <name> `
      + `(running: ${live.map((i) => i.name).sort().join(', ')}), or raise max_instances in setup()`);
  }

  private async create(root: string, branch: string, prev?: Instance): Promise<Instance> {
    const name = prev?.name ?? shortName(root, new Set(this.list().map((i) => i.name)));
    const log = this.o.logFor(name);
    const server = await IdeServer.start({
      workspaceFolder: root,
      ideName: this.o.ideName(name, branch),
      editor: this.o.editorFor(root, name),
      lockDir: this.o.lockDir,
      portRange: this.o.portRange,
      extraRoots: this.o.extraRoots,
      lockExtra: this.o.lockExtra?.(root, name, branch),
      log,
    });
    const inst: Instance = new Instance(root, name, branch, server, {
      resumeSessionId: prev ? prev.resumeId : null,
      hookRelay: this.hookRelay,
      log,
      onStatus: (change) => {
        this.o.onStatus?.(inst, change);
        this.o.onChange();
      },
    });
    // Each server only ever hears its own claude's hooks (own port, own token).
    server.on('hook', (ev: HookEvent) => {
      inst.applyHook(ev);
      try {
        this.o.onHook?.(inst, ev);
      } catch (err) {
        log.error('hook listener threw', err);
      }
    });
    server.on('ide-connected', (c: { pid?: number }) => {
      inst.claudePid = c.pid ?? null;
      log.info(`claude pid ${c.pid} connected`);
      this.o.onChange();
    });
    server.on('client-closed', () => this.o.onChange());
    prev?.dispose();
    this.byRoot.set(root, inst);
    this.carveNested();
    this.watchRoots();
    log.info(`instance ${name} for ${root} listening on ${server.port}`);
    this.o.onChange();
    return inst;
  }

  /**
   * A worktree nested in another's (claude's .claude/worktrees/x, a worktree_dir inside the
   * repository) belongs to its own instance: the outer one's tools leave it alone.
   */
  private carveNested(): void {
    // Only live ones: an exited instance serves nothing (a restart carves again when it starts).
    const roots = this.list().filter((i) => i.state !== 'exited').map((i) => i.root);
    for (const inst of this.byRoot.values()) {
      inst.server.scope.carveOut(roots.filter((r) => r !== inst.root && isInside(inst.root, r)));
    }
  }

  /**
   * A stat per instance every couple of seconds, only while instances exist: cheaper and more
   * certain than inotify watchers (which do not fire for a parent's removal) or waiting for
   * claude to notice its cwd is gone (it may never).
   */
  private watchRoots(): void {
    if (this.rootTimer) return;
    this.rootTimer = setInterval(() => {
      if (this.byRoot.size === 0) {
        clearInterval(this.rootTimer!);
        this.rootTimer = null;
        return;
      }
      for (const inst of this.list()) {
        fs.stat(inst.root, (err) => {
          if (!err || err.code !== 'ENOENT' || this.byRoot.get(inst.root) !== inst) return;
          try { this.o.onRootGone?.(inst); } catch (e) { this.o.log.error('onRootGone threw', e); }
          this.kill(inst).catch((e) => this.o.log.error(`ending ${inst.name} failed`, e));
        });
      }
    }, this.o.rootCheckMs ?? 2000);
    this.rootTimer.unref();
  }

  /**
   * Claude of this instance ended (any way: /exit, crash, kill -9): close its port and remove its
   * lock at once, so no other claude finds a dead editor. The instance stays listed as exited.
   */
  async retire(inst: Instance, code: number): Promise<void> {
    inst.processExited(code);
    this.carveNested();
    inst.dispose();
    await inst.server.stop();
    this.o.onChange();
  }

  /** End one instance: its claude (if we started it and it runs), its server and lock file. */
  async kill(inst: Instance): Promise<void> {
    // The lock first: the list (pushed while claude is being ended) must not outrun it.
    inst.server.withdrawLock();
    this.byRoot.delete(inst.root);
    this.carveNested();
    inst.dispose();
    if (inst.process && inst.state === 'running') await terminate([inst.process]);
    await inst.server.stop();
    this.o.onChange();
  }

  /** Synchronous teardown for the host's 'disconnect' and SIGTERM. Idempotent. */
  disposeSync(graceMs = 1000): void {
    if (this.rootTimer) clearInterval(this.rootTimer);
    this.rootTimer = null;
    const all = this.list();
    this.byRoot.clear();
    for (const i of all) {
      i.dispose();
      i.server.stopSync();
    }
    terminateSync(all.filter((i) => i.process && i.state === 'running').map((i) => i.process!), graceMs);
  }
}
