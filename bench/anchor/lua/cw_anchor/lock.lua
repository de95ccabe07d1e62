-- The discovery lock file: <config>/ide/<port>.lock, written atomically (O_EXCL temp file,
-- 0600, then rename) in a 0700 directory.
local uv = vim.uv or vim.loop

local M = {}

function M.dir()
  local base = os.getenv('CLAUDE_CONFIG_DIR')
  if not base or base == '' then base = (os.getenv('HOME') or uv.os_homedir()) .. '/.claude' end
  return base .. '/ide'
end

local function mkdir_p(path)
  local parts = {}
  for p in path:gmatch('[^/]+') do
    parts[#parts + 1] = p
    local sub = '/' .. table.concat(parts, '/')
    if not uv.fs_stat(sub) then uv.fs_mkdir(sub, 448) end -- 0700
  end
end

--- Returns the lock file's path.
function M.write(port, body)
  local dir = M.dir()
  mkdir_p(dir)
  uv.fs_chmod(dir, 448)
  local final = dir .. '/' .. port .. '.lock'
  local tmp = string.format('%s/.%d.lock.%d.%s.tmp', dir, port, vim.fn.getpid(), uv.hrtime())
  local fd = assert(uv.fs_open(tmp, 'wx', 384)) -- O_CREAT|O_EXCL|O_WRONLY, 0600
  local data = vim.json.encode(body)
  local ok, err = pcall(function()
    assert(uv.fs_write(fd, data, 0))
    -- The real plugin renames without an fsync; the lean stand-in syncs.
    if not require('cw_anchor.model').on then assert(uv.fs_fsync(fd)) end
  end)
  uv.fs_close(fd)
  if not ok then
    uv.fs_unlink(tmp)
    error(err)
  end
  assert(uv.fs_rename(tmp, final))
  return final
end

function M.remove(path)
  if path then pcall(uv.fs_unlink, path) end
end

return M
