#!/usr/bin/env bash
# Run claude-worktrees for real: Neovim on a sample repository with a linked worktree, one
# Claude Code per worktree.
#
#   bash scripts/demo.sh
#
# What it does:
#   1. `npm ci` / `npm run build` when node_modules/ or dist/ is missing.
#   2. Picks a Neovim: .cache/nvim-0.10/bin/nvim when present, else `nvim` on PATH (0.7.2+),
#      else (as root on Debian) apt-get installs Debian's neovim.
#   3. Creates $DEMO_DIR (default /tmp/claude-worktrees-demo): a repository `demo` (branch
#      main) and its linked worktree `demo-feature` (branch feature), plus nvim/init.lua.
#   4. Points NVIM_RPLUGIN_MANIFEST at a file that does not exist, so no manifest of yours is
#      used: the plugin registers its own host on first use (no :UpdateRemotePlugins), and
#      prestart starts it in the background.
#   5. Opens Neovim (with only this plugin and $VIMRUNTIME on the runtimepath, no shada):
#      tab 1 edits demo/README.md and runs :ClaudeCode, tab 2 edits
#      demo-feature/src/greet.js and runs :ClaudeCode, then :ClaudeCodeList. Two instances,
#      two IDE servers, two lock files. :ClaudeCodeKillAll or :qa ends them.
#
# Environment:
#   CLAUDE_CMD=PATH    the claude command (default: `claude` on PATH, else the pinned CLI in
#                      .cache/claude-cli; a non-executable *.js file is run with node)
#   DEMO_DIR=DIR       where the sample repository goes (recreated on every run)
#   DEMO_ISOLATED=1    private HOME, XDG dirs and CLAUDE_CONFIG_DIR under $DEMO_DIR (a real
#                      claude then needs its own login). Default: your real HOME, so your
#                      claude login and ~/.claude/ide are used.
#   DEMO_HEADLESS=1    no UI: same init, `nvim --headless`; waits until both instances run,
#                      prints a :ClaudeCodeList-like table and exits 0 (1 on timeout).
#   DEMO_TIMEOUT_MS    how long the headless mode waits (default 30000).
#   DEMO_NVIM=PATH     the Neovim to use.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo=$(realpath -m "${DEMO_DIR:-/tmp/claude-worktrees-demo}")
headless=${DEMO_HEADLESS:-0}
isolated=${DEMO_ISOLATED:-0}

say() { printf '[demo] %s\n' "$*" >&2; }
die() { printf '[demo] error: %s\n' "$*" >&2; exit 1; }

# --- 1. build ------------------------------------------------------------------------------
command -v node >/dev/null || die "node not found: install Node.js 20+"
command -v git >/dev/null || die "git not found"
if [ ! -d "$repo/node_modules/neovim" ]; then
  say "npm ci"
  (cd "$repo" && npm ci --no-audit --no-fund) >&2
fi
if [ ! -f "$repo/dist/plugin/index.js" ] || [ ! -f "$repo/dist/host/loader.js" ]; then
  say "npm run build"
  (cd "$repo" && npm run build) >&2
fi

# --- 2. Neovim -----------------------------------------------------------------------------
nvim=
if [ -n "${DEMO_NVIM:-}" ]; then
  nvim=$(command -v "$DEMO_NVIM") || die "DEMO_NVIM=$DEMO_NVIM not found"
  nvim=$(realpath -s "$nvim")
elif [ -x "$repo/.cache/nvim-0.10/bin/nvim" ]; then
  nvim=$repo/.cache/nvim-0.10/bin/nvim
elif command -v nvim >/dev/null; then
  nvim=$(command -v nvim)
elif command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ] && [ "${DEMO_NO_APT:-0}" != 1 ]; then
  say "no Neovim: installing Debian's neovim (0.7.2) with apt-get (DEMO_NO_APT=1 to refuse)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends neovim >&2
  nvim=$(command -v nvim)
else
  die "no Neovim: apt-get install neovim (0.7.2 is fine), or bash scripts/get-nvim.sh for 0.10"
fi
say "neovim: $("$nvim" --version | head -1) ($nvim)"

