local M = {}

--- Window of the current tab that is not a terminal or floating (where code is shown).
function M.code_window()
  local cur = vim.api.nvim_get_current_win()
  local function ok(w)
    local b = vim.api.nvim_win_get_buf(w)
    return vim.api.nvim_win_get_config(w).relative == '' and vim.bo[b].buftype ~= 'terminal'
      and vim.b[b].claude_worktrees_diff == nil
  end
  if ok(cur) then return cur end
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if ok(w) then return w end
  end
  return nil
end

--- Focus a code window, splitting one off (e.g. beside a lone terminal) when there is none.
function M.focus_code_window()
  local win = M.code_window()
  if not win then
    vim.cmd('topleft vsplit')
    win = vim.api.nvim_get_current_win()
  end
  vim.api.nvim_set_current_win(win)
  return win
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

--- True when path is a regular file (reading anything else may block: a FIFO waits for a writer).
function M.is_regular(path)
  local st = vim.loop.fs_stat(path)
  return st ~= nil and st.type == 'file'
end

function M.notify(msg, level)
  vim.schedule(function()
    vim.notify('claude-worktrees: ' .. msg, level or vim.log.levels.INFO)
  end)
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
