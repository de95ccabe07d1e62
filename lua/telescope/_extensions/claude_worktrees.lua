-- :Telescope claude_worktrees: pick a Claude instance, with its terminal tail and diff --stat as
-- preview. Telescope loads this file itself (load_extension / :Telescope); the plugin never does,
-- and the telescope.* modules are only required once the picker is opened.
local ext_config = {}

local function claude_worktrees(opts)
  opts = vim.tbl_extend('force', ext_config, opts or {})
  local picker = require('claude_worktrees.picker')
  local pickers = require('telescope.pickers')
  local finders = require('telescope.finders')
  local conf = require('telescope.config').values
  local previewers = require('telescope.previewers')
  local actions = require('telescope.actions')
  local action_state = require('telescope.actions.state')
  local entry_display = require('telescope.pickers.entry_display')

  local list, widths = picker.listing()
  if not list then return end
  local items = {}
  for k, w in ipairs(widths) do items[k] = k < #widths and { width = w } or { remaining = true } end
  local displayer = entry_display.create({ separator = '  ', items = items })

  local function make_display(ent)
    return displayer(picker.columns(ent.value))
  end

  -- Runs an action on the selection once the picker is closed (a confirm() or vim.ui.input
  -- prompt on top of telescope's floating windows misbehaves).
  local function on_selected(fn)
    return function(prompt_bufnr)
      local sel = action_state.get_selected_entry()
      actions.close(prompt_bufnr)
      if sel then fn(sel.value) end
    end
  end

  local kill = on_selected(function(e) picker.kill(e) end)
  local function new_worktree(prompt_bufnr)
    actions.close(prompt_bufnr)
    picker.new_worktree()
  end

  pickers.new(opts, {
    prompt_title = 'Claude instances',
    finder = finders.new_table({
      results = list,
      entry_maker = function(e)
        return {
          value = e,
          display = make_display,
          ordinal = table.concat({ e.name or '', e.branch or '', e.status or '', e.root or '' }, ' '),
        }
      end,
    }),
    sorter = conf.generic_sorter(opts),
    previewer = previewers.new_buffer_previewer({
      title = 'Claude instance',
      define_preview = function(self, entry)
        local buf = self.state.bufnr
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, picker.preview_lines(entry.value, { lines = opts.preview_lines }))
        -- Header line: the name in its colour.
        local name = entry.value.name or ''
        pcall(vim.api.nvim_buf_add_highlight, buf, -1, entry.value.hl, 0, 0, #name)
      end,
    }),
    attach_mappings = function(_, map)
      actions.select_default:replace(on_selected(function(e) picker.switch(e) end))
      for _, mode in ipairs({ 'i', 'n' }) do
        map(mode, '<C-x>', kill)
        map(mode, '<C-n>', new_worktree)
      end
      return true
    end,
  }):find()
end

return require('telescope').register_extension({
  -- telescope.setup({ extensions = { claude_worktrees = { preview_lines = 20, ... } } })
  setup = function(cfg) ext_config = cfg or {} end,
  exports = { claude_worktrees = claude_worktrees },
})
