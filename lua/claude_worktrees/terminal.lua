-- One terminal buffer per instance, keyed by worktree root. Node asks for open/show/hide/close;
-- job exits come back to Node as events.
local M = {}
M.terms = {}

local function cfg()
  return require('claude_worktrees').config.terminal or {}
end

local function visible_win(buf)
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_buf(w) == buf then return w end
  end
  return nil
end

local function open_window(buf)
  local c = cfg()
  local pos, size = c.position or 'right', c.size or 0.4
  if pos == 'tab' then
    vim.cmd('tab split')
  else
    local vertical = pos == 'right' or pos == 'left'
    local total = vertical and vim.o.columns or vim.o.lines
    local n = size <= 1 and math.floor(total * size) or math.floor(size)
    local cmd = ({ right = 'botright vsplit', left = 'topleft vsplit', bottom = 'botright split', top = 'topleft split' })[pos]
      or 'botright vsplit'
    vim.cmd(cmd)
    if n > 0 then vim.cmd((vertical and 'vertical ' or '') .. 'resize ' .. n) end
  end
  local win = vim.api.nvim_get_current_win()
  if buf then vim.api.nvim_win_set_buf(win, buf) end
  return win
end

--- Whether a terminal opened now may take the focus: the user is still in the window and buffer
--- the command was typed in (from_win, from_buf; none given: yes), or in this instance's old
--- terminal. A launch takes a moment; a user who went elsewhere meanwhile keeps their cursor.
local function may_focus(spec, old)
  local cur_buf = vim.api.nvim_get_current_buf()
  if old and old.buf == cur_buf then return true end
  if type(spec.from_win) ~= 'number' or spec.from_win == 0 then return true end
  return vim.api.nvim_get_current_win() == spec.from_win and cur_buf == spec.from_buf
end

--- Start claude for an instance in a new terminal buffer, shown per the layout.
--- spec: { key, name, argv, cwd, env, from_win?, from_buf? }
function M.open(spec)
  local old = M.terms[spec.key]
  local focus = may_focus(spec, old)
  M.terms[spec.key] = nil -- our own deletion of the old terminal: not the user closing it
  if old and vim.api.nvim_buf_is_valid(old.buf) then
    pcall(vim.api.nvim_buf_delete, old.buf, { force = true })
  end
  local back = vim.api.nvim_get_current_win()
  local buf = vim.api.nvim_create_buf(true, false)
  local win = open_window(buf)
  local key = spec.key
  local closed = false -- the user deleted the buffer while claude ran (its job then gets SIGHUP)
  local job = vim.fn.termopen(spec.argv, {
    cwd = spec.cwd,
    env = spec.env,
    on_exit = function(_, code)
      local t = M.terms[key]
      if t and t.buf == buf then t.exited = code end
      require('claude_worktrees')._emit({ type = 'exit', key = key, code = code, buf = buf, closed = closed })
    end,
  })
  if job <= 0 then
    pcall(vim.api.nvim_win_close, win, true)
    pcall(vim.api.nvim_buf_delete, buf, { force = true })
    return { ok = false, err = 'could not start ' .. tostring(spec.argv[1]) .. ' (termopen returned ' .. job .. ')' }
  end
  pcall(vim.api.nvim_buf_set_name, buf, 'claude://' .. spec.name)
  vim.b[buf].claude_worktrees_root = spec.cwd
  vim.b[buf].claude_worktrees_name = spec.name
  vim.bo[buf].bufhidden = 'hide'
  M.terms[key] = { buf = buf, job = job }
  -- :bd! / :bw! of the terminal (by hand or a buffer-closing plugin) ends claude on purpose: not
  -- a crash to restart. Our own deletions (M.close, a new terminal) forget the record first.
  vim.api.nvim_create_autocmd({ 'BufDelete', 'BufWipeout' }, {
    buffer = buf,
    callback = function()
      local t = M.terms[key]
      if not (t and t.buf == buf) then return end
      if not t.exited then
        closed = true
      else
        -- claude already dead (a crash): a restart may be due; closing its terminal calls it off.
        require('claude_worktrees')._emit({ type = 'closed', key = key, buf = buf })
      end
    end,
  })
  -- Looking at the terminal is looking at claude's finished turn.
  vim.api.nvim_create_autocmd('BufEnter', {
    buffer = buf,
    callback = function() require('claude_worktrees')._emit({ type = 'seen', key = key }) end,
  })
  -- ^Z in the terminal would stop claude (SIGTSTP via the pty): the instance would hang with its
  -- server up and nothing answering. Swallowed here, with a word why.
  vim.keymap.set('t', '<C-z>', function()
    require('claude_worktrees.util').notify('<C-z> would suspend claude in this terminal: not sent (<C-\\><C-n> leaves terminal mode)')
  end, { buffer = buf, desc = 'claude-worktrees: keep claude from being suspended' })
  M.decorate(win, spec.name)
  if focus then
    vim.cmd('startinsert')
  elseif vim.api.nvim_win_is_valid(back) then
    vim.api.nvim_set_current_win(back)
  end
  local pid = vim.fn.jobpid(job)
  return { ok = true, buf = buf, job = job, pid = pid }