# --- 3. claude -----------------------------------------------------------------------------
claude_argv=()
if [ -n "${CLAUDE_CMD:-}" ]; then
  cmd=$(realpath -ms "$CLAUDE_CMD")
  if [ ! -x "$cmd" ] && [[ $cmd == *.js ]] && [ -f "$cmd" ]; then
    claude_argv=("$(command -v node)" "$cmd")
  elif [ -x "$cmd" ]; then
    claude_argv=("$cmd")
  elif command -v "$CLAUDE_CMD" >/dev/null; then
    claude_argv=("$(command -v "$CLAUDE_CMD")")
  else
    die "CLAUDE_CMD=$CLAUDE_CMD is not executable"
  fi
elif command -v claude >/dev/null; then
  claude_argv=("$(command -v claude)")
elif [ -x "$repo/.cache/claude-cli/node_modules/.bin/claude" ]; then
  claude_argv=("$repo/.cache/claude-cli/node_modules/.bin/claude")
else
  die "no claude CLI on PATH or in .cache/claude-cli: install it with
    bash scripts/install-claude-cli.sh        (pinned version, into .cache/claude-cli)
  or
    npm install -g @anthropic-ai/claude-code"
fi
say "claude: ${claude_argv[*]}"

# --- 4. sample repository with a linked worktree --------------------------------------------
if [ -e "$demo" ]; then
  [ -f "$demo/.claude-worktrees-demo" ] || die "$demo exists and is not a demo dir: remove it or set DEMO_DIR"
  # Unregister the old linked worktree before removing it.
  git -C "$demo/demo" worktree remove --force "$demo/demo-feature" >/dev/null 2>&1 || true
  rm -rf "$demo"
fi
mkdir -p "$demo/demo/src" "$demo/nvim"
: > "$demo/.claude-worktrees-demo"
main=$demo/demo
feature=$demo/demo-feature

g() { git -C "$main" -c user.name=demo -c user.email=demo@example.invalid -c init.defaultBranch=main "$@"; }
cat > "$main/README.md" <<'EOF'
# demo

A sample project for claude-worktrees. This checkout is on `main`; `../demo-feature` is a
linked worktree on `feature`, with its own Claude Code.
EOF
cat > "$main/src/greet.js" <<'EOF'
function greet(name) {
  return 'Hello, ' + name + '!';
}

module.exports = { greet };
EOF
g init -q -b main
g add .
g commit -qm 'initial commit'
g worktree add -q "$feature" -b feature
say "repository: $main (main), worktree: $feature (feature)"

# --- 5. environment --------------------------------------------------------------------------
export NVIM_RPLUGIN_MANIFEST=$demo/nvim/no-rplugin-manifest.vim
unset NVIM NVIM_LISTEN_ADDRESS CLAUDE_CODE_SSE_PORT || true
if [ "$isolated" = 1 ]; then
  export HOME=$demo/home
  export XDG_CONFIG_HOME=$demo/xdg/config XDG_DATA_HOME=$demo/xdg/data
  export XDG_STATE_HOME=$demo/xdg/state XDG_CACHE_HOME=$demo/xdg/cache
  export CLAUDE_CONFIG_DIR=$HOME/.claude
  mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
  say "isolated: HOME=$HOME CLAUDE_CONFIG_DIR=$CLAUDE_CONFIG_DIR"
fi
lock_dir=${CLAUDE_CONFIG_DIR:-$HOME/.claude}/ide

# Settings for init.lua, as JSON written by node (no quoting of paths into Lua source).
node -e '
  const [file, repo, main, feature, headless, timeout, ...cmd] = process.argv.slice(1);
  require("fs").writeFileSync(file, JSON.stringify({ repo, main, feature, headless: headless === "1", timeout: Number(timeout), cmd }));
' "$demo/nvim/demo.json" "$repo" "$main" "$feature" "$headless" "${DEMO_TIMEOUT_MS:-30000}" "${claude_argv[@]}"

cat > "$demo/nvim/init.lua" <<'EOF'
-- Generated by scripts/demo.sh: this plugin only, two worktrees, two Claude instances.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local demo = vim.fn.json_decode(table.concat(vim.fn.readfile(here .. '/demo.json'), '\n'))

-- Only the plugin and Neovim's own runtime: none of your plugins or config.
local rtp = { demo.repo, vim.env.VIMRUNTIME }
for _, p in ipairs(vim.split(vim.o.runtimepath, ',', { plain = true })) do
  if p:match('/lib/nvim$') then table.insert(rtp, p) end -- 0.10 treesitter parsers
