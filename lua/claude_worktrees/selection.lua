-- Selection tracking (PROTOCOL.md selection_changed): no Node call per cursor move.
local M = {}
local uv = vim.loop
local timer = nil
local debounce = 50
M.last = nil     -- last selection sent (table)
M.last_key = nil

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
  local path = vim.fn.fnamemodify(name, ':p')
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

--- Send the selection if it changed since the last one sent; true when sent.
function M.flush()
  local ok, s = pcall(M.compute)
  if not ok or not s then return false end
  local k = key_of(s)
  if k == M.last_key then return false end
  M.last_key = k
  M.last = s
  require('claude_worktrees')._emit({ type = 'selection', selection = s })
  return true
end

-- Even an empty Lua callback on CursorMoved costs Neovim ~3 us per move. So the cursor is
-- watched only while idle: the first move deletes that autocmd (its callback returns true)
-- and starts a sampler that looks at the selection once per window, sending it only when it
-- changed. After two quiet windows the sampler stops and the autocmd comes back. Moves in a
-- burst cost nothing; at most one message per window; none for moves that change nothing.
local group = nil
local sampling = false
local quiet = 0
local QUIET_WINDOWS = 2
local watch_moves

local function sample()
  if not sampling then return end
  local sent = M.flush()
  quiet = sent and 0 or quiet + 1
  if quiet >= QUIET_WINDOWS then
    sampling = false
    timer:stop()
    watch_moves()
  end
end

local function on_tick()
  vim.schedule(sample)
end

--- Start sampling (idempotent). Returns true so a CursorMoved autocmd calling it is deleted.
local function wake()
  if sampling then return true end
  if not attached() then return false end
  sampling = true
  quiet = 0
  timer:start(debounce, debounce, on_tick)
  return true
end
M.wake = wake

watch_moves = function()
  if group then vim.api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI' }, { group = group, callback = wake }) end
end

function M.setup(ms)
  debounce = ms or 50
  if not timer then timer = uv.new_timer() end
  timer:stop()
  sampling = false
  group = vim.api.nvim_create_augroup('claude_worktrees_selection', { clear = true })
  watch_moves()
  -- Rare events: they wake the sampler but are never deleted.
  vim.api.nvim_create_autocmd('BufEnter', { group = group, callback = function() wake() end })
  pcall(vim.api.nvim_create_autocmd, 'ModeChanged', { group = group, callback = function() wake() end })
end

--- Is the sampler running (tests)?
function M.sampling()
  return sampling
end

--- Stop sampling now and watch for the next move (bench: the cost of a first move).
function M.idle()
  sampling = false
  if timer then timer:stop() end
  if group then
    pcall(vim.api.nvim_clear_autocmds, { group = group, event = { 'CursorMoved', 'CursorMovedI' } })
    watch_moves()
  end
end

return M
