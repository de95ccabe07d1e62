import * as path from 'path';
import type { IdeServer } from '../ide/server';
import { own, type OwnedProcess } from './reaper';

export type InstanceState = 'starting' | 'running' | 'exited';

/** What the Neovim side pushes to Lua for one instance (statusline, :ClaudeCodeList, picker). */
export interface InstanceSnapshot {
  name: string;
  root: string;
  branch: string;
  port: number;
  pid: number | null;        // the claude process (terminal job), once started
  claudePid: number | null;  // the pid claude reported over the socket (ide_connected)
  state: InstanceState;
  connected: boolean;
  exitCode: number | null;
  startedAt: number;
  lockPath: string;
}

/**
 * One worktree's Claude: its IDE server (port, token, lock file) and the claude process in its
 * terminal. starting -> running (connected or not) -> exited; an exited instance keeps its
 * server so `:ClaudeCode` can start claude again on the same port.
 */
export class Instance {
  state: InstanceState = 'starting';
  exitCode: number | null = null;
  process: OwnedProcess | null = null;
  termBuf: number | null = null;
  claudePid: number | null = null;
  readonly startedAt = Date.now();

  constructor(
    readonly root: string,
    readonly name: string,
    readonly branch: string,
    readonly server: IdeServer,
  ) {}

  get connected(): boolean {
    return this.server.connected;
  }

  processStarted(pid: number, buf: number): void {
    this.process = own(pid);
    this.termBuf = buf;
    this.state = 'running';
    this.exitCode = null;
    this.claudePid = null;
  }

  processExited(code: number): void {
    this.state = 'exited';
    this.exitCode = code;
  }

  snapshot(): InstanceSnapshot {
    return {
      name: this.name,
      root: this.root,
      branch: this.branch,
      port: this.server.port,
      pid: this.process?.pid ?? null,
      claudePid: this.claudePid,
      state: this.state,
      connected: this.connected,
      exitCode: this.exitCode,
      startedAt: this.startedAt,
      lockPath: this.server.lockPath,
    };
  }
}

/** Short, unique name: the worktree directory's name, disambiguated with its parent. */
export function shortName(root: string, taken: Set<string>): string {
  let name = path.basename(root) || root;
  if (taken.has(name)) name = `${path.basename(path.dirname(root))}/${name}`;
  let n = 2;
  const base = name;
  while (taken.has(name)) name = `${base}#${n++}`;
  return name;
}
