# Sourced by the scripts/*/build.sh that build a Go tool once per machine into the tfmodel cache
# (s3-server, gcs-server, otel-collector). Not run on its own.
#
# The caller sets, before sourcing:
#   tool_dir     cache directory of the tool (e.g. $cache_root/s3-server)
#   tool_name    binary name, installed as $tool_dir/bin/$tool_name
#   tool_wanted  the version marker; the binary is current when $tool_dir/bin/$tool_name.version
#                holds exactly this text
#   tool_label   prefix of the progress lines (e.g. s3-server/build)
#   tool_go_hint what to say when Go is missing (optional)
# and defines build_tool, which builds the binary and moves it to "$tool_bin/$tool_name" (it runs
# under the lock, with the Go environment set); then it calls `cached_go_tool_main "$@"`.
#
# Contract of the build.sh scripts: the path of the binary is the last line on stdout, progress
# goes to stderr; `--check` builds nothing and exits 0 (and prints the path) when built, 3 when it
# needs building, 1 when Go is missing. Concurrent builds of one tool wait on a lock.

tool_bin="$tool_dir/bin"

log() { echo "$tool_label: $*" >&2; }
is_current() {
  [[ -x "$tool_bin/$tool_name" && -f "$tool_bin/$tool_name.version" &&
     "$(cat "$tool_bin/$tool_name.version")" == "$tool_wanted" ]]
}

# Only the Go module proxy (and its checksum database) is contacted: no VCS, no toolchain
# downloads; the module and build caches live beside the tool (delete go/ to reclaim the space).
go_module_proxy_env() {
  local proxy
  proxy="$(go env GOPROXY)"
  export GOPROXY="${proxy%,direct}"
  export GOMODCACHE="$tool_dir/go/mod" GOCACHE="$tool_dir/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
}

# Writes the version marker after the binary, so a half-finished build never looks current.
mark_installed() {
  echo "$tool_wanted" >"$tool_bin/.$tool_name.version.tmp"
  mv -f "$tool_bin/.$tool_name.version.tmp" "$tool_bin/$tool_name.version"
  log "installed $tool_bin/$tool_name ($tool_wanted)"
}

cached_go_tool_main() {
  if ! is_current && ! command -v go >/dev/null; then
    log "Go is not installed${tool_go_hint:+ ($tool_go_hint)}"
    exit 1
  fi
  if [[ "${1:-}" == "--check" ]]; then
    if ! is_current; then
      log "not built yet (or of another version) in $tool_bin"
      exit 3
    fi
  elif ! is_current; then
    mkdir -p "$tool_dir"
    exec 9>"$tool_dir/build.lock"
    flock 9
    go_module_proxy_env
    if ! is_current; then
      mkdir -p "$tool_bin"
      build_tool
      mark_installed
    fi
    flock -u 9
  fi
  echo "$tool_bin/$tool_name"
}
