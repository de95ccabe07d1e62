import * as fs from 'fs';
import * as path from 'path';

/**
 * Temp dirs of a test run. test/globalSetup.ts makes one private run root per `jest` run and
 * exports it as $CW_TEST_TMP; it also points $TMPDIR (and so os.tmpdir() of the workers and of
 * everything they spawn) at its `tmp/` subdir. test/globalTeardown.ts fails the run when
 * anything is left in `tmp/`, or when anything new is left in the machine's own temp dir.
 *
 * Layout of the run root:
 *   tmp/         $TMPDIR of the run: tmpDir() dirs; must be empty at the end
 *   tmux/        $TMUX_TMPDIR: must hold no socket at the end
 *   shared/      per-run caches (remote-plugin manifests): removed by globalTeardown
 *   owner.json   the jest process, so a later run removes the root of one that was killed
 */

export const RUN_ENV = 'CW_TEST_TMP';

/** The run root; throws outside a jest run (no globalSetup, nothing would clean up). */
export function runRoot(): string {
  const root = process.env[RUN_ENV];
  if (!root || !fs.existsSync(root)) {
    throw new Error(`$${RUN_ENV} is not set (or gone): run tests through jest with jest.config.js (its globalSetup makes the run's temp root)`);
  }
  return root;
}

/**
 * A fresh private dir (realpath) for one test or file; the caller removes it (rmDir) in
 * afterEach/afterAll, after quitting any process that works in it.
 */
export function tmpDir(prefix: string): string {
  const parent = path.join(runRoot(), 'tmp');
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  return fs.realpathSync(fs.mkdtempSync(path.join(parent, prefix)));
}

/** fs.rmSync(dir, recursive, force); undefined is a no-op (for `if it was made` cleanups). */
export function rmDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** `<run root>/shared/<name>` (created): kept for the whole run, globalTeardown removes it. */
export function sharedDir(name: string): string {
  const d = path.join(runRoot(), 'shared', name);
  fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}
