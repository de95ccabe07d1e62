import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { rmDir, tmpDir } from '../helpers/tmp';

const REPO = path.resolve(__dirname, '../..');
const DOC = path.join(REPO, 'doc');
const INDEX = path.join(REPO, 'src/plugin/index.ts');

/** The :commands the plugin registers (registerCommand('Name', ...) in the entry point). */
function registeredCommands(): string[] {
  const src = fs.readFileSync(INDEX, 'utf8');
  return [...src.matchAll(/registerCommand\(\s*'([A-Za-z0-9]+)'/g)].map((m) => m[1]);
}

/** The Neovim to run :helptags with: the first of $CW_NVIM_BINS, else `nvim` on PATH. */
function nvimBin(): string {
  const first = (process.env.CW_NVIM_BINS ?? '').split(':').filter(Boolean)[0];
  return first ?? 'nvim';
}

describe('doc/claude-worktrees.txt', () => {
  let tmp: string;

  beforeAll(() => {
    tmp = tmpDir('cw-vimdoc-');
    for (const f of fs.readdirSync(DOC).filter((n) => n.endsWith('.txt'))) {
      fs.copyFileSync(path.join(DOC, f), path.join(tmp, f));
    }
  });

  afterAll(() => {
    rmDir(tmp);
  });

  it('finds the commands in src/plugin/index.ts', () => {
    const cmds = registeredCommands();
    expect(cmds).toContain('ClaudeCode');
    expect(cmds.length).toBeGreaterThanOrEqual(10);
  });

  it(':helptags succeeds without errors and tags every command', () => {
    const r = cp.spawnSync(nvimBin(), ['--headless', '-u', 'NONE', '-i', 'NONE', '-c', `helptags ${tmp}`, '-c', 'qa!'], {
      encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.error).toBeUndefined();
    // E154 (duplicate tag) and friends go to stderr in headless mode.
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);

    const tags = new Set(fs.readFileSync(path.join(tmp, 'tags'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]));
    const missing = registeredCommands().filter((c) => !tags.has(`:${c}`));
    expect(missing).toEqual([]);
    for (const t of ['claude-worktrees.txt', 'claude-worktrees-setup', 'claude-worktrees-health',
      'claude_worktrees.statusline()', 'claude_worktrees.instances()']) {
      expect(tags).toContain(t);
    }
  });

  it('keeps lines within 78 columns and ends with the help modeline', () => {
    const text = fs.readFileSync(path.join(DOC, 'claude-worktrees.txt'), 'utf8');
    const long = text.split('\n').map((l, i) => [i + 1, l] as const).filter(([, l]) => [...l].length > 78);
    expect(long).toEqual([]);
    expect(text.trimEnd().split('\n').pop()).toMatch(/vim:tw=78:ts=8:ft=help:norl:/);
  });
});
