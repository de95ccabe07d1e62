import * as fs from 'fs';
import { format } from 'util';

/**
 * What neovim's client logs through, without winston (a quarter of a cold start). Never
 * stdout: that is the RPC channel. NVIM_NODE_LOG_FILE (as for neovim's own host) gets every
 * line; otherwise warnings and errors go to stderr, which Neovim hands to our log.
 */
export interface HostLogger {
  level: string;
  error(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  info(...a: unknown[]): void;
  debug(...a: unknown[]): void;
}

export function hostLogger(file = process.env.NVIM_NODE_LOG_FILE): HostLogger {
  const line = (lvl: string, a: unknown[]) => `${new Date().toISOString()} ${lvl} ${format(...a)}\n`;
  const write = (lvl: string, toStderr: boolean) => (...a: unknown[]) => {
    try {
      if (file) fs.appendFileSync(file, line(lvl, a));
      else if (toStderr) process.stderr.write(line(lvl, a));
    } catch {
      // A log that cannot be written must not take the host down.
    }
  };
  return { level: 'info', error: write('ERR', true), warn: write('WRN', true), info: write('INF', false), debug: write('DBG', false) };
}

/** Route console.* (a dependency's stray console.log) away from the RPC channel on stdout. */
export function guardConsole(log: HostLogger): void {
  console.log = log.info;
  console.info = log.info;
  console.debug = log.debug;
  console.warn = log.warn;
  console.error = log.error;
  console.trace = log.debug;
  console.dir = (o: unknown) => log.info(o);
}

let shared: HostLogger | null = null;

/** The host's one logger, with console.* routed to it: for start() and neovim's client alike. */
export function sharedHostLogger(): HostLogger {
  if (!shared) {
    shared = hostLogger();
    guardConsole(shared);
  }
  return shared;
}
