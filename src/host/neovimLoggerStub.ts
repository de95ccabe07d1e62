// Stands in for neovim/lib/utils/logger in the bundle (scripts/bundle-host.js): the same
// getLogger(), without loading winston.
import { guardConsole, hostLogger, type HostLogger } from './logger';

let logger: HostLogger | null = null;
export function getLogger(): HostLogger {
  if (!logger) {
    logger = hostLogger();
    guardConsole(logger);
  }
  return logger;
}
