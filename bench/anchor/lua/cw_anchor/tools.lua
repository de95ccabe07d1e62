-- The MCP tools. The read-only ones ask Neovim at call time (buffers, vim.diagnostic, the
-- cursor), as an in-process Lua plugin naturally does.
local api = vim.api
local model = require('cw_anchor.model')

local M = {}

local function text(...)
  local content = {}
  for i, t in ipairs({ ... }) do content[i] = { type = 'text', text = t } end
  return { content = content }
end

local function json(v) return text(vim.json.encode(v)) end

local function obj(properties, required)
  local s = { type = 'object', properties = next(properties) and properties or vim.empty_dict() }
  if required then s.required = required end
  return s
end

local S = { type = 'string' }

local LIST = {
  { name = 'openDiff', description = 'Open a diff of a file against proposed contents and wait for the user',
    inputSchema = obj({ old_file_path = S, new_file_path = S, new_file_contents = S, tab_name = S },
      { 'old_file_path', 'new_file_path', 'new_file_contents', 'tab_name' }) },
  { name = 'getCurrentSelection', description = 'The selection in the current window', inputSchema = obj({}) },
  { name = 'getLatestSelection', description = 'The most recent selection in any file window', inputSchema = obj({}) },
  { name = 'getOpenEditors', description = 'The files open in Neovim', inputSchema = obj({}) },
  { name = 'getWorkspaceFolders', description = 'The workspace folders', inputSchema = obj({}) },
  { name = 'getDiagnostics', description = 'Diagnostics of one file (uri) or all', inputSchema = obj({ uri = S }) },
  { name = 'checkDocumentDirty', description = 'Whether a file has unsaved changes', inputSchema = obj({ filePath = S }, { 'filePath' }) },
  { name = 'closeAllDiffTabs', description = 'Close the diff tabs this server opened', inputSchema = obj({}) },
}

function M.list() return LIST end

local function buf_for_path(path)
  if type(path) ~= 'string' or path == '' then return nil end
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_get_name(b) == path then return b end
  end
  return nil
end

local function to_path(uri_or_path)
  if uri_or_path:sub(1, 7) == 'file://' then return vim.uri_to_fname(uri_or_path) end
  return uri_or_path
end

local SEVERITY = { 'Error', 'Warning', 'Info', 'Hint' }

