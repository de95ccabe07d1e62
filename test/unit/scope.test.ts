import * as cp from 'child_process';
import * as fs from 'fs';
import { rmDir, tmpDir } from '../helpers/tmp';
import * as path from 'path';
import { MAX_TOOL_FILE_BYTES, PathScope, requireRegularFile } from '../../src/ide/scope';
import { RpcError } from '../../src/ide/jsonrpc';
import { parseConfig } from '../../src/plugin/config';

let base: string;
let root: string;
let outside: string;

beforeEach(() => {
  base = tmpDir('cw-scope-');
  root = path.join(base, 'wt');
  outside = path.join(base, 'wt-other');
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, 'src', 'a.ts'), 'a\n');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 's\n');
});
afterEach(() => rmDir(base));

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(-32602);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('PathScope.resolve', () => {
  test('inside: absolute, relative to the root, new files in new dirs', () => {
    const s = new PathScope([root]);
    expect(s.resolve(path.join(root, 'src/a.ts'))).toBe(path.join(root, 'src/a.ts'));
    expect(s.resolve('src/a.ts')).toBe(path.join(root, 'src/a.ts'));
    expect(s.resolve('./src/../src/a.ts')).toBe(path.join(root, 'src/a.ts'));
    expect(s.resolve(path.join(root, 'new/dir/b.ts'))).toBe(path.join(root, 'new/dir/b.ts'));
    expect(s.resolve(root)).toBe(root);
  });

  test('outside: ../, a sibling with the root as prefix, absolute elsewhere; the message names the rule', () => {
    const s = new PathScope([root]);
    const msg = refusal(() => s.resolve('../wt-other/secret.txt', 'filePath'));
    expect(msg).toContain('filePath is outside this instance\'s worktree');
    expect(msg).toContain(path.join(outside, 'secret.txt'));
    expect(msg).toContain(`Tools may only touch files under ${root}`);
    refusal(() => s.resolve(path.join(root, '..', 'wt-other', 'secret.txt')));
    refusal(() => s.resolve(outside + '/x'));
    refusal(() => s.resolve(root + '-other/secret.txt'));
    refusal(() => s.resolve('/etc/passwd'));
    refusal(() => s.resolve(''));
    refusal(() => s.resolve(path.join(root, 'a\0b')));
  });

  test('symlinks are followed: a link (file or directory) inside that points out is outside', () => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
    fs.symlinkSync(outside, path.join(root, 'linkdir'));
    fs.symlinkSync(path.join(root, 'src', 'a.ts'), path.join(root, 'inner-link.ts'));
    const s = new PathScope([root]);
    expect(refusal(() => s.resolve('link.txt'))).toContain(`resolves to ${path.join(outside, 'secret.txt')}`);
    refusal(() => s.resolve('linkdir/secret.txt'));
    refusal(() => s.resolve('linkdir/new-file.txt')); // a new file through a link out
    expect(s.resolve('inner-link.ts')).toBe(path.join(root, 'inner-link.ts'));
  });

  test('dangling and looping links are refused, not guessed', () => {
    fs.symlinkSync(path.join(outside, 'gone.txt'), path.join(root, 'dangling.txt'));
    fs.symlinkSync(path.join(root, 'loop-b'), path.join(root, 'loop-a'));
    fs.symlinkSync(path.join(root, 'loop-a'), path.join(root, 'loop-b'));
    const s = new PathScope([root]);
    refusal(() => s.resolve('dangling.txt'));
    refusal(() => s.resolve('loop-a'));
  });

  test('a root reached through a symlink still matches its files', () => {
    const alias = path.join(base, 'alias');
    fs.symlinkSync(root, alias);
    const s = new PathScope([alias]);
    expect(s.resolve(path.join(root, 'src/a.ts'))).toBe(path.join(root, 'src/a.ts'));
    expect(s.resolve('src/a.ts')).toBe(path.join(alias, 'src/a.ts'));
  });

  test('extra roots widen the scope; contains() agrees with resolve()', () => {
    const s = new PathScope([root, outside]);
    expect(s.resolve(path.join(outside, 'secret.txt'))).toBe(path.join(outside, 'secret.txt'));
    expect(s.contains(path.join(outside, 'secret.txt'))).toBe(true);
    expect(new PathScope([root]).contains(path.join(outside, 'secret.txt'))).toBe(false);
    expect(new PathScope([root]).contains(path.join(root, 'src/a.ts'))).toBe(true);
  });
});

describe('PathScope.carveOut', () => {
  test("a nested worktree with its own instance is left out (new files there too), until it is given back", () => {
    const s = new PathScope([root]);
    const nested = path.join(root, 'src', 'inner');
    fs.mkdirSync(nested);
    fs.writeFileSync(path.join(nested, 'b.ts'), 'b\n');
    expect(s.contains(path.join(nested, 'b.ts'))).toBe(true);
    const g = s.generation;
    s.carveOut([nested]);
    expect(s.generation).toBe(g + 1);
    s.carveOut([nested]); // the same set: nothing cached goes stale
    expect(s.generation).toBe(g + 1);
    expect(s.contains(path.join(nested, 'b.ts'))).toBe(false);
    expect(s.contains(path.join(root, 'src/a.ts'))).toBe(true);
    expect(s.contains(path.join(root, 'src/inner-not.ts'))).toBe(true); // a prefix is not the directory
    expect(refusal(() => s.resolve('src/inner/new/c.ts'))).toBe(
      `path is in another worktree with its own instance, ${nested}: ${path.join(nested, 'new/c.ts')}`);
    s.carveOut([]);
    expect(s.resolve('src/inner/b.ts')).toBe(path.join(nested, 'b.ts'));
  });
});

describe('requireRegularFile', () => {
  test('a regular file passes; missing passes only with missingOk', () => {
    requireRegularFile(path.join(root, 'src/a.ts'), 'filePath');
    requireRegularFile(path.join(root, 'nope.ts'), 'old_file_path', true);
    expect(refusal(() => requireRegularFile(path.join(root, 'nope.ts'), 'filePath'))).toContain('filePath not found');
  });

  test('directories, FIFOs, sockets and devices are refused before anything opens them', async () => {
    const fifo = path.join(root, 'pipe');
    cp.execFileSync('mkfifo', [fifo]);
    expect(refusal(() => requireRegularFile(fifo, 'filePath'))).toContain('a named pipe');
    expect(refusal(() => requireRegularFile(fifo, 'filePath', true))).toContain('a named pipe');
    expect(refusal(() => requireRegularFile(path.join(root, 'src'), 'filePath'))).toContain('a directory');
    expect(refusal(() => requireRegularFile('/dev/null', 'filePath'))).toContain('a device');
    const net = await import('net');
    const sock = path.join(root, 'sock');
    const srv = net.createServer().listen(sock);
    await new Promise((r) => srv.once('listening', r));
    try {
      expect(refusal(() => requireRegularFile(sock, 'filePath'))).toContain('a socket');
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  test('a file above the size bound is refused', () => {
    const big = path.join(root, 'big.bin');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, MAX_TOOL_FILE_BYTES + 1); // sparse: costs no disk
    expect(refusal(() => requireRegularFile(big, 'filePath'))).toContain('too large');
  });
});

describe('extra_roots option', () => {
  test('absolute strings kept, the rest dropped', () => {
    expect(parseConfig({ extra_roots: ['/a', 'rel', 3, '/b/c'] }).extraRoots).toEqual(['/a', '/b/c']);
    expect(parseConfig({ extra_roots: 'nope' }).extraRoots).toEqual([]);
  });
});
