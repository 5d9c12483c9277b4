#!/usr/bin/env bash
# Builds Kubo from the Go module proxy into a per-machine cache, once, so that tests and the
# daemon have a real `ipfs` binary where neither the npm `kubo` package nor PATH provides one.
#
# Usage: scripts/build-kubo.sh            prints the path of the cached binary (building it if needed)
# Env:   IPFS_KIT_KUBO_VERSION (default v0.43.1), IPFS_KIT_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/ipfs-kit)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

version="${IPFS_KIT_KUBO_VERSION:-v0.43.1}"

# Replace targets in Kubo's go.mod that the Go module proxy does not serve, mapped to the
# upstream release that carries the same change.
#   go-libp2p: Kubo v0.43.1 replaces it with an unreleased fork (github.com/lidel/go-libp2p)
#   whose only purpose is to require quic-go >= v0.62.0 and webtransport-go >= v0.13.0;
#   go-libp2p v0.50.0 is the first release that requires exactly those.
declare -A upstream_release_for=(
  [github.com/libp2p/go-libp2p]=v0.50.0
)
cache="${IPFS_KIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipfs-kit}"
dest="$cache/kubo-$version"
bin="$dest/ipfs"

if [ -x "$bin" ] && "$bin" version --number >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-kubo: Go is not installed, so Kubo cannot be built here." >&2
  echo "build-kubo: install Go (https://go.dev/doc/install), put 'ipfs' on PATH, or set IPFS_KIT_IPFS_BIN to a Kubo binary." >&2
  exit 1
fi

mkdir -p "$dest"
# One build at a time per machine: a second caller waits for the first instead of racing it.
exec 9>"$dest/.build.lock"
if ! flock -w 1800 9; then
  echo "build-kubo: timed out waiting for another build of Kubo ($dest/.build.lock)" >&2
  exit 1
fi
if [ -x "$bin" ] && "$bin" version --number >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "build-kubo: building Kubo $version with $(go version) (once per machine; this takes a few minutes)..." >&2
(
  cd "$work"
  go mod init ipfs-kit-kubo-build >/dev/null 2>&1
  # Kubo's go.mod can carry replace/exclude directives (v0.43.1 replaces go-libp2p with a
  # patched fork); Go ignores those in a dependency, so copy them into this module or the
  # build picks incompatible versions.
  kubo_gomod="$(go list -m -f '{{.GoMod}}' "github.com/ipfs/kubo@$version" 2>/dev/null || true)"
  if [ -z "$kubo_gomod" ] || [ ! -f "$kubo_gomod" ]; then
    go mod download "github.com/ipfs/kubo@$version" >&2
    kubo_gomod="$(go list -m -f '{{.GoMod}}' "github.com/ipfs/kubo@$version")"
  fi
  go mod edit -json "$kubo_gomod" | node "$here/kubo-go-directives.mjs" > directives.txt
  while IFS= read -r flag; do
    case "$flag" in
      -replace=*)
        spec="${flag#-replace=}"
        from="${spec%%=*}"
        target="${spec#*=}"
        if ! go mod download "$target" >/dev/null 2>&1; then
          from_path="${from%@*}"
          sub="${upstream_release_for[$from_path]:-}"
          if [ -z "$sub" ]; then
            echo "build-kubo: Kubo $version replaces $from with $target, which the Go module proxy does not serve, and no upstream substitute is known." >&2
            exit 1
          fi
          echo "build-kubo: $target is not served by the Go module proxy; using $from_path@$sub instead (see scripts/build-kubo.sh)." >&2
          flag="-replace=$from=$from_path@$sub"
        fi
        ;;
    esac
    go mod edit "$flag"
  done < directives.txt
  go get "github.com/ipfs/kubo/cmd/ipfs@$version" >&2
  CGO_ENABLED=0 go build -trimpath -o "$work/ipfs" github.com/ipfs/kubo/cmd/ipfs >&2
) || {
  echo "build-kubo: building Kubo $version failed (see the Go output above)." >&2
  echo "build-kubo: check that the Go module proxy is reachable (go env GOPROXY), or set IPFS_KIT_IPFS_BIN to a Kubo binary." >&2
  exit 1
}
# Rename into place so a concurrent reader never executes a half-written binary.
mv -f "$work/ipfs" "$bin.tmp" && mv -f "$bin.tmp" "$bin"
"$bin" version --number >&2
echo "$bin"
