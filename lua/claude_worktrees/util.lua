local M = {}

--- Window of the current tab that shows code: a normal buffer (no terminal, sidebar such as a
--- file tree, quickfix or help), not floating, not one of our diffs; never `avoid`.
function M.code_window(avoid)
  local function ok(w)
    local b = vim.api.nvim_win_get_buf(w)
    return w ~= avoid and vim.api.nvim_win_get_config(w).relative == '' and vim.bo[b].buftype == ''
      and vim.b[b].claude_worktrees_diff == nil
  end
  local cur = vim.api.nvim_get_current_win()
  if ok(cur) then return cur end
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if ok(w) then return w end
  end
  return nil
end

--- Focus a code window (never `avoid`), splitting one off (e.g. beside a lone terminal) when
--- there is none. Returns the window and whether it was made here (to close it afterwards).
function M.focus_code_window(avoid)
  local win = M.code_window(avoid)
  local made = false
  if not win then
    vim.cmd('topleft vsplit')
    win = vim.api.nvim_get_current_win()
    made = true
  end
  vim.api.nvim_set_current_win(win)
  return win, made
end

--- Where the user types, if a tool of instance `own` must not take it from them: Insert,
--- Replace or Command-line mode (the command would run in the tool's window), or Terminal mode
--- in any terminal but `own`'s claude. Returns the window and mode to give back (see
--- give_back), or nil when the tool may move the cursor.
function M.typing_elsewhere(own)
  local mode = vim.api.nvim_get_mode().mode
  local m = mode:sub(1, 1)
  if m == 'i' or m == 'R' or m == 'c' or (m == 't' and vim.b.claude_worktrees_root ~= own) then
    return { win = vim.api.nvim_get_current_win(), mode = m }
  end
  return nil
end

--- Back to where typing_elsewhere found the user, in the same mode.
function M.give_back(typing)
  if not typing or not vim.api.nvim_win_is_valid(typing.win) then return end
  vim.api.nvim_set_current_win(typing.win)
  if typing.mode == 't' then vim.cmd('startinsert') end
end

--- Is path the directory root or below it (a plain prefix test would take /a/bc for /a/b)?
function M.inside(root, path)
  return path == root or path:sub(1, #root + 1) == root .. '/'
end

--- The buffer whose name is exactly path (or the same file through a symlink), or -1.
--- Not vim.fn.bufnr(path): that takes path as a pattern and may answer /a/x.txt.bak for /a/x.txt.
function M.buf_of(path)
  if not path or path == '' then return -1 end
  local bufs = vim.api.nvim_list_bufs()
  for _, b in ipairs(bufs) do
    if vim.api.nvim_buf_get_name(b) == path then return b end
  end
  local real = vim.loop.fs_realpath(path)
  if not real then return -1 end
  for _, b in ipairs(bufs) do
    local name = vim.api.nvim_buf_get_name(b)
    if name ~= '' and vim.loop.fs_realpath(name) == real then return b end
  end
  return -1
end

--- Run fn (pcall'd) with buffer switches that never ask or write: 'hidden' on, 'autowrite',
--- 'autowriteall' and 'confirm' off. A tool's window change is not the user abandoning a buffer:
--- with their settings it could write their unsaved text or stop Neovim at a dialog. The user's
--- values are back before this returns.
function M.quietly_switching(fn, ...)
  local want = { hidden = true, autowrite = false, autowriteall = false, confirm = false }
  local saved = {}
  for k, v in pairs(want) do
    if vim.o[k] ~= v then saved[k] = vim.o[k]; vim.o[k] = v end
  end
  local res = { pcall(fn, ...) }
  for k, v in pairs(saved) do vim.o[k] = v end
  return unpack(res)
end

--- A name with a control character cannot go into an Ex command line: fnameescape() keeps a
--- newline as `\<NL>`, and vim.cmd() runs what follows it as a command of its own.
function M.has_control(s)
  return type(s) ~= 'string' or s:find('%c') ~= nil
end

--- True when path is a regular file (reading anything else may block: a FIFO waits for a writer).
function M.is_regular(path)
  local st = vim.loop.fs_stat(path)
  return st ~= nil and st.type == 'file'
end

-- Is vim.notify still Neovim's own (echo in the cmdline)? nvim-notify, noice, fidget and the
-- like replace it and show any length without a prompt.
local function builtin_notify()
  local info = debug.getinfo(vim.notify, 'S')
  return info ~= nil and type(info.source) == 'string' and info.source:find('vim/_editor.lua', 1, true) ~= nil
end

-- The full text of a shortened notice goes to the log the Node side writes too.
local function log_line(text)
  pcall(function()
    local dir = require('claude_worktrees').log_dir()
    vim.fn.mkdir(dir, 'p', 448) -- 0700
    vim.fn.writefile({ os.date('%Y-%m-%dT%H:%M:%S') .. ' [notice] ' .. text }, dir .. '/claude-worktrees.log', 'a')
  end)
end

--- One line that fits the cmdline: a longer message, or a second one in the same turn, stops
--- Neovim at the hit-enter prompt, and every RPC call (claude's tools) waits behind that prompt.
function M.one_line(text, room)
  text = text:gsub('%s*\n%s*', ' | ')
  if vim.fn.strdisplaywidth(text) <= room then return text, false end
  local n = room - 1
  local short = vim.fn.strcharpart(text, 0, n)
  while n > 0 and vim.fn.strdisplaywidth(short) > room - 1 do
    n = n - 1
    short = vim.fn.strcharpart(text, 0, n)
  end
  return short .. '…', true
end

-- Notices of one main-loop turn go out as ONE line.
local queued = {}
local queued_level = vim.log.levels.INFO
local function flush_notices()
  local msgs, level = queued, queued_level
  queued, queued_level = {}, vim.log.levels.INFO
  if #msgs == 0 then return end
  local text = 'claude-worktrees: ' .. table.concat(msgs, ' | ')
  if builtin_notify() then
    local short, cut = M.one_line(text, math.max(20, vim.v.echospace))
    if cut then log_line(text) end
    text = short
  end
  vim.notify(text, level)
end

--- The plugin's one way to tell the user something (Lua and Node alike): never a prompt.
function M.notify(msg, level)
  level = level or vim.log.levels.INFO
  if #queued == 0 then vim.schedule(flush_notices) end
  table.insert(queued, msg)
  if level > queued_level then queued_level = level end
end

--- Fire `User <pattern>` with data (data needs Neovim 0.8+; older ones get the event alone).
--- A user's handler that errors must not break the plugin: reported, never raised.
function M.fire(pattern, data)
  local ok, err = pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = pattern, modeline = false, data = data })
  if not ok and tostring(err):find('data') then
    ok, err = pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = pattern, modeline = false })
  end
  if not ok then M.notify('User ' .. pattern .. ' handler failed: ' .. tostring(err), vim.log.levels.WARN) end
end

return M
