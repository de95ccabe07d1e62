-- The instances of OTHER Neovims on this machine, from the lock files this plugin writes (they
-- carry instanceId, worktree, branch, name, status, neovimPid and servername besides what the
-- CLI reads). Pure Lua: the picker and :ClaudeCodeList call it without any Node round trip.
local M = {}

--- Where lock files live (setup()'s env may set CLAUDE_CONFIG_DIR, as claude sees it).
function M.lock_dir() return require('claude_worktrees.claude_config').lock_dir() end

local function alive(pid)
  if type(pid) ~= 'number' or pid <= 0 or pid ~= math.floor(pid) then return false end
  local ok, err = vim.loop.kill(pid, 0)
  if ok == 0 then return true end
  -- EPERM: it exists, as someone else's process.
  return type(err) == 'string' and err:find('EPERM', 1, true) ~= nil
end

local function str(v) return type(v) == 'string' and v or nil end

-- The lock's status label (as :ClaudeCodeList writes it) as instance fields the status words use.
local function status_fields(label)
  local st, why = label:match('^(%a+):(%a+)$')
  if st then return { status = st, waitingFor = why } end
  if label == 'done' then return { status = 'idle', unseen = true } end
  if label == 'starting' then return { status = 'unknown' } end
  return { status = label }
end

--- Live instances of other Neovims, sorted by name. A lock whose host or Neovim is dead is stale
--- and never shown; tokens are never read out of it.
function M.others()
  local out = {}
  local dir = M.lock_dir()
  local ok, names = pcall(vim.fn.readdir, dir)
  if not ok or type(names) ~= 'table' then return out end
  local me = vim.fn.getpid()
  for _, n in ipairs(names) do
    local port = n:match('^(%d+)%.lock$')
    if port then
      local okr, lines = pcall(vim.fn.readfile, dir .. '/' .. n, '', 100)
      local okj, b = false, nil
      if okr then okj, b = pcall(vim.json.decode, table.concat(lines, '\n')) end
      if okj and type(b) == 'table' and str(b.instanceId) and str(b.worktree) and type(b.neovimPid) == 'number'
          and b.neovimPid ~= me and alive(b.pid) and alive(b.neovimPid) then
        table.insert(out, vim.tbl_extend('force', {
          other = true,
          state = 'running',
          name = str(b.name) or vim.fn.fnamemodify(b.worktree, ':t'),
          root = b.worktree,
          branch = str(b.branch) or '',
          label = str(b.status) or 'starting',
          port = tonumber(port),
          neovim_pid = b.neovimPid,
          servername = str(b.servername),
          created_at = str(b.createdAt),
          session_id = str(b.sessionId),
        }, status_fields(str(b.status) or 'starting')))
      end
    end
  end
  table.sort(out, function(x, y) return x.name < y.name end)
  return out
end

--- Where an other Neovim's instance runs, and ask that Neovim (over its server socket, without
--- waiting on it: it may sit at a prompt) to show the instance. Returns whether it was asked.
function M.focus(e)
  local util = require('claude_worktrees.util')
  local where = ('%s runs in another Neovim (pid %d), worktree %s'):format(e.name, e.neovim_pid, e.root)
  if not e.servername or e.servername == '' then
    util.notify(where .. '; that Neovim has no server socket to ask')
    return false
  end
  local ok, ch = pcall(vim.fn.sockconnect, 'pipe', e.servername, { rpc = true })
  if not ok or type(ch) ~= 'number' or ch <= 0 then
    util.notify(where .. '; could not reach it at ' .. e.servername, vim.log.levels.WARN)
    return false
  end
  local sent = pcall(vim.rpcnotify, ch, 'nvim_exec_lua', "require('claude_worktrees').focus_instance(...)", { e.root, vim.fn.getpid() })
  -- A notification is written at once; closing right away could cut it off.
  vim.defer_fn(function() pcall(vim.fn.chanclose, ch) end, 1000)
  util.notify(where .. (sent and '; asked it to show the instance' or '; could not ask it'))
  return sent
end

return M
