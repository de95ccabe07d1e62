-- Startup cost: one user command. The module loads on first use.
if vim.g.loaded_cw_anchor then return end
vim.g.loaded_cw_anchor = 1

vim.api.nvim_create_user_command('CwAnchor', function(o)
  local a = require('cw_anchor')
  if o.args == 'stop' then return a.stop() end
  a.start()
end, { nargs = '?', complete = function() return { 'stop' } end, desc = 'Start the cw_anchor IDE server' })
