-- claude_worktrees: the instant, pure-Lua side. Nothing here may start the Node host: setup(),
-- the statusline and instances() only read state that the Node side pushed.
local M = {}

local defaults = {
  cmd = 'claude',            -- string or argv list; never run through a shell
  env = {},                  -- extra environment for every claude
  port_range = nil,          -- { lo, hi } inclusive; nil = OS-assigned
  terminal = {
    position = 'right',      -- 'right' | 'left' | 'bottom' | 'top' | 'tab'
    size = 0.4,              -- fraction of the editor (or columns/lines when > 1)
  },
  selection_debounce_ms = 50,
  log_level = 'info',
  extra_roots = {},          -- directories besides its worktree every claude's tools may touch
  max_instances = 10,        -- the next start past this is refused, naming the ones to end
  auto_resume = true,        -- :ClaudeCode resumes the worktree's last session (:ClaudeCode! starts fresh)
  auto_restart = true,       -- a crashed claude restarts (1, 2, 4 s), at most { max = 3, window = 60 } s
  node = nil,                -- node executable for the plugin's host; nil = `node` on PATH
  prestart = false,          -- start the host in the background: true (after setup), or event name(s)
}

M.config = vim.deepcopy(defaults)
-- State pushed by Node: { instances = {...}, current = root|nil }.
M.state = { instances = {} }
M._chan = nil
M._method = nil

local function merge(dst, src)
  for k, v in pairs(src or {}) do
    if type(v) == 'table' and type(dst[k]) == 'table' and not vim.tbl_islist(v) then
      merge(dst[k], v)
    else
      dst[k] = v
    end
  end
  return dst
end

-- A prestart entry: 'User VeryLazy' is the User event with that pattern; else an event name.
local function prestart_event(e)
  local pattern = e:match('^User%s+(%S+)$')
  return pattern and 'User' or e, pattern
end

local function validate(opts)
  if opts.cmd ~= nil and type(opts.cmd) ~= 'string' and type(opts.cmd) ~= 'table' then
    error('claude_worktrees: cmd must be a string or a list of strings')
  end
  if opts.env ~= nil and type(opts.env) ~= 'table' then
    error('claude_worktrees: env must be a table')
  end
  if opts.colors ~= nil and type(opts.colors) ~= 'table' then
    error("claude_worktrees: colors must be a table { [instance name] = '#rrggbb' }")
  end
  if opts.log_level ~= nil and not ({ debug = true, info = true, warn = true, error = true })[opts.log_level] then
    error("claude_worktrees: log_level must be 'debug', 'info', 'warn' or 'error'")
  end
  if opts.extra_roots ~= nil then
    local ok = type(opts.extra_roots) == 'table'
    for _, r in ipairs(ok and opts.extra_roots or {}) do
      if type(r) ~= 'string' or (r:sub(1, 1) ~= '/' and r:sub(1, 2) ~= '~/') then ok = false end
    end
    if not ok then error("claude_worktrees: extra_roots must be a list of absolute directory paths (or '~/...')") end
  end
  if opts.auto_restart ~= nil and opts.auto_restart ~= true and opts.auto_restart ~= false then
    local r = opts.auto_restart
    local ok = type(r) == 'table'
      and (r.max == nil or (type(r.max) == 'number' and r.max >= 1 and r.max == math.floor(r.max)))
      and (r.window == nil or (type(r.window) == 'number' and r.window > 0))
    if not ok then
      error('claude_worktrees: auto_restart must be true, false or { max = <count>, window = <seconds> }')
    end
  end
  if opts.node ~= nil and (type(opts.node) ~= 'string' or opts.node == '') then
    error('claude_worktrees: node must be the path (or name) of a node executable')
  end
  if opts.prestart ~= nil and type(opts.prestart) ~= 'boolean' then
    local p = opts.prestart
    local ok = type(p) == 'string' and p ~= '' or type(p) == 'table' and #p > 0
    local list = type(p) == 'table' and p or { p }
    for _, e in ipairs(list) do
      if type(e) ~= 'string' or e == '' then ok = false end
    end
    if not ok then error("claude_worktrees: prestart must be true, false, an event name or a list of them (e.g. 'VimEnter')") end
    for _, e in ipairs(list) do
      if vim.fn.exists('##' .. prestart_event(e)) ~= 1 then
        error(("claude_worktrees: prestart: %q is not an event (a User event is written 'User %s')"):format(e, e))
      end
    end
  end
  if opts.terminal ~= nil then
    local tm = opts.terminal
    local ok = type(tm) == 'table'
      and (tm.position == nil or ({ right = true, left = true, bottom = true, top = true, tab = true })[tm.position] == true)
      and (tm.size == nil or (type(tm.size) == 'number' and tm.size > 0))
    if not ok then
      error("claude_worktrees: terminal must be { position = 'right'|'left'|'bottom'|'top'|'tab', size = <fraction up to 1, or columns/lines> }")
    end
  end
  if opts.selection_debounce_ms ~= nil then
    local d = opts.selection_debounce_ms
    if type(d) ~= 'number' or d < 1 or d ~= math.floor(d) then
      error('claude_worktrees: selection_debounce_ms must be a whole number of milliseconds >= 1')
    end
  end
  if opts.worktree_dir ~= nil and (type(opts.worktree_dir) ~= 'string' or opts.worktree_dir == '') then
    error("claude_worktrees: worktree_dir must be a directory path (e.g. '../{repo}-{branch}')")
  end
  if opts.auto_resume ~= nil and type(opts.auto_resume) ~= 'boolean' then
    error('claude_worktrees: auto_resume must be true or false')
  end
  if opts.max_instances ~= nil then
    local m = opts.max_instances
    if type(m) ~= 'number' or m < 1 or m ~= math.floor(m) then
      error('claude_worktrees: max_instances must be a whole number >= 1')
    end
  end
  if opts.port_range ~= nil then
    local r = opts.port_range
    if type(r) ~= 'table' or type(r[1]) ~= 'number' or type(r[2]) ~= 'number' or r[1] > r[2] or r[1] < 1 or r[2] > 65535 then
      error('claude_worktrees: port_range must be { lo, hi } with 1 <= lo <= hi <= 65535')
    end
  end
