-- What the user's own Claude Code configuration turns off that this plugin relies on: IDE diffs
-- (`diffTool: "terminal"`) and the status hooks (`disableAllHooks`, `allowManagedHooksOnly`, an
-- `allowedHttpHookUrls` that leaves out our URL). Read by :checkhealth and, at each launch, by
-- the Node side so the status says `unknown` and why instead of a status it cannot know.
local M = {}

--- `CLAUDE_CONFIG_DIR` as claude sees it: setup()'s env (given to claude) first, then Neovim's.
local function config_dir()
  local cw_ok, cw = pcall(require, 'claude_worktrees')
  local env = cw_ok and cw.config and cw.config.env or {}
  local d = (type(env.CLAUDE_CONFIG_DIR) == 'string' and env.CLAUDE_CONFIG_DIR ~= '' and env.CLAUDE_CONFIG_DIR)
    or (vim.env.CLAUDE_CONFIG_DIR ~= nil and vim.env.CLAUDE_CONFIG_DIR ~= '' and vim.env.CLAUDE_CONFIG_DIR)
  return d or nil
end

local function home() return vim.env.HOME or vim.loop.os_homedir() end

local function read_json(path)
  local st = vim.loop.fs_stat(path)
  if not st or st.type ~= 'file' or st.size > 8 * 1024 * 1024 then return nil end
  local ok, lines = pcall(vim.fn.readfile, path)
  if not ok then return nil end
  local okj, v = pcall(vim.json.decode, table.concat(lines, '\n'))
  return okj and type(v) == 'table' and v or nil
end

local function short(path) return vim.fn.fnamemodify(path, ':~') end

--- Where lock files live: `<config dir>/ide`, else `~/.claude/ide` (as the Node side writes).
function M.lock_dir()
  return (config_dir() or (home() .. '/.claude')) .. '/ide'
end

--- Claude's global config file (where /config keeps diffTool).
function M.global_config_path()
  local d = config_dir()
  return d and (d .. '/.claude.json') or (home() .. '/.claude.json')
end

--- The settings files claude reads for a worktree, most general first.
function M.settings_paths(root)
  local d = config_dir() or (home() .. '/.claude')
  local out = { '/etc/claude-code/managed-settings.json', d .. '/settings.json' }
  if type(root) == 'string' and root ~= '' then
    table.insert(out, root .. '/.claude/settings.json')
    table.insert(out, root .. '/.claude/settings.local.json')
  end
  return out
end

--- Why claude would show its edits in the terminal instead of a diff in Neovim, or nil.
function M.diffs_off()
  local p = M.global_config_path()
  local c = read_json(p)
  if c and c.diffTool == 'terminal' then
    return 'diffTool is "terminal" in ' .. short(p) .. ': claude shows edits in its terminal, not as diffs in Neovim'
  end
  return nil
end

-- A URL pattern of allowedHttpHookUrls ('*' matches anything) against url.
local function url_allowed(pattern, url)
  if type(pattern) ~= 'string' then return false end
  local lua_pat = '^' .. pattern:gsub('[%^%$%(%)%%%.%[%]%+%-%?]', '%%%0'):gsub('%*', '.*') .. '$'
  return url:match(lua_pat) ~= nil
end

--- Why our status hooks would not run for a claude in root, or nil. url: a hook URL of ours.
function M.hooks_blocked(root, url)
  url = url or 'http://127.0.0.1:1/hook'
  for _, p in ipairs(M.settings_paths(root)) do
    local s = read_json(p)
    if s then
      if s.disableAllHooks == true then return 'hooks are off (disableAllHooks in ' .. short(p) .. ')' end
      if s.allowManagedHooksOnly == true then
        return 'only managed hooks run (allowManagedHooksOnly in ' .. short(p) .. ')'
      end
      if type(s.allowedHttpHookUrls) == 'table' then
        local ok = false
        for _, pat in ipairs(s.allowedHttpHookUrls) do
          if url_allowed(pat, url) then ok = true end
        end
        if not ok then
          return 'allowedHttpHookUrls in ' .. short(p) .. ' leaves out the plugin\'s hook URL (add "http://127.0.0.1:*")'
        end
      end
    end
  end
  return nil
end

return M
