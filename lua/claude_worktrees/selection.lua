-- Selection tracking (PROTOCOL.md selection_changed): no Node call per cursor move.
local M = {}
local uv = vim.loop
local timer = nil
local debounce = 50
M.last_key = nil -- what was sent last (to send only changes)

local cw = nil
local function attached()
  -- Nothing to do until Node is up (it attaches on the first command).
  cw = cw or package.loaded['claude_worktrees']
  return cw ~= nil and cw._chan ~= nil
end

local function utf16(line, byte)
  return require('claude_worktrees.editor').utf16(line, byte)
end

--- The selection of the current window, or nil for non-file buffers.
function M.compute()
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].buftype ~= '' or vim.b[buf].claude_worktrees_diff ~= nil then return nil end
  local name = vim.api.nvim_buf_get_name(buf)
  if name == '' then return nil end
  local mode = vim.api.nvim_get_mode().mode
  local cur = vim.api.nvim_win_get_cursor(0)
  local sel
  if mode == 'v' or mode == 'V' or mode == '\22' then
    local v = vim.fn.getpos('v')
    local sl, sc, el, ec = v[2], v[3] - 1, cur[1], cur[2]
    if sl > el or (sl == el and sc > ec) then sl, sc, el, ec = el, ec, sl, sc end
    local lines = vim.api.nvim_buf_get_lines(buf, sl - 1, el, false)
    local first, last = lines[1] or '', lines[#lines] or ''
    local s_char, e_char, text
    if mode == 'V' then
      s_char, e_char = 0, utf16(last, #last)
      text = table.concat(lines, '\n')
    else
      -- Charwise: the end is inclusive of the character under the cursor.
      local e_byte = ec + 1
      while e_byte < #last and bit.band(last:byte(e_byte + 1), 0xC0) == 0x80 do e_byte = e_byte + 1 end
      s_char, e_char = utf16(first, sc), utf16(last, e_byte)
      if #lines == 1 then
        text = first:sub(sc + 1, e_byte)
      else
        lines[1] = first:sub(sc + 1)
        lines[#lines] = last:sub(1, e_byte)
        text = table.concat(lines, '\n')
      end
    end
    sel = { text = text, start = { sl - 1, s_char }, finish = { el - 1, e_char }, empty = false }
  else
    local line = vim.api.nvim_buf_get_lines(buf, cur[1] - 1, cur[1], false)[1] or ''
    local c = utf16(line, cur[2])
    sel = { text = '', start = { cur[1] - 1, c }, finish = { cur[1] - 1, c }, empty = true }
  end
  -- By its real path: a file linked into a worktree from outside is that worktree's, a link in
  -- it that points out is not (Node routes by worktree roots, which are real paths).
  local path = require('claude_worktrees.state').realpath(buf, vim.fn.fnamemodify(name, ':p'))
  return {
    text = sel.text,
    filePath = path,
    fileUrl = vim.uri_from_fname(path),
    selection = {
      start = { line = sel.start[1], character = sel.start[2] },
      ['end'] = { line = sel.finish[1], character = sel.finish[2] },
      isEmpty = sel.empty,
    },
  }
end

local function key_of(s)
  local a, b = s.selection.start, s.selection['end']
  return table.concat({ s.filePath, a.line, a.character, b.line, b.character, s.text }, '\0')
end

local none_sent = false -- Node was told the current window holds no file selection

--- Send the selection if it changed since the last one sent; true when sent to claude.
--- Node keeps the current one too (getCurrentSelection answers from it, no round trip): a
--- window without a file is sent as "none", and coming back to the same selection only
--- updates Node (`quiet`), so claude hears no repeat.
function M.flush()
  local ok, s = pcall(M.compute)
  if not ok then return false end
  local emit = require('claude_worktrees')._emit
  if not s then
    if not none_sent then
      none_sent = true
      emit({ type = 'selection', none = true })
    end
    return false
  end
  local k = key_of(s)
  if k == M.last_key then
    if none_sent then
      none_sent = false
      emit({ type = 'selection', selection = s, quiet = true })
    end
    return false
  end
  none_sent = false
  M.last_key = k
  emit({ type = 'selection', selection = s })
  return true
end

-- Even an empty Lua callback on CursorMoved costs Neovim ~3 us per move, so nothing runs per
-- move: while there are instances, a timer looks once per window at a cheap fingerprint of
-- where the selection could have changed (buffer, cursor, mode, visual start, text), and only
-- when that moved computes the selection and sends it if it changed. At most one message per
-- window; none for moves that change nothing; no autocmd on the cursor at all.
local group = nil
local running = false
local last_probe = nil

local function probe()
  local api = vim.api
  local buf = api.nvim_get_current_buf()
  local cur = api.nvim_win_get_cursor(0)
  local mode = api.nvim_get_mode().mode
  local v = ''
  if mode == 'v' or mode == 'V' or mode == '\22' then
    local p = vim.fn.getpos('v')
    v = p[2] .. ',' .. p[3]
  end
  return table.concat({ buf, cur[1], cur[2], mode, v, api.nvim_buf_get_changedtick(buf) }, ':')
end

--- One look (the timer calls it once per window). Returns 'idle' | 'same' | 'sent' | 'unchanged'.
function M._tick()
  if not attached() or not cw.state.instances or #cw.state.instances == 0 then return 'idle' end
  local ok, p = pcall(probe)
  if not ok or p == last_probe then return 'same' end
  last_probe = p
  return M.flush() and 'sent' or 'unchanged'
end

local function on_tick()
  vim.schedule(M._tick)
end

local function start()
  if running or not timer or not attached() then return end
  running = true
  timer:start(debounce, debounce, on_tick)
end

local function stop()
  running = false
  if timer then timer:stop() end
end

function M.setup(ms)
  debounce = ms or 50
  if not timer then timer = uv.new_timer() end
  stop()
  last_probe = nil
  -- A new Node side knows nothing yet: the next look sends the selection again.
  M.last_key = nil
  none_sent = false
  group = vim.api.nvim_create_augroup('claude_worktrees_selection', { clear = true })
  -- No looking while Neovim is in the background (where the UI reports focus).
  vim.api.nvim_create_autocmd('FocusLost', { group = group, callback = stop })
  vim.api.nvim_create_autocmd('FocusGained', { group = group, callback = start })
  vim.api.nvim_create_autocmd('VimLeavePre', { group = group, callback = stop })
  start()
end

--- Is the timer running (tests, bench)?
function M.running()
  return running
end

return M
