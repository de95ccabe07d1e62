// Stands in for neovim/lib/utils/logger in the bundle (scripts/bundle-host.js): the same
// getLogger(), without loading winston; the host's one logger (start() logs through it too).
export { sharedHostLogger as getLogger } from './logger';
