import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { isolatedEnv, manifestFor, nvimBins, versionOf, REPO } from '../helpers/nvim';
import { rmDir, tmpDir } from '../helpers/tmp';

const HOST_PROG = path.join(REPO, 'node_modules/neovim/bin/cli.js');
const FAKE = path.join(REPO, 'test/fixtures/fake-claude.js');

/** Run :checkhealth claude_worktrees headless and return the report buffer's text. */
function checkhealth(bin: string, env: NodeJS.ProcessEnv, setupLua: string): { out: string; report: string; status: number | null } {
  const file = path.join(env.HOME!, 'health.txt');
  const r = cp.spawnSync(bin, ['--headless', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${REPO}`,
    '-c', `lua ${setupLua}`, '-c', 'checkhealth claude_worktrees', '-c', `w! ${file}`, '-c', 'qa!'],
  { env, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { out: `${r.stdout ?? ''}${r.stderr ?? ''}`, report: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '', status: r.status };
}

/** The lines of one section of the report ("claude_worktrees: <title>"). */
function section(report: string, title: string): string {
  const lines = report.split('\n');
  const start = lines.findIndex((l) => l.includes(`claude_worktrees: ${title}`) && !l.includes('check()'));
  if (start < 0) return '';
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /claude_worktrees: /.test(l));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

const OK = /-\s+OK:?\s/;
const ERROR = /ERROR/;

describe.each(nvimBins())(':checkhealth claude_worktrees (%s)', (bin) => {
  let root: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    root = tmpDir('cw-health-');
    env = isolatedEnv(root);
  });

  afterEach(() => {
    rmDir(root);
  });

  it(`reports the build, the manifest and the claude command as OK on ${versionOf(bin)}`, () => {
    env.NVIM_RPLUGIN_MANIFEST = manifestFor(bin);
    fs.mkdirSync(path.join(env.CLAUDE_CONFIG_DIR!, 'ide'), { mode: 0o700 });
    const setup = `vim.g.node_host_prog = '${HOST_PROG}'; require('claude_worktrees').setup({ cmd = { 'node', '${FAKE}' } })`;
    const { out, report, status } = checkhealth(bin, env, setup);
    expect(status).toBe(0);
    expect(out).not.toMatch(/E\d+:/);
    expect(report).toContain('claude_worktrees');

    const build = section(report, 'build');
    expect(build).toMatch(OK);
    expect(build).toContain(path.join(REPO, 'dist/plugin/index.js'));
    expect(build).not.toMatch(ERROR);

    const manifest = section(report, 'remote-plugin manifest');
    expect(manifest).toMatch(OK);
    expect(manifest).toContain(env.NVIM_RPLUGIN_MANIFEST!);
    expect(manifest).not.toMatch(ERROR);

    expect(section(report, 'Node.js')).toMatch(OK);
    expect(section(report, 'Node remote-plugin host')).toMatch(OK);
    expect(section(report, 'claude CLI')).toMatch(OK);
    const locks = section(report, 'lock files');
    expect(locks).toMatch(/mode 0700/);
    expect(locks).not.toMatch(ERROR);
  });

  it('warns when the Claude settings turn IDE diffs or the status hooks off; OK otherwise', () => {
    env.NVIM_RPLUGIN_MANIFEST = manifestFor(bin);
    const cfg = env.CLAUDE_CONFIG_DIR!;
    const setup = `require('claude_worktrees').setup({ cmd = { 'node', '${FAKE}' } })`;
    let settings = section(checkhealth(bin, env, setup).report, 'Claude Code settings');
    expect(settings).toMatch(/OK.*IDE diffs on/);
    expect(settings).toMatch(/OK.*status hooks allowed/);
    expect(settings).not.toMatch(/WARNING/);

    fs.writeFileSync(path.join(cfg, '.claude.json'), JSON.stringify({ diffTool: 'terminal', numStartups: 3 }));
    fs.writeFileSync(path.join(cfg, 'settings.json'), JSON.stringify({ disableAllHooks: true }));
    settings = section(checkhealth(bin, env, setup).report, 'Claude Code settings');
    expect(settings).toMatch(/WARNING.*diffTool is "terminal" in .*\.claude\.json/);
    expect(settings).toMatch(/WARNING.*live status will show unknown: hooks are off \(disableAllHooks in .*settings\.json\)/);

    fs.writeFileSync(path.join(cfg, 'settings.json'), JSON.stringify({ allowedHttpHookUrls: ['https://hooks.example.com/*'] }));
    settings = section(checkhealth(bin, env, setup).report, 'Claude Code settings');
    expect(settings).toMatch(/WARNING.*allowedHttpHookUrls in .* leaves out the plugin's hook URL/);
    fs.writeFileSync(path.join(cfg, 'settings.json'), JSON.stringify({ allowedHttpHookUrls: ['https://hooks.example.com/*', 'http://127.0.0.1:*'] }));
    expect(section(checkhealth(bin, env, setup).report, 'Claude Code settings')).toMatch(/OK.*status hooks allowed/);
  });

  it('reports a missing manifest and a missing claude as errors, without starting the Node host', () => {
    env.NVIM_RPLUGIN_MANIFEST = path.join(root, 'no-such-rplugin.vim');
    env.NVIM_NODE_LOG_FILE = path.join(root, 'node-host.log');
    const { report, status } = checkhealth(bin, env, `require('claude_worktrees').setup({ cmd = '${path.join(root, 'no-such-claude')} --x' })`);
    expect(status).toBe(0);
    // Built, so plugin/ registers the plugin without a manifest.
    expect(section(report, 'remote-plugin manifest')).toMatch(/OK.*no manifest entry .*the own host registers on first use from .*rplugin-specs\.json/);
    expect(section(report, 'claude CLI')).toMatch(/ERROR.*no-such-claude/);
    expect(section(report, 'build')).not.toMatch(ERROR);
    expect(section(report, 'Node remote-plugin host')).toMatch(/OK.*own host: .*dist\/host\/loader\.js/);
    expect(section(report, 'Node remote-plugin host')).toMatch(/OK.*V8 code cache/);
    // No Node host ran: it would have logged to NVIM_NODE_LOG_FILE.
    expect(fs.existsSync(env.NVIM_NODE_LOG_FILE)).toBe(false);
  });
});
