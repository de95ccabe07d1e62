import { claudeArgv, claudeEnv, withLoopbackNoProxy } from '../../src/claude/env';

describe('claudeEnv', () => {
  test('sets the IDE variables and keeps the base', () => {
    const env = claudeEnv(45678, { PATH: '/bin', HOME: '/home/u', UNDEF: undefined });
    expect(env.CLAUDE_CODE_SSE_PORT).toBe('45678');
    expect(env.ENABLE_IDE_INTEGRATION).toBe('true');
    expect(env.CLAUDE_CODE_AUTO_CONNECT_IDE).toBe('true');
    expect(env.FORCE_CODE_TERMINAL).toBe('true');
    expect(env.PATH).toBe('/bin');
    expect(env.HOME).toBe('/home/u');
    expect('UNDEF' in env).toBe(false);
    expect(env.no_proxy).toBe('localhost,127.0.0.1,::1');
    expect(env.NO_PROXY).toBe('localhost,127.0.0.1,::1');
  });

  test('overrides a stale port from the base and from extra', () => {
    const env = claudeEnv(1, { CLAUDE_CODE_SSE_PORT: '999', ENABLE_IDE_INTEGRATION: 'false' }, { CLAUDE_CODE_SSE_PORT: '5', FOO: 'bar' });
    expect(env.CLAUDE_CODE_SSE_PORT).toBe('1');
    expect(env.ENABLE_IDE_INTEGRATION).toBe('true');
    expect(env.FOO).toBe('bar');
  });

  test('extends an existing no_proxy without duplicating', () => {
    const env = claudeEnv(1, { no_proxy: 'example.com, localhost ,10.0.0.0/8' });
    expect(env.no_proxy).toBe('example.com,localhost,10.0.0.0/8,127.0.0.1,::1');
    expect(env.NO_PROXY).toBe(env.no_proxy);
    const again = claudeEnv(2, env);
    expect(again.no_proxy).toBe(env.no_proxy);
  });

  test('extends NO_PROXY when only the upper-case one is set', () => {
    const env = claudeEnv(1, { NO_PROXY: 'corp.internal,::1' });
    expect(env.no_proxy).toBe('corp.internal,::1,localhost,127.0.0.1');
    expect(env.NO_PROXY).toBe(env.no_proxy);
  });

  test('when both no_proxy and NO_PROXY are set, the entries of both are kept', () => {
    const env = claudeEnv(1, { no_proxy: 'a.example', NO_PROXY: 'b.example' });
    expect(env.no_proxy.split(',')).toEqual(expect.arrayContaining(['a.example', 'b.example', 'localhost', '127.0.0.1', '::1']));
    expect(env.NO_PROXY).toBe(env.no_proxy);
    const empty = claudeEnv(1, { no_proxy: '', NO_PROXY: 'c.example' });
    expect(empty.no_proxy.split(',')).toContain('c.example');
  });

  test('does not mutate the base env', () => {
    const base = { no_proxy: 'a' };
    claudeEnv(1, base);
    expect(base).toEqual({ no_proxy: 'a' });
  });

  test('withLoopbackNoProxy', () => {
    expect(withLoopbackNoProxy(undefined)).toBe('localhost,127.0.0.1,::1');
    expect(withLoopbackNoProxy('')).toBe('localhost,127.0.0.1,::1');
    expect(withLoopbackNoProxy(',,localhost,,')).toBe('localhost,127.0.0.1,::1');
    const v = withLoopbackNoProxy('localhost,127.0.0.1,::1');
    expect(v.split(',')).toHaveLength(3);
  });
});

describe('claudeArgv', () => {
  test('splits a string on whitespace', () => {
    expect(claudeArgv('  claude   --model\topus ')).toEqual(['claude', '--model', 'opus']);
  });
  test('keeps an array as given (no splitting of elements) and appends extra args', () => {
    expect(claudeArgv(['/opt/my claude/bin', '--x y'], ['--ide'])).toEqual(['/opt/my claude/bin', '--x y', '--ide']);
    expect(claudeArgv('claude', ['--resume', 'a b'])).toEqual(['claude', '--resume', 'a b']);
  });
  test('does not mutate the given array', () => {
    const cmd = ['claude'];
    claudeArgv(cmd, ['--ide']);
    expect(cmd).toEqual(['claude']);
  });
  test.each([[''], ['   '], ['\t\n']])('rejects an empty string %j', (s) => {
    expect(() => claudeArgv(s)).toThrow(/empty/);
  });
  test('rejects an empty array', () => {
    expect(() => claudeArgv([])).toThrow(/empty/);
  });
});
