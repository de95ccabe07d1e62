-- The selection: computed from the cursor / visual marks when asked, and tracked on
-- CursorMoved / CursorMovedI / ModeChanged with a debounce timer; a change is broadcast to
-- every client as `selection_changed`.
local api = vim.api
local uv = vim.uv or vim.loop

local M = {}
local state = { latest = nil, timer = nil, group = nil, sent_key = nil }

local function utf16(line, byte_col)
  if byte_col <= 0 then return 0 end
  if byte_col > #line then byte_col = #line end
  local ok, _, u16 = pcall(vim.str_utfindex, line, byte_col)
  return ok and u16 or byte_col
end

local function line_of(buf, row)
  return api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
end

--- The selection of the current window, or nil when it shows no file.
function M.current()
  local win = api.nvim_get_current_win()
  local buf = api.nvim_win_get_buf(win)
  if vim.bo[buf].buftype ~= '' then return nil end
  local name = api.nvim_buf_get_name(buf)
  if name == '' then return nil end
  local mode = api.nvim_get_mode().mode
  local cur = api.nvim_win_get_cursor(win)
  local sel_text, s_row, s_col, e_row, e_col = '', cur[1] - 1, cur[2], cur[1] - 1, cur[2]
  local v = mode:sub(1, 1)
  if v == 'v' or v == 'V' or v == '\22' then
    local vp = vim.fn.getpos('v')
    local a_row, a_col = vp[2] - 1, vp[3] - 1
    local b_row, b_col = cur[1] - 1, cur[2]
    if a_row > b_row or (a_row == b_row and a_col > b_col) then
      a_row, a_col, b_row, b_col = b_row, b_col, a_row, a_col
    end
    local last = line_of(buf, b_row)
    if v == 'V' then
      a_col, b_col = 0, #last
    else
      -- inclusive end: up to the end of the character under it
      local ch = vim.str_utf_end and vim.str_utf_end(last, b_col + 1) or 0
      b_col = math.min(#last, b_col + 1 + ch)
    end
    sel_text = table.concat(api.nvim_buf_get_text(buf, a_row, a_col, b_row, b_col, {}), '\n')
    s_row, s_col, e_row, e_col = a_row, a_col, b_row, b_col
  end
  local s_line = line_of(buf, s_row)
  local e_line = s_row == e_row and s_line or line_of(buf, e_row)
  local s_char, e_char = utf16(s_line, s_col), utf16(e_line, e_col)
  return {
    text = sel_text,
    filePath = name,
    fileUrl = vim.uri_from_fname(name),
    selection = {
      start = { line = s_row, character = s_char },
      ['end'] = { line = e_row, character = e_char },
      isEmpty = sel_text == '',
    },
  }
end

function M.latest()
  return state.latest or M.current()
end

local function key_of(sel)
  local s = sel.selection
  return table.concat({ sel.filePath, s.start.line, s.start.character, s['end'].line, s['end'].character, #sel.text }, ':')
end

local function update()
  local sel = M.current()
  if not sel then return end
  state.latest = sel
  local k = key_of(sel)
  if k == state.sent_key then return end
  state.sent_key = k
  local server = require('cw_anchor').server()
  if server then server:broadcast('selection_changed', sel) end
end

function M.start(debounce_ms)
  M.stop()
  state.timer = uv.new_timer()
  local fire = vim.schedule_wrap(update)
  local function moved()
    state.timer:stop()
    state.timer:start(debounce_ms, 0, fire)
  end
  state.group = api.nvim_create_augroup('cw_anchor_selection', { clear = true })
  api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'ModeChanged', 'BufEnter' }, { group = state.group, callback = moved })
  update()
end

function M.stop()
  if state.group then pcall(api.nvim_del_augroup_by_id, state.group) end
  if state.timer then
    state.timer:stop()
    if not state.timer:is_closing() then state.timer:close() end
  end
  state.group, state.timer, state.latest, state.sent_key = nil, nil, nil, nil
end

return M