local function diagnostics(bufnr)
  local all = vim.diagnostic.get(bufnr)
  local by_buf, order = {}, {}
  for _, d in ipairs(all) do
    local list = by_buf[d.bufnr]
    if not list then
      list = {}
      by_buf[d.bufnr] = list
      order[#order + 1] = d.bufnr
    end
    list[#list + 1] = {
      message = d.message,
      severity = SEVERITY[d.severity] or 'Error',
      range = {
        start = { line = d.lnum, character = d.col },
        ['end'] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
      },
      source = d.source,
      code = d.code ~= nil and tostring(d.code) or nil,
    }
  end
  table.sort(order)
  local out = {}
  for _, b in ipairs(order) do
    out[#out + 1] = { uri = vim.uri_from_bufnr(b), diagnostics = by_buf[b] }
  end
  return out
end

local function open_editors()
  local cur = api.nvim_get_current_buf()
  local tabs = {}
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) and vim.bo[b].buflisted and vim.bo[b].buftype == '' then
      local name = api.nvim_buf_get_name(b)
      if name ~= '' then
        tabs[#tabs + 1] = {
          uri = vim.uri_from_fname(name),
          isActive = b == cur,
          isPinned = false,
          isPreview = false,
          isDirty = vim.bo[b].modified,
          label = vim.fn.fnamemodify(name, ':t'),
          groupIndex = 0,
          viewColumn = 1,
          isGroupActive = true,
          fileName = name,
          languageId = vim.bo[b].filetype,
          lineCount = api.nvim_buf_line_count(b),
          isUntitled = false,
        }
      end
    end
  end
  return { tabs = tabs }
end

-- The same list as the real plugin builds it: buflisted() and options read one call each, the
-- URI glued from the path, the untitled test by patterns, the latest selection looked up once.
local function open_editors_model()
  local cur = api.nvim_get_current_buf()
  local _ = require('cw_anchor.selection').latest()
  local tabs = {}
  for _, b in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(b) and vim.fn.buflisted(b) == 1 and api.nvim_buf_get_option(b, 'buftype') == '' then
      local name = api.nvim_buf_get_name(b)
      if name ~= '' then
        local okl, label = pcall(vim.fn.fnamemodify, name, ':t')
        local okf, ft = pcall(api.nvim_buf_get_option, b, 'filetype')
        local okn, count = pcall(api.nvim_buf_line_count, b)
        local okm, dirty = pcall(api.nvim_buf_get_option, b, 'modified')
        tabs[#tabs + 1] = {
          uri = 'file://' .. name,
          isActive = b == cur,
          isPinned = false,
          isPreview = false,
          isDirty = okm and dirty or false,
          label = okl and label or name,
          groupIndex = 0,
          viewColumn = 1,
          isGroupActive = true,
          fileName = name,
          languageId = okf and ft or '',
          lineCount = okn and count or 0,
          isUntitled = name:match('^%s*$') ~= nil or name:match('^term://') ~= nil or name:match('^%[.*%]$') ~= nil,
        }
      end
    end
  end
  return { tabs = tabs }
end

local function workspace_folders()
  local root = vim.fn.getcwd()
  return {
    success = true,
    folders = { { name = vim.fn.fnamemodify(root, ':t'), uri = vim.uri_from_fname(root), path = root } },
    rootPath = root,
  }
end

function M.call(server, client, id, name, args)
  if name == 'getWorkspaceFolders' then
    return json(workspace_folders())
  elseif name == 'getOpenEditors' then
    return json(model.on and open_editors_model() or open_editors())
  elseif name == 'getDiagnostics' then
    local bufnr
    if type(args.uri) == 'string' and args.uri ~= '' then
      bufnr = buf_for_path(to_path(args.uri))
      if not bufnr then return json({}) end
    end
    return json(diagnostics(bufnr))
  elseif name == 'checkDocumentDirty' then
    local b
    if model.on then
      -- bufnr() with the path: it matches the name as a file pattern.
      b = type(args.filePath) == 'string' and vim.fn.bufnr(args.filePath) or -1
      if b == -1 then b = nil end
    else
      b = buf_for_path(args.filePath)
    end
    if not b then return json({ success = false, message = 'Document not open: ' .. tostring(args.filePath) }) end
    return json({ success = true, filePath = args.filePath, isDirty = vim.bo[b].modified, isUntitled = api.nvim_buf_get_name(b) == '' })
  elseif name == 'getCurrentSelection' then
    -- The real plugin answers from the selection it tracks; live when none is tracked yet.
    local sel = model.on and require('cw_anchor.selection').latest() or require('cw_anchor.selection').current()
    if not sel then return json({ success = false, message = 'No active editor found' }) end
    return json(vim.tbl_extend('force', { success = true }, sel))
  elseif name == 'getLatestSelection' then
    local sel = require('cw_anchor.selection').latest()
    if not sel then return json({ success = false, message = 'No selection available' }) end
    return json(vim.tbl_extend('force', { success = true }, sel))
  elseif name == 'openDiff' then
    for _, k in ipairs({ 'old_file_path', 'new_file_path', 'new_file_contents', 'tab_name' }) do
      if type(args[k]) ~= 'string' then return { rpc_error = -32602, message = 'missing ' .. k } end
    end
    require('cw_anchor.diff').open(args, function(result) server:reply(client, id, result) end, client)
    return nil
  elseif name == 'close_tab' then
    if type(args.tab_name) == 'string' then require('cw_anchor.diff').finish(args.tab_name, 'closed') end
    return text('TAB_CLOSED')
  elseif name == 'closeAllDiffTabs' then
    return text('CLOSED_' .. require('cw_anchor.diff').close_all() .. '_DIFF_TABS')
  end
  return { rpc_error = -32602, message = 'Unknown tool: ' .. tostring(name) }
end

M.text = text

return M
