import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { byteColToUtf16, utf16ToByteCol } from '../../src/util/utf16';
import { fileUri, isInside, uriOrPathToPath } from '../../src/util/uri';
import { DisposableStack } from '../../src/util/disposable';
import { FileLogger } from '../../src/util/log';

describe('utf16 <-> byte columns', () => {
  test('ASCII is the identity', () => {
    for (let i = 0; i <= 5; i++) {
      expect(byteColToUtf16('hello', i)).toBe(i);
      expect(utf16ToByteCol('hello', i)).toBe(i);
    }
  });

  test('é (2 bytes, 1 unit)', () => {
    const line = 'café x';
    // c a f é(2 bytes) ' ' x
    expect(byteColToUtf16(line, 3)).toBe(3);
    expect(byteColToUtf16(line, 5)).toBe(4);
    expect(byteColToUtf16(line, 6)).toBe(5);
    expect(utf16ToByteCol(line, 4)).toBe(5);
    expect(utf16ToByteCol(line, 6)).toBe(7);
  });

  test('日本 (3 bytes each, 1 unit each)', () => {
    const line = '日本語 ok';
    expect(byteColToUtf16(line, 3)).toBe(1);
    expect(byteColToUtf16(line, 6)).toBe(2);
    expect(byteColToUtf16(line, 9)).toBe(3);
    expect(byteColToUtf16(line, 10)).toBe(4);
    expect(utf16ToByteCol(line, 2)).toBe(6);
    expect(utf16ToByteCol(line, 5)).toBe(11);
  });

  test('emoji (4 bytes, 2 units)', () => {
    const line = 'a😀b';
    expect(byteColToUtf16(line, 1)).toBe(1);
    expect(byteColToUtf16(line, 5)).toBe(3);
    expect(byteColToUtf16(line, 6)).toBe(4);
    expect(utf16ToByteCol(line, 3)).toBe(5);
    expect(utf16ToByteCol(line, 4)).toBe(6);
  });

  test('round trip at every character boundary of a mixed line', () => {
    const line = 'x = "é日本😀👍🏽";\t// ok';
    let units = 0;
    for (const ch of line) {
      const bytes = utf16ToByteCol(line, units);
      expect(byteColToUtf16(line, bytes)).toBe(units);
      units += ch.length;
    }
    expect(utf16ToByteCol(line, line.length)).toBe(Buffer.byteLength(line));
    expect(byteColToUtf16(line, Buffer.byteLength(line))).toBe(line.length);
  });

  test('out of range columns are clamped', () => {
    expect(byteColToUtf16('日本', -3)).toBe(0);
    expect(byteColToUtf16('日本', 100)).toBe(2);
    expect(utf16ToByteCol('日本', -1)).toBe(0);
    expect(utf16ToByteCol('日本', 100)).toBe(6);
    expect(byteColToUtf16('', 0)).toBe(0);
  });
});

