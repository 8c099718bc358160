#!/usr/bin/env bash
# Builds (once per machine) the OpenTelemetry Collector used by the tracing tests and prints its
# path as the last line on stdout. Progress goes to stderr.
#
#   collector="$(bash scripts/otel-collector/build.sh | tail -n1)"
#   bash scripts/otel-collector/build.sh --check   # builds nothing: exit 0 (and the path) when built,
#                                                  # 3 when it needs building, 1 when Go is missing
#
# The collector's own builder (go.opentelemetry.io/collector/cmd/builder, "ocb") is installed from
# the Go module proxy and builds the distribution in manifest.yaml (OTLP receiver, otlphttp and
# debug exporters), all from the Go module proxy.
#
# Layout, outside the repo, in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/otel-collector/:
#   bin/otelcol-tfmodel           the collector
#   bin/otelcol-tfmodel.version   marker (builder version + manifest hash), written after the binary
#   go/mod, go/build              GOMODCACHE and GOCACHE of the build (delete to reclaim the space)
#   src/                          the builder and its generated sources
set -euo pipefail

BUILDER_VERSION=v0.165.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/manifest.yaml"
cache_root="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
dir="$cache_root/otel-collector"
bin="$dir/bin"
name=otelcol-tfmodel
wanted="builder@$BUILDER_VERSION manifest=$(sha256sum "$manifest" | cut -c1-12)"

log() { echo "otel-collector/build: $*" >&2; }
is_current() { [[ -x "$bin/$name" && -f "$bin/$name.version" && "$(cat "$bin/$name.version")" == "$wanted" ]]; }

go_env() {
  # Only the Go module proxy (and its checksum database) is contacted: no VCS, no toolchain downloads.
  local proxy
  proxy="$(go env GOPROXY)"
  export GOPROXY="${proxy%,direct}"
  export GOMODCACHE="$dir/go/mod" GOCACHE="$dir/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
}

build() {
  go_env
  is_current && return 0
  log "building $name with the collector builder $BUILDER_VERSION (cold: 5-15 min on 2 cores)"
  local src="$dir/src"
  rm -rf "$src" && mkdir -p "$src/gobin"
  GOBIN="$src/gobin" go install -trimpath "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
  cp "$manifest" "$src/manifest.yaml"
  (cd "$src" && "$src/gobin/builder" --config=manifest.yaml --ldflags="-s -w" >&2)
  mkdir -p "$bin"
  mv -f "$src/out/$name" "$bin/$name"
  echo "$wanted" >"$bin/.$name.version.tmp"
  mv -f "$bin/.$name.version.tmp" "$bin/$name.version"
  log "installed $bin/$name ($wanted)"
}

if ! is_current && ! command -v go >/dev/null; then
  log "Go is not installed (>= 1.25 for the collector $BUILDER_VERSION)"
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
