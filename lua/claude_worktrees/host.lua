-- The plugin's own remote-plugin host (remote#host name 'claude_worktrees'): `node
-- dist/host/loader.js <plugin path>`, one bundled file compiled from V8's code cache, no shared
-- Node host and no :UpdateRemotePlugins. remote#host calls factory() the first time a command
-- needs the host; prestart() starts it earlier, in the background, so that call finds it up.
local M = {}

M.NAME = 'claude_worktrees'
M.chan = nil
-- True once prestart's warm-up finished (the host attached, commands bound to its channel).
M.warm = false
-- Last stderr lines of the host (why it could not start), newest last.
M.stderr = {}

local function root() return require('claude_worktrees').plugin_root() end

function M.loader() return root() .. '/dist/host/loader.js' end

local function alive(chan)
  if not chan then return false end
  local ok, info = pcall(vim.api.nvim_get_chan_info, chan)
  return ok and type(info) == 'table' and info.id ~= nil
end

--- The node executable: setup({ node = ... }), else `node` on PATH; or nil and what to do.
function M.node()
  local cfg = require('claude_worktrees').config.node
  local exe = vim.fn.exepath(cfg or 'node')
  if exe == '' then
    return nil, ("node not found (%s): install Node.js >= 20 or set setup({ node = '/path/to/node' })"):format(cfg or 'node on PATH')
  end
  return exe
end

--- Start the host process without waiting for it. Returns the channel, or nil and why.
function M.spawn()
  if alive(M.chan) then return M.chan end
  M.chan = nil
  local exe, why = M.node()
  if not exe then return nil, why end
  local loader = M.loader()
  if not vim.loop.fs_stat(loader) then return nil, 'not built: run `npm ci && npm run build` in the plugin directory' end
  M.stderr = {}
  local ok, chan = pcall(vim.fn.jobstart, { exe, loader, require('claude_worktrees.register').rplugin_path() }, {
    rpc = true,
    on_stderr = function(_, data)
      for _, l in ipairs(data or {}) do
        if l ~= '' then
          table.insert(M.stderr, l)
          if #M.stderr > 20 then table.remove(M.stderr, 1) end
        end
      end
    end,
  })
  if not ok or type(chan) ~= 'number' or chan <= 0 then
    return nil, ('could not start %s %s: %s'):format(exe, loader, tostring(chan))
  end
  M.chan = chan
  return chan
end

--- remote#host's factory (via claude_worktrees#host): the running host's channel, started now
--- if prestart() did not, once it answers 'poll'. Throws with the reason when it cannot.
function M.factory()
  local chan, why = M.spawn()
  if not chan then error(why, 0) end
  local ok, res = pcall(vim.rpcrequest, chan, 'poll')
  if not ok or res ~= 'ok' then
    M.chan = nil
    local last = M.stderr[#M.stderr]
    error(('the claude-worktrees host did not start (%s)%s'):format(tostring(res),
      last and (': ' .. last) or ''), 0)
  end
  return chan
end

--- Start the host in the background and let it attach (config, state): the first command then
--- costs one request. Only for the own host: the shared Node host cannot start without blocking.
function M.prestart()
  local reg = require('claude_worktrees.register')
  local how, why = reg.ensure()
  if not how then
    require('claude_worktrees.util').notify('prestart: ' .. tostring(why), vim.log.levels.WARN)
    return false
  end
  if reg.host ~= M.NAME then return false end
  if alive(M.chan) then return true end
  local chan, err = M.spawn()
  if not chan then
    require('claude_worktrees.util').notify('prestart: ' .. tostring(err), vim.log.levels.WARN)
    return false
  end
  vim.rpcnotify(chan, reg.rplugin_path() .. ':function:ClaudeWorktreesWarm')
  return true
end

--- Node finished prestart's warm-up: bind the commands to this channel now (remote#define's
--- bootstrap would do it inside the first command, with a poll).
function M.warmed()
  local reg = require('claude_worktrees.register')
  if reg.host ~= M.NAME or not alive(M.chan) then return false end
  -- The channel itself (no factory, no poll: a nested request here could cross a command's).
  local ok = pcall(vim.fn['remote#host#Register'], M.NAME, '*', M.chan)
  if not ok then return false end
  for _, p in ipairs(vim.fn['remote#host#PluginsForHost'](M.NAME) or {}) do
    pcall(reg.define, M.NAME, p.path, p.specs, M.chan)
  end
  M.warm = true
  return true
end

--- The host died: forget its channel and let remote#host start a new one on the next command.
function M.reset()
  M.chan = nil
  M.warm = false
  vim.cmd("call remote#host#Register('" .. M.NAME .. "', '*', function('claude_worktrees#host'))")
end

return M
