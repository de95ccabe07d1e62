-- The IDE server: a loopback TCP listener (vim.uv), the WebSocket upgrade, and MCP JSON-RPC
-- dispatch. Socket callbacks run in libuv's fast context; each message is handled on the main
-- loop (vim.schedule), where the tools read Neovim's state directly.
local uv = vim.uv or vim.loop
local ws = require('cw_anchor.ws')
local model = require('cw_anchor.model')

local M = {}

local PROTOCOLS = { ['2025-11-25'] = true, ['2025-06-18'] = true, ['2025-03-26'] = true, ['2024-11-05'] = true }

--- Serialise one JSON-RPC envelope with a fixed member order (jsonrpc, id first).
local function envelope(id, key, value)
  local idj = id == nil and 'null' or vim.json.encode(id)
  return '{"jsonrpc":"2.0","id":' .. idj .. ',"' .. key .. '":' .. vim.json.encode(value) .. '}'
end

local Server = {}
Server.__index = Server

--- opts: { token, tools = module with list() and call(server, client, id, name, args) }
function M.new(opts)
  return setmetatable({ token = opts.token, tools = opts.tools, clients = {}, next_client = 0 }, Server)
end

function Server:listen()
  local tcp = assert(uv.new_tcp())
  if model.on then model.bind_port(tcp) else assert(tcp:bind('127.0.0.1', 0)) end
  assert(tcp:listen(64, function(err)
    if err then return end
    local sock = uv.new_tcp()
    if not sock or not tcp:accept(sock) then
      if sock then sock:close() end
      return
    end
    self:_accept(sock)
  end))
  self.tcp = tcp
  self.port = tcp:getsockname().port
  return self.port
end

function Server:_accept(sock)
  self.next_client = self.next_client + 1
  local c = { id = self.next_client, sock = sock, state = 'http', buf = '', decoder = ws.decoder() }
  self.clients[c.id] = c
  sock:nodelay(true)
  sock:read_start(function(err, data)
    if err or not data then return self:_drop(c) end
    if c.state == 'http' then
      c.buf = c.buf .. data
      local r = ws.handshake(c.buf, self.token)
      if not r then return end
      c.buf = nil
      sock:write(r.response)
      if not r.ok then return self:_drop(c, true) end
      c.state = 'open'
      if r.rest == '' then return end
      data = r.rest
    end
    if c.state ~= 'open' then return end
    for _, ev in ipairs(c.decoder:feed(data)) do
      if ev.kind == 'message' then
        local text = ev.data
        vim.schedule(function() self:_handle(c, text) end)
      elseif ev.kind == 'ping' then
        sock:write(ws.frame(ws.OP.PONG, ev.data))
      elseif ev.kind == 'close' then
        local code = (ev.code == 1005 or ev.code < 1000) and 1000 or ev.code
        sock:write(ws.close_frame(code))
        return self:_drop(c, true)
      elseif ev.kind == 'error' then
        sock:write(ws.close_frame(ev.code, ev.reason))
        return self:_drop(c, true)
      end
    end
  end)
end

function Server:_drop(c, after_write)
  if c.state == 'closed' then return end
  c.state = 'closed'
  self.clients[c.id] = nil
  local function close()
    if not c.sock:is_closing() then c.sock:close() end
  end
  if not (after_write and pcall(c.sock.shutdown, c.sock, close)) then close() end
  if self.on_drop then vim.schedule(function() self.on_drop(c) end) end
end

function Server:send(c, text)
  if c.state ~= 'open' then return false end
  c.sock:write(ws.frame(ws.OP.TEXT, text))
  return true
end

function Server:reply(c, id, result) return self:send(c, envelope(id, 'result', result)) end
function Server:error(c, id, code, message) return self:send(c, envelope(id, 'error', { code = code, message = message })) end

function Server:broadcast(method, params)
  local text = vim.json.encode({ jsonrpc = '2.0', method = method, params = params })
  for _, c in pairs(self.clients) do self:send(c, text) end
end

function Server:_handle(c, text)
  local ok, msg = pcall(vim.json.decode, text)
  if not ok or type(msg) ~= 'table' then return self:error(c, nil, -32700, 'Parse error') end
  local id = msg.id
  if id == vim.NIL then id = nil end
  local method = msg.method
  if type(method) ~= 'string' then
    if id ~= nil then self:error(c, id, -32600, 'Invalid Request') end
    return
  end
  if id == nil then return end -- notifications: initialized, ide_connected, cancelled
  local params = type(msg.params) == 'table' and msg.params or {}
  if method == 'initialize' then
    local v = params.protocolVersion
    return self:reply(c, id, {
      protocolVersion = PROTOCOLS[v] and v or '2024-11-05',
      capabilities = { tools = { listChanged = true }, logging = vim.empty_dict() },
      serverInfo = { name = 'cw-anchor', version = '0.1.0' },
    })
  elseif method == 'tools/list' then
    return self:reply(c, id, { tools = self.tools.list() })
  elseif method == 'prompts/list' then
    return self:reply(c, id, { prompts = {} })
  elseif method == 'resources/list' then
    return self:reply(c, id, { resources = {} })
  elseif method == 'ping' then
    return self:reply(c, id, vim.empty_dict())
  elseif method == 'tools/call' then
    local name = params.name
    local args = type(params.arguments) == 'table' and params.arguments or {}
    if model.on then model.debug('tools/call', name, vim.inspect(args)) end
    local okc, res = pcall(self.tools.call, self, c, id, name, args)
    if not okc then return self:error(c, id, -32603, tostring(res)) end
    if res == nil then return end -- deferred (openDiff): answered later
    if model.on then model.debug('tools/call result', name, vim.inspect(res)) end
    if res.rpc_error then return self:error(c, id, res.rpc_error, res.message) end
    return self:reply(c, id, res)
  end
  return self:error(c, id, -32601, 'Method not found: ' .. method)
end

function Server:close()
  for _, c in pairs(self.clients) do
    pcall(function() c.sock:write(ws.close_frame(1001, 'server stopping')) end)
    self:_drop(c, true)
  end
  if self.tcp and not self.tcp:is_closing() then self.tcp:close() end
  self.tcp = nil
end

return M
