-- Neovim's side of the IDE tools: what state.lua mirrors into Node is built from here, and the
-- tools that must act in Neovim (open a file, save, reload) are one call from Node each.
local M = {}
local util = require('claude_worktrees.util')

local function is_file_buf(b)
  return vim.api.nvim_buf_is_loaded(b) and vim.bo[b].buftype == '' and vim.api.nvim_buf_get_name(b) ~= ''
    and vim.b[b].claude_worktrees_diff == nil
end

local function utf16(line, byte)
  if not line or byte <= 0 then return 0 end
  if byte > #line then byte = #line end
  local ok, _, u16 = pcall(vim.str_utfindex, line, byte)
  if ok and u16 then return u16 end
  return byte
end
M.utf16 = utf16
M.is_file_buf = is_file_buf

--- Loaded, listed file buffers, computed now: the reference the cached getOpenEditors answer is
--- tested against (Node answers from state.lua's copy).
function M.open_editors()
  local cur = vim.api.nvim_get_current_buf()
  local out = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if is_file_buf(b) and vim.bo[b].buflisted then
      table.insert(out, {
        path = vim.api.nvim_buf_get_name(b),
        active = b == cur,
        dirty = vim.bo[b].modified,
        filetype = vim.bo[b].filetype,
        lines = vim.api.nvim_buf_line_count(b),
      })
    end
  end
  return out
end

local SEV = { 'Error', 'Warning', 'Info', 'Hint' }

--- Diagnostics of one buffer in the protocol's shape, columns in UTF-16 of its current text.
function M.buf_diagnostics(b)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(b)) do
    local lines = vim.api.nvim_buf_get_lines(b, d.lnum, (d.end_lnum or d.lnum) + 1, false)
    local sline, eline = lines[1], lines[#lines]
    table.insert(out, {
      message = d.message,
      severity = SEV[d.severity] or 'Error',
      range = {
        start = { line = d.lnum, character = utf16(sline, d.col or 0) },
        ['end'] = { line = d.end_lnum or d.lnum, character = utf16(eline, d.end_col or d.col or 0) },
      },
      source = d.source,
      code = d.code ~= nil and tostring(d.code) or nil,
    })
  end
  return out
end

--- Diagnostics of one file (path) or of every buffer (nil): what Neovim says right now (the
--- reference the cached answers are tested against).
function M.diagnostics(path)
  local bufs = {}
  if path and path ~= '' then
    local b = util.buf_of(path)
    if b <= 0 then return {} end
    bufs = { b }
  else
    local seen = {}
    for _, d in ipairs(vim.diagnostic.get(nil)) do
      if not seen[d.bufnr] then
        seen[d.bufnr] = true
        table.insert(bufs, d.bufnr)
      end
    end
  end
  local out = {}
  for _, b in ipairs(bufs) do
    if vim.api.nvim_buf_is_valid(b) and vim.api.nvim_buf_get_name(b) ~= '' then
      local list = M.buf_diagnostics(b)
      if #list > 0 then table.insert(out, { path = vim.api.nvim_buf_get_name(b), diagnostics = list }) end
    end
  end
  return out
end

--- { dirty, untitled } of the buffer holding path, or nil.
function M.doc_state(path)
  local b = util.buf_of(path)
  if b <= 0 or not vim.api.nvim_buf_is_loaded(b) then return vim.NIL end
  return { dirty = vim.bo[b].modified, untitled = vim.api.nvim_buf_get_name(b) == '' }
end

-- What a file was on disk when its buffer last read or wrote it (mtime in ns, size). Neovim's own
-- :checktime stops reporting a change once it saw it, while :write still asks "changed since
-- reading it" (y/n, even under :silent): saveDocument must know without asking Neovim.
local function disk_stamp(path)
  local st = vim.loop.fs_stat(path)
  if not st then return nil end
  return ('%d.%09d:%d'):format(st.mtime.sec, st.mtime.nsec or 0, st.size)
end

local function stamp(b)
  if is_file_buf(b) then vim.b[b].claude_worktrees_disk = disk_stamp(vim.api.nvim_buf_get_name(b)) end
end

--- Stamp every buffer as it reads or writes its file; unmodified buffers loaded before setup
--- now (they are their file). Idempotent.
function M.track_disk()
  local g = vim.api.nvim_create_augroup('claude_worktrees_disk', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufWritePost' }, { group = g, callback = function(a) stamp(a.buf) end })
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.b[b].claude_worktrees_disk == nil and is_file_buf(b) and not vim.bo[b].modified then stamp(b) end
  end
end

--- Has the file of buffer b changed on disk since Neovim read or wrote it? Asks :checktime
--- with our own FileChangedShell answer, so nothing prompts and nothing is reloaded; the
--- buffer's own write check (b_mtime_read) is untouched, so a later :w by the user still warns.
local function changed_on_disk(b)
  local reason
  local g = vim.api.nvim_create_augroup('claude_worktrees_save_check', { clear = true })
  vim.api.nvim_create_autocmd('FileChangedShell', {
    group = g,
    buffer = b,
    callback = function()
      reason = vim.v.fcs_reason
      vim.v.fcs_choice = ''
    end,
  })
  pcall(vim.cmd, 'checktime ' .. b)
  pcall(vim.api.nvim_del_augroup_by_id, g)
  return reason
end

--- saveDocument (issue 13): writes only a modified file buffer, never prompts, never writes
--- over a file that changed on disk since it was read (that is a conflict, reported), never
--- touches the bytes of an unmodified file. Returns { status = 'saved' | 'not_open' |
--- 'not_modified' | 'conflict' | 'failed', message? }.
function M.save(path)
  local b = util.buf_of(path)
  if b <= 0 or not vim.api.nvim_buf_is_loaded(b) then return { status = 'not_open' } end
  if not is_file_buf(b) then return { status = 'failed', message = 'not a file buffer' } end
  if not vim.bo[b].modified then return { status = 'not_modified' } end
  if not util.is_regular(path) and vim.loop.fs_stat(path) ~= nil then
    return { status = 'failed', message = 'not a regular file on disk' }
  end
  if vim.bo[b].readonly then
    -- Opened read-only (another Neovim's swap file?): :write would ask, and writing is not ours to decide.
    return { status = 'failed', message = 'read-only in Neovim (:set noreadonly, then save yourself)' }
  end
  local known, reason = vim.b[b].claude_worktrees_disk, nil
  if known then
    local now = disk_stamp(path)
    reason = now == nil and 'deleted' or (now ~= known and 'changed' or nil)
  else
    reason = changed_on_disk(b) -- a buffer modified before setup(): Neovim's own check
  end
  if reason then
    local what = reason == 'deleted' and 'was deleted on disk' or 'changed on disk since it was read'
    util.notify(vim.fn.fnamemodify(path, ':~:.') .. ' ' .. (reason == 'deleted' and 'was deleted' or 'changed')
      .. ' on disk: not saved for Claude (your edits kept; :w! writes them, :e! reloads)', vim.log.levels.WARN)
    return { status = 'conflict', message = what }
  end
  -- The file is what the buffer read (stamp): :write! skips Neovim's own y/n question, which a
  -- change it already reported once would still raise.
  local ok, err = pcall(vim.api.nvim_buf_call, b, function() vim.cmd(known and 'silent write!' or 'silent write') end)
  if not ok then return { status = 'failed', message = tostring(err) } end
  return { status = 'saved' }
end

local function find_text(buf, text, from)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for i = from or 1, #lines do
    local s = lines[i]:find(text, 1, true)
    if s then return i, s end
  end
  return nil
end

--- openFile: show path in a code window, optionally selecting lines or text.
function M.open_file(spec)
  local prev = vim.api.nvim_get_current_win()
  -- Node checked already; checked again here, right before :edit, since a FIFO blocks Neovim.
  if util.has_control(spec.path) then error('a file name with a control character is refused: ' .. vim.inspect(spec.path), 0) end
  if not util.is_regular(spec.path) then error('not a regular file: ' .. spec.path, 0) end
  -- Someone typing elsewhere keeps their window and keys: the file opens in another window.
  local typing = util.typing_elsewhere(spec.key)
  require('claude_worktrees.diff').flush() -- a decided diff's windows are no place for the file
  local win = util.focus_code_window(typing and typing.win)
  -- An existing swap file would stop Neovim at the ATTENTION prompt: open read-only instead.
  local g = vim.api.nvim_create_augroup('claude_worktrees_open_swap', { clear = true })
  local swapped = false
  vim.api.nvim_create_autocmd('SwapExists', {
    group = g,
    callback = function()
      vim.v.swapchoice = 'o'
      swapped = true
    end,
  })
  -- A loaded buffer whose file changed on disk would ask (W11/W12) as it is shown: keep a
  -- modified one as it is, reload an unmodified one.
  vim.api.nvim_create_autocmd('FileChangedShell', {
    group = g,
    callback = function(a) vim.v.fcs_choice = (vim.bo[a.buf].modified or vim.v.fcs_reason == 'deleted') and '' or 'reload' end,
  })
  local existing = util.buf_of(spec.path)
  local ok, err = util.quietly_switching(function()
    if existing > 0 then
      -- Its buffer, as it is: :edit would re-read it (E37 or a dialog when it is modified).
      if vim.api.nvim_win_get_buf(win) ~= existing then vim.api.nvim_win_set_buf(win, existing) end
    else
      vim.cmd('edit ' .. vim.fn.fnameescape(spec.path))
    end
  end)
  pcall(vim.api.nvim_del_augroup_by_id, g)
  if swapped then
    util.notify(vim.fn.fnamemodify(spec.path, ':~:.') .. ' has a swap file: opened read-only for Claude', vim.log.levels.WARN)
  end
  if not ok then error(tostring(err), 0) end
  local buf = vim.api.nvim_get_current_buf()
  if spec.start_line then
    local last = vim.api.nvim_buf_line_count(buf)
    local s = math.max(1, math.min(spec.start_line, last))
    local e = math.max(s, math.min(spec.end_line or s, last))
    vim.api.nvim_win_set_cursor(win, { s, 0 })
    if e > s then vim.cmd('normal! V' .. (e - s) .. 'j') end
  elseif spec.start_text then
    local l, c = find_text(buf, spec.start_text, 1)
    if l then
      vim.api.nvim_win_set_cursor(win, { l, c - 1 })
      if spec.end_text and spec.end_text ~= '' then
        local el, ec = find_text(buf, spec.end_text, l)
        if el then
          local ecol = spec.select_to_eol and math.max(0, #vim.api.nvim_buf_get_lines(buf, el - 1, el, false)[1] - 1)
            or (ec - 1 + #spec.end_text - 1)
          vim.cmd('normal! v')
          vim.api.nvim_win_set_cursor(win, { el, ecol })
        end
      end
    end
  end
  if typing then
    util.give_back(typing)
  elseif not spec.make_frontmost and vim.api.nvim_win_is_valid(prev) then
    vim.api.nvim_set_current_win(prev)
  end
  return true
end

--- Reload unmodified buffers of path after claude wrote it; report modified ones.
function M.reload(path)
  local b = util.buf_of(path)
  if b <= 0 or not vim.api.nvim_buf_is_loaded(b) then return 'none' end
  if vim.bo[b].modified then
    require('claude_worktrees.util').notify(path .. ' changed on disk but its buffer has unsaved changes: not reloaded',
      vim.log.levels.WARN)
    return 'modified'
  end
  vim.api.nvim_buf_call(b, function() vim.cmd('silent! edit') end)
  return 'reloaded'
end

--- After claude's tools ran: buffers of files under root that changed on disk are reloaded
--- when unmodified; a modified one is kept and the user told. Neovim's own change detection
--- (:checktime) decides what changed; our FileChangedShell answer exists only during this call,
--- so the user's own :checktime keeps its usual prompt.
--- A worktree was removed: wipe the unmodified buffers of its files; keep modified ones (told).
function M.forget_root(root)
  local kept = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    local name = vim.api.nvim_buf_get_name(b)
    if vim.api.nvim_buf_is_valid(b) and name ~= root and util.inside(root, name) and vim.bo[b].buftype == '' then
      if vim.bo[b].modified then
        table.insert(kept, name)
      else
        pcall(vim.api.nvim_buf_delete, b, { force = false })
      end
    end
  end
  if #kept > 0 then
    require('claude_worktrees.util').notify(#kept .. ' buffer(s) of the removed worktree have unsaved changes and stay open: '
      .. table.concat(vim.tbl_map(function(n) return vim.fn.fnamemodify(n, ':t') end, kept), ', '), vim.log.levels.WARN)
  end
  return #kept
end

M._warned = {}
function M.reload_changed(root)
  local reloaded, kept = {}, {}
  local g = vim.api.nvim_create_augroup('claude_worktrees_reload', { clear = true })
  vim.api.nvim_create_autocmd('FileChangedShell', {
    group = g,
    callback = function(args)
      local b = args.buf
      local reason = vim.v.fcs_reason
      if reason == 'deleted' then
        vim.v.fcs_choice = ''
      elseif vim.bo[b].modified then
        vim.v.fcs_choice = ''
        table.insert(kept, vim.api.nvim_buf_get_name(b))
      else
        vim.v.fcs_choice = 'reload'
        table.insert(reloaded, vim.api.nvim_buf_get_name(b))
      end
    end,
  })
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if is_file_buf(b) then
      local name = vim.api.nvim_buf_get_name(b)
      if name ~= root and util.inside(root, name) then pcall(vim.cmd, 'checktime ' .. b) end
    end
  end
  pcall(vim.api.nvim_del_augroup_by_id, g)
  for _, name in ipairs(kept) do
    -- Once per version on disk: later tool calls leave the same file changed.
    local stamp = vim.fn.getftime(name) .. ':' .. vim.fn.getfsize(name)
    if M._warned[name] ~= stamp then
      M._warned[name] = stamp
      require('claude_worktrees.util').notify(vim.fn.fnamemodify(name, ':~:.') ..
        ' changed on disk but its buffer has unsaved changes: kept yours (:edit! takes the file)', vim.log.levels.WARN)
    end
  end
  return { reloaded = reloaded, kept = kept }
end

return M
