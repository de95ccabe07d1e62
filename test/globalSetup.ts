import { setup } from './tmpGate';

/** jest globalSetup: the run's private temp root and the /tmp snapshot (test/tmpGate.ts). */
export default function globalSetup(): void {
  setup();
}
