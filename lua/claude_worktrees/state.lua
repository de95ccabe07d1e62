-- The editor state Node answers IDE tools from (issue 5): open file buffers and their
-- diagnostics, mirrored into Node by events. Autocmds only mark what changed (a table write);
-- one scheduled flush per main-loop turn recomputes those buffers and sends one batch. Typing
-- (TextChanged*) only changes line counts and diagnostic columns: those flush at most every
-- TEXT_MS, so a keystroke costs a table write. Node never asks Neovim for getOpenEditors or
-- getDiagnostics.
-- Text changes are tracked with nvim_buf_attach (on_lines/on_changedtick/on_reload), not
-- TextChanged alone: API edits (formatters, code actions), undo, :e! and edits of hidden
-- buffers fire no TextChanged before the next flush. sync() also compares changedticks.
local M = {}
local api = vim.api
local editor = require('claude_worktrees.editor')

local dirty = {}        -- bufnr -> true: recompute its record
local diag_dirty = {}   -- bufnr -> true: recompute its diagnostics
local armed = false
local text_timer = nil
local text_armed = false
local TEXT_MS = 100
local attached = {}     -- bufnr -> true while our nvim_buf_attach callbacks are live
local flushed_tick = {} -- bufnr -> b:changedtick of the last record sent
local sent_dirty = {}   -- bufnr -> 'modified' as last sent
local attach            -- defined below the callbacks it attaches
M.flushes = 0           -- batches sent (tests and bench read it)

local real_of = {}      -- bufnr -> { name, realpath } (one fs_realpath per rename, not per flush)

local function realpath(b, name)
  local c = real_of[b]
  if c and c[1] == name then return c[2] end
  local r = vim.loop.fs_realpath(name) or name
  real_of[b] = { name, r }
  return r
end
M.realpath = realpath -- selections are named by it too (worktree roots are real paths)

-- Every loaded buffer with a name: checkDocumentDirty answers for any of them (as
-- editor.doc_state does); getOpenEditors shows only the listed file buffers (`listed`).
local function record(b)
  if not api.nvim_buf_is_valid(b) then
    flushed_tick[b] = nil
    real_of[b] = nil
    return false
  end
  flushed_tick[b] = api.nvim_buf_get_changedtick(b)
  local name = api.nvim_buf_get_name(b)
  if name == '' or not api.nvim_buf_is_loaded(b) then return false end
  return { buf = b, path = name, real = realpath(b, name), dirty = vim.bo[b].modified, filetype = vim.bo[b].filetype,
    lines = api.nvim_buf_line_count(b), listed = editor.is_file_buf(b) and vim.bo[b].buflisted }
end

local function diags_of(b)
  if not api.nvim_buf_is_valid(b) or api.nvim_buf_get_name(b) == '' then return { buf = b, path = '', list = {} } end
  return { buf = b, path = api.nvim_buf_get_name(b), list = editor.buf_diagnostics(b) }
end

--- Everything, for Node's first view (returned from _attach, before any delta).
function M.snapshot()
  local bufs, diags = {}, {}
  for _, b in ipairs(api.nvim_list_bufs()) do
    local r = record(b)
    if r then table.insert(bufs, r) end
    if r then sent_dirty[b] = r.dirty else sent_dirty[b] = nil end
  end
  local seen = {}
  for _, d in ipairs(vim.diagnostic.get(nil)) do
    if not seen[d.bufnr] then
      seen[d.bufnr] = true
      table.insert(diags, diags_of(d.bufnr))
    end
  end
  dirty, diag_dirty = {}, {}
  for _, b in ipairs(api.nvim_list_bufs()) do attach(b) end
  return { full = true, cur = api.nvim_get_current_buf(), bufs = bufs, gone = {}, diags = diags }
end

--- One batch of what changed since the last one (nil when nothing did).
function M.delta()
  local bufs, gone, diags = {}, {}, {}
  for b in pairs(dirty) do
    local r = record(b)
    if r then table.insert(bufs, r) else table.insert(gone, b) end
    if r then sent_dirty[b] = r.dirty else sent_dirty[b] = nil end
    -- Diagnostic columns are UTF-16 of the buffer's current text: recompute them with it.
    diag_dirty[b] = true
  end
  for b in pairs(diag_dirty) do table.insert(diags, diags_of(b)) end
  dirty, diag_dirty = {}, {}
  return { full = false, cur = api.nvim_get_current_buf(), bufs = bufs, gone = gone, diags = diags }
