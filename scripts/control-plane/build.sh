#!/usr/bin/env bash
# Builds (once per machine) the binaries of the end-to-end control plane (test/e2e/) and prints
# the directory holding them as the last line on stdout. Progress goes to stderr.
#
#   bin="$(bash scripts/control-plane/build.sh | tail -n1)"
#   bash scripts/control-plane/build.sh --check   # builds nothing: exit 0 (and the directory) when
#                                                 # all is built, 3 when something needs building,
#                                                 # 1 when a Debian package or Go is missing
#
# Built from the Go module proxy (nothing else is fetched):
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
#   kubelet (the real node of test/e2e/harness/real-node.ts)          k8s.io/kubernetes
#   etcd (>= 3.5: Debian's 3.4 lacks RequestWatchProgress, so watch-list
#   clients such as kwok re-list and lag by tens of seconds)           go.etcd.io/etcd/server/v3
#   kwok                                                               sigs.k8s.io/kwok
#   helm                                                               helm.sh/helm/v3
# Checked, not built (Debian packages; .ci/run installs them): prometheus and promtool
# (prometheus).
#
# Layout, outside the repo, in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/control-plane/:
#   bin/<name>           the binaries
#   bin/<name>.version   marker written after the binary is in place; a binary whose marker does
#                        not match the wanted version (or recipe) is rebuilt, any other is reused
#   go/mod, go/build     GOMODCACHE and GOCACHE of these builds (about 1.5 GB; kept so that a
#                        version bump rebuilds incrementally; delete them to reclaim the space)
#   src/                 the consumer modules used for the builds
# `rm -rf .../control-plane` starts from scratch (the module cache is written with -modcacherw).
# Concurrent runs are serialised with flock; the fast path (everything present) takes no lock.
set -euo pipefail

KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.7.0
HELM_VERSION=v3.22.0
# Bump when the way a binary is built changes, so cached binaries are rebuilt.
RECIPE=1

cache_root="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
dir="$cache_root/control-plane"
bin="$dir/bin"

kube_binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)

wanted() { # the marker content for binary $1
  case "$1" in
    kwok) echo "sigs.k8s.io/kwok@$KWOK_VERSION recipe=$RECIPE" ;;
    etcd) echo "go.etcd.io/etcd/server/v3@$ETCD_VERSION recipe=$RECIPE" ;;
    helm) echo "helm.sh/helm/v3@$HELM_VERSION recipe=$RECIPE" ;;
    *) echo "k8s.io/kubernetes@$KUBERNETES_VERSION recipe=$RECIPE" ;;
  esac
}

is_current() { # binary $1 is built, executable and of the wanted version
  [[ -x "$bin/$1" && -f "$bin/$1.version" && "$(cat "$bin/$1.version")" == "$(wanted "$1")" ]]
}

all_current() {
  local name
  for name in "${kube_binaries[@]}" etcd kwok helm; do is_current "$name" || return 1; done
}

log() { echo "control-plane/build: $*" >&2; }

check_debian_tools() {
  local missing=()
  command -v prometheus >/dev/null || missing+=("prometheus (apt-get install prometheus)")
  command -v promtool >/dev/null || missing+=("promtool (apt-get install prometheus)")
  if ((${#missing[@]})); then
    log "missing: ${missing[*]}"
    exit 1
  fi
}

install_marked() { # move the built $2 into bin/$1, then write its marker (both atomic renames)
  mv -f "$2" "$bin/$1"
  wanted "$1" >"$bin/.$1.version.tmp"
  mv -f "$bin/.$1.version.tmp" "$bin/$1.version"
  log "installed $bin/$1 ($(wanted "$1"))"
}

go_env() {
  # Only the module proxy (its sumdb proxy included) is contacted; no VCS, no toolchain downloads.
  # The environment's configured proxy (as the other build scripts), without falling back to VCS.
  local proxy
  proxy="${GOPROXY_OVERRIDE:-$(go env GOPROXY)}"
  export GOPROXY="${proxy%,direct}"
  export GOMODCACHE="$dir/go/mod" GOCACHE="$dir/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
  export GOWORK=off
}

build_kubernetes() {
  local todo=() name
  for name in "${kube_binaries[@]}"; do is_current "$name" || todo+=("$name"); done
  ((${#todo[@]})) || return 0
  log "building ${todo[*]} from k8s.io/kubernetes@$KUBERNETES_VERSION (cold: 10-20 min on 2 cores)"
  local minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  local upstream_mod
  upstream_mod="$(cd / && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$upstream_mod" ]] || { log "could not download k8s.io/kubernetes@$KUBERNETES_VERSION"; exit 1; }

  # Upstream requires every staging module at v0.0.0 and replaces it with ./staging/...; a consumer
  # module replaces each with its published v0.MINOR.PATCH instead. The list and the go/godebug
  # lines come from upstream's go.mod so that a version bump needs no edit here.
  local src="$dir/src/kubernetes-$KUBERNETES_VERSION"
  rm -rf "$src" && mkdir -p "$src"
  {
    echo "module tfmodel.dev/control-plane/kubernetes"
    echo
    grep -E '^go [0-9.]+$' "$upstream_mod"
    grep -E '^godebug ' "$upstream_mod" || true
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n 's|^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*$|\t\1 => \1 '"$staging_version"'|p' "$upstream_mod"
    echo ")"
  } >"$src/go.mod"
  (
    cd "$src"
    local packages=() name
    for name in "${todo[@]}"; do packages+=("k8s.io/kubernetes/cmd/$name"); done
    go get "${packages[@]/%/@$KUBERNETES_VERSION}" >&2
    local ldflags="-s -w" pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitTreeState=clean"
    done
    mkdir -p out
    go build -trimpath -ldflags "$ldflags" -o out/ "${packages[@]}"
    for name in "${todo[@]}"; do install_marked "$name" "out/$name"; done
  )
}

build_etcd() {
  is_current etcd && return 0
  log "building etcd from go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  # server/v3's go.mod replaces its sibling modules with ../ paths, which `go install pkg@version`
  # refuses; a consumer module uses the published versions it requires instead.
  local src="$dir/src/etcd-$ETCD_VERSION"
  rm -rf "$src" && mkdir -p "$src"
  printf 'module tfmodel.dev/control-plane/etcd\n\ngo 1.24\n' >"$src/go.mod"
  (
    cd "$src"
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    go build -trimpath -ldflags "-s -w" -o out/etcd go.etcd.io/etcd/server/v3
    install_marked etcd out/etcd
  )
}

build_go_install() { # $1 name, $2 package, $3 version, $4 extra ldflags
  is_current "$1" && return 0
  log "building $1 from $2@$3"
  local gobin="$dir/src/gobin-$1"
  rm -rf "$gobin" && mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w $4" "$2@$3"
  install_marked "$1" "$gobin/$1"
}

build() {
  go_env
  build_kubernetes
  build_etcd
  build_go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION"
  build_go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
}

check_debian_tools
if ! all_current && ! command -v go >/dev/null; then
  log "Go is not installed (https://go.dev/dl/; >= 1.24 for Kubernetes, >= 1.26 for helm $HELM_VERSION)"
  exit 1
fi
if [[ "${1:-}" == "--check" ]]; then
  if ! all_current; then
    log "not built yet (or of another version) in $bin"
    exit 3
  fi
elif ! all_current; then
  mkdir -p "$bin"
  exec 9>"$dir/build.lock"
  if ! flock -n 9; then
    log "another build is running; waiting for it ($dir/build.lock)"
    flock 9
  fi
  build # re-checks each binary under the lock: what a concurrent run built is reused
  flock -u 9
fi
echo "$bin"
