" Completion of instance names for the :ClaudeCode* commands: reads the state the Node side
" pushed, so completing never starts or waits for the Node host.
function! claude_worktrees#complete(arglead, cmdline, cursorpos) abort
  return luaeval('require("claude_worktrees").complete(_A)', a:arglead)
endfunction
