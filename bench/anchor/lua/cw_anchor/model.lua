-- The work coder/claudecode.nvim does per call that a lean server would skip, so that the
-- anchor costs what the real plugin costs (what each item models, and the commits it was read
-- from: bench/anchor/README.md). CW_ANCHOR_MODEL=lean turns all of it off: the lean stand-in
-- of earlier runs. Written here from a description of that work, not from its code.
local bit = require('bit')
local bxor = bit.bxor

local M = {}

M.on = os.getenv('CW_ANCHOR_MODEL') ~= 'lean'

--- Unmask a client payload one byte at a time, one one-byte string per byte, then join them.
function M.unmask(s, m1, m2, m3, m4)
  local mask = { m1, m2, m3, m4 }
  local out = {}
  for i = 1, #s do
    out[i] = string.char(bxor(s:byte(i), mask[(i - 1) % 4 + 1]))
  end
  return table.concat(out)
end

--- Check a text payload's UTF-8 byte by byte in Lua (lead byte, then its continuation bytes).
function M.valid_utf8(s)
  local i, n = 1, #s
  while i <= n do
    local b = s:byte(i)
    local len = 1
    if b >= 0x80 then
      if b >= 0xF0 then len = 4 elseif b >= 0xE0 then len = 3 elseif b >= 0xC0 then len = 2 else return false end
      for k = 1, len - 1 do
        local c = s:byte(i + k)
        if not c or c < 0x80 or c >= 0xC0 then return false end
      end
    end
    i = i + len
  end
  return true
end

--- A debug log line at the default level (info): dropped, but its arguments, built by the
--- caller (vim.inspect of the tool's arguments and of its result), have been paid for.
function M.debug(...) return select('#', ...) end

--- Port choice as the real server makes it: every port of the configured range (10000-65535)
--- in a list, shuffled, then the first one that binds.
function M.bind_port(tcp)
  local ports = {}
  for p = 10000, 65535 do ports[#ports + 1] = p end
  for i = #ports, 2, -1 do
    local j = math.random(i)
    ports[i], ports[j] = ports[j], ports[i]
  end
  for _, p in ipairs(ports) do
    if tcp:bind('127.0.0.1', p) then return p end
  end
  error('cw_anchor: no free port')
end

return M
