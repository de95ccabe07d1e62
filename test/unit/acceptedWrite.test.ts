/**
 * After an accepted diff the plugin waits for the CLI to write the file, then reloads its
 * buffer. The wait must not read the whole file on every look: for a big file the CLI never
 * writes (a dropped accept) that was 20 reads of 1 MiB a second for 15 s, per accept.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { sameButFinalNewline, whenWritten } from '../../src/plugin/acceptedWrite';
import { rmDir, tmpDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

// readFileSync and statSync counted (the rest of fs as it is): how often the file was read, looked at.
jest.mock('fs', () => {
  const real = jest.requireActual<typeof import('fs')>('fs');
  return { ...real, readFileSync: jest.fn(real.readFileSync), statSync: jest.fn(real.statSync) };
});
const reads = fs.readFileSync as unknown as jest.Mock;
const stats = fs.statSync as unknown as jest.Mock;

describe('sameButFinalNewline', () => {
  it('ignores one final newline on either side, nothing else', () => {
    expect(sameButFinalNewline('a\nb', 'a\nb')).toBe(true);
    expect(sameButFinalNewline('a\nb\n', 'a\nb')).toBe(true);
    expect(sameButFinalNewline('a\nb', 'a\nb\n')).toBe(true);
    expect(sameButFinalNewline('a\nb\n\n', 'a\nb\n')).toBe(false);
    expect(sameButFinalNewline('a\nc', 'a\nb')).toBe(false);
    expect(sameButFinalNewline('', '\n')).toBe(true);
    expect(sameButFinalNewline('a', 'ab')).toBe(false);
  });
});

describe('whenWritten', () => {
  let dir = '';
  let stops: Array<() => void> = [];
  beforeEach(() => { dir = tmpDir('accepted-'); });
  afterEach(() => {
    for (const s of stops) s();
    stops = [];
    rmDir(dir);
  });

  it('calls back once the file holds the accepted text (without its final newline too)', async () => {
    const file = path.join(dir, 'f.txt');
    fs.writeFileSync(file, 'old text\n');
    let calls = 0;
    stops.push(whenWritten(file, 'new text\n', () => { calls++; }, { intervalMs: 5, timeoutMs: 5000 }));
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(0);
    fs.writeFileSync(file, 'new text'); // the CLI dropped the final newline
    await waitFor(() => calls === 1, 'called back');
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(1);
  });

  it('reads a file it is waiting for only when its stat changed and its size fits', async () => {
    const file = path.join(dir, 'big.txt');
    const old = 'x'.repeat(100_000);
    fs.writeFileSync(file, old);
    reads.mockClear();
    const readsOf = () => reads.mock.calls.filter((c) => c[0] === file).length;
    let calls = 0;
    // Same size as the file (a proposal that changes letters, not lengths): read once, not again.
    stops.push(whenWritten(file, 'y'.repeat(100_000), () => { calls++; }, { intervalMs: 5, timeoutMs: 5000 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(readsOf()).toBe(1);
    // Another size: stat only.
    stops.push(whenWritten(file, 'z'.repeat(50_000), () => { calls++; }, { intervalMs: 5, timeoutMs: 5000 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(readsOf()).toBe(1);
    // Written with other text of the right size: looked at again, still no call.
    fs.writeFileSync(file, 'w'.repeat(100_000));
    await waitFor(() => readsOf() === 2, 'read after the write');
    expect(calls).toBe(0);
  });

  it('never reads what is not a regular file: a FIFO there would block the host', async () => {
    const file = path.join(dir, 'fifo');
    cp.execFileSync('mkfifo', [file]);
    let called = 0;
    stops.push(whenWritten(file, '', () => { called++; }, { intervalMs: 5, timeoutMs: 5000 }));
    await waitFor(() => stats.mock.calls.filter((c) => c[0] === file).length >= 3, 'three looks at the FIFO');
    expect(reads.mock.calls.filter((c) => c[0] === file)).toHaveLength(0);
    expect(called).toBe(0);
    fs.rmSync(file);
    fs.writeFileSync(file, ''); // what the CLI writes for an accepted empty file
    await waitFor(() => called === 1, 'the regular file that replaced it');
  });

  it('gives up at its deadline, and stop() ends it early', async () => {
    const file = path.join(dir, 'late.txt');
    let calls = 0;
    whenWritten(file, 'text', () => { calls++; }, { intervalMs: 5, timeoutMs: 50 });
    const stop = whenWritten(file, 'text', () => { calls += 10; }, { intervalMs: 5, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 120));
    stop();
    fs.writeFileSync(file, 'text');
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(0);
  });
});