end

--- Configure the plugin. Pure Lua: does not start the Node host.
function M.setup(opts)
  opts = opts or {}
  validate(opts)
  M.config = merge(vim.deepcopy(defaults), opts)
  M.config.extra_roots = vim.tbl_map(function(r)
    return r:sub(1, 2) == '~/' and (vim.loop.os_homedir() .. r:sub(2)) or r
  end, M.config.extra_roots)
  -- The shared Node host needs the `neovim` npm package; use the copy bundled with this
  -- plugin when the user has none configured.
  if vim.g.node_host_prog == nil and vim.fn.executable('neovim-node-host') == 0 then
    local cli = M.plugin_root() .. '/node_modules/neovim/bin/cli.js'
    if vim.loop.fs_stat(cli) then vim.g.node_host_prog = cli end
  end
  M._track()
  M._define_commands()
  M._arm_prestart()
  local ok, colors = pcall(require, 'claude_worktrees.colors')
  if ok and colors.setup then colors.setup() end
  return M
end

-- Autocmds that keep Node's copy of the editor state current (cheap: they only mark changes).
-- Idempotent: the augroups are cleared and made again.
function M._track()
  require('claude_worktrees.selection').setup(M.config.selection_debounce_ms)
  require('claude_worktrees.state').setup()
  require('claude_worktrees.editor').track_disk()
end

--- setup({ prestart = ... }): start the host in the background (after setup, or on the events),
--- so the first :ClaudeCode finds it up. An event that is never used costs nothing.
function M._arm_prestart()
  local group = vim.api.nvim_create_augroup('claude_worktrees_prestart', { clear = true })
  local p = M.config.prestart
  if not p then return end
  local function go() vim.schedule(function() require('claude_worktrees.host').prestart() end) end
  if p == true then
    -- After startup: starting a process while Neovim still starts gains nothing.
    if vim.v.vim_did_enter == 1 then go() else vim.api.nvim_create_autocmd('VimEnter', { group = group, once = true, callback = go }) end
    return
  end
  for _, e in ipairs(type(p) == 'table' and p or { p }) do
    local event, pattern = prestart_event(e)
    vim.api.nvim_create_autocmd(event, { group = group, once = true, callback = go, pattern = pattern })
  end
