import { teardown } from './tmpGate';

/** jest globalTeardown: fails the run when a test left files behind (test/tmpGate.ts). */
export default function globalTeardown(): void {
  teardown();
}
