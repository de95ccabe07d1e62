import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { rmDir, tmpDir } from '../helpers/tmp';
import {
  isPidAlive, lockDir, lockPath, newAuthToken, removeLock, removeStaleLocks, writeLock, type LockBody,
} from '../../src/ide/lockfile';

/** A pid that certainly belonged to a process which is now dead and reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return pid;
}

const body = (over: Partial<LockBody> = {}): LockBody => ({
  pid: process.pid, workspaceFolders: ['/tmp/ws'], ideName: 'Neovim', transport: 'ws', authToken: newAuthToken(), ...over,
});

let tmp: string;
beforeEach(() => { tmp = tmpDir('cw-lock-'); });
afterEach(() => { rmDir(tmp); });

describe('lockDir', () => {
  test('CLAUDE_CONFIG_DIR wins when set and non-empty', () => {
    expect(lockDir({ CLAUDE_CONFIG_DIR: '/cfg/claude', HOME: '/home/u' })).toBe('/cfg/claude/ide');
  });
  test('empty CLAUDE_CONFIG_DIR falls back to HOME', () => {
    expect(lockDir({ CLAUDE_CONFIG_DIR: '', HOME: '/home/u' })).toBe('/home/u/.claude/ide');
  });
  test('HOME when CLAUDE_CONFIG_DIR is unset', () => {
    expect(lockDir({ HOME: '/home/other' })).toBe('/home/other/.claude/ide');
  });
  test('os.homedir() when neither is set', () => {
    expect(lockDir({})).toBe(path.join(os.homedir(), '.claude', 'ide'));
  });
  test('lockPath is <dir>/<port>.lock', () => {
    expect(lockPath('/x/ide', 41234)).toBe('/x/ide/41234.lock');
  });
});

describe('newAuthToken', () => {
  test('32 lowercase hex chars, different each call', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const t = newAuthToken();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(50);
  });
});

describe('writeLock', () => {
  test('creates the dir 0700 and the file 0600 with the body', () => {
    const dir = path.join(tmp, 'cfg', 'ide');
    const b = body({ workspaceFolders: ['/tmp/ws a'], ideName: 'Neovim (wt)' });
    const file = writeLock(dir, 40001, b);
    expect(file).toBe(path.join(dir, '40001.lock'));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(parsed).toEqual({
      pid: process.pid, workspaceFolders: ['/tmp/ws a'], ideName: 'Neovim (wt)', transport: 'ws', authToken: b.authToken,
    });
  });

  test('tightens an existing dir to 0700', () => {
    const dir = path.join(tmp, 'ide');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    writeLock(dir, 40002, body());
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  test('0600 even under a permissive umask', () => {
    const old = process.umask(0);
    try {
      const file = writeLock(path.join(tmp, 'u'), 40003, body());
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(old);
    }
  });

  test('replaces an existing lock atomically and leaves no temp files', () => {
    const dir = path.join(tmp, 'ide');
    writeLock(dir, 40004, body({ authToken: 'a'.repeat(32) }));
    writeLock(dir, 40004, body({ authToken: 'b'.repeat(32) }));
    expect(JSON.parse(fs.readFileSync(lockPath(dir, 40004), 'utf8')).authToken).toBe('b'.repeat(32));
    expect(fs.readdirSync(dir)).toEqual(['40004.lock']);
  });
});

describe('removeLock', () => {
  test('removes only when the token matches', () => {
    const dir = path.join(tmp, 'ide');
    const b = body();
    const file = writeLock(dir, 40010, b);
    removeLock(file, newAuthToken());
    expect(fs.existsSync(file)).toBe(true);
    removeLock(file, b.authToken);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('missing or unparsable files are left alone without throwing', () => {
    expect(() => removeLock(path.join(tmp, 'nope.lock'), 'x')).not.toThrow();
    const junk = path.join(tmp, '1.lock');
    fs.writeFileSync(junk, '{half');
    expect(() => removeLock(junk, 'x')).not.toThrow();
    expect(fs.existsSync(junk)).toBe(true);
  });
});

describe('isPidAlive', () => {
  test('self is alive; a reaped child is dead; junk pids are dead', async () => {
    expect(isPidAlive(process.pid)).toBe(true);
    expect(isPidAlive(await deadPid())).toBe(false);
    for (const p of [0, -1, 1.5, NaN]) expect(isPidAlive(p)).toBe(false);
  });
});

describe('removeStaleLocks', () => {
  test('removes only <digits>.lock files with a dead pid', async () => {
    const dir = path.join(tmp, 'ide');
    const dead = await deadPid();
    const staleFile = writeLock(dir, 40020, body({ pid: dead }));
    const liveFile = writeLock(dir, 40021, body({ pid: process.pid }));
    const files: Record<string, string> = {
      notLock: 'notes.txt',
      wrongName: 'abc.lock',
      suffix: '40022.lock.bak',
      prefix: 'x40023.lock',
      unparsable: '40024.lock',
      noPid: '40025.lock',
      stringPid: '40026.lock',
    };
    const deadBody = JSON.stringify(body({ pid: dead }));
    fs.writeFileSync(path.join(dir, files.notLock), deadBody);
    fs.writeFileSync(path.join(dir, files.wrongName), deadBody);
    fs.writeFileSync(path.join(dir, files.suffix), deadBody);
    fs.writeFileSync(path.join(dir, files.prefix), deadBody);
    fs.writeFileSync(path.join(dir, files.unparsable), '{"pid": ');
    fs.writeFileSync(path.join(dir, files.noPid), '{"authToken":"x"}');
    fs.writeFileSync(path.join(dir, files.stringPid), JSON.stringify({ pid: String(dead) }));
    fs.mkdirSync(path.join(dir, '40027.lock')); // a directory with a lock-like name

    const removed = removeStaleLocks(dir);
    expect(removed).toEqual([staleFile]);
    expect(fs.existsSync(staleFile)).toBe(false);
    expect(fs.existsSync(liveFile)).toBe(true);
    for (const name of Object.values(files)) expect(fs.existsSync(path.join(dir, name))).toBe(true);
    expect(fs.existsSync(path.join(dir, '40027.lock'))).toBe(true);
  });

  test('a missing dir -> []', () => {
    expect(removeStaleLocks(path.join(tmp, 'does-not-exist'))).toEqual([]);
  });
});