end

function M.flush()
  armed = false
  if text_armed then
    text_armed = false
    text_timer:stop()
  end
  local cw = package.loaded['claude_worktrees']
  if not cw or not cw._chan then
    dirty, diag_dirty = {}, {}
    return
  end
  local ok, batch = pcall(M.delta)
  if not ok then
    require('claude_worktrees.util').notify('state update failed: ' .. tostring(batch), vim.log.levels.ERROR)
    return
  end
  M.flushes = M.flushes + 1
  cw._emit({ type = 'state', state = batch })
end

local function arm()
  if armed then return end
  armed = true
  vim.schedule(M.flush)
end

local function on_text_timer()
  vim.schedule(function()
    if text_armed then M.flush() end
  end)
end

-- Safe in the textlock context of on_lines: a table write and a timer start.
local mark_now -- defined below (mark_text needs it first)

local function mark_text(b)
  -- The first change after a write flips 'modified': checkDocumentDirty answers from this
  -- copy, so that flip goes out this turn, not after the typing window.
  if sent_dirty[b] == false then return mark_now(b) end
  dirty[b] = true
  if armed or text_armed then return end
  text_armed = true
  text_timer:start(TEXT_MS, 0, on_text_timer)
end

mark_now = function(b)
  dirty[b] = true
  if not armed then arm() end
end

local function on_lines(_, b)
  if not attached[b] then return true end -- detach (we dropped it)
  mark_text(b)
end

local function on_reload(_, b)
  mark_now(b)
end

local function on_detach(_, b)
  attached[b] = nil
  mark_now(b)
  -- Detached by an unload or a reload: attach again once the buffer holds text again.
  vim.schedule(function() attach(b) end)
end

attach = function(b)
  if attached[b] or not api.nvim_buf_is_valid(b) or not api.nvim_buf_is_loaded(b) then return end
  local ok, res = pcall(api.nvim_buf_attach, b, false,
    { on_lines = on_lines, on_changedtick = on_lines, on_reload = on_reload, on_detach = on_detach })
  if ok and res then attached[b] = true end
end

local function on_buf(args)
  mark_now(args.buf)
  attach(args.buf)
end

local function on_text(args)
  mark_text(args.buf)
end

local function on_cur()
  dirty[api.nvim_get_current_buf()] = true
  if not armed then arm() end
end

local function on_diag(args)
  diag_dirty[args.buf] = true
  if not armed then arm() end
end

--- Flush now and wait until Node has taken every batch sent so far (tests and bench only).
function M.sync()
  -- Belt: whatever changed without a callback (or before attach) is caught by its changedtick.
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) then
      attach(b)
      if flushed_tick[b] ~= api.nvim_buf_get_changedtick(b) then dirty[b] = true end
    end
  end
  pcall(require('claude_worktrees.selection').flush)
  M.flush()
  local cw = require('claude_worktrees')
  if not cw._chan then return false end
  return vim.rpcrequest(cw._chan, cw._sync_method)
end

function M.setup()
  local g = api.nvim_create_augroup('claude_worktrees_state', { clear = true })
  api.nvim_create_autocmd({
    'BufAdd', 'BufNew', 'BufReadPost', 'BufNewFile', 'BufFilePost', 'BufEnter', 'BufWinEnter', 'BufUnload',
    'BufDelete', 'BufWipeout', 'BufWritePost', 'FileType', 'TermOpen',
  }, { group = g, callback = on_buf })
  if not text_timer then text_timer = vim.loop.new_timer() end
  api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, { group = g, callback = on_text })
  -- Older Neovims lack some events: each one is optional.
  pcall(api.nvim_create_autocmd, 'BufModifiedSet', { group = g, callback = on_buf })
  pcall(api.nvim_create_autocmd, 'TextChangedP', { group = g, callback = on_text })
  api.nvim_create_autocmd('OptionSet', { group = g, pattern = { 'buflisted', 'buftype', 'modified', 'filetype' }, callback = on_cur })
  pcall(api.nvim_create_autocmd, 'DiagnosticChanged', { group = g, callback = on_diag })
end

return M
