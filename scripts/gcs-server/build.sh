#!/usr/bin/env bash
# Builds (once per machine) the GCS emulator the gs:// model source tests run
# against (fake-gcs-server, which serves the GCS JSON API) and prints its path as the last
# line on stdout. Progress goes to stderr.
#
#   emulator="$(bash scripts/gcs-server/build.sh | tail -n1)"
#   bash scripts/gcs-server/build.sh --check   # builds nothing: exit 0 (and the path) when built,
#                                              # 3 when it needs building, 1 when Go is missing
#
# Everything comes from the Go module proxy (go install of a tagged release).
#
# Layout, outside the repo, in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/gcs-server/:
#   bin/fake-gcs-server          the emulator
#   bin/fake-gcs-server.version  marker (module version), written after the binary
#   go/mod, go/build             GOMODCACHE and GOCACHE of the build (delete to reclaim the space)
set -euo pipefail

VERSION=v1.56.1
MODULE=github.com/fsouza/fake-gcs-server

tool_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/gcs-server"
tool_name=fake-gcs-server
tool_wanted="$MODULE@$VERSION"
tool_label=gcs-server/build
# shellcheck source=../lib/cached-go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cached-go-tool.sh"

build_tool() {
  log "building $tool_wanted (cold: several minutes on 2 cores)"
  mkdir -p "$tool_dir/gobin"
  GOBIN="$tool_dir/gobin" go install -trimpath -ldflags="-s -w" "$MODULE@$VERSION"
  mv -f "$tool_dir/gobin/$tool_name" "$tool_bin/$tool_name"
}

cached_go_tool_main "$@"
