import * as fs from 'fs';
import * as path from 'path';
import { TranscriptTail, isInterruptEntry } from '../../src/claude/transcript';
import { waitFor } from '../helpers/waitFor';
import { rmDir, tmpDir } from '../helpers/tmp';

/** Transcript lines as CLI 2.1.197 writes them (trimmed to the fields that matter). */
const line = (o: unknown): string => `${JSON.stringify(o)}\n`;
const interruptForTool = line({
  parentUuid: 'p', isSidechain: false, type: 'user',
  message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user for tool use]' }] },
});
const interrupt = line({ isSidechain: false, type: 'user', message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] } });
const toolResultQuoting = line({
  type: 'user',
  message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: '[Request interrupted by user] is what the CLI writes' }] },
});
const assistantQuoting = line({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: '[Request interrupted by user]' }] } });
const prompt = line({ type: 'user', message: { role: 'user', content: 'run it' } });

describe('isInterruptEntry', () => {
  test('the two interrupt entries of the CLI', () => {
    expect(isInterruptEntry(interruptForTool.trim())).toBe(true);
    expect(isInterruptEntry(interrupt.trim())).toBe(true);
    expect(isInterruptEntry(JSON.stringify({ type: 'user', message: { role: 'user', content: '[Request interrupted by user]' } }))).toBe(true);
  });

  test('the marker quoted elsewhere, sidechains, prompts and garbage do not count', () => {
    expect(isInterruptEntry(toolResultQuoting.trim())).toBe(false);
    expect(isInterruptEntry(assistantQuoting.trim())).toBe(false);
    expect(isInterruptEntry(prompt.trim())).toBe(false);
    expect(isInterruptEntry(interrupt.trim().replace('"isSidechain":false', '"isSidechain":true'))).toBe(false);
    expect(isInterruptEntry('[Request interrupted by user]')).toBe(false);
    expect(isInterruptEntry('{"type":"user","message":null} [Request interrupted by user')).toBe(false);
    expect(isInterruptEntry('null')).toBe(false);
  });
});

describe('TranscriptTail', () => {
  let dir: string;
  const tails: TranscriptTail[] = [];
  beforeEach(() => { dir = tmpDir('cw-tail-'); });
  afterEach(() => {
    for (const t of tails.splice(0)) t.stop();
    rmDir(dir);
  });
  const tail = (file: string, cb: () => void, pollMs?: number): TranscriptTail => {
    const t = new TranscriptTail(file, cb, { pollMs });
    tails.push(t);
    return t;
  };

  test('reports interrupts appended after it started, not those already there', async () => {
    const file = path.join(dir, 's.jsonl');
    fs.writeFileSync(file, prompt + interrupt);
    let n = 0;
    tail(file, () => { n++; });
    fs.appendFileSync(file, prompt + toolResultQuoting);
    fs.appendFileSync(file, interruptForTool);
    await waitFor(() => n === 1, 'the interrupt');
    fs.appendFileSync(file, interrupt);
    await waitFor(() => n === 2, 'the second interrupt');
  });

  test('a file that does not exist yet is picked up once it does (poll)', async () => {
    const file = path.join(dir, 'later.jsonl');
    let n = 0;
    tail(file, () => { n++; }, 20);
    fs.writeFileSync(file, prompt);
    fs.appendFileSync(file, interrupt);
    await waitFor(() => n === 1, 'the interrupt in a new file');
  });

  test('an entry written in pieces, and a huge line before it, are handled', async () => {
    const file = path.join(dir, 's.jsonl');
    fs.writeFileSync(file, '');
    let n = 0;
    tail(file, () => { n++; }, 20);
    // A 300 KiB tool result that quotes the marker: skipped, not parsed, not counted.
    fs.appendFileSync(file, line({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: `[Request interrupted by user]${'x'.repeat(300 * 1024)}` }] } }));
    const half = Math.floor(interrupt.length / 2);
    fs.appendFileSync(file, interrupt.slice(0, half));
    await new Promise<void>((r) => setImmediate(r));
    fs.appendFileSync(file, interrupt.slice(half));
    await waitFor(() => n === 1, 'the split interrupt');
    expect(n).toBe(1);
  });

  test('nothing is reported after stop()', async () => {
    const file = path.join(dir, 's.jsonl');
    fs.writeFileSync(file, '');
    let n = 0;
    const t = tail(file, () => { n++; }, 10);
    t.stop();
    t.stop();
    fs.appendFileSync(file, interrupt);
    // A second, live tail proves the write was visible; the stopped one stays silent.
    let live = 0;
    tail(file, () => { live++; }, 10);
    fs.appendFileSync(file, interrupt);
    await waitFor(() => live === 1, 'the live tail');
    expect(n).toBe(0);
  });
});