describe('uri helpers', () => {
  test('fileUri percent-encodes', () => {
    expect(fileUri('/tmp/a b/c.ts')).toBe('file:///tmp/a%20b/c.ts');
    expect(fileUri('/tmp/100%/#x?.ts')).toBe('file:///tmp/100%25/%23x%3F.ts');
    expect(fileUri('/tmp/é')).toBe('file:///tmp/%C3%A9');
  });

  test('uriOrPathToPath: file URIs are decoded, round-tripping fileUri', () => {
    for (const p of ['/tmp/a b/c.ts', '/tmp/100%/#x?.ts', '/tmp/é/日本/😀.md', '/']) {
      expect(uriOrPathToPath(fileUri(p))).toBe(p);
    }
    expect(uriOrPathToPath('file://localhost/tmp/x')).toBe('/tmp/x');
  });

  test('uriOrPathToPath: bare paths resolve against base', () => {
    expect(uriOrPathToPath('/abs/x.ts', '/base')).toBe('/abs/x.ts');
    expect(uriOrPathToPath('rel/x.ts', '/base')).toBe('/base/rel/x.ts');
    expect(uriOrPathToPath('../x.ts', '/base/sub')).toBe('/base/x.ts');
    expect(uriOrPathToPath('x.ts')).toBe(path.resolve('x.ts'));
    // A bare path is not decoded.
    expect(uriOrPathToPath('/tmp/a%20b', '/base')).toBe('/tmp/a%20b');
  });

  test('uriOrPathToPath never throws on a malformed file URI', () => {
    expect(() => uriOrPathToPath('file:///a%2Fb')).not.toThrow();
    expect(() => uriOrPathToPath('file://%zz')).not.toThrow();
    expect(() => uriOrPathToPath('file://host/x/y')).not.toThrow();
  });

  test('uriOrPathToPath always returns an absolute path (as documented), even for URIs fileURLToPath refuses', () => {
    for (const v of ['file:///a%2Fb', 'file://%zz', 'file://host/x/y']) {
      expect(path.isAbsolute(uriOrPathToPath(v, '/base'))).toBe(true);
    }
  });

  test('isInside', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/b/c/d.ts')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
    expect(isInside('/a/b', '/a/c')).toBe(false);
    expect(isInside('/a/b', '/x/y')).toBe(false);
    expect(isInside('/a/b', '/a/b/../c')).toBe(false);
    expect(isInside('/a/b/', '/a/b/c')).toBe(true);
    // Shapes the prefix fast path must leave to path.relative.
    expect(isInside('/a/b', '/a/b/./c')).toBe(true);
    expect(isInside('/a/b', '/a/b/c/../../d')).toBe(false);
    expect(isInside('/a/b', '/a/b//c')).toBe(true);
    expect(isInside('/a/./b', '/a/b/c')).toBe(true);
    expect(isInside('/a/../b', '/a/../b/c')).toBe(true);
    expect(isInside('/a/../b', '/a/c')).toBe(false);
    expect(isInside('/a/b', '/a/b/.hidden')).toBe(true);
    expect(isInside('/', '/a')).toBe(true);
  });

  test('isInside: a name that merely starts with ".." is inside', () => {
    // '/a/b/..hidden' is a file inside /a/b; its relative path is '..hidden'.
    expect(isInside('/a/b', '/a/b/..hidden')).toBe(true);
    expect(isInside('/a/b', '/a/b/...')).toBe(true);
  });
});

describe('DisposableStack', () => {
  test('disposes in reverse order, at most once, errors swallowed', () => {
    const order: number[] = [];
    const s = new DisposableStack();
    s.add(() => order.push(1));
    s.add(() => { throw new Error('x'); });
    s.add(() => order.push(3));
    expect(() => s.dispose()).not.toThrow();
    expect(order).toEqual([3, 1]);
    s.dispose();
    expect(order).toEqual([3, 1]);
  });
});

describe('FileLogger', () => {
  const openFds = () => fs.readdirSync('/proc/self/fd').length;

  test('loggers of one file share one fd: an instance started again or a child opens none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-log-'));
    try {
      const file = path.join(dir, 'logs', 'a.log');
      const before = openFds();
      const loggers = [new FileLogger(file, 'a', 'debug'), new FileLogger(file, 'a', 'debug')];
      loggers.push(loggers[0].child('x') as FileLogger);
      for (let i = 0; i < 5; i++) loggers.push(new FileLogger(file, 'a', 'debug'));
      loggers.forEach((l, i) => l.info(`line ${i}`));
      expect(openFds() - before).toBe(1);
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(8);
      expect(lines[2]).toMatch(/INFO \[a:x\] line 2$/);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      loggers[0].close();
      expect(openFds()).toBe(before);
      loggers[1].info('after close'); // opens it again
      expect(fs.readFileSync(file, 'utf8')).toContain('after close');
      loggers[1].close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
