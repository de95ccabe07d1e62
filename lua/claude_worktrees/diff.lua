-- The diff view for openDiff: the original (left) beside the editable proposal (right), opened
-- in a code window of the current tab, never in a terminal window.
local M = {}
M.diffs = {} -- id -> { key, tab_name, file, eol, win_old, win_new, buf_old, buf_new, prev_buf, decided }

local function filetype_for(file, existing)
  if existing and existing > 0 and vim.api.nvim_buf_is_loaded(existing) and vim.bo[existing].filetype ~= '' then
    return vim.bo[existing].filetype
  end
  local ok, ft = pcall(vim.filetype.match, { filename = file })
  if ok and type(ft) == 'string' then return ft end
  ok, ft = pcall(vim.filetype.match, file) -- 0.7 signature
  if ok and type(ft) == 'string' then return ft end
  return ''
end

local function split_lines(text)
  local lines = vim.split(text, '\n', { plain = true })
  local eol = false
  if #lines > 1 and lines[#lines] == '' then
    table.remove(lines)
    eol = true
  end
  return lines, eol
end

local function scratch(name, lines, ft, modifiable)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  if ft ~= '' then vim.bo[buf].filetype = ft end
  vim.bo[buf].modifiable = modifiable
  vim.bo[buf].modified = false
  return buf
end

--- spec: { id, key, tab_name, file, new_text }. Returns { ok } or { ok = false, err }.
function M.open(spec)
  local file = spec.file
  local existing = vim.fn.bufnr(file)
  if existing > 0 and vim.api.nvim_buf_is_loaded(existing) and vim.bo[existing].modified then
    return { ok = false, err = file .. ' has unsaved changes in Neovim: save or undo them, then answer Claude again' }
  end
  local old_lines = {}
  if vim.fn.filereadable(file) == 1 then old_lines = vim.fn.readfile(file) end
  local new_lines, eol = split_lines(spec.new_text)
  local ft = filetype_for(file, existing)
  local code = require('claude_worktrees.util').focus_code_window()
  local prev_buf = vim.api.nvim_win_get_buf(code)
  local short = vim.fn.fnamemodify(file, ':t')
  local buf_old = scratch('claude-worktrees://' .. spec.id .. '/original/' .. short, old_lines, ft, false)
  local buf_new = scratch('claude-worktrees://' .. spec.id .. '/proposed/' .. short, new_lines, ft, true)
  vim.bo[buf_new].buftype = 'acwrite'
  vim.bo[buf_new].bufhidden = 'hide'
  vim.b[buf_old].claude_worktrees_diff = spec.id
  vim.b[buf_new].claude_worktrees_diff = spec.id

  vim.api.nvim_win_set_buf(code, buf_old)
  vim.cmd('diffthis')
  vim.cmd('rightbelow vsplit')
  local win_new = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win_new, buf_new)
  vim.cmd('diffthis')

  local d = {
    key = spec.key, tab_name = spec.tab_name, file = file, eol = eol or spec.new_text == '',
    win_old = code, win_new = win_new, buf_old = buf_old, buf_new = buf_new, prev_buf = prev_buf,
  }
  M.diffs[spec.id] = d
  local group = vim.api.nvim_create_augroup('claude_worktrees_diff_' .. spec.id, { clear = true })
  d.group = group
  vim.api.nvim_create_autocmd('BufWriteCmd', {
    group = group, buffer = buf_new,
    callback = function() M.decide(spec.id, 'accept') end,
  })
  -- Closing the proposal (window or buffer) is a "no".
  vim.api.nvim_create_autocmd({ 'BufWinLeave', 'BufWipeout' }, {
    group = group, buffer = buf_new,
    callback = function() vim.schedule(function() M.decide(spec.id, 'reject') end) end,
  })
  require('claude_worktrees.util').fire('ClaudeWorktreesDiffOpened',
    { id = spec.id, root = spec.key, file = file, tab_name = spec.tab_name, buf = buf_new, win = win_new })
  return { ok = true, win = win_new, buf = buf_new }
end

local function teardown(id, outcome)
  local d = M.diffs[id]
  if not d then return end
  M.diffs[id] = nil
  require('claude_worktrees.util').fire('ClaudeWorktreesDiffClosed',
    { id = id, root = d.key, file = d.file, tab_name = d.tab_name, outcome = outcome })
  pcall(vim.api.nvim_del_augroup_by_id, d.group)
  if vim.api.nvim_win_is_valid(d.win_new) and #vim.api.nvim_list_wins() > 1 then
    pcall(vim.api.nvim_win_close, d.win_new, true)
  end
  if vim.api.nvim_win_is_valid(d.win_old) then
    pcall(vim.api.nvim_win_call, d.win_old, function() vim.cmd('diffoff') end)
    if d.prev_buf and vim.api.nvim_buf_is_valid(d.prev_buf) and d.prev_buf ~= d.buf_old then
      pcall(vim.api.nvim_win_set_buf, d.win_old, d.prev_buf)
    elseif #vim.api.nvim_list_wins() > 1 then
      pcall(vim.api.nvim_win_close, d.win_old, true)
    end
  end
  for _, b in ipairs({ d.buf_new, d.buf_old }) do
    if vim.api.nvim_buf_is_valid(b) then pcall(vim.api.nvim_buf_delete, b, { force = true }) end
  end
end

--- The user decides ('accept' | 'reject'); Node gets the (possibly edited) proposal.
function M.decide(id, action)
  local d = M.diffs[id]
  if not d or d.decided then return false end
  d.decided = true
  local contents = nil
  if action == 'accept' and vim.api.nvim_buf_is_valid(d.buf_new) then
    local lines = vim.api.nvim_buf_get_lines(d.buf_new, 0, -1, false)
    contents = table.concat(lines, '\n')
    if d.eol then contents = contents .. '\n' end
  end
  teardown(id, action == 'accept' and 'accepted' or 'rejected')
  require('claude_worktrees')._emit({ type = 'diff', id = id, action = action, contents = contents })
  return true
end

--- Node closes a diff (close_tab, closeAllDiffTabs, client gone): no event back.
function M.close(id)
  local d = M.diffs[id]
  if not d then return false end
  d.decided = true
  teardown(id, 'closed')
  return true
end

--- The diff shown in the current buffer, if any.
function M.current_id()
  return vim.b.claude_worktrees_diff
end

return M
