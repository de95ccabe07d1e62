import * as fs from 'fs';
import * as path from 'path';
import { rmDir, tmpDir } from '../helpers/tmp';
import {
  HOOK_TOKEN_ENV, HTTP_HOOK_EVENTS, defaultHookRelay, hookEnv, hookSettings, hookUrl, mergeHookSettings, withHookSettings,
  type HookSettings,
} from '../../src/claude/hooks';

const RELAY = { node: '/opt/node dir/bin/node', script: "/home/o'brien/$HOME/`x`/plugin/dist/claude/hookRelay.js" };

describe('hookSettings', () => {
  test('an http hook to this port\'s /hook for every status event, the token only as an env reference', () => {
    const s = hookSettings(45678, null);
    expect(Object.keys(s.hooks).sort()).toEqual([...HTTP_HOOK_EVENTS].sort());
    for (const ev of HTTP_HOOK_EVENTS) {
      expect(s.hooks[ev]).toEqual([{
        hooks: [{
          type: 'http',
          url: 'http://127.0.0.1:45678/hook',
          headers: { Authorization: `Bearer \${${HOOK_TOKEN_ENV}}` },
          allowedEnvVars: [HOOK_TOKEN_ENV],
          timeout: 3,
        }],
      }]);
    }
    // No matcher: every tool, every notification type.
    expect(JSON.stringify(s)).not.toContain('matcher');
    for (const ev of ['PermissionRequest', 'PreToolUse', 'PostToolUse', 'UserPromptSubmit', 'Stop', 'Notification', 'SessionEnd']) {
      expect(HTTP_HOOK_EVENTS).toContain(ev);
    }
  });

  test('SessionStart (no http hooks there) runs the relay in exec form: paths stay single argv items', () => {
    const s = hookSettings(1234, RELAY);
    expect(s.hooks.SessionStart).toEqual([{
      hooks: [{ type: 'command', command: RELAY.node, args: [RELAY.script, 'http://127.0.0.1:1234/hook'], async: true, timeout: 10 }],
    }]);
    // The JSON round trip keeps quotes, $ and backticks as plain characters.
    const back = JSON.parse(JSON.stringify(s)) as HookSettings;
    expect((back.hooks.SessionStart[0].hooks[0] as { args: string[] }).args[0]).toBe(RELAY.script);
    expect(hookSettings(1234, null).hooks.SessionStart).toBeUndefined();
  });

  test('hookUrl refuses a port that is not one', () => {
    expect(hookUrl(1)).toBe('http://127.0.0.1:1/hook');
    for (const bad of [0, -1, 65536, 1.5, NaN]) expect(() => hookUrl(bad)).toThrow(/bad hook port/);
  });

  test('hookEnv carries the token under its one name', () => {
    expect(hookEnv('abc')).toEqual({ CLAUDE_WORKTREES_HOOK_TOKEN: 'abc' });
  });
});

describe('withHookSettings', () => {
  const ours = hookSettings(5000, null);
  const oursJson = JSON.stringify(ours);

  test('no --settings of the user: ours goes first, the user\'s args follow untouched', () => {
    expect(withHookSettings([], ours)).toEqual({ args: ['--settings', oursJson], hooks: true });
    const user = ['--model', 'opus', '--', '--settings', 'prompt text'];
    expect(withHookSettings(user, ours)).toEqual({ args: ['--settings', oursJson, ...user], hooks: true });
  });

  test('a user\'s inline --settings is merged: their keys and hooks kept, ours appended', () => {
    const user = { model: 'x', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }], Custom: [] } };
    for (const args of [['--settings', JSON.stringify(user), '-c'], [`--settings=${JSON.stringify(user)}`, '-c']]) {
      const r = withHookSettings(args, ours);
      expect(r.hooks).toBe(true);
      expect(r.args.slice(2)).toEqual(['-c']);
      expect(r.args[0]).toBe('--settings');
      const merged = JSON.parse(r.args[1]);
      expect(merged.model).toBe('x');
      expect(merged.hooks.Custom).toEqual([]);
      expect(merged.hooks.Stop).toEqual([...user.hooks.Stop, ...ours.hooks.Stop]);
      expect(merged.hooks.PreToolUse).toEqual(ours.hooks.PreToolUse);
    }
  });

  test('the last --settings wins, as in the CLI; all of them are replaced by the merge', () => {
    const r = withHookSettings(['--settings', '{"a":1}', '--settings', '{"b":2}'], ours);
    expect(r.args).toHaveLength(2);
    const merged = JSON.parse(r.args[1]);
    expect(merged.b).toBe(2);
    expect(merged.a).toBeUndefined();
  });

  test('a settings file is read through readFile and merged', () => {
    const read = jest.fn(() => '{"env": {"A": "1"}}');
    const r = withHookSettings(['--settings', 'my.json'], ours, read);
    expect(read).toHaveBeenCalledWith('my.json');
    expect(r.hooks).toBe(true);
    expect(JSON.parse(r.args[1])).toEqual({ env: { A: '1' }, hooks: ours.hooks });
  });

  test('unreadable or non-object settings: the user\'s args are left exactly as given, hooks off', () => {
    const cases: Array<[string[], ((f: string) => string) | undefined]> = [
      [['--settings', 'missing.json'], () => { throw new Error('ENOENT'); }],
      [['--settings', 'x.json'], undefined],
      [['--settings', '{not json}'], undefined],
      [['--settings', '[1,2]'], () => '[1,2]'],
      [['--settings', 'f.json', '-c'], () => 'null'],
    ];
    for (const [args, read] of cases) expect(withHookSettings(args, ours, read)).toEqual({ args, hooks: false });
  });

  test('a dangling --settings (no value) is not taken for one', () => {
    expect(withHookSettings(['--settings'], ours)).toEqual({ args: ['--settings', oursJson, '--settings'], hooks: true });
  });
});

describe('mergeHookSettings', () => {
  test('a non-object hooks value of the user is replaced, other events untouched', () => {
    const ours = hookSettings(5000, null);
    expect(mergeHookSettings({ hooks: 'nonsense' }, ours).hooks).toEqual(ours.hooks);
    const user = { hooks: { Stop: 'not an array' } };
    expect((mergeHookSettings(user, ours).hooks as Record<string, unknown>).Stop).toEqual(ours.hooks.Stop);
    expect(user.hooks.Stop).toBe('not an array'); // the input is not modified
  });
});

describe('defaultHookRelay', () => {
  test('the relay next to the module, run by this node; null when it is not built', () => {
    const dir = tmpDir('cw-relay-');
    try {
      expect(defaultHookRelay(dir)).toBeNull();
      fs.writeFileSync(path.join(dir, 'hookRelay.js'), '');
      expect(defaultHookRelay(dir)).toEqual({ node: process.execPath, script: path.join(dir, 'hookRelay.js') });
    } finally {
      rmDir(dir);
    }
  });
});
