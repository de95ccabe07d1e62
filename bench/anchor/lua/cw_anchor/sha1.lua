-- SHA-1 (FIPS 180-4) and base64 in plain LuaJIT (the `bit` library): all the WebSocket
-- handshake needs for Sec-WebSocket-Accept. Written from the specifications; no deps.
local bit = require('bit')
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local lshift, rshift, rol, tobit = bit.lshift, bit.rshift, bit.rol, bit.tobit

local M = {}

local function be32(x)
  return string.char(band(rshift(x, 24), 0xff), band(rshift(x, 16), 0xff), band(rshift(x, 8), 0xff), band(x, 0xff))
end

--- The 20-byte binary digest of msg.
function M.digest(msg)
  local h0, h1, h2, h3, h4 = tobit(0x67452301), tobit(0xEFCDAB89), tobit(0x98BADCFE), tobit(0x10325476), tobit(0xC3D2E1F0)
  local len = #msg
  local bits = len * 8
  -- 0x80, zeros up to 56 mod 64, then the bit length as 64-bit big-endian.
  msg = msg .. '\128' .. string.rep('\0', (55 - len) % 64)
    .. be32(tobit(math.floor(bits / 4294967296))) .. be32(tobit(bits % 4294967296))
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 79 do
      w[i] = rol(bxor(w[i - 3], w[i - 8], w[i - 14], w[i - 16]), 1)
    end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then
        f, k = bor(band(b, c), band(bnot(b), d)), 0x5A827999
      elseif i < 40 then
        f, k = bxor(b, c, d), 0x6ED9EBA1
      elseif i < 60 then
        f, k = bor(band(b, c), band(b, d), band(c, d)), 0x8F1BBCDC
      else
        f, k = bxor(b, c, d), 0xCA62C1D6
      end
      local t = tobit(rol(a, 5) + f + e + k + w[i])
      e, d, c, b, a = d, c, rol(b, 30), a, t
    end
    h0, h1, h2, h3, h4 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c), tobit(h3 + d), tobit(h4 + e)
  end
  return be32(h0) .. be32(h1) .. be32(h2) .. be32(h3) .. be32(h4)
end

function M.hex(msg)
  return (M.digest(msg):gsub('.', function(ch) return string.format('%02x', ch:byte()) end))
end

local ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = lshift(a, 16) + lshift(b or 0, 8) + (c or 0)
    local q1, q2 = band(rshift(n, 18), 63) + 1, band(rshift(n, 12), 63) + 1
    local q3, q4 = band(rshift(n, 6), 63) + 1, band(n, 63) + 1
    out[#out + 1] = ALPHABET:sub(q1, q1) .. ALPHABET:sub(q2, q2)
      .. (b and ALPHABET:sub(q3, q3) or '=') .. (c and ALPHABET:sub(q4, q4) or '=')
  end
  return table.concat(out)
end

return M
