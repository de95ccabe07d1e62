import * as fs from 'fs';
import * as path from 'path';
import { choosesSession, planSession, SessionStore, transcriptExists } from '../../src/instances/sessionStore';
import { rmDir, tmpDir } from '../helpers/tmp';

let base: string;
beforeEach(() => { base = tmpDir('cw-sessions-'); });
afterEach(() => rmDir(base));

describe('SessionStore', () => {
  test('keeps one session per worktree, 0600 in a 0700 dir, atomically', () => {
    const dir = path.join(base, 'state', 'sessions');
    const s = new SessionStore(dir);
    expect(s.get('/w/a')).toBeNull();
    s.set('/w/a', '11111111-1111-4111-8111-111111111111');
    s.set('/w/b', '22222222-2222-4222-8222-222222222222');
    expect(s.get('/w/a')?.sessionId).toBe('11111111-1111-4111-8111-111111111111');
    expect(new SessionStore(dir).get('/w/b')?.sessionId).toBe('22222222-2222-4222-8222-222222222222');
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(dir);
    expect(files).toHaveLength(2); // no temp file left
    for (const f of files) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    s.set('/w/a', '33333333-3333-4333-8333-333333333333');
    expect(new SessionStore(dir).get('/w/a')?.sessionId).toBe('33333333-3333-4333-8333-333333333333');
  });

  test('refuses ids that could smuggle an argument, and files of another root or broken', () => {
    const dir = path.join(base, 'sessions');
    const s = new SessionStore(dir);
    s.set('/w/a', '--dangerously-skip-permissions');
    expect(s.get('/w/a')).toBeNull();
    s.set('/w/a', 'abc');
    const [f] = fs.readdirSync(dir);
    fs.writeFileSync(path.join(dir, f), JSON.stringify({ root: '/w/other', sessionId: 'abc' }));
    expect(new SessionStore(dir).get('/w/a')).toBeNull();
    fs.writeFileSync(path.join(dir, f), '{ not json');
    expect(new SessionStore(dir).get('/w/a')).toBeNull();
  });
});

describe('planSession', () => {
  const id = () => 'new-id';
  test('resumes a known session with a transcript; else a fresh one with our own id', () => {
    expect(planSession([], 'old', false, () => true, id)).toEqual({ args: ['--resume', 'old'], sessionId: 'old', resumed: true });
    expect(planSession([], 'old', false, () => false, id)).toEqual({ args: ['--session-id', 'new-id'], sessionId: 'new-id', resumed: false });
    expect(planSession([], null, false, () => true, id)).toEqual({ args: ['--session-id', 'new-id'], sessionId: 'new-id', resumed: false });
    expect(planSession([], 'old', true, () => true, id)).toEqual({ args: ['--session-id', 'new-id'], sessionId: 'new-id', resumed: false });
  });
  test("the user's own session flags win", () => {
    for (const a of [['--resume', 'x'], ['-c'], ['--session-id=abc'], ['--fork-session', '-r', 'x']]) {
      expect(choosesSession(a)).toBe(true);
      expect(planSession(a, 'old', false, () => true, id)).toEqual({ args: [], sessionId: null, resumed: false });
    }
    expect(choosesSession(['--model', 'opus'])).toBe(false);
  });
  test('a transcript with a message is looked for in every project dir of the config dir', () => {
    expect(transcriptExists(base, 'sess')).toBe(false);
    fs.mkdirSync(path.join(base, 'projects', '-tmp-x'), { recursive: true });
    expect(transcriptExists(base, 'sess')).toBe(false);
    // What the CLI writes at start, before any message: not resumable yet.
    const f = path.join(base, 'projects', '-tmp-x', 'sess.jsonl');
    fs.writeFileSync(f, '{"type":"mode","mode":"normal","sessionId":"sess"}\n');
    expect(transcriptExists(base, 'sess')).toBe(false);
    fs.appendFileSync(f, '{"parentUuid":null,"sessionId":"sess","type":"user","message":{"role":"user","content":"hi"}}\n');
    expect(transcriptExists(base, 'sess')).toBe(true);
  });
});
