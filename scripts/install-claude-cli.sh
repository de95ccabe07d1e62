#!/usr/bin/env bash
# Install the pinned Claude Code CLI used by the e2e tests (test/e2e/).
#
#   scripts/install-claude-cli.sh [DIR]     (default DIR: <repo>/.cache/claude-cli)
#
# The version lives in test/e2e/claude-cli-version.txt (read by the TS helpers too).
# Idempotent: does nothing when DIR already holds that version.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(tr -d '[:space:]' < "$repo/test/e2e/claude-cli-version.txt")"
dir="${1:-${CLAUDE_CLI_DIR:-$repo/.cache/claude-cli}}"
bin="$dir/node_modules/.bin/claude"

installed_version() {
  # `claude --version` prints e.g. "2.1.197 (Claude Code)".
  [ -x "$bin" ] || return 1
  DISABLE_AUTOUPDATER=1 "$bin" --version 2>/dev/null | awk '{print $1; exit}'
}

if [ "$(installed_version || true)" = "$version" ]; then
  echo "claude $version already installed in $dir"
  exit 0
fi

mkdir -p "$dir"
# A package.json of our own keeps npm from walking up into the repo's package.json.
[ -f "$dir/package.json" ] || printf '{"name":"claude-cli-e2e","private":true}\n' > "$dir/package.json"
npm install --no-audit --no-fund --prefix "$dir" "@anthropic-ai/claude-code@$version"

got="$(installed_version || true)"
pkg="$dir/node_modules/@anthropic-ai/claude-code"
if [ "$got" != "$version" ] && [ -f "$pkg/install.cjs" ]; then
  # npm versions that hold back install scripts leave bin/claude.exe a placeholder: its
  # postinstall copies the native binary of this platform over it. Run it ourselves.
  echo "install-claude-cli: running the package's postinstall (install.cjs)"
  (cd "$pkg" && node install.cjs)
  got="$(installed_version || true)"
fi
if [ "$got" != "$version" ]; then
  echo "install-claude-cli: expected $version, $bin reports '${got:-nothing}'" >&2
  exit 1
fi
echo "claude $version installed: $bin"
