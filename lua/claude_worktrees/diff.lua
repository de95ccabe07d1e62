-- The diff view for openDiff: the original (left) beside the editable proposal (right), opened
-- in a code window of the current tab, never in a terminal window.
local M = {}
local open -- M.open's body (below)
local teardown -- (below)
M.teardown_delay_ms = 5 -- after a decision (see M.decide)
-- A decided diff stays here, with its outcome, until its teardown has run.
M.diffs = {} -- id -> { key, tab_name, file, eol, win_old, win_new, buf_old, buf_new, prev_buf, decided, outcome }

local ft_cache = {} -- path -> filetype by name (the same file is often diffed again)

local function filetype_for(file, existing)
  if existing and existing > 0 and vim.api.nvim_buf_is_loaded(existing) and vim.bo[existing].filetype ~= '' then
    return vim.bo[existing].filetype
  end
  if ft_cache[file] then return ft_cache[file] end
  local ok, ft = pcall(vim.filetype.match, { filename = file })
  if not (ok and type(ft) == 'string') then
    ok, ft = pcall(vim.filetype.match, file) -- 0.7 signature
  end
  ft = (ok and type(ft) == 'string') and ft or ''
  ft_cache[file] = ft
  return ft
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

-- Fill a scratch buffer with a file's text: :read is C (1 MiB: ~5 ms, half of reading and
-- splitting it in Lua). No autocmds: this is a private buffer, not an edit of the file.
-- ++ff=unix keeps any CR in the lines, as the proposal (split on NL only) does: both sides of
-- the diff see the same bytes.
local function read_into(buf, file)
  -- Only a regular file: :read of a FIFO would block Neovim until something writes to it.
  if not require('claude_worktrees.util').is_regular(file) then return end
  vim.api.nvim_buf_call(buf, function()
    vim.cmd('noautocmd silent keepalt read ++ff=unix ++enc=utf-8 ++bad=keep ' .. vim.fn.fnameescape(file))
  end)
  vim.api.nvim_buf_set_lines(buf, 0, 1, false, {}) -- :read lands below the first, empty line
end

-- Folding unchanged regions (what :diffthis adds) costs more than the diff itself on big
-- files: above this many lines the windows get the diff without folds.
local FOLD_MAX_LINES = 5000

-- Returns how to undo it: :diffoff after :diffthis, else the options as they were.
local function diff_window(win, fold)
  if fold then
    vim.api.nvim_win_call(win, function() vim.cmd('diffthis') end)
    return nil
  end
  local wo = vim.wo[win]
  local saved = { diff = false, scrollbind = wo.scrollbind, cursorbind = wo.cursorbind, wrap = wo.wrap }
  wo.diff = true
  wo.scrollbind = true
  wo.cursorbind = true
  wo.wrap = false
  return saved
end

local function undiff_window(win, saved)
  if not vim.api.nvim_win_is_valid(win) then return end
  if not saved then
    pcall(vim.api.nvim_win_call, win, function() vim.cmd('diffoff') end)
    return
  end
  for k, v in pairs(saved) do pcall(function() vim.wo[win][k] = v end) end
end

--- lines: a list, or { file = path } to read from disk.
local function scratch(name, lines, ft, modifiable)
  local buf = vim.api.nvim_create_buf(false, true)
  -- The fill is no change of the user's: `u` must never take the proposal away (nor merge with
  -- a first edit into one undo step that empties the buffer).
  vim.bo[buf].undolevels = -1
  if lines.file then read_into(buf, lines.file) else vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines) end
  vim.bo[buf].undolevels = -123456 -- the global value again
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  if ft ~= '' then vim.bo[buf].filetype = ft end
  vim.bo[buf].modifiable = modifiable
  vim.bo[buf].modified = false
  return buf
end

--- Tear down now every decided diff whose teardown is still waiting (see M.decide): before
--- anything else takes a code window, which a new diff or openFile may look for among them.
function M.flush()
  for _, id in ipairs(vim.tbl_keys(M.diffs)) do -- a key list: a DiffClosed handler may decide another
    local d = M.diffs[id]
    if d and d.decided then teardown(id, d.outcome) end
  end
end

--- spec: { id, key, tab_name, file, new_text } or, for a big proposal, { ..., new_file, eol }:
--- Node wrote it to a private 0600 file (reading it is cheaper than passing and splitting it),
--- removed here once read. Returns { ok } or { ok = false, err }.
function M.open(spec)
  M.flush()
  local ok, res = pcall(open, spec)
  if spec.new_file then os.remove(spec.new_file) end
  if not ok then error(res, 0) end
  return res
end

