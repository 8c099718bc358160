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

tool_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/s3-server"
tool_name=versitygw
tool_wanted="$MODULE@$VERSION"
tool_label=s3-server/build
# shellcheck source=../lib/cached-go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cached-go-tool.sh"

build_tool() {
  log "building $tool_wanted (cold: several minutes on 2 cores)"
  mkdir -p "$tool_dir/gobin"
  GOBIN="$tool_dir/gobin" go install -trimpath -ldflags="-s -w" "$MODULE/cmd/versitygw@$VERSION"
  mv -f "$tool_dir/gobin/$tool_name" "$tool_bin/$tool_name"
}

cached_go_tool_main "$@"
