#!/usr/bin/env bash
# Get a private Neovim 0.10.x on Debian bookworm (whose own neovim is 0.7.2).
#
#   scripts/get-nvim.sh [PREFIX]        (default PREFIX: <repo>/.cache/nvim-0.10)
#
# Result: PREFIX/bin/nvim. Nothing outside PREFIX is changed: no dpkg -i, no
# change to the system's apt state, the system glibc is left alone.
#
# Recipe:
#   1. Debian trixie ships neovim 0.10.x. A throw-away apt configuration under
#      PREFIX/.apt (its own sources.list.d pointing at the trixie suite of this
#      machine's Debian mirror, its own lists and cache, and an EMPTY dpkg
#      status so apt believes nothing is installed) lets `apt-get download`
#      fetch neovim, neovim-runtime and their full dependency closure,
#      trixie's libc6 and dynamic loader included.
#   2. Every .deb is unpacked with `dpkg -x` under PREFIX/root.
#   3. patchelf points the nvim binary at the private loader (ELF interpreter)
#      and the private library dir (DT_RPATH, which also covers indirect deps).
#   4. PREFIX/bin/nvim is a SYMLINK to the patched binary, so /proc/self/exe
#      (v:progpath) is the real binary: the 0.10 TUI re-spawns
#      `v:progpath --embed`, and $VIMRUNTIME is derived from the binary's
#      location (PREFIX/root/usr/share/nvim/runtime, not the system 0.7 one).
#
# Environment knobs: MIRROR (Debian archive URI; default: first URIs: line of
# /etc/apt/sources.list.d/debian.sources, or deb.debian.org), SUITE (trixie).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=$(realpath -m "${1:-$repo/.cache/nvim-0.10}")
bin=$prefix/bin/nvim

say() { printf '[get-nvim] %s\n' "$*"; }
die() { printf '[get-nvim] error: %s\n' "$*" >&2; exit 1; }

is_010() { [ -x "$1" ] && "$1" --version 2>/dev/null | head -1 | grep -q '^NVIM v0\.10'; }

if is_010 "$bin"; then
  say "$("$bin" --version | head -1) already at $bin"
  exit 0
fi

command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs a Debian system (apt-get, dpkg)"

suite=${SUITE:-trixie}
mirror=${MIRROR:-}
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
  # First archive URI (the debian-security one comes later and is skipped).
  mirror=$(awk '$1 == "URIs:" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"

arch=$(dpkg --print-architecture)
case $arch in
  amd64) triplet=x86_64-linux-gnu  ldso=ld-linux-x86-64.so.2 ;;
  arm64) triplet=aarch64-linux-gnu ldso=ld-linux-aarch64.so.1 ;;
  *) die "unsupported architecture: $arch" ;;
esac

apt_dir=$prefix/.apt
root=$prefix/root

# make_apt_conf DIR SUITE: a self-contained apt configuration rooted at DIR.
make_apt_conf() {
  local d=$1 s=$2
  mkdir -p "$d"/{lists/partial,archives/partial,sources.list.d,preferences.d,debs}
  : > "$d/status"
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "$mirror" "$s" "$keyring" > "$d/sources.list.d/$s.sources"
  cat > "$d/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$d/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$d/preferences.d";
Dir::State::Lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d";
Dir::Cache::archives "$d/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Architecture "$arch";
APT::Sandbox::User "root";
EOF
}
# papt DIR CMD...: run an apt command under the private configuration in DIR.
papt() { local d=$1; shift; APT_CONFIG="$d/apt.conf" "$@"; }

# --- 1. download neovim's closure from trixie --------------------------------
make_apt_conf "$apt_dir" "$suite"
say "private apt: $suite from $mirror"
papt "$apt_dir" apt-get -q -o Acquire::Languages=none update >/dev/null

# `apt-cache depends --recurse` lists each package once unindented; indented
# lines are edges, <name> entries are virtual packages (provided by a listed one).
mapfile -t pkgs < <(
  papt "$apt_dir" apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances neovim neovim-runtime \
  | grep -v -e '^ ' -e '^<' | sort -u)
[ "${#pkgs[@]}" -gt 0 ] || die "apt-cache found no neovim in $suite"
say "downloading ${#pkgs[@]} packages: ${pkgs[*]}"
rm -f "$apt_dir"/debs/*.deb
(cd "$apt_dir/debs" && papt "$apt_dir" apt-get -q download "${pkgs[@]}" >/dev/null)

# --- 2. unpack ---------------------------------------------------------------
say "unpacking into $root"
rm -rf "$root"
mkdir -p "$root"
for deb in "$apt_dir"/debs/*.deb; do dpkg -x "$deb" "$root"; done

libdir=$root/usr/lib/$triplet
loader=$libdir/$ldso
real=$root/usr/bin/nvim
[ -x "$real" ] || die "$real missing after unpacking"
[ -e "$loader" ] || die "private loader $loader missing (libc6 not in the closure?)"

# --- 3. patchelf ---------------------------------------------------------------
patchelf=$(command -v patchelf || true)
if [ -z "$patchelf" ]; then
  pe_dir=$apt_dir/patchelf
  rm -rf "$pe_dir" && mkdir -p "$pe_dir"
  say "patchelf not on PATH: fetching bookworm's package (not installed)"
  # With the system's apt lists if it has them, else with a private bookworm config.
  if ! (cd "$pe_dir" && apt-get -q download patchelf >/dev/null 2>&1); then
    make_apt_conf "$apt_dir/bookworm" bookworm
    papt "$apt_dir/bookworm" apt-get -q -o Acquire::Languages=none update >/dev/null
    (cd "$pe_dir" && papt "$apt_dir/bookworm" apt-get -q download patchelf >/dev/null)
  fi
  dpkg -x "$pe_dir"/patchelf_*.deb "$pe_dir/root"
  patchelf=$pe_dir/root/usr/bin/patchelf
  [ -x "$patchelf" ] || die "could not get patchelf"
fi
say "patching $real (interpreter, rpath -> $libdir)"
"$patchelf" --set-interpreter "$loader" --force-rpath --set-rpath "$libdir" "$real"

# --- 4. symlink + checks -------------------------------------------------------
mkdir -p "$prefix/bin"
ln -sfn "$real" "$bin"

is_010 "$bin" || die "$bin does not report NVIM v0.10: $("$bin" --version 2>&1 | head -3)"
"$bin" --version | head -1
rt=$("$bin" --headless --clean -c 'lua io.stdout:write(vim.env.VIMRUNTIME)' -c 'qa!' 2>&1)
case $rt in
  "$prefix"/*) say "VIMRUNTIME=$rt" ;;
  *) die "VIMRUNTIME '$rt' is not under $prefix" ;;
esac
say "done: $bin"
