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
tool_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/otel-collector"
tool_name=otelcol-tfmodel
tool_wanted="builder@$BUILDER_VERSION manifest=$(sha256sum "$manifest" | cut -c1-12)"
tool_label=otel-collector/build
tool_go_hint=">= 1.25 for the collector $BUILDER_VERSION"
# shellcheck source=../lib/cached-go-tool.sh
source "$here/../lib/cached-go-tool.sh"

build_tool() {
  log "building $tool_name with the collector builder $BUILDER_VERSION (cold: 5-15 min on 2 cores)"
  local src="$tool_dir/src"
  rm -rf "$src" && mkdir -p "$src/gobin"
  GOBIN="$src/gobin" go install -trimpath "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
  cp "$manifest" "$src/manifest.yaml"
  (cd "$src" && "$src/gobin/builder" --config=manifest.yaml --ldflags="-s -w" >&2)
  mv -f "$src/out/$tool_name" "$tool_bin/$tool_name"
}

cached_go_tool_main "$@"
