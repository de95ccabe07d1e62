-- Data and actions of the instance picker, shared by the telescope extension and the
-- vim.ui.select fallback. Pure Lua: reads the state Node pushed, /proc and git; never calls Node
-- and never loads telescope.
local M = {}

M.icons = { busy = '●', waiting = '▲', idle = '○', exited = '✕', unknown = '·' }

local function colors() return require('claude_worktrees.colors') end

local function dw(s) return vim.fn.strdisplaywidth(s) end

local function pad(s, w)
  local n = w - dw(s)
  return n > 0 and s .. string.rep(' ', n) or s
end

local function now_ms()
  -- gettimeofday has sub-second precision where luv has it; os.time() is the portable fallback.
  local ok, s, us = pcall(vim.loop.gettimeofday)
  if ok and type(s) == 'number' then return s * 1000 + math.floor((us or 0) / 1000) end
  return os.time() * 1000
end

--- "42s", "5m", "2h", "3d" for a duration in milliseconds (nil when unknown).
function M.format_age(ms)
  if type(ms) ~= 'number' or ms < 0 then return nil end
  local s = math.floor(ms / 1000)
  if s < 60 then return s .. 's' end
  if s < 3600 then return math.floor(s / 60) .. 'm' end
  if s < 172800 then return math.floor(s / 3600) .. 'h' end
  return math.floor(s / 86400) .. 'd'
end

