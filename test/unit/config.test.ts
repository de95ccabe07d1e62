import { parseConfig } from '../../src/plugin/config';

describe('parseConfig (setup options after RPC)', () => {
  const saved = process.env.CLAUDE_WORKTREES_LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.CLAUDE_WORKTREES_LOG_LEVEL;
    else process.env.CLAUDE_WORKTREES_LOG_LEVEL = saved;
  });

  it('takes well-formed options', () => {
    delete process.env.CLAUDE_WORKTREES_LOG_LEVEL;
    expect(parseConfig({
      cmd: ['claude', '--model', 'x'], env: { A: '1' }, port_range: [4000, 4010], log_level: 'debug', worktree_dir: '~/wt', max_instances: 3,
    })).toEqual({ cmd: ['claude', '--model', 'x'], env: { A: '1' }, portRange: [4000, 4010], logLevel: 'debug', worktreeDir: '~/wt', extraRoots: [], maxInstances: 3, autoResume: true, autoRestart: { max: 3, windowMs: 60_000 } });
  });

  it('falls back to defaults for anything malformed, never throws', () => {
    delete process.env.CLAUDE_WORKTREES_LOG_LEVEL;
    for (const bad of [null, 42, 'x', [], { cmd: [1, 2], env: { A: 1, B: 'ok' }, port_range: ['a'], log_level: 'loud', worktree_dir: 7, max_instances: 0.5 }]) {
      const c = parseConfig(bad);
      expect(c.cmd).toBe('claude');
      expect(c.portRange).toBeUndefined();
      expect(c.logLevel).toBe('info');
      expect(c.worktreeDir).toBeUndefined();
      expect(c.maxInstances).toBe(10);
      expect(c.autoResume).toBe(true);
    }
    expect(parseConfig({ env: { A: 1, B: 'ok' } }).env).toEqual({ B: 'ok' });
  });

  it('auto_restart: on by default, off with false, limits from a table', () => {
    expect(parseConfig({}).autoRestart).toEqual({ max: 3, windowMs: 60_000 });
    expect(parseConfig({ auto_restart: false }).autoRestart).toBeNull();
    expect(parseConfig({ auto_restart: { max: 5, window: 10 } }).autoRestart).toEqual({ max: 5, windowMs: 10_000 });
    expect(parseConfig({ auto_restart: { max: -1, window: 'x' } }).autoRestart).toEqual({ max: 3, windowMs: 60_000 });
  });

  it('auto_resume is on unless set to false', () => {
    expect(parseConfig({ auto_resume: false }).autoResume).toBe(false);
    expect(parseConfig({ auto_resume: 'no' }).autoResume).toBe(true);
  });

  it('the environment overrides log_level', () => {
    process.env.CLAUDE_WORKTREES_LOG_LEVEL = 'error';
    expect(parseConfig({ log_level: 'debug' }).logLevel).toBe('error');
  });
});
