/**
 * The bench's anchor (bench/anchor, cw_anchor) decodes client frames two ways: the lean stand-in
 * (4 KiB chunks) and claudecode.nvim's cost model (one string per byte, a UTF-8 check). Both must
 * give the same bytes, frames cut anywhere across reads included, or the bench compares a broken
 * anchor. Runs the anchor's Lua in a headless Neovim >= 0.9 (`-l`).
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { nvimBins, versionOf, REPO } from '../helpers/nvim';
import { rmDir, tmpDir } from '../helpers/tmp';

const ANCHOR = path.join(REPO, 'bench/anchor');

/** Runs the checks; each line of output is `name<TAB>result`. */
const SCRIPT = `
vim.opt.rtp:prepend(${JSON.stringify(ANCHOR)})
local bit = require('bit')
local ws = require('cw_anchor.ws')
local model = require('cw_anchor.model')
local out = {}
local function say(k, v) out[#out + 1] = k .. '\\t' .. tostring(v) end
math.randomseed(12345)

-- A masked client text frame of payload s (the mask is random).
local function frame(s, op)
  local m = { math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255) }
  local len = #s
  local head
  if len < 126 then head = string.char(0x80 + (op or 1), 0x80 + len)
  elseif len < 65536 then head = string.char(0x80 + (op or 1), 0x80 + 126, math.floor(len / 256), len % 256)
  else
    head = string.char(0x80 + (op or 1), 0x80 + 127, 0, 0, 0, 0,
      math.floor(len / 16777216) % 256, math.floor(len / 65536) % 256, math.floor(len / 256) % 256, len % 256)
  end
  local t = {}
  for i = 1, len do t[i] = string.char(bit.bxor(s:byte(i), m[(i - 1) % 4 + 1])) end
  return head .. string.char(m[1], m[2], m[3], m[4]) .. table.concat(t)
end

-- Feeds data in pieces of the given sizes; returns the decoded events.
local function decode(data, pieces)
  local d = ws.decoder()
  local evs, pos = {}, 1
  for _, n in ipairs(pieces) do
    for _, e in ipairs(d:feed(data:sub(pos, pos + n - 1))) do evs[#evs + 1] = e end
    pos = pos + n
  end
  for _, e in ipairs(d:feed(data:sub(pos))) do evs[#evs + 1] = e end
  return evs
end

local texts = { '', 'x', 'abcd', string.rep('héllo wörld ✻ 😀 ', 300), string.rep('z', 70000) }
for _, mode in ipairs({ 'lean', 'model' }) do
  model.on = mode == 'model'
  local ok = true
  for i, s in ipairs(texts) do
    local data = frame(s) .. frame(s)
    for _, pieces in ipairs({ {}, { 1 }, { 3, 7 }, { #data - 1 }, { math.floor(#data / 3), 5000 } }) do
      local evs = decode(data, pieces)
      if #evs ~= 2 or evs[1].kind ~= 'message' or evs[1].data ~= s or evs[2].data ~= s then
        ok = false
        say(mode .. ' mismatch', i .. ' ' .. #evs .. ' ' .. tostring(evs[1] and evs[1].kind))
      end
    end
  end
  say(mode .. ' round trip', ok)
  local bad = decode(frame('ok \\255\\254 no'), {})
  say(mode .. ' invalid utf8', bad[1] and (bad[1].kind .. ':' .. tostring(bad[1].code or '')) or 'none')
  local trunc = decode(frame('cut \\226\\130'), {})
  say(mode .. ' truncated utf8', trunc[1] and (trunc[1].kind .. ':' .. tostring(trunc[1].code or '')) or 'none')
end
say('valid 2/3/4-byte', model.valid_utf8('é✻😀') and not model.valid_utf8('\\128') and not model.valid_utf8('\\240\\159\\152'))
io.stdout:write(table.concat(out, '\\n') .. '\\n')
`;

function run(bin: string): Map<string, string> {
  const dir = tmpDir('anchor-codec-');
  try {
    const file = path.join(dir, 'codec.lua');
    fs.writeFileSync(file, SCRIPT);
    const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, XDG_STATE_HOME: dir, XDG_CACHE_HOME: dir, XDG_RUNTIME_DIR: dir, TMPDIR: dir };
    const res = cp.spawnSync(bin, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-l', file], { encoding: 'utf8', env, timeout: 60_000 });
    if (res.status !== 0) throw new Error(`nvim -l failed (${res.status}): ${res.stderr}${res.stdout}`);
    return new Map(res.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
  } finally {
    rmDir(dir);
  }
}

// `nvim -l` needs 0.9; the bench runs the anchor on 0.10.
const bins = nvimBins().filter((b) => !/^v0\.[0-8]\./.test(versionOf(b)));

test('a Neovim >= 0.9 to run the anchor on is among the test Neovims (scripts/get-nvim.sh gets one)', () => {
  expect(bins.length).toBeGreaterThan(0);
});

if (bins.length > 0) describe.each(bins)('bench anchor frame decoding (%s)', (bin) => {
  let r: Map<string, string>;
  beforeAll(() => { r = run(bin); });

  test('both codecs give back every payload, however the frames are cut across reads', () => {
    expect(r.get('lean round trip')).toBe('true');
    expect(r.get('model round trip')).toBe('true');
  });

  test("the model checks UTF-8 as claudecode.nvim does (1007), the lean stand-in does not", () => {
    expect(r.get('model invalid utf8')).toBe('error:1007');
    expect(r.get('model truncated utf8')).toBe('error:1007');
    expect(r.get('lean invalid utf8')).toBe('message:');
    expect(r.get('valid 2/3/4-byte')).toBe('true');
  });
});