open = function(spec)
  local file = spec.file
  -- Node refuses these already; read_into puts the name into an Ex command line.
  if require('claude_worktrees.util').has_control(file) then
    return { ok = false, err = 'a file name with a control character is refused: ' .. vim.inspect(file) }
  end
  local existing = require('claude_worktrees.util').buf_of(file)
  if existing > 0 and vim.api.nvim_buf_is_loaded(existing) and vim.bo[existing].modified then
    return { ok = false, err = file .. ' has unsaved changes in Neovim: save or undo them, then answer Claude again' }
  end
  local old_lines
  if existing > 0 and vim.api.nvim_buf_is_loaded(existing) then
    -- Unmodified (checked above): the buffer is the file, and copying it is cheaper than reading.
    old_lines = vim.api.nvim_buf_get_lines(existing, 0, -1, false)
  else
    old_lines = { file = file }
  end
  local new_lines, eol
  if spec.new_file then
    new_lines, eol = { file = spec.new_file }, spec.eol == true
  else
    new_lines, eol = split_lines(spec.new_text)
  end
  local ft = filetype_for(file, existing)
  local util = require('claude_worktrees.util')
  -- Someone typing elsewhere (another claude's terminal, Insert mode) keeps their window and
  -- their keys: the diff opens beside them, in another window.
  local typing = util.typing_elsewhere(spec.key)
  local code, made = util.focus_code_window(typing and typing.win)
  local prev_buf = vim.api.nvim_win_get_buf(code)
  local short = vim.fn.fnamemodify(file, ':t')
  local buf_old = scratch('claude-worktrees://' .. spec.id .. '/original/' .. short, old_lines, ft, false)
  local buf_new = scratch('claude-worktrees://' .. spec.id .. '/proposed/' .. short, new_lines, ft, true)
  vim.bo[buf_new].buftype = 'acwrite'
  vim.bo[buf_new].bufhidden = 'hide'
  vim.b[buf_old].claude_worktrees_diff = spec.id
  vim.b[buf_new].claude_worktrees_diff = spec.id

  local fold = vim.api.nvim_buf_line_count(buf_old) <= FOLD_MAX_LINES and vim.api.nvim_buf_line_count(buf_new) <= FOLD_MAX_LINES
  -- The window may show a modified buffer of the user's: it stays theirs, hidden, never written.
  local shown, err = util.quietly_switching(vim.api.nvim_win_set_buf, code, buf_old)
  if not shown then
    for _, b in ipairs({ buf_old, buf_new }) do pcall(vim.api.nvim_buf_delete, b, { force = true }) end
    util.give_back(typing)
    return { ok = false, err = 'could not show the diff: ' .. tostring(err) }
  end
  local saved_old = diff_window(code, fold)
  vim.cmd('rightbelow vsplit')
  local win_new = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win_new, buf_new)
  diff_window(win_new, fold)

  local d = {
    key = spec.key, tab_name = spec.tab_name, file = file, eol = eol or spec.new_text == '',
    win_old = code, win_new = win_new, saved_old = saved_old, buf_old = buf_old, buf_new = buf_new, prev_buf = prev_buf,
    made = made,
  }
  d.tick = vim.api.nvim_buf_get_changedtick(buf_new) -- unedited at decide time: Node has the text
  M.diffs[spec.id] = d
  local group = vim.api.nvim_create_augroup('claude_worktrees_diff_' .. spec.id, { clear = true })
  d.group = group
  vim.api.nvim_create_autocmd('BufWriteCmd', {
    group = group, buffer = buf_new,
    -- Torn down a tick later: :wq and :x go on to close the current window, which must still be
    -- the proposal's (torn down now, their quit would close another window, or Neovim).
    callback = function() M.decide(spec.id, 'accept', true) end,
  })
  -- Closing the proposal (window or buffer) is a "no".
  vim.api.nvim_create_autocmd({ 'BufWinLeave', 'BufWipeout' }, {
    group = group, buffer = buf_new,
    callback = function() vim.schedule(function() M.decide(spec.id, 'reject') end) end,
  })
  util.give_back(typing)
  util.fire('ClaudeWorktreesDiffOpened',
    { id = spec.id, root = spec.key, file = file, tab_name = spec.tab_name, buf = buf_new, win = win_new })
  return { ok = true, win = win_new, buf = buf_new }
end

teardown = function(id, outcome)
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
    undiff_window(d.win_old, d.saved_old)
    if vim.api.nvim_win_get_buf(d.win_old) ~= d.buf_old then
      -- The user put a buffer of theirs there meanwhile: it stays, window and all.
    elseif d.made then
      -- A window split off for the diff (there was no code window) goes with it.
      if #vim.api.nvim_list_wins() > 1 then pcall(vim.api.nvim_win_close, d.win_old, true) end
    elseif d.prev_buf and vim.api.nvim_buf_is_valid(d.prev_buf) and d.prev_buf ~= d.buf_old then
      require('claude_worktrees.util').quietly_switching(vim.api.nvim_win_set_buf, d.win_old, d.prev_buf)
    elseif #vim.api.nvim_list_wins() > 1 then
      pcall(vim.api.nvim_win_close, d.win_old, true)
    end
  end
  for _, b in ipairs({ d.buf_new, d.buf_old }) do
    if vim.api.nvim_buf_is_valid(b) then pcall(vim.api.nvim_buf_delete, b, { force = true }) end
  end
end

--- The user decides ('accept' | 'reject'). The answer goes out first (the reply needs nothing of
--- the teardown); the proposal's text only when the user edited it, else Node has it already.
function M.decide(id, action, teardown_later)
  local d = M.diffs[id]
  if not d or d.decided then return false end
  d.decided = true
  local contents = nil
  if action == 'accept' and vim.api.nvim_buf_is_valid(d.buf_new)
    and vim.api.nvim_buf_get_changedtick(d.buf_new) ~= d.tick then
    local lines = vim.api.nvim_buf_get_lines(d.buf_new, 0, -1, false)
    contents = table.concat(lines, '\n')
    if d.eol then contents = contents .. '\n' end
  end
  require('claude_worktrees')._emit({ type = 'diff', id = id, action = action, contents = contents })
  local outcome = action == 'accept' and 'accepted' or 'rejected'
  d.outcome = outcome
  -- Answered: an edited proposal no longer holds anything to lose (:qa must not stop on it).
  if vim.api.nvim_buf_is_valid(d.buf_new) then vim.bo[d.buf_new].modified = false end
  local function later() if M.diffs[id] == d then teardown(id, outcome) end end -- not flushed meanwhile
  if teardown_later then
    vim.schedule(later)
  else
    -- The host is sending the reply now: on a small machine a teardown at once (closing windows,
    -- wiping two big buffers) takes the CPU it needs. A few ms later is still within one frame.
    vim.defer_fn(later, M.teardown_delay_ms)
  end
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
