#!/usr/bin/env bash
# Builds (once per machine) the S3-compatible object store the s3:// model source tests run
# against (versitygw, a real S3 gateway over a local directory) and prints its path as the last
# line on stdout. Progress goes to stderr.
#
#   gateway="$(bash scripts/s3-server/build.sh | tail -n1)"
#   bash scripts/s3-server/build.sh --check   # builds nothing: exit 0 (and the path) when built,
#                                             # 3 when it needs building, 1 when Go is missing
#
# Everything comes from the Go module proxy (go install of a tagged release).
#
# Layout, outside the repo, in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/s3-server/:
#   bin/versitygw            the gateway
#   bin/versitygw.version    marker (module version), written after the binary
#   go/mod, go/build         GOMODCACHE and GOCACHE of the build (delete to reclaim the space)
set -euo pipefail

VERSION=v1.8.0
MODULE=github.com/versity/versitygw

cache_root="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
dir="$cache_root/s3-server"
bin="$dir/bin"
name=versitygw
wanted="$MODULE@$VERSION"

log() { echo "s3-server/build: $*" >&2; }
is_current() { [[ -x "$bin/$name" && -f "$bin/$name.version" && "$(cat "$bin/$name.version")" == "$wanted" ]]; }

build() {
  local proxy
  proxy="$(go env GOPROXY)"
  export GOPROXY="${proxy%,direct}"
  export GOMODCACHE="$dir/go/mod" GOCACHE="$dir/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
  is_current && return 0
  log "building $wanted (cold: several minutes on 2 cores)"
  mkdir -p "$bin" "$dir/gobin"
  GOBIN="$dir/gobin" go install -trimpath -ldflags="-s -w" "$MODULE/cmd/versitygw@$VERSION"
  mv -f "$dir/gobin/$name" "$bin/$name"
  echo "$wanted" >"$bin/.$name.version.tmp"
  mv -f "$bin/.$name.version.tmp" "$bin/$name.version"
  log "installed $bin/$name ($wanted)"
}

if ! is_current && ! command -v go >/dev/null; then
  log "Go is not installed"
  exit 1
fi
if [[ "${1:-}" == "--check" ]]; then
  if ! is_current; then
    log "not built yet (or of another version) in $bin"
    exit 3
  fi
elif ! is_current; then
  mkdir -p "$dir"
  exec 9>"$dir/build.lock"
  flock 9
  build
  flock -u 9
fi
echo "$bin/$name"
