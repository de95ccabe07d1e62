-- Registers the Node side with Neovim's remote-plugin host from dist/rplugin-specs.json (written
-- by `npm run build`) when no :UpdateRemotePlugins manifest did: a plugin manager's build step
-- (`npm ci && npm run build`) is then all an install needs. With a manifest, nothing changes.
local M = {}

local function rplugin_path()
  return require('claude_worktrees').plugin_root() .. '/rplugin/node/claude-worktrees'
end

local function same(a, b) return vim.fn.resolve(a) == vim.fn.resolve(b) end

--- Returns 'manifest' (already registered), 'registered', or nil and why it could not.
function M.ensure()
  local path = rplugin_path()
  local ok, plugins = pcall(vim.fn['remote#host#PluginsForHost'], 'node')
  if ok and type(plugins) == 'table' then
    for _, p in ipairs(plugins) do
      if type(p) == 'table' and type(p.path) == 'string' and same(p.path, path) then return 'manifest' end
    end
  end
  local file = require('claude_worktrees').plugin_root() .. '/dist/rplugin-specs.json'
  local okr, lines = pcall(vim.fn.readfile, file)
  if not okr then return nil, 'not built: run `npm ci && npm run build` in the plugin directory' end
  local okj, specs = pcall(vim.json.decode, table.concat(lines, '\n'))
  if not okj or type(specs) ~= 'table' then return nil, file .. ' is not valid JSON: run `npm run build` again' end
  local okreg, err = pcall(vim.fn['remote#host#RegisterPlugin'], 'node', path, specs)
  if not okreg then
    -- The node host already runs for another plugin: Neovim takes no new plugin then.
    return nil, 'could not register with the Node host (' .. tostring(err) .. '): run :UpdateRemotePlugins and restart'
  end
  return 'registered'
end

return M