end
vim.o.runtimepath = table.concat(rtp, ',')
vim.o.packpath = vim.env.VIMRUNTIME
vim.o.swapfile = false
vim.o.showtabline = 2
if demo.headless then vim.o.showmode = false end

local cw = require('claude_worktrees')
cw.setup({ cmd = demo.cmd, prestart = true })
vim.o.statusline = '%f %= %{v:lua.require("claude_worktrees").statusline()} '

local function out(s)
  if demo.headless then io.stdout:write(s .. '\n') else print(s) end
end

local function find(root)
  for _, i in ipairs(cw.instances()) do
    if i.root == root then return i end
  end
end

-- Wait (processing RPC from the Node host meanwhile) until pred() holds.
local function wait_for(pred, ms)
  return vim.wait(ms or demo.timeout, pred, 50)
end

local function running(root)
  local i = find(root)
  return i ~= nil and i.state == 'running'
end

local function table_of_instances()
  local lines = { string.format('%-14s %-9s %-6s %-8s %-8s %-9s %s', 'name', 'branch', 'port', 'pid', 'state', 'connected', 'worktree') }
  for _, i in ipairs(cw.instances()) do
    table.insert(lines, string.format('%-14s %-9s %-6s %-8s %-8s %-9s %s', i.name, i.branch, tostring(i.port),
      tostring(i.claudePid or i.pid or '-'), i.state, i.connected and 'yes' or 'no', i.root))
  end
  return lines
end

local function run()
  -- Tab 1: the main worktree.
  vim.cmd('edit ' .. vim.fn.fnameescape(demo.main .. '/README.md'))
  vim.cmd('ClaudeCode')
  if not wait_for(function() return running(demo.main) end) then return false, 'claude did not start in ' .. demo.main end
  vim.cmd('stopinsert')
  -- Tab 2: the linked worktree.
  vim.cmd('tabnew ' .. vim.fn.fnameescape(demo.feature .. '/src/greet.js'))
  vim.cmd('ClaudeCode')
  if not wait_for(function() return running(demo.feature) end) then return false, 'claude did not start in ' .. demo.feature end
  return true
end

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(function()
      local ok, res, err = pcall(run)
      if demo.headless then
        if not ok or not res then
          out('demo failed: ' .. tostring(ok and err or res))
          for _, l in ipairs(table_of_instances()) do out(l) end
          vim.cmd('cquit 1')
          return
        end
        -- Best effort: give both claudes a moment to connect to their servers.
        wait_for(function()
          local a, b = find(demo.main), find(demo.feature)
          return a and b and a.connected and b.connected
        end, 10000)
        for _, l in ipairs(table_of_instances()) do out(l) end
        local all_running = running(demo.main) and running(demo.feature)
        if not all_running then
          for _, root in ipairs({ demo.main, demo.feature }) do
            if not running(root) then
              out('-- last lines of the terminal in ' .. root .. ':')
              for _, l in ipairs(require('claude_worktrees.terminal').lines(root, 15)) do
                if l ~= '' then out('   ' .. l) end
              end
            end
          end
          out('demo failed: not every claude is still running')
          vim.cmd('cquit 1')
          return
        end
        vim.cmd('qall!')
      elseif not ok or not res then
        vim.notify('claude-worktrees demo: ' .. tostring(ok and err or res), vim.log.levels.ERROR)
      else
        vim.defer_fn(function() vim.cmd('ClaudeCodeList') end, 300)
      end
    end)
  end,
})
EOF

cd "$main"
if [ "$headless" = 1 ]; then
  say "headless run (timeout ${DEMO_TIMEOUT_MS:-30000} ms)"
  rc=0
  "$nvim" --headless -u "$demo/nvim/init.lua" -i NONE </dev/null || rc=$?
  if [ "$isolated" = 1 ]; then
    left=$(find "$lock_dir" -name '*.lock' 2>/dev/null | wc -l)
    say "lock files left in $lock_dir after exit: $left"
    [ "$left" -eq 0 ] || rc=1
  fi
  exit "$rc"
fi

if [ ! -t 0 ] || [ ! -t 1 ]; then
  die "not on a terminal: run it from one, or use DEMO_HEADLESS=1"
fi
say "starting Neovim: two tabs, one Claude Code per worktree (:ClaudeCodeList, :ClaudeCodeKillAll, :qa)"
exec "$nvim" -u "$demo/nvim/init.lua" -i NONE