end

-- Commands that need what remote commands cannot have (`!`): defined here, forwarded to Node.
function M._define_commands()
  vim.api.nvim_create_user_command('ClaudeCodeWorktree', function(o)
    -- Remote functions are defined on first call (FuncUndefined): exists() cannot tell.
    local how, why = require('claude_worktrees.register').ensure()
    if not how then
      return require('claude_worktrees.util').notify(':ClaudeCodeWorktree: ' .. tostring(why), vim.log.levels.ERROR)
    end
    local ok, err = pcall(vim.fn.ClaudeWorktreesWorktree, o.fargs, o.bang, M.context())
    if not ok then
      local msg = tostring(err)
      if msg:find('E117') then
        msg = 'the Node side is not registered: run `npm run build` in the plugin directory (or :UpdateRemotePlugins) and restart Neovim'
      end
      require('claude_worktrees.util').notify(':ClaudeCodeWorktree: ' .. msg, vim.log.levels.ERROR)
    end
  end, {
    nargs = '+',
    bang = true,
    complete = function(lead, line) return M.complete_worktree(lead, line) end,
    desc = 'claude-worktrees: add {branch} [base] | remove [name] [--delete-branch]',
  })
end

--- Completion for :ClaudeCodeWorktree: the subcommand, then branches (add) or names (remove).
function M.complete_worktree(lead, line)
  local words = vim.split(line, '%s+', { trimempty = false })
  local out = {}
  local function add(list)
    for _, w in ipairs(list) do
      if w:sub(1, #lead) == lead then table.insert(out, w) end
    end
  end
  if #words <= 2 then
    add({ 'add', 'remove' })
  elseif words[2] == 'remove' then
    add(M.complete(lead))
    add({ '--delete-branch' })
  elseif words[2] == 'add' and #words <= 4 then
    local ok, branches = pcall(vim.fn.systemlist, { 'git', 'for-each-ref', '--format=%(refname:short)', 'refs/heads', 'refs/remotes' })
    if ok and vim.v.shell_error == 0 then add(branches) end
  end
  return out
end

function M.plugin_root()
  local src = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(src, ':p:h:h:h')
end

--- Watch the host's channel: when the host dies (kill -9, crash) its claudes would be orphaned
--- in our terminals and its lock files left. A cheap 500 ms check of the channel (no event
--- exists for a remote host's death on 0.7.2) ends them and makes the next command restart it.
function M._watch_host()
  if M._host_timer then return end
  M._host_timer = vim.loop.new_timer()
  M._host_timer:start(500, 500, vim.schedule_wrap(function()
    if not M._chan then return end
    local info = vim.api.nvim_get_chan_info(M._chan)
    if info and info.id then return end
    M._host_died()
  end))
end

--- The host's channel is gone: stop our claudes, remove the dead host's locks, re-arm the host.
function M._host_died()
  local dead = M._host_pid
  M._chan = nil
  local term = require('claude_worktrees.terminal')
  local ended = 0
  for key, t in pairs(term.terms) do
    if t.exited == nil and pcall(vim.fn.jobstop, t.job) then ended = ended + 1 end
    term.terms[key].exited = term.terms[key].exited or -1
  end
  for _, inst in ipairs(M.state.instances or {}) do
    local f = type(inst.lockPath) == 'string' and inst.lockPath or nil
    if f and dead then
      local ok, body = pcall(function() return vim.fn.json_decode(table.concat(vim.fn.readfile(f), '\n')) end)
      -- Only a lock the dead host wrote: a later one on the same port belongs to someone else.
      if ok and type(body) == 'table' and body.pid == dead then os.remove(f) end
    end
  end
  M.state = { instances = {} }
  -- remote#host caches the channel and the commands call it directly: reset both, on 0.7 and 0.10.
  require('claude_worktrees.register').rearm()
  require('claude_worktrees.util').notify(('the plugin host died (killed?); %d instance%s ended; the next :ClaudeCode restarts it')
    :format(ended, ended == 1 and '' or 's'), vim.log.levels.WARN)
end

--- Called by Node once it is up: where to send editor events.
function M._attach(chan, method, sync_method)
  M._chan = chan
  M._method = method
  M._sync_method = sync_method
  local okp, hpid = pcall(vim.fn.jobpid, chan)
  M._host_pid = okp and hpid or nil
  M._watch_host()
  M._track()
  return { config = M.config, log_dir = M.log_dir(), state_dir = M.state_dir(), pid = vim.fn.getpid(),
    servername = vim.v.servername,
    state = require('claude_worktrees.state').snapshot(),
    selection = select(2, pcall(require('claude_worktrees.selection').compute)) }
end

--- Another Neovim asked (discovery.focus) to show the instance of root here.
function M.focus_instance(root, from_pid)
  local shown = type(root) == 'string' and require('claude_worktrees.terminal').show(root)
  if shown then
    require('claude_worktrees.util').notify('shown ' .. vim.fn.fnamemodify(root, ':t') .. ' for Neovim ' .. tostring(from_pid))
  end
  return shown
end

--- Where the plugin keeps what must survive a restart (each worktree's session).
function M.state_dir()
  local ok, dir = pcall(vim.fn.stdpath, 'state')
  if not ok or type(dir) ~= 'string' then dir = vim.fn.stdpath('data') end
  return dir .. '/claude-worktrees'
end

function M.log_dir()
  local ok, dir = pcall(vim.fn.stdpath, 'log')
  if not ok or type(dir) ~= 'string' then dir = vim.fn.stdpath('cache') end
  return dir .. '/claude-worktrees'
end

--- Send an event to Node without waiting (no-op until Node attached).
function M._emit(payload)
  if not M._chan then return false end
  local ok = pcall(vim.rpcnotify, M._chan, M._method, payload)
  return ok
end

--- Mark the instance whose worktree holds the current buffer (or cwd) as current; its root.
function M._mark_current()
  local insts = M.state.instances or {}
  if #insts == 0 then return end
  local buf = vim.api.nvim_get_current_buf()
  local path = vim.b[buf].claude_worktrees_root or vim.api.nvim_buf_get_name(buf)
  if path == '' or vim.bo[buf].buftype ~= '' and not vim.b[buf].claude_worktrees_root then path = vim.fn.getcwd() end
  local best, best_len = nil, -1
  for _, i in ipairs(insts) do
    i.current = false
    local r = i.root
    if #r > best_len and require('claude_worktrees.util').inside(r, path) then best, best_len = i, #r end
  end
  if best then
    best.current = true
    return best.root
  end
end

-- User events for what changed between two pushed states (users hook their own tooling here).
local function fire_changes(old, new)
  local fire = require('claude_worktrees.util').fire
  local before = {}
  for _, i in ipairs(old or {}) do before[i.root] = i end
  for _, i in ipairs(new or {}) do
    local o = before[i.root]
    local data = { name = i.name, root = i.root, branch = i.branch, state = i.state, status = i.status }
    if not o then fire('ClaudeWorktreesInstanceStarted', data) end
    if i.connected and not (o and o.connected) then fire('ClaudeWorktreesInstanceConnected', data) end
    if i.state == 'exited' and not (o and o.state == 'exited') then
      data.exit_code = i.exitCode ~= vim.NIL and i.exitCode or nil
      fire('ClaudeWorktreesInstanceExited', data)
    end
    if o and i.status ~= nil and i.status ~= o.status then
      data.previous = o.status
      fire('ClaudeWorktreesStatusChanged', data)
    end
    before[i.root] = nil
  end
  for _, o in pairs(before) do
    fire('ClaudeWorktreesInstanceExited', { name = o.name, root = o.root, branch = o.branch, state = 'killed' })
  end
end

function M._set_state(state)
  local old = M.state.instances
  M.state = state
  M._current_root_cached = M._mark_current()
  M._invalidate_statusline()
  if not M._current_au then
    M._current_au = true
    local g = vim.api.nvim_create_augroup('claude_worktrees_current', { clear = true })
    vim.api.nvim_create_autocmd({ 'BufEnter', 'DirChanged' }, { group = g, callback = function()
      local root = M._mark_current()
      if root ~= M._current_root_cached then
        M._current_root_cached = root
        M._invalidate_statusline()
      end
    end })
  end
  local ok, err = pcall(fire_changes, old, state.instances)
  if not ok then require('claude_worktrees.util').notify('state events failed: ' .. tostring(err), vim.log.levels.WARN) end
  pcall(vim.cmd, 'redrawstatus!')
  return true
end

--- Pick an instance: telescope when installed (:Telescope claude_worktrees), else vim.ui.select.
function M.pick(opts)
  return require('claude_worktrees.picker').pick(opts)
end

--- Instances as Node last pushed them (no Node call).
function M.instances()
  local out = {}
  for i, inst in ipairs(M.state.instances or {}) do
    local c = {}
    -- msgpack nil arrives as vim.NIL (userdata): hand out plain nils.
    for k, v in pairs(inst) do if v ~= vim.NIL then c[k] = v end end
    out[i] = c
  end
  return out
end

--- Context of the current buffer, evaluated inside commands so Node needs no extra round trip.
function M.context()
  local buf = vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(buf)
  local bt = vim.bo[buf].buftype
  return {
    buf = buf,
    win = vim.api.nvim_get_current_win(),
    file = (bt == '' and name ~= '') and vim.fn.fnamemodify(name, ':p') or '',
    cwd = vim.fn.getcwd(),
    term_root = vim.b[buf].claude_worktrees_root or '',
    current_root = M._mark_current() or '',
    diff_id = vim.b[buf].claude_worktrees_diff or '',
  }
end

--- Instance names for command completion.
function M.complete(arglead)
  local out = {}
  for _, inst in ipairs(M.state.instances or {}) do
    if inst.name:sub(1, #arglead) == arglead then table.insert(out, inst.name) end
  end
  table.sort(out)
  return out
end

-- ---- status display --------------------------------------------------------------------

local STATUS_WORD = { busy = 'busy', waiting = 'waiting', idle = 'idle', exited = 'exited', unknown = 'starting',
  restarting = 'restarting', crashed = 'crashed' }
local STATUS_HL = {
  busy = 'ClaudeWorktreesBusy', waiting = 'ClaudeWorktreesWaiting', idle = 'ClaudeWorktreesIdle',
  exited = 'ClaudeWorktreesExited', unknown = 'ClaudeWorktreesUnknown',
  restarting = 'ClaudeWorktreesRestarting', crashed = 'ClaudeWorktreesCrashed',
}
M.STATUS_HL = STATUS_HL

local function status_of(i)
  if i.state == 'exited' then
    if i.recovery == 'restarting' or i.recovery == 'crashed' then return i.recovery end
    return 'exited'
  end
  local st = i.status
  if type(st) ~= 'string' or not STATUS_WORD[st] then return 'unknown' end
  return st
end
M.status_of = status_of

local function word(i)
  local st = status_of(i)
  local w = STATUS_WORD[st]
  if st == 'waiting' and type(i.waitingFor) == 'string' then w = 'waiting (' .. i.waitingFor .. ')' end
  if st == 'idle' and i.unseen == true then w = 'done' end
  if st == 'crashed' and type(i.exitCode) == 'number' then w = 'crashed (' .. i.exitCode .. ')' end
  -- Our hooks cannot run (the user's Claude settings): the status is not known, not "starting".
  if st == 'unknown' and type(i.statusReason) == 'string' then w = 'unknown' end
  return w
end
M.status_word = word

local function instance_hl(name)
  local ok, colors = pcall(require, 'claude_worktrees.colors')
  if ok and colors.hl_for then return colors.hl_for(name) end
  return 'Title'
end

local function esc(text)
  return (text:gsub('%%', '%%%%'))
end

-- The statusline string is rebuilt only when the pushed state or the current instance
-- changes: a redraw costs a table lookup.
local line_cache = {}
function M._invalidate_statusline()
  line_cache = {}
end

local function build(highlights)
  local insts = M.state.instances
  if not insts or #insts == 0 then return '' end
  local cur
  local counts = { waiting = 0, busy = 0, idle = 0 }
  for _, i in ipairs(insts) do
    if i.current then
      cur = i
    else
      local st = status_of(i)
      if counts[st] then counts[st] = counts[st] + 1 end
    end
  end
  local function hl(group, text)
    if not highlights then return text end
    return '%#' .. group .. '#' .. esc(text) .. '%*'
  end
  local parts = {}
  if cur then
    table.insert(parts, hl(instance_hl(cur.name), cur.name) .. ' ' .. hl(STATUS_HL[status_of(cur)], word(cur)))
  else
    table.insert(parts, 'claude')
  end
  local others = {}
  for _, st in ipairs({ 'waiting', 'busy', 'idle' }) do
    if counts[st] > 0 then table.insert(others, hl(STATUS_HL[st], counts[st] .. ' ' .. st)) end
  end
  if #others > 0 then table.insert(parts, '+' .. table.concat(others, ' ')) end
  return table.concat(parts, ' ')
end

--- Statusline: the current worktree's instance and its status, then the others counted by
--- status (waiting, busy, idle). Pure Lua from pushed state, cached between changes.
--- opts.highlights = false for components that colour themselves (lualine: see :help).
function M.statusline(opts)
  local highlights = not (opts and opts.highlights == false)
  local s = line_cache[highlights]
  if s == nil then
    s = build(highlights)
    line_cache[highlights] = s
  end
  return s
end

--- The highlight group of the current instance's status (lualine's `color` option).
function M.statusline_hl()
  for _, i in ipairs(M.state.instances or {}) do
    if i.current then return STATUS_HL[status_of(i)] end
  end
  return nil
end

--- The terminal window's statusline text for an instance (see terminal.decorate).
function M.terminal_status(name)
  for _, i in ipairs(M.state.instances or {}) do
    if i.name == name then
      local branch = type(i.branch) == 'string' and i.branch ~= '' and (' (' .. esc(i.branch) .. ')') or ''
      return ' claude: ' .. esc(name) .. branch .. ' %#' .. STATUS_HL[status_of(i)] .. '# ' .. word(i) .. ' '
    end
  end
  return ' claude: ' .. esc(name) .. ' '
end

--- Is an instance on screen: its terminal, or a file of its worktree, in a window of this tab?
function M._on_screen(root)
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local b = vim.api.nvim_win_get_buf(w)
    if vim.b[b].claude_worktrees_root == root then return true end
    local name = vim.api.nvim_buf_get_name(b)
    if vim.bo[b].buftype == '' and require('claude_worktrees.util').inside(root, name) then return true end
  end
  return false
end

--- Node: an instance started waiting, or finished a turn. Tell the user unless a finished turn
--- is already on screen. Returns whether a notification was raised.
function M._attention(a)
  local msg
  if a.status == 'waiting' then
    local why = a.waiting_for == 'permission' and 'permission to use a tool'
      or a.waiting_for == 'question' and 'an answer' or 'you'
    msg = a.name .. ' is waiting for ' .. why
  elseif a.status == 'idle' then
    if M._on_screen(a.root) then return false end
    msg = a.name .. ' finished its turn'
  else
    return false
  end
  require('claude_worktrees.util').fire('ClaudeWorktreesAttention', a)
  msg = msg .. ' (:ClaudeCodeNext)'
  -- claude's own last words, after the hint: a line too long is cut from its end.
  if a.status == 'idle' and type(a.last_message) == 'string' and a.last_message ~= '' then
    msg = msg .. ': ' .. a.last_message
  end
  require('claude_worktrees.util').notify(msg,
    a.status == 'waiting' and vim.log.levels.WARN or vim.log.levels.INFO)
  return true
end

return M