end

--- Show (and focus) the terminal of an instance; returns false when it has none.
function M.show(key)
  local t = M.terms[key]
  if not t or not vim.api.nvim_buf_is_valid(t.buf) then return false end
  local w = visible_win(t.buf)
  if w then
    vim.api.nvim_set_current_win(w)
  else
    w = open_window(t.buf)
  end
  M.decorate(w, vim.b[t.buf].claude_worktrees_name or key)
  if not t.exited then vim.cmd('startinsert') end
  return true
end

--- The terminal window's own statusline in the instance's colour, so two claudes are never
--- confused at a glance (a window-local option: the user's other windows keep theirs).
function M.decorate(win, name)
  if not win or not vim.api.nvim_win_is_valid(win) then return end
  local ok, colors = pcall(require, 'claude_worktrees.colors')
  local hl = ok and colors.hl_for and colors.hl_for(name) or 'StatusLine'
  local expr = "%{%v:lua.require'claude_worktrees'.terminal_status(" .. vim.fn.string(name) .. ")%}"
  if vim.fn.has('nvim-0.8') == 0 then
    -- No %{% %} before 0.8: a fixed label.
    expr = ' claude: ' .. name:gsub('%%', '%%%%') .. ' '
  end
  pcall(function() vim.wo[win].statusline = '%#' .. hl .. '#' .. expr .. '%*' end)
end

--- Hide when visible in this tab, else show. Returns 'hidden' | 'shown' | 'none'.
function M.toggle(key)
  local t = M.terms[key]
  if not t or not vim.api.nvim_buf_is_valid(t.buf) then return 'none' end
  local w = visible_win(t.buf)
  if w and #vim.api.nvim_tabpage_list_wins(0) > 1 then
    vim.api.nvim_win_close(w, false)
    return 'hidden'
  end
  M.show(key)
  return 'shown'
end

--- Stop the job and wipe the buffer.
function M.close(key)
  local t = M.terms[key]
  M.terms[key] = nil
  if not t then return false end
  pcall(vim.fn.jobstop, t.job)
  if vim.api.nvim_buf_is_valid(t.buf) then pcall(vim.api.nvim_buf_delete, t.buf, { force = true }) end
  return true
end

--- Last lines of an instance's terminal (picker previews, tests).
function M.lines(key, n)
  local t = M.terms[key]
  if not t or not vim.api.nvim_buf_is_valid(t.buf) then return {} end
  local count = vim.api.nvim_buf_line_count(t.buf)
  return vim.api.nvim_buf_get_lines(t.buf, math.max(0, count - (n or 20)), -1, false)
end

return M
