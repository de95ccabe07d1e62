-- openDiff: a new tab with the file (left) and the proposal (right, editable), :diffthis on
-- both; the reply waits until the user accepts (:w in the proposal, or accept()), denies, or
-- the CLI closes the tab.
local api = vim.api

local M = {}
local pending = {} -- tab_name -> { reply, client, tab, buf_new, buf_old, wipe_old, eol, tab_name }

local function split(text)
  local lines = vim.split(text, '\n', { plain = true })
  local eol = false
  if #lines > 1 and lines[#lines] == '' then
    lines[#lines] = nil
    eol = true
  end
  return lines, eol
end

local function teardown(d)
  pcall(api.nvim_del_augroup_by_name, 'cw_anchor_diff_' .. d.n)
  if d.split_layout then
    -- The real plugin's cleanup: the proposal's window and buffer go, a window it split off for
    -- the original goes, the original buffer stays loaded.
    if api.nvim_win_is_valid(d.win_new) then pcall(api.nvim_win_close, d.win_new, true) end
    if d.made_win and api.nvim_win_is_valid(d.made_win) then pcall(api.nvim_win_close, d.made_win, false) end
    if api.nvim_win_is_valid(d.win_old) then pcall(api.nvim_win_call, d.win_old, function() vim.cmd('diffoff') end) end
    if api.nvim_buf_is_valid(d.buf_new) then pcall(api.nvim_buf_delete, d.buf_new, { force = true }) end
    return
  end
  if api.nvim_tabpage_is_valid(d.tab) then
    for _, w in ipairs(api.nvim_tabpage_list_wins(d.tab)) do
      pcall(api.nvim_win_call, w, function() vim.cmd('diffoff') end)
    end
    if #api.nvim_list_tabpages() > 1 then
      local nr = api.nvim_tabpage_get_number(d.tab)
      pcall(vim.cmd, nr .. 'tabclose!')
    end
    if d.prev_tab and api.nvim_tabpage_is_valid(d.prev_tab) then pcall(api.nvim_set_current_tabpage, d.prev_tab) end
  end
  if api.nvim_buf_is_valid(d.buf_new) then pcall(api.nvim_buf_delete, d.buf_new, { force = true }) end
  if d.wipe_old and api.nvim_buf_is_valid(d.buf_old) then pcall(api.nvim_buf_delete, d.buf_old, { force = true }) end
end

--- outcome: 'accept' | 'deny' | 'closed'. Answers the pending openDiff; false when none.
function M.finish(tab_name, outcome)
  local d = pending[tab_name]
  if not d then return false end
  pending[tab_name] = nil
  local result
  if outcome == 'accept' then
    local contents = table.concat(api.nvim_buf_get_lines(d.buf_new, 0, -1, false), '\n')
    if d.eol then contents = contents .. '\n' end
    result = require('cw_anchor.tools').text('FILE_SAVED', contents)
  else
    result = require('cw_anchor.tools').text('DIFF_REJECTED', tab_name)
  end
  d.reply(result)
  teardown(d)
  return true
end

function M.close_all()
  local n = 0
  local names = vim.tbl_keys(pending)
  for _, name in ipairs(names) do
    if M.finish(name, 'closed') then n = n + 1 end
  end
  return n
end

--- A client went away: its pending diffs close.
function M.drop_client(client)
  local names = {}
  for name, d in pairs(pending) do
    if d.client == client then names[#names + 1] = name end
  end
  for _, name in ipairs(names) do M.finish(name, 'closed') end
end

local counter = 0

--- The loaded buffer of path, if any.
local function loaded_buf(path)
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) and api.nvim_buf_get_name(b) == path then return b end
  end
  return nil
end

--- A window the diff can use: not floating, not a terminal or prompt.
local function main_window()
  for _, w in ipairs(api.nvim_list_wins()) do
    local bt = vim.bo[api.nvim_win_get_buf(w)].buftype
    if api.nvim_win_get_config(w).relative == '' and bt ~= 'terminal' and bt ~= 'prompt' then return w end
  end
  return api.nvim_get_current_win()
end

--- The real plugin's default layout (diff_opts.open_in_new_tab = false): in the current tab,
--- the file's loaded buffer reused (or :edit), the proposal split off to its right.
local function open_split(args, reply, client, tab_name)
  local old = args.old_file_path
  local nr = vim.fn.bufnr(old)
  local _ = nr ~= -1 and vim.bo[nr].modified -- its dirty check
  local existing, target = loaded_buf(old), nil
  if existing then
    for _, w in ipairs(api.nvim_list_wins()) do
      if api.nvim_win_get_buf(w) == existing then target = w break end
    end
  end
  target = target or main_window()

  local buf_new = api.nvim_create_buf(false, true)
  pcall(api.nvim_buf_set_name, buf_new, tab_name .. ' (proposed)')
  local lines, eol = split(args.new_file_contents)
  api.nvim_buf_set_lines(buf_new, 0, -1, false, lines)
  vim.bo[buf_new].buftype = 'acwrite'
  vim.bo[buf_new].modifiable = true

  api.nvim_set_current_win(target)
  local shown = api.nvim_win_get_buf(target)
  local shown_name = api.nvim_buf_get_name(shown)
  local win_old, made_win = target, nil
  if shown_name ~= old and not (shown_name == '' and not vim.bo[shown].modified) then
    vim.cmd('rightbelow vsplit')
    win_old = api.nvim_get_current_win()
    made_win = win_old
  end
  if existing then
    api.nvim_win_set_buf(win_old, existing)
  elseif vim.fn.filereadable(old) == 1 then
    api.nvim_set_current_win(win_old)
    vim.cmd('edit ' .. vim.fn.fnameescape(old))
  end
  local buf_old = api.nvim_win_get_buf(win_old)
  api.nvim_set_current_win(win_old)
  vim.cmd('diffthis')
  vim.cmd('rightbelow vsplit')
  local win_new = api.nvim_get_current_win()
  api.nvim_win_set_buf(win_new, buf_new)
  local ft = vim.filetype.match({ filename = old })
  if ft and ft ~= '' then vim.bo[buf_new].filetype = ft end
  vim.cmd('diffthis')
  vim.cmd('wincmd =')
  api.nvim_set_current_win(win_new)
  return {
    split_layout = true, reply = reply, client = client, buf_new = buf_new, buf_old = buf_old,
    win_new = win_new, win_old = win_old, made_win = made_win,
    eol = eol or args.new_file_contents == '', tab_name = tab_name,
  }
end

function M.open(args, reply, client)
  local tab_name = args.tab_name
  if pending[tab_name] then M.finish(tab_name, 'closed') end
  counter = counter + 1
  if require('cw_anchor.model').on then
    local d = open_split(args, reply, client, tab_name)
    d.n = counter
    return M._opened(d)
  end
  local old = args.old_file_path
  local was_loaded = loaded_buf(old) ~= nil

  local prev_tab = api.nvim_get_current_tabpage()
  vim.cmd('tabnew')
  local tab = api.nvim_get_current_tabpage()
  local scratch_left = api.nvim_get_current_buf()
  local buf_old
  if vim.fn.filereadable(old) == 1 then
    vim.cmd('edit ' .. vim.fn.fnameescape(old))
    buf_old = api.nvim_get_current_buf()
    if scratch_left ~= buf_old and api.nvim_buf_is_valid(scratch_left) then
      pcall(api.nvim_buf_delete, scratch_left, { force = true })
    end
  else
    buf_old = scratch_left
    vim.bo[buf_old].buftype = 'nofile'
  end
  local ft = vim.bo[buf_old].filetype
  vim.cmd('diffthis')

  vim.cmd('rightbelow vnew')
  local buf_new = api.nvim_get_current_buf()
  local lines, eol = split(args.new_file_contents)
  api.nvim_buf_set_lines(buf_new, 0, -1, false, lines)
  vim.bo[buf_new].buftype = 'acwrite'
  vim.bo[buf_new].bufhidden = 'wipe'
  vim.bo[buf_new].swapfile = false
  vim.bo[buf_new].modified = false
  if ft ~= '' then vim.bo[buf_new].filetype = ft end
  pcall(api.nvim_buf_set_name, buf_new, tab_name .. ' (proposed)')
  vim.cmd('diffthis')

  local d = {
    n = counter, prev_tab = prev_tab, reply = reply, client = client, tab = tab, buf_new = buf_new, buf_old = buf_old,
    wipe_old = not was_loaded and buf_old ~= scratch_left, eol = eol or args.new_file_contents == '', tab_name = tab_name,
  }
  if buf_old == scratch_left then d.wipe_old = true end
  M._opened(d)
end

--- Registered as pending, :w in the proposal accepts, and the bench's mark and event.
function M._opened(d)
  local tab_name, counter = d.tab_name, d.n
  local buf_new = d.buf_new
  pending[tab_name] = d
  local group = api.nvim_create_augroup('cw_anchor_diff_' .. counter, { clear = true })
  api.nvim_create_autocmd('BufWriteCmd', {
    group = group, buffer = buf_new,
    callback = function() M.finish(tab_name, 'accept') end,
  })
  _G.cw_anchor_opened = vim.loop.hrtime()
  api.nvim_exec_autocmds('User', { pattern = 'CwAnchorDiffOpened', modeline = false, data = { tab_name = tab_name } })
end

function M.pending() return pending end

return M
