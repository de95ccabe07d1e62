-- :checkhealth claude_worktrees. Reads files and runs short external commands only: it never
-- starts the Node host and never calls a :ClaudeCode* command.
local M = {}

-- vim.health on 0.10 (start/ok/warn/error/info); health#report_* on 0.7.
local report = {}
if vim.health and vim.health.start then
  report = vim.health
else
  local function fn(name)
    return function(msg, advice)
      if advice ~= nil then
        if type(advice) == 'string' then advice = { advice } end
        vim.fn['health#report_' .. name](msg, advice)
      else
        vim.fn['health#report_' .. name](msg)
      end
    end
  end
  report = { start = fn('start'), ok = fn('ok'), warn = fn('warn'), error = fn('error'), info = fn('info') }
end

local uv = vim.loop

local function trim(s)
  return (tostring(s or ''):gsub('^%s+', ''):gsub('%s+$', ''))
end

-- Run argv (a list: no shell) and return its first output line, or nil and the output on failure.
local function run(argv)
  local ok, out = pcall(vim.fn.system, argv)
  if not ok then return nil, tostring(out) end
  if vim.v.shell_error ~= 0 then return nil, trim(out) end
  return trim(vim.split(out, '\n', { plain = true })[1]), nil
end

local function plugin_root()
  local ok, cw = pcall(require, 'claude_worktrees')
  if ok and cw.plugin_root then return cw.plugin_root(), cw end
  local src = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(src, ':p:h:h:h'), nil
end

local function check_node()
  report.start('claude_worktrees: Node.js')
  if vim.fn.executable('node') == 0 then
    report.error('node not found on PATH', { 'Install Node.js 20 or later (https://nodejs.org)' })
    return
  end
  local v, err = run({ 'node', '--version' })
  if not v then
    report.error('node --version failed: ' .. tostring(err))
    return
  end
  local major = tonumber(v:match('^v?(%d+)'))
  if major and major >= 20 then
    report.ok('node ' .. v .. ' (' .. vim.fn.exepath('node') .. ')')
  else
    report.warn('node ' .. v .. ' is older than 20: the plugin is built and tested on Node 20',
      { 'Install Node.js 20 or later' })
  end
end

--- The plugin's own host (no manifest names the plugin): node + dist/host/loader.js + bundle.
local function check_own_host(root)
  local loader, bundle = root .. '/dist/host/loader.js', root .. '/dist/host.bundle.js'
  if not uv.fs_stat(loader) or not uv.fs_stat(bundle) then
    report.error('own host not built: ' .. (uv.fs_stat(loader) and bundle or loader) .. ' is missing',
      { 'Run `npm ci && npm run build` in ' .. root })
    return
  end
  local host = require('claude_worktrees.host')
  local exe, why = host.node()
  if not exe then
    report.error('host: ' .. why)
    return
  end
  report.ok('own host: ' .. exe .. ' ' .. loader .. ' (no shared Node host, no :UpdateRemotePlugins)')
  if uv.fs_stat(bundle .. '.cache') then
    report.ok('V8 code cache: ' .. bundle .. '.cache')
  else
    report.warn('no V8 code cache beside ' .. bundle .. ': the host starts slower', { 'Run `npm run build` again' })
  end
  if host.chan then report.info('running on channel ' .. host.chan .. (host.warm and ' (prestarted)' or '')) end
end

local function check_host(root)
  report.start('claude_worktrees: Node remote-plugin host')
  local reg = require('claude_worktrees.register')
  if reg.host == require('claude_worktrees.host').NAME or (reg.host == nil and not reg.manifest_entry()) then
    return check_own_host(root)
  end
  local prog = vim.g.node_host_prog
  if type(prog) == 'string' and prog ~= '' then
    local path = vim.fn.expand(prog)
    if vim.fn.executable(path) == 1 or uv.fs_stat(path) then
      report.ok('g:node_host_prog = ' .. path)
    else
      report.error('g:node_host_prog = ' .. path .. ' does not exist',
        { 'Unset it to use the copy bundled with the plugin, or point it at neovim-node-host' })
    end
    return
  end
  if vim.fn.executable('neovim-node-host') == 1 then
    report.ok('neovim-node-host on PATH: ' .. vim.fn.exepath('neovim-node-host'))
    return
  end
  local cli = root .. '/node_modules/neovim/bin/cli.js'
  if uv.fs_stat(cli) then
    report.warn('g:node_host_prog is not set and neovim-node-host is not on PATH; the bundled host '
      .. cli .. ' exists but is used only once require("claude_worktrees").setup() has run',
      { 'Call require("claude_worktrees").setup({}) in your config before :UpdateRemotePlugins' })
  else
    report.error('no Node host: g:node_host_prog unset, no neovim-node-host on PATH, no ' .. cli,
      { 'Run `npm ci` in ' .. root })
  end
end

local function check_build(root)
  report.start('claude_worktrees: build')
  report.info('plugin root: ' .. root)
  local entry = root .. '/dist/plugin/index.js'
  if uv.fs_stat(entry) then
    report.ok('compiled plugin found: ' .. entry)
  else
    report.error('compiled plugin missing: ' .. entry,
      { 'Run `npm ci && npm run build` in ' .. root .. ', then :UpdateRemotePlugins and restart Neovim' })
  end
  if not uv.fs_stat(root .. '/node_modules/neovim') then
    report.error('node_modules/neovim missing in ' .. root, { 'Run `npm ci` in ' .. root })
  end
