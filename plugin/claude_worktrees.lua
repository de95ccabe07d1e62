-- Loaded at startup: costs one autocmd. The Node side registers itself once Neovim is up (no
-- :UpdateRemotePlugins needed); nothing of it starts before the first :ClaudeCode* command.
if vim.g.loaded_claude_worktrees then return end
vim.g.loaded_claude_worktrees = 1

local function register()
  local ok, how, why = pcall(function() return require('claude_worktrees.register').ensure() end)
  if not ok or not how then
    vim.notify('claude-worktrees: ' .. tostring(ok and why or how), vim.log.levels.WARN)
  end
end

-- Lazy-loaded after startup (lazy.nvim `cmd`/`keys`): register now. Else after the manifest
-- (plugin/rplugin.vim) had its say, which can come after this file.
if vim.v.vim_did_enter == 1 then
  register()
else
  vim.api.nvim_create_autocmd('VimEnter', { once = true, callback = register })
end