-- /proc files report size 0, so read until EOF instead of by fstat size.
local function read_file(path)
  local fd = vim.loop.fs_open(path, 'r', 438)
  if not fd then return nil end
  local parts, off = {}, 0
  while true do
    local chunk = vim.loop.fs_read(fd, 8192, off)
    if not chunk or chunk == '' then break end
    parts[#parts + 1] = chunk
    off = off + #chunk
    if off > 262144 then break end
  end
  vim.loop.fs_close(fd)
  return table.concat(parts)
end

local clk_tck = nil
-- USER_HZ: the unit of /proc/<pid>/stat times. 100 on every mainstream Linux; asked once.
local function ticks_per_second()
  if clk_tck then return clk_tck end
  clk_tck = 100
  if vim.fn.executable('getconf') == 1 then
    local ok, out = pcall(vim.fn.systemlist, { 'getconf', 'CLK_TCK' })
    local n = ok and vim.v.shell_error == 0 and tonumber(out[1] or '') or nil
    if n and n > 0 then clk_tck = n end
  end
  return clk_tck
end

--- CPU and memory of a process from /proc (Linux). Each field is nil when unknown (no /proc,
--- process gone or a zombie): { cpu_seconds, cpu_percent (of its lifetime), mem_mb (RSS) }.
function M.proc_stats(pid)
  local out = {}
  pid = tonumber(pid)
  if not pid or pid <= 0 then return out end
  local stat = read_file('/proc/' .. pid .. '/stat')
  if stat then
    -- comm (field 2) may hold spaces and ')': fields start after the last ')'.
    local rest = stat:match('.*%)%s+(.*)')
    local f = {}
    for w in (rest or ''):gmatch('%S+') do f[#f + 1] = w end
    -- f[1] is field 3 (state), so field n is f[n - 2].
    if f[1] and f[1] ~= 'Z' and f[1] ~= 'X' then
      local hz = ticks_per_second()
      local utime, stime, start = tonumber(f[12]), tonumber(f[13]), tonumber(f[20])
      if utime and stime then
        out.cpu_seconds = (utime + stime) / hz
        local up = tonumber(((read_file('/proc/uptime') or ''):match('^(%S+)')))
        local life = (up and start) and (up - start / hz) or nil
        if life and life > 0 then out.cpu_percent = out.cpu_seconds / life * 100 end
      end
      local status = read_file('/proc/' .. pid .. '/status')
      local kb = status and tonumber(status:match('VmRSS:%s*(%d+)'))
      if kb then out.mem_mb = kb / 1024 end
    end
  end
  return out
end

-- The statusline's words and rules (init.status_of / status_word) when init has them, so the
-- picker and the statusline say the same thing; the fallbacks mirror them.
local function shared(fn)
  local ok, cw = pcall(require, 'claude_worktrees')
  return ok and type(cw[fn]) == 'function' and cw[fn] or nil
end

local function status_of(i)
  local f = shared('status_of')
  if f then return f(i) end
  if i.state == 'exited' then return 'exited' end
  return (type(i.status) == 'string' and M.icons[i.status]) and i.status or 'unknown'
end

--- One table per instance, in Node's order: the instance fields plus what the pickers show.
function M.entries()
  local now = now_ms()
  local out = {}
  for _, i in ipairs(require('claude_worktrees').instances()) do
    local e = vim.deepcopy(i)
    e.branch = type(i.branch) == 'string' and i.branch or ''
    e.status = status_of(i)
    e.age = type(i.startedAt) == 'number' and M.format_age(now - i.startedAt) or nil
    -- pid is the terminal job (claude itself); claudePid is what claude reported, if any.
    local st = (i.state ~= 'exited') and M.proc_stats(i.pid or i.claudePid) or {}
    e.cpu_seconds, e.cpu_percent, e.mem_mb = st.cpu_seconds, st.cpu_percent, st.mem_mb
    e.hl = colors().hl_for(i.name)
    e.status_hl = colors().status_hl(e.status)
    out[#out + 1] = e
  end
  -- Then the instances of other Neovims on this machine, marked (switching asks that Neovim).
  for _, o in ipairs(require('claude_worktrees.discovery').others()) do
    local e = vim.deepcopy(o)
    e.status = status_of(o)
    e.hl = colors().hl_for(o.name)
    e.status_hl = colors().status_hl(e.status)
    out[#out + 1] = e
  end
  return out
end

local function fmt_cpu(e)
  if not e.cpu_seconds then return 'cpu -' end
  local s = e.cpu_seconds
  local t = s < 60 and string.format('%.1fs', s) or string.format('%dm%02ds', math.floor(s / 60), math.floor(s % 60))
  if e.cpu_percent then t = t .. string.format(' %d%%', math.floor(e.cpu_percent + 0.5)) end
  return 'cpu ' .. t
end

local function fmt_mem(e)
  if not e.mem_mb then return 'mem -' end
  return string.format(e.mem_mb < 10 and 'mem %.1fMB' or 'mem %.0fMB', e.mem_mb)
end

local WORDS = { busy = 'busy', waiting = 'waiting', idle = 'idle', exited = 'exited', unknown = 'starting' }

--- Icon and word: 'waiting (permission)' when it is known what claude waits for, 'done' for an
--- idle instance whose result was not seen yet.
function M.status_text(e)
  local f = shared('status_word')
  local w = f and f(e)
  if type(w) ~= 'string' then
    w = WORDS[e.status] or WORDS.unknown
    if e.status == 'waiting' and type(e.waitingFor) == 'string' then w = 'waiting (' .. e.waitingFor .. ')' end
    if e.status == 'idle' and e.unseen == true then w = 'done' end
  end
  return (M.icons[e.status] or M.icons.unknown) .. ' ' .. w
end

--- The columns of an entry as { text, hl } pairs (hl may be nil); format() and telescope share them.
function M.columns(e)
  return {
    { M.status_text(e), e.status_hl },
    { (e.name or '?') .. (e.other and (' [nvim ' .. tostring(e.neovim_pid) .. ']') or ''), e.hl },
    { e.branch ~= '' and e.branch or '-' },
    { e.port and (':' .. e.port) or '-' },
    { e.age or '-' },
    { fmt_cpu(e) },
    { fmt_mem(e) },
  }
end

--- Column widths that fit every entry (pass them to format() to align a list).
function M.widths(list)
  local w = {}
  for _, e in ipairs(list) do
    for k, c in ipairs(M.columns(e)) do w[k] = math.max(w[k] or 0, dw(c[1])) end
  end
  return w
end

--- One line: status, name, branch, port, age, cpu, mem (aligned when widths are given).
function M.format(e, widths)
  local cols = M.columns(e)
  local parts = {}
  for k, c in ipairs(cols) do
    parts[k] = (widths and k < #cols) and pad(c[1], widths[k] or 0) or c[1]
  end
  return table.concat(parts, '  ')
end

local function git(root, args)
  local argv = { 'git', '-C', root }
  vim.list_extend(argv, args)
  local ok, out = pcall(vim.fn.systemlist, argv)
  if not ok then return nil, tostring(out) end
  if vim.v.shell_error ~= 0 then return nil, out[1] or 'git failed' end
  return out
end

--- The base the worktree is compared with: { rev, label }, or nil and a reason.
--- Another branch: its merge-base with the main worktree's branch. The main branch itself (or no
--- main branch, e.g. a bare repo): HEAD, i.e. the uncommitted changes.
local function diff_base(root)
  local list, err = git(root, { 'worktree', 'list', '--porcelain' })
  if not list then return nil, err end
  local main_ref, main_head
  -- The first entry is the main worktree; entries are separated by blank lines.
  for _, l in ipairs(list) do
    if l == '' then break end
    main_ref = main_ref or l:match('^branch (.+)$')
    main_head = main_head or l:match('^HEAD (%x+)$')
  end
  local head_ref = (git(root, { 'symbolic-ref', '-q', 'HEAD' }) or {})[1]
  if main_ref and head_ref ~= main_ref then
    local mb = git(root, { 'merge-base', 'HEAD', main_ref })
    if mb and mb[1] then
      return { rev = mb[1], label = main_ref:gsub('^refs/heads/', '') .. ' (merge-base ' .. mb[1]:sub(1, 8) .. ')' }
    end
  elseif not main_ref and main_head then
    -- Main worktree on a detached HEAD: compare with that commit.
    local mb = git(root, { 'merge-base', 'HEAD', main_head })
    if mb and mb[1] then return { rev = mb[1], label = 'main worktree HEAD (merge-base ' .. mb[1]:sub(1, 8) .. ')' } end
  end
  return { rev = 'HEAD', label = 'HEAD (uncommitted)' }
end

M.max_diff_lines = 60

--- `git diff --stat` of the worktree (working tree) against its base, at most max_diff_lines.
function M.diff_stat(root)
  if type(root) ~= 'string' or root == '' or not vim.loop.fs_stat(root) then
    return { 'changes: (worktree not found)' }
  end
  local base, err = diff_base(root)
  if not base then return { 'changes: (not a git worktree: ' .. tostring(err) .. ')' } end
  local out, derr = git(root, { '-c', 'core.quotepath=off', 'diff', '--no-color', '--no-ext-diff', '--stat=100', base.rev })
  local lines = { 'changes against ' .. base.label .. ':' }
  if not out then
    lines[#lines + 1] = '  (git diff failed: ' .. tostring(derr) .. ')'
  elseif #out == 0 then
    lines[#lines + 1] = '  (none)'
  else
    local max = M.max_diff_lines - 1
    if #out > max then
      -- Keep the head and git's summary line ("N files changed, ...").
      local summary = out[#out]
      local kept = vim.list_slice(out, 1, max - 2)
      kept[#kept + 1] = string.format(' ... %d more', #out - 1 - (max - 2))
      kept[#kept + 1] = summary
      out = kept
    end
    vim.list_extend(lines, out)
  end
  return lines
end

--- The last n non-empty lines of an instance's terminal (fewer when it has fewer, {} when none).
function M.terminal_tail(root, n)
  n = type(n) == 'number' and n or 15
  local ok, term = pcall(require, 'claude_worktrees.terminal')
  local t = ok and term.terms and term.terms[root] or nil
  if not t or not t.buf or not vim.api.nvim_buf_is_valid(t.buf) then return nil end
  local out = {}
  local last = vim.api.nvim_buf_line_count(t.buf)
  -- Terminals pad with blank lines below the cursor: scan backwards in chunks, bounded.
  local stop = math.max(0, last - 2000)
  while last > stop and #out < n do
    local first = math.max(stop, last - 200)
    local chunk = vim.api.nvim_buf_get_lines(t.buf, first, last, false)
    for k = #chunk, 1, -1 do
      local l = chunk[k]:gsub('%s+$', '')
      if l ~= '' then
        table.insert(out, 1, l)
        if #out >= n then break end
      end
    end
    last = first
  end
  return out
end

--- Preview text: a header, the terminal's last lines, then the worktree's diff --stat.
--- opts.lines: how many terminal lines (default 15).
function M.preview_lines(e, opts)
  opts = opts or {}
  local lines = {
    string.format('%s  %s  %s', e.name or '?', e.branch ~= '' and e.branch or '-', M.status_text(e)),
    e.root or '',
    '',
  }
  if e.other then
    lines[3] = 'in another Neovim: pid ' .. tostring(e.neovim_pid) .. (e.servername and (', ' .. e.servername) or '')
    lines[#lines + 1] = ''
    vim.list_extend(lines, M.diff_stat(e.root))
    return lines
  end
  local tail = M.terminal_tail(e.root, type(opts.lines) == 'number' and opts.lines or 15)
  if not tail then
    lines[#lines + 1] = 'terminal: (none)'
  else
    lines[#lines + 1] = 'terminal:'
    if #tail == 0 then lines[#lines + 1] = '  (empty)' end
    vim.list_extend(lines, tail)
  end
  lines[#lines + 1] = ''
  vim.list_extend(lines, M.diff_stat(e.root))
  return lines
end

local function need(cmd)
  if vim.fn.exists(':' .. cmd) == 2 then return true end
  require('claude_worktrees.util').notify(':' .. cmd .. ' is not available (plugin not built? see :checkhealth claude_worktrees)', vim.log.levels.ERROR)
  return false
end

-- The commands take one `nargs=?` argument, passed to Node verbatim (no unescaping), so the name
-- goes in raw: fnameescape() would hand Node 'proj\#2' for an instance named 'proj#2'.
local function run(cmd, arg)
  if not need(cmd) then return false end
  if require('claude_worktrees.util').has_control(arg) then -- a newline would start a command of its own
    require('claude_worktrees.util').notify(':' .. cmd .. ': a name with a control character is refused: ' .. vim.inspect(arg), vim.log.levels.ERROR)
    return false
  end
  vim.cmd(cmd .. ' ' .. arg)
  return true
end

--- Show and focus the entry's terminal (:ClaudeCodeSwitch starts claude when it has none).
function M.switch(e)
  if not e or not e.name then return false end
  if e.other then return require('claude_worktrees.discovery').focus(e) end
  return run('ClaudeCodeSwitch', e.name)
end

--- End the entry's instance, after a confirmation unless opts.force.
function M.kill(e, opts)
  if not e or not e.name then return false end
  if e.other then
    require('claude_worktrees.util').notify(e.name .. ' runs in another Neovim (pid ' .. tostring(e.neovim_pid)
      .. '): end it there', vim.log.levels.WARN)
    return false
  end
  if not (opts and opts.force) then
    local answer = vim.fn.confirm('Kill claude instance ' .. e.name .. '?', '&Yes\n&No', 2)
    if answer ~= 1 then return false end
  end
  return run('ClaudeCodeKill', e.name)
end

--- Ask for a branch name, then create a worktree (and its instance) with :ClaudeCodeWorktree add.
function M.new_worktree()
  vim.ui.input({ prompt = 'New worktree branch: ' }, function(branch)
    branch = branch and vim.trim(branch) or ''
    if branch == '' then return end
    -- git refs cannot hold whitespace; refusing here keeps it one argument.
    if branch:find('%s') then
      require('claude_worktrees.util').notify('a branch name cannot contain spaces', vim.log.levels.ERROR)
      return
    end
    run('ClaudeCodeWorktree', 'add ' .. branch)
  end)
end

--- entries() and their column widths, for a picker to show; nil (the user told) when none.
function M.listing()
  local list = M.entries()
  if #list == 0 then
    require('claude_worktrees.util').notify('no instances', vim.log.levels.INFO)
    return nil
  end
  return list, M.widths(list)
end

--- The fallback picker: vim.ui.select over entries(); the choice is switched to.
function M.select()
  local list, widths = M.listing()
  if not list then return end
  vim.ui.select(list, {
    prompt = 'Claude instance',
    kind = 'claude_worktrees',
    format_item = function(e) return M.format(e, widths) end,
  }, function(choice)
    if choice then M.switch(choice) end
  end)
end

--- Telescope when it is installed (opts.backend = 'select' forces the fallback), else select().
function M.pick(opts)
  opts = opts or {}
  if opts.backend ~= 'select' then
    local ok, telescope = pcall(require, 'telescope')
    if ok and type(telescope) == 'table' and telescope.load_extension then
      local lok, ext = pcall(telescope.load_extension, 'claude_worktrees')
      if lok and type(ext) == 'table' and ext.claude_worktrees then return ext.claude_worktrees(opts) end
      require('claude_worktrees.util').notify('telescope extension failed to load: ' .. tostring(ext), vim.log.levels.WARN)
    end
  end
  return M.select()
end

return M