end

local function read_file(path)
  local f = io.open(path, 'r')
  if not f then return nil end
  local s = f:read('*a')
  f:close()
  return s
end

local function check_manifest(root)
  report.start('claude_worktrees: remote-plugin manifest')
  local path = vim.env.NVIM_RPLUGIN_MANIFEST
  if not path or path == '' then path = vim.fn.stdpath('data') .. '/rplugin.vim' end
  local body = read_file(path)
  local specs = root .. '/dist/rplugin-specs.json'
  local fix = { 'Run `npm run build` in the plugin directory (plugin/claude_worktrees.lua then registers it), '
    .. 'or :UpdateRemotePlugins, and restart Neovim' }
  if not body or not body:find('claude-worktrees', 1, true) then
    -- No :UpdateRemotePlugins needed: the first command registers the own host from the build.
    if vim.loop.fs_stat(specs) then
      report.ok('no manifest entry (' .. path .. '): the own host registers on first use from ' .. specs)
    else
      report.error((body and ('manifest ' .. path .. ' does not mention claude-worktrees') or ('manifest not found: ' .. path))
        .. ', and ' .. specs .. ' is missing', fix)
    end
    return
  end
  if not body:find("'name': 'ClaudeCode'", 1, true) then
    report.error('manifest ' .. path .. ' mentions claude-worktrees but registers no :ClaudeCode '
      .. '(was the plugin built when :UpdateRemotePlugins ran?)', { 'Run `npm run build`, then :UpdateRemotePlugins' })
  else
    report.ok('manifest registers :ClaudeCode: ' .. path)
  end
end

local function check_claude(cw)
  report.start('claude_worktrees: claude CLI')
  local cmd = (cw and cw.config and cw.config.cmd) or 'claude'
  local argv
  if type(cmd) == 'table' then
    argv = vim.deepcopy(cmd)
  else
    argv = vim.split(trim(cmd), '%s+')
  end
  local bin = argv[1]
  if not bin or bin == '' then
    report.error('setup option cmd is empty')
    return
  end
  if vim.fn.executable(bin) == 0 then
    report.error('`' .. bin .. '` (setup option cmd) is not executable',
      { 'Install Claude Code: npm install -g @anthropic-ai/claude-code', 'or set cmd in require("claude_worktrees").setup()' })
    return
  end
  report.ok('command: ' .. table.concat(argv, ' ') .. ' (' .. vim.fn.exepath(bin) .. ')')
  if bin:match('claude$') then
    local v, err = run({ vim.fn.exepath(bin), '--version' })
    if v then report.ok('version: ' .. v) else report.warn('`' .. bin .. ' --version` failed: ' .. tostring(err)) end
  end
end

local function check_lock_dir()
  report.start('claude_worktrees: lock files')
  local dir = require('claude_worktrees.claude_config').lock_dir()
  local st = uv.fs_stat(dir)
  if not st then
    report.ok(dir .. ' does not exist yet (created with mode 0700 on the first :ClaudeCode)')
    return
  end
  if st.type ~= 'directory' then
    report.error(dir .. ' is not a directory')
    return
  end
  local mode = st.mode % 512
  if mode == 448 then
    report.ok(dir .. ' exists, mode 0700')
  else
    report.warn(string.format('%s has mode %04o; lock files hold auth tokens: 0700 is expected', dir, mode),
      { 'chmod 700 ' .. dir })
  end
  if vim.fn.filewritable(dir) == 2 then
    report.ok(dir .. ' is writable')
  else
    report.error(dir .. ' is not writable: no lock file can be written, claude will not find Neovim')
  end
  local n = #vim.fn.glob(dir .. '/*.lock', true, true)
  report.info(n .. ' lock file(s) in ' .. dir)
end

local function check_claude_settings()
  report.start('claude_worktrees: Claude Code settings')
  local cc = require('claude_worktrees.claude_config')
  local off = cc.diffs_off()
  if off then
    report.warn(off, { 'In claude: /config, set "Diff tool" back to auto' })
  else
    report.ok('IDE diffs on (diffTool is not "terminal" in ' .. vim.fn.fnamemodify(cc.global_config_path(), ':~') .. ')')
  end
  local top = vim.fn.systemlist({ 'git', '-C', vim.fn.getcwd(), 'rev-parse', '--show-toplevel' })
  local root = vim.v.shell_error == 0 and top[1] or vim.fn.getcwd()
  local blocked = cc.hooks_blocked(root)
  if blocked then
    report.warn('live status will show unknown: ' .. blocked,
      { 'The plugin passes its status hooks with --settings; your settings keep them from running' })
  else
    report.ok('status hooks allowed (' .. table.concat(vim.tbl_map(function(p) return vim.fn.fnamemodify(p, ':~') end,
      cc.settings_paths(root)), ', ') .. ')')
  end
end

function M.check()
  local root, cw = plugin_root()
  check_node()
  check_host(root)
  check_build(root)
  check_manifest(root)
  check_claude(cw)
  check_lock_dir()
  check_claude_settings()
end

return M
