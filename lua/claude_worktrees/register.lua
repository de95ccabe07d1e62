-- Registers the Node side with Neovim's remote#host API on first use, from dist/rplugin-specs.json
-- (written by `npm run build`): under the plugin's own host (lua/claude_worktrees/host.lua), or,
-- when an :UpdateRemotePlugins manifest already registered it, under the shared 'node' host as
-- before. A plugin manager's build step (`npm ci && npm run build`) is all an install needs.
local M = {}

--- The remote#host name the commands run on once ensure() succeeded: 'claude_worktrees' or 'node'.
M.host = nil

function M.rplugin_path()
  return require('claude_worktrees').plugin_root() .. '/rplugin/node/claude-worktrees'
end

local function same(a, b) return vim.fn.resolve(a) == vim.fn.resolve(b) end

--- The specs a build wrote, or nil and what to do.
function M.specs()
  local file = require('claude_worktrees').plugin_root() .. '/dist/rplugin-specs.json'
  local okr, lines = pcall(vim.fn.readfile, file)
  if not okr then return nil, 'not built: run `npm ci && npm run build` in the plugin directory' end
  local okj, specs = pcall(vim.json.decode, table.concat(lines, '\n'))
  if not okj or type(specs) ~= 'table' then return nil, file .. ' is not valid JSON: run `npm run build` again' end
  return specs
end

--- Our entry in the manifest's 'node' plugins, if an :UpdateRemotePlugins put one there.
function M.manifest_entry()
  local path = M.rplugin_path()
  local ok, plugins = pcall(vim.fn['remote#host#PluginsForHost'], 'node')
  if ok and type(plugins) == 'table' then
    for _, p in ipairs(plugins) do
      if type(p) == 'table' and type(p.path) == 'string' and same(p.path, path) then return p end
    end
  end
  return nil
end

--- (Re)define every command and function of `specs` on `host` (remote#define: each starts the
--- host on its first call). Replaces the startup stubs and whatever a dead host left. With
--- `chan` (a running host's channel), only the commands, bound to it directly: the functions
--- stay (one of them may be running: the one that warmed the host).
function M.define(host, path, specs, chan)
  for _, spec in ipairs(specs or {}) do
    local method = path .. ':' .. spec.type .. ':' .. spec.name
    if chan then
      if spec.type == 'command' then
        vim.fn['remote#define#CommandOnChannel'](chan, method, spec.sync, spec.name, spec.opts)
      end
    elseif spec.type == 'command' then
      vim.fn['remote#define#CommandOnHost'](host, method, spec.sync, spec.name, spec.opts)
    elseif spec.type == 'function' then
      vim.fn['remote#define#FunctionOnHost'](host, method, spec.sync, spec.name, spec.opts)
    end
  end
end

--- Returns 'manifest' (registered under 'node' by a manifest), 'registered' (own host), or nil
--- and why it could not. Idempotent. `specs`: those plugin/ already read at startup, if any.
function M.ensure(specs)
  if M.host then return M.host == 'node' and 'manifest' or 'registered' end
  local entry = M.manifest_entry()
  if entry then
    -- The startup stubs may have replaced the manifest's commands (plugin loaded after it).
    local ok, err = pcall(M.define, 'node', entry.path, entry.specs)
    if not ok then return nil, 'could not define the commands: ' .. tostring(err) end
    M.host = 'node'
    return 'manifest'
  end
  local why
  if not specs then specs, why = M.specs() end
  if not specs then return nil, why end
  local host = require('claude_worktrees.host')
  local ok, err = pcall(function()
    vim.cmd("call remote#host#Register('" .. host.NAME .. "', '*', function('claude_worktrees#host'))")
    vim.fn['remote#host#RegisterPlugin'](host.NAME, M.rplugin_path(), specs)
  end)
  if not ok then return nil, 'could not register the remote host: ' .. tostring(err) end
  M.host = host.NAME
  return 'registered'
end

--- After the host died: a fresh host on the next command, commands pointing at it again.
function M.rearm()
  if M.host ~= require('claude_worktrees.host').NAME then
    -- The manifest's commands (ensure() may never have run: they need no stubs), and those of
    -- every other plugin of the shared host, which died with it.
    pcall(vim.cmd, "call remote#host#Register('node', '*', function('provider#node#Require'))")
    local okp, plugins = pcall(vim.fn['remote#host#PluginsForHost'], 'node')
    for _, p in ipairs(okp and plugins or {}) do pcall(M.define, 'node', p.path, p.specs) end
  else
    local host = require('claude_worktrees.host')
    pcall(host.reset)
    for _, p in ipairs(vim.fn['remote#host#PluginsForHost'](host.NAME) or {}) do
      pcall(M.define, host.NAME, p.path, p.specs)
    end
  end
end

return M
