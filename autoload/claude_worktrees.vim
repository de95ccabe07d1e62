" Completion of instance names for the :ClaudeCode* commands: reads the state the Node side
" pushed, so completing never starts or waits for the Node host.
function! claude_worktrees#complete(arglead, cmdline, cursorpos) abort
  return luaeval('require("claude_worktrees").complete(_A)', a:arglead)
endfunction

" remote#host's factory for the plugin's own host (lua/claude_worktrees/host.lua): the channel
" of `node dist/host/loader.js`, started now unless prestart already did.
function! claude_worktrees#host(host_info) abort
  return luaeval('require("claude_worktrees.host").factory()')
endfunction
