#!/usr/bin/env bash
# bench/peers/go/build.sh OUT_BIN — build the Go peers' harness
# (bench/peers/go/main.go) against gosom and gopfield, unmodified, and print
# the binary's path. Cached in ${SOMHOP_CACHE:-~/.cache/somhop}/go-peers-<commits>.
#
# Sources, in order: $SOMHOP_PEERS_SRC (a folder holding gosom-1bcf4c0.tar.gz and
# gopfield-8170a0f.tar.gz), else shared/peers beside the checkout or beside the
# nearest folder above it that has one (a clone next to ../shared, as CI lays it
# out, and a worktree deeper down such as /work/wt/NAME with /work/shared), else a git
# clone of github.com/milosgajdos/{gosom,gopfield} at those commits (users online;
# the Go module proxy refuses both modules). Their dependencies (gonum v0.8.2)
# come from the Go module proxy. Exit 1 with the reason when a step fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
gosom_c=1bcf4c0 gopfield_c=8170a0f
cache=${SOMHOP_CACHE:-$HOME/.cache/somhop}/go-peers-$gosom_c-$gopfield_c
bin=$cache/somhop-peers-go
die() { echo "go peers: $*" >&2; exit 1; }
command -v go >/dev/null || die "go is not installed"

if [ ! -x "$bin" ] || [ "$here/main.go" -nt "$bin" ]; then
  mkdir -p "$cache"
  src=${SOMHOP_PEERS_SRC:-}
  if [ -z "$src" ]; then
    d=$root
    while [ "$d" != / ] && [ -z "$src" ]; do
      d=$(dirname "$d")
      [ -f "$d/shared/peers/gosom-$gosom_c.tar.gz" ] && src=$d/shared/peers
    done
    src=${src:-$root/../shared/peers}
  fi
  for lib in gosom:$gosom_c gopfield:$gopfield_c; do
    name=${lib%%:*} commit=${lib##*:}
    [ -f "$cache/$name/go.mod" ] && continue
    rm -rf "$cache/$name.tmp"
    if [ -f "$src/$name-$commit.tar.gz" ]; then
      mkdir -p "$cache/$name.tmp"
      tar -xzf "$src/$name-$commit.tar.gz" -C "$cache/$name.tmp" --strip-components=1 ||
        die "cannot unpack $src/$name-$commit.tar.gz"
    else
      echo "go peers: $src/$name-$commit.tar.gz not found; cloning upstream" >&2
      if ! { git clone -q "https://github.com/milosgajdos/$name" "$cache/$name.tmp" &&
             git -C "$cache/$name.tmp" checkout -q "$commit"; }; then
        die "no source for $name: neither $src/$name-$commit.tar.gz nor a clone of github.com/milosgajdos/$name"
      fi
    fi
    [ -f "$cache/$name.tmp/go.mod" ] || die "$name source has no go.mod"
    mv "$cache/$name.tmp" "$cache/$name"
  done
  h=$cache/harness
  rm -rf "$h" && mkdir -p "$h"
  cp "$here/main.go" "$h/main.go"
  cat > "$h/go.mod" <<MOD
module somhop.local/peers

go 1.21

require (
	github.com/milosgajdos/gopfield v0.0.0-00010101000000-000000000000
	github.com/milosgajdos/gosom v0.0.0-00010101000000-000000000000
	gonum.org/v1/gonum v0.8.2
)

replace github.com/milosgajdos/gosom => ../gosom

replace github.com/milosgajdos/gopfield => ../gopfield
MOD
  (cd "$h" && go mod tidy >"$cache/build.log" 2>&1 && go build -o "$bin.tmp" . >>"$cache/build.log" 2>&1) ||
    die "build failed: $(tail -5 "$cache/build.log" | tr '\n' ' ')"
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
