-- Loaded at startup. Costs one small file read: it defines the :ClaudeCode* commands as stubs
-- from the specs `npm run build` wrote, and nothing else (no autocmd, no autoload, no Node).
-- A stub's first call registers the remote host (claude_worktrees.register), which replaces
-- every stub with its remote command, and runs the command again. No :UpdateRemotePlugins.
if vim.g.loaded_claude_worktrees then return end
vim.g.loaded_claude_worktrees = 1

local src = debug.getinfo(1, 'S').source:sub(2)
local root = vim.fn.fnamemodify(src, ':p:h:h')
local okj, specs = false, nil
local f = io.open(root .. '/dist/rplugin-specs.json', 'r')
if f then
  okj, specs = pcall(vim.json.decode, f:read('*a'))
  f:close()
end
local built = (okj and type(specs) == 'table') and specs or nil -- handed to register: read once
if not built then
  -- Not built: one command that says so.
  specs = { { type = 'command', name = 'ClaudeCode', opts = { nargs = '*', bang = '' } } }
end

local forwarding = {}
local define_stubs
local restubbed = false

local function stub(name, opts)
  return function(o)
    local reg = require('claude_worktrees.register')
    local how, why = reg.ensure(built)
    if not how then
      return require('claude_worktrees.util').notify(':' .. name .. ': ' .. tostring(why), vim.log.levels.ERROR)
    end
    if how == 'registered' then
      -- Start the own host here, where its failure (no node, a crash on start) can be one clear
      -- message: inside remote#define's bootstrap it is a multi-line error and a hit-enter prompt.
      -- The commands stay these stubs until it starts, so each try says why again.
      local host = require('claude_worktrees.host')
      local okh, err = pcall(host.factory)
      if not okh then
        define_stubs(true)
        restubbed = true
        return require('claude_worktrees.util').notify(':' .. name .. ': ' .. tostring(err), vim.log.levels.ERROR)
      end
      if restubbed then -- up now: the remote commands again, over these stubs
        restubbed = false
        for _, p in ipairs(vim.fn['remote#host#PluginsForHost'](host.NAME) or {}) do reg.define(host.NAME, p.path, p.specs) end
      end
    end
    if forwarding[name] then
      -- Still this stub after registering: the manifest lacks the command (an old one).
      return require('claude_worktrees.util').notify(':' .. name .. ' is not in the :UpdateRemotePlugins manifest: run '
        .. ':UpdateRemotePlugins again (or delete the manifest) and restart', vim.log.levels.ERROR)
    end
    forwarding[name] = true
    local range = (opts.range ~= nil and o.range > 0) and (o.line1 .. ',' .. o.line2) or ''
    local ok, err = pcall(vim.cmd, range .. name .. (o.bang and '!' or '') .. (o.args ~= '' and (' ' .. o.args) or ''))
    forwarding[name] = nil
    if not ok then error(err, 0) end
  end
end

-- `again`: over the remote commands (the host could not start). At startup, a command already
-- there came from an :UpdateRemotePlugins manifest sourced before us and stays.
define_stubs = function(again)
  local have = again and {} or vim.api.nvim_get_commands({ builtin = false })
  for _, spec in ipairs(specs) do
    if type(spec) == 'table' and spec.type == 'command' and type(spec.name) == 'string' and not have[spec.name] then
      local o = type(spec.opts) == 'table' and spec.opts or {}
      vim.api.nvim_create_user_command(spec.name, stub(spec.name, o), {
        nargs = tonumber(o.nargs) or o.nargs, -- the API takes 0 and 1 as numbers
        range = o.range ~= nil or nil,
        bang = o.bang ~= nil or nil,
        complete = o.complete,
        desc = 'claude-worktrees (registers its host on first use)',
      })
    end
  end
end
define_stubs(false)
