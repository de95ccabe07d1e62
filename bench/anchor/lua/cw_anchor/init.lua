-- cw_anchor: a minimal in-process Claude Code IDE server in pure Lua, the bench's reference
-- point. Everything (socket, WebSocket, MCP, tools) runs inside Neovim; see bench/anchor/README.md.
local api = vim.api

local M = {}

M.config = {
  cmd = { 'claude' },
  terminal = { position = 'vsplit' }, -- 'vsplit' | 'tab'
  selection_debounce_ms = 50,
}

local S = nil -- { server, lock_path, token, term_buf, job, group }

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
  return M
end

function M.server() return S and S.server or nil end
function M.port() return S and S.server.port or nil end
function M.running() return S ~= nil end

local function random_token()
  local uv = vim.uv or vim.loop
  local bytes = uv.random(16)
  return (bytes:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end

local function open_terminal(cmd, env)
  local pos = M.config.terminal and M.config.terminal.position or 'vsplit'
  if pos == 'tab' then
    vim.cmd('tabnew')
  else
    vim.cmd('botright vsplit')
    vim.cmd('enew')
  end
  local buf = api.nvim_get_current_buf()
  local job = vim.fn.termopen(cmd, { env = env })
  return buf, job
end

--- Start the server, write the lock file, open the terminal running opts.cmd (or config.cmd).
function M.start(opts)
  if S then return S.server.port end
  opts = vim.tbl_deep_extend('force', M.config, opts or {})
  local token = random_token()
  local server = require('cw_anchor.server').new({ token = token, tools = require('cw_anchor.tools') })
  local port = server:listen()
  server.on_drop = function(c) require('cw_anchor.diff').drop_client(c) end
  S = { server = server, token = token }
  S.lock_path = require('cw_anchor.lock').write(port, {
    pid = vim.fn.getpid(),
    workspaceFolders = { vim.fn.getcwd() },
    ideName = 'Neovim',
    transport = 'ws',
    authToken = token,
  })
  S.group = api.nvim_create_augroup('cw_anchor', { clear = true })
  api.nvim_create_autocmd('VimLeavePre', { group = S.group, callback = function()
    if S then require('cw_anchor.lock').remove(S.lock_path) end
  end })
  require('cw_anchor.selection').start(opts.selection_debounce_ms or 50)
  if opts.cmd and #opts.cmd > 0 then
    S.term_buf, S.job = open_terminal(opts.cmd, {
      CLAUDE_CODE_SSE_PORT = tostring(port),
      ENABLE_IDE_INTEGRATION = 'true',
      FORCE_CODE_TERMINAL = 'true',
    })
  end
  return port
end

function M.stop()
  if not S then return end
  local s = S
  S = nil
  require('cw_anchor.diff').close_all()
  require('cw_anchor.selection').stop()
  s.server:close()
  require('cw_anchor.lock').remove(s.lock_path)
  pcall(api.nvim_del_augroup_by_id, s.group)
  if s.job and s.job > 0 then pcall(vim.fn.jobstop, s.job) end
  if s.term_buf and api.nvim_buf_is_valid(s.term_buf) then pcall(api.nvim_buf_delete, s.term_buf, { force = true }) end
end

--- The user's decision on a pending openDiff (by its tab_name).
function M.accept(tab_name) return require('cw_anchor.diff').finish(tab_name, 'accept') end
function M.deny(tab_name) return require('cw_anchor.diff').finish(tab_name, 'deny') end

return M
