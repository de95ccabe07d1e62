-- RFC 6455 for a server: the HTTP upgrade (with the IDE token check) and the frame codec.
-- Pure Lua on strings; the caller owns the socket.
local bit = require('bit')
local band, bor, bxor, rshift = bit.band, bit.bor, bit.bxor, bit.rshift
local sha1 = require('cw_anchor.sha1')
local model = require('cw_anchor.model')

local M = {}

local GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
M.OP = { CONT = 0, TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10 }
M.MAX_MESSAGE = 64 * 1024 * 1024

--- Compare two strings in time that depends only on their lengths.
local function same_secret(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = bor(diff, bxor(a:byte(i), b:byte(i))) end
  return diff == 0
end

local function http(status, extra)
  return 'HTTP/1.1 ' .. status .. '\r\n' .. (extra or '') .. 'Content-Length: 0\r\nConnection: close\r\n\r\n'
end

--- buf: bytes received so far. Returns nil while the request head is incomplete; else
--- { ok, response, rest } where response is the bytes to send back and rest what followed the head.
function M.handshake(buf, token)
  local head_end = buf:find('\r\n\r\n', 1, true)
  if not head_end then
    if #buf > 16384 then return { ok = false, response = http('431 Request Header Fields Too Large') } end
    return nil
  end
  local head = buf:sub(1, head_end - 1)
  local rest = buf:sub(head_end + 4)
  local lines = vim.split(head, '\r\n', { plain = true })
  local method, target = lines[1]:match('^(%u+) (%S+) HTTP/1%.1$')
  local h = {}
  for i = 2, #lines do
    local k, v = lines[i]:match('^([^:]+):%s*(.-)%s*$')
    if k then h[k:lower()] = v end
  end
  if method ~= 'GET' or not target then return { ok = false, response = http('400 Bad Request') } end
  if not same_secret(h['x-claude-code-ide-authorization'], token) then
    return { ok = false, response = http('401 Unauthorized') }
  end
  local key = h['sec-websocket-key']
  if not (h.upgrade and h.upgrade:lower() == 'websocket' and key and h['sec-websocket-version'] == '13') then
    return { ok = false, response = http('400 Bad Request') }
  end
  local proto = ''
  for p in (h['sec-websocket-protocol'] or ''):gmatch('[^,%s]+') do
    if p == 'mcp' then proto = 'Sec-WebSocket-Protocol: mcp\r\n' end
  end
  local accept = sha1.base64(sha1.digest(key .. GUID))
  return {
    ok = true, rest = rest,
    response = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      .. 'Sec-WebSocket-Accept: ' .. accept .. '\r\n' .. proto .. '\r\n',
  }
end

local CHUNK = 4096

--- XOR payload with the 4-byte mask, CHUNK bytes at a time.
local function unmask(s, m1, m2, m3, m4)
  local mask = { [0] = m1, m2, m3, m4 }
  local out = {}
  local n = #s
  local t = {}
  for i = 1, n, CHUNK do
    local j = math.min(i + CHUNK - 1, n)
    local cnt = j - i + 1
    for k = 1, cnt do
      t[k] = bxor(s:byte(i + k - 1), mask[(i + k - 2) % 4])
    end
    for k = cnt + 1, #t do t[k] = nil end
    out[#out + 1] = string.char(unpack(t, 1, cnt))
  end
  return table.concat(out)
end

--- A decoder for one connection. decoder:feed(data) returns a list of events:
--- { kind = 'message', opcode, data } | { kind = 'ping', data } | { kind = 'pong' }
--- | { kind = 'close', code, reason } | { kind = 'error', code, reason }.
function M.decoder()
  local self = { buf = '', frag_op = nil, frags = nil, frag_len = 0 }
  function self.feed(_, data)
    local buf = self.buf .. data
    local pos = 1
    local events = {}
    while true do
      local avail = #buf - pos + 1
      if avail < 2 then break end
      local b1, b2 = buf:byte(pos, pos + 1)
      local fin = band(b1, 0x80) ~= 0
      local op = band(b1, 0x0f)
      local masked = band(b2, 0x80) ~= 0
      local len = band(b2, 0x7f)
      local hdr = 2
      if len == 126 then
        if avail < 4 then break end
        local x1, x2 = buf:byte(pos + 2, pos + 3)
        len, hdr = x1 * 256 + x2, 4
      elseif len == 127 then
        if avail < 10 then break end
        local x = { buf:byte(pos + 2, pos + 9) }
        len = 0
        for i = 1, 8 do len = len * 256 + x[i] end
        hdr = 10
      end
      if band(b1, 0x70) ~= 0 then
        events[#events + 1] = { kind = 'error', code = 1002, reason = 'reserved bits set' }
        break
      end
      if not masked then
        events[#events + 1] = { kind = 'error', code = 1002, reason = 'client frames must be masked' }
        break
      end
      if len > M.MAX_MESSAGE or self.frag_len + len > M.MAX_MESSAGE then
        events[#events + 1] = { kind = 'error', code = 1009, reason = 'message too big' }
        break
      end
      if avail < hdr + 4 + len then break end
      local m1, m2, m3, m4 = buf:byte(pos + hdr, pos + hdr + 3)
      local payload = (model.on and model.unmask or unmask)(buf:sub(pos + hdr + 4, pos + hdr + 3 + len), m1, m2, m3, m4)
      pos = pos + hdr + 4 + len
      if model.on and op == M.OP.TEXT and not model.valid_utf8(payload) then
        events[#events + 1] = { kind = 'error', code = 1007, reason = 'invalid UTF-8' }
        break
      end
      if op >= 8 then
        if not fin or len > 125 then
          events[#events + 1] = { kind = 'error', code = 1002, reason = 'bad control frame' }
          break
        end
        if op == M.OP.PING then
          events[#events + 1] = { kind = 'ping', data = payload }
        elseif op == M.OP.PONG then
          events[#events + 1] = { kind = 'pong' }
        elseif op == M.OP.CLOSE then
          local code = #payload >= 2 and (payload:byte(1) * 256 + payload:byte(2)) or 1005
          events[#events + 1] = { kind = 'close', code = code, reason = payload:sub(3) }
          break
        else
          events[#events + 1] = { kind = 'error', code = 1002, reason = 'unknown opcode' }
          break
        end
      elseif op == M.OP.CONT then
        if not self.frags then
          events[#events + 1] = { kind = 'error', code = 1002, reason = 'continuation without a start' }
          break
        end
        self.frags[#self.frags + 1] = payload
        self.frag_len = self.frag_len + len
        if fin then
          events[#events + 1] = { kind = 'message', opcode = self.frag_op, data = table.concat(self.frags) }
          self.frags, self.frag_op, self.frag_len = nil, nil, 0
        end
      elseif op == M.OP.TEXT or op == M.OP.BINARY then
        if self.frags then
          events[#events + 1] = { kind = 'error', code = 1002, reason = 'new message inside a fragmented one' }
          break
        end
        if fin then
          events[#events + 1] = { kind = 'message', opcode = op, data = payload }
        else
          self.frags, self.frag_op, self.frag_len = { payload }, op, len
        end
      else
        events[#events + 1] = { kind = 'error', code = 1002, reason = 'unknown opcode' }
        break
      end
    end
    self.buf = pos > 1 and buf:sub(pos) or buf -- no copy while a frame is still incomplete
    return events
  end
  return self
end

--- One unmasked server frame.
function M.frame(op, payload)
  local len = #payload
  local head
  if len < 126 then
    head = string.char(bor(0x80, op), len)
  elseif len < 65536 then
    head = string.char(bor(0x80, op), 126, rshift(len, 8), band(len, 0xff))
  else
    local hi, lo = math.floor(len / 4294967296), len % 4294967296
    head = string.char(bor(0x80, op), 127,
      band(rshift(hi, 24), 0xff), band(rshift(hi, 16), 0xff), band(rshift(hi, 8), 0xff), band(hi, 0xff),
      band(rshift(lo, 24), 0xff), band(rshift(lo, 16), 0xff), band(rshift(lo, 8), 0xff), band(lo, 0xff))
  end
  return head .. payload
end

function M.close_frame(code, reason)
  return M.frame(M.OP.CLOSE, string.char(rshift(code, 8), band(code, 0xff)) .. (reason or ''))
end

return M
