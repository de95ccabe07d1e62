-- Instance and status colours. An instance's colour comes from a hash of its name, so it stays the
-- same across restarts and Neovims; config.colors[name] = '#rrggbb' overrides it.
-- Pure Lua, no Node: the statusline and pickers call this on every redraw/open.
local M = {}

-- The same hues twice: light tints read on dark backgrounds, dark shades on light ones. A name keeps
-- its index, so switching 'background' keeps its hue.
M.palette = {
  dark = { '#e06c75', '#e5a05b', '#e5c07b', '#98c379', '#4ec9b0', '#61afef', '#8f9cf7', '#c678dd', '#f38ba8', '#c8a27c' },
  light = { '#c0392b', '#b35900', '#8a6d00', '#3c7d22', '#00796b', '#1f6fbf', '#3949ab', '#7b3fb0', '#c2185b', '#8d5524' },
}

-- Status -> group, and the group each links to by default (users override with :hi or nvim_set_hl).
M.status_groups = {
  busy = 'ClaudeWorktreesBusy',
  waiting = 'ClaudeWorktreesWaiting',
  idle = 'ClaudeWorktreesIdle',
  exited = 'ClaudeWorktreesExited',
  unknown = 'ClaudeWorktreesUnknown',
  restarting = 'ClaudeWorktreesRestarting',
  crashed = 'ClaudeWorktreesCrashed',
}

local function status_links()
  -- DiagnosticOk only exists from Neovim 0.9 on.
  local ok = vim.fn.hlexists('DiagnosticOk') == 1 and 'DiagnosticOk' or 'String'
  return {
    ClaudeWorktreesBusy = 'DiagnosticWarn',
    ClaudeWorktreesWaiting = 'DiagnosticError',
    ClaudeWorktreesIdle = ok,
    ClaudeWorktreesExited = 'Comment',
    ClaudeWorktreesUnknown = 'NonText',
    ClaudeWorktreesRestarting = 'DiagnosticWarn',
    ClaudeWorktreesCrashed = 'ErrorMsg',
  }
end

-- group name -> { name = instance name, color = '#rrggbb' last applied }
local defined = {}
local augroup = nil

--- 32-bit djb2 of a string: stable across runs and Lua versions (no bit ops needed).
function M.hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 4294967296 end
  return h
end

--- Highlight-group-safe and injective: letters and digits stay, every other byte becomes _xx
--- (so 'a-b' and 'a_b' get different groups).
function M.sanitize(name)
  local s = name:gsub('[^%w]', function(c) return string.format('_%02x', c:byte()) end)
  -- Group names are limited to 200 bytes; long names keep a prefix plus their hash.
  if #s > 150 then s = s:sub(1, 140) .. string.format('_%08x', M.hash(name)) end
  return s
end

function M.group_name(name)
  return 'ClaudeWorktreesInstance_' .. M.sanitize(name)
end

local function override(name)
  -- Read lazily: init may not be loaded/configured yet, and config.colors is optional.
  local ok, cw = pcall(require, 'claude_worktrees')
  local colors = ok and type(cw.config) == 'table' and cw.config.colors or nil
  local c = type(colors) == 'table' and colors[name] or nil
  if type(c) == 'string' and c:match('^#%x%x%x%x%x%x$') then return c:lower() end
  return nil
end

--- The colour of an instance: its override, else its palette entry for the current 'background'.
function M.color_for(name)
  name = tostring(name or '')
  local o = override(name)
  if o then return o end
  local pal = vim.o.background == 'light' and M.palette.light or M.palette.dark
  return pal[M.hash(name) % #pal + 1]
end

-- Nearest xterm-256 colour-cube index, so the colour also shows without 'termguicolors'.
local function cterm(hex)
  local function lvl(v) return v < 48 and 0 or v < 115 and 1 or math.floor((v - 35) / 40) end
  local r, g, b = tonumber(hex:sub(2, 3), 16), tonumber(hex:sub(4, 5), 16), tonumber(hex:sub(6, 7), 16)
  return 16 + 36 * lvl(r) + 6 * lvl(g) + lvl(b)
end

local function apply(group, name)
  local color = M.color_for(name)
  vim.api.nvim_set_hl(0, group, { fg = color, ctermfg = cterm(color) })
  defined[group] = { name = name, color = color }
end

local function define_status()
  for group, link in pairs(status_links()) do
    -- default: a user's own definition of the group wins.
    vim.api.nvim_set_hl(0, group, { link = link, default = true })
  end
end

local function refresh()
  define_status()
  -- :colorscheme runs :hi clear, which wipes our groups: define them all again.
  for group, d in pairs(defined) do apply(group, d.name) end
end

--- Define the status groups and re-define every group on ColorScheme / 'background' changes.
--- Idempotent; hl_for() calls it on first use too.
function M.setup()
  augroup = vim.api.nvim_create_augroup('claude_worktrees_colors', { clear = true })
  vim.api.nvim_create_autocmd('ColorScheme', { group = augroup, callback = refresh })
  vim.api.nvim_create_autocmd('OptionSet', { group = augroup, pattern = 'background', callback = refresh })
  refresh()
  return M
end

--- The highlight group of an instance (defined, or re-defined when its colour changed).
function M.hl_for(name)
  if not augroup then M.setup() end
  name = tostring(name or '')
  local group = M.group_name(name)
  local d = defined[group]
  -- Cheap check each time so a config.colors change or a cleared group is picked up.
  if not d or d.color ~= M.color_for(name) or vim.fn.hlexists(group) == 0 then apply(group, name) end
  return group
end

--- The highlight group for a status ('busy' | 'waiting' | 'idle' | 'exited' | 'unknown').
function M.status_hl(status)
  if not augroup then M.setup() end
  return M.status_groups[status] or M.status_groups.unknown
end

return M
