#!/usr/bin/env bash
# Builds tfmodel's native engine (npm run native:install): the Node-API addon in
# src/server/runtime/native/addon
# compiled with g++ against TensorFlow's C API from the pinned TensorFlow wheel, with the wheel's
# two libraries copied beside it (never linked into a venv that can be rebuilt). Prints the
# install directory as the last line on stdout; progress goes to stderr.
#
#   variant cpu (default): tensorflow-cpu at the pin of test/corpus/requirements.txt, taken from
#                          the venv of scripts/python-env.sh (which installs exactly that wheel)
#   variant gpu:           the CUDA build, the `tensorflow` wheel of the same version (pip
#                          download, no dependencies); its libraries look for CUDA in
#                          $ORIGIN/../nvidia/*/lib, i.e. <install dir>/nvidia (docker/server-gpu.Dockerfile)
#
#   bash scripts/native/install.sh [cpu|gpu]
#   TFMODEL_TF_DIR=<site-packages>/tensorflow bash scripts/native/install.sh gpu   (an installed wheel)
#
# Result: ${TFMODEL_CACHE_DIR:-~/.cache/tfmodel}/native-<variant>-<hash>/{tfmodel_tf.node,lib/},
# and the link native-<variant> -> that directory, where the runtime looks for it
# (TFMODEL_NATIVE_ADDON=<path to tfmodel_tf.node> overrides). The hash covers the addon's sources,
# this script, the TensorFlow pin and Node's major version; a directory without its marker (an
# interrupted build) is rebuilt. Needs g++ and Node's headers (/usr/include/node, or
# npm_config_nodedir/include/node).
set -euo pipefail

variant="${1:-cpu}"
case "$variant" in cpu | gpu) ;; *) echo "usage: install.sh [cpu|gpu]" >&2; exit 2 ;; esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
src_dir="$repo_root/src/server/runtime/native/addon"
tf_version="$(sed -n 's/^tensorflow-cpu==//p' "$repo_root/test/corpus/requirements.txt")"
[[ -n "$tf_version" ]] || { echo "native: no tensorflow-cpu pin in test/corpus/requirements.txt" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
hash="$( (cat "$src_dir"/*.cc "${BASH_SOURCE[0]}"; echo "$variant $tf_version node$node_major") | sha256sum | cut -c1-12)"
out="$cache_dir/native-$variant-$hash"
marker="$out/.tfmodel-native-complete"

node_include=""
for candidate in "${npm_config_nodedir:-}/include/node" /usr/include/node /usr/local/include/node \
  "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
  if [[ -f "$candidate/node_api.h" ]]; then node_include="$candidate"; break; fi
done

build() {
  [[ -n "$node_include" ]] || { echo "native: Node's headers (node_api.h) not found; set npm_config_nodedir" >&2; exit 1; }
  command -v g++ >/dev/null || { echo "native: g++ is needed" >&2; exit 1; }
  local work="$out.tmp"
  rm -rf "$out" "$work"
  mkdir -p "$work/lib"
  local tf_dir
  if [[ -n "${TFMODEL_TF_DIR:-}" ]]; then
    # An installed wheel's tensorflow/ directory (the GPU image installs tensorflow[and-cuda]).
    tf_dir="$TFMODEL_TF_DIR"
  elif [[ "$variant" == cpu ]]; then
    local venv
    venv="$(bash "$repo_root/scripts/python-env.sh" | tail -n1)"
    tf_dir="$("$venv/bin/python" -c 'import os, importlib.util as u; print(os.path.dirname(u.find_spec("tensorflow").origin))')"
    local installed
    installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("tensorflow-cpu"))')"
    [[ "$installed" == "$tf_version" ]] || { echo "native: venv has tensorflow-cpu $installed, pin is $tf_version" >&2; exit 1; }
  else
    echo "native: fetching the tensorflow==$tf_version wheel (CUDA build, no dependencies)" >&2
    python3 -m pip install --quiet --disable-pip-version-check --no-input --no-deps \
      --target "$work/wheel" "tensorflow==$tf_version" >&2
    tf_dir="$work/wheel/tensorflow"
  fi
  # A previous build of the same TensorFlow lends its copies (hard links: no second 850 MB).
  local previous="$cache_dir/native-$variant"
  if [[ -f "$previous/.tfmodel-native-complete" && "$(cat "$previous/.tfmodel-native-complete")" == "$variant tensorflow $tf_version" ]] &&
    cp -l "$previous/lib/libtensorflow_cc.so.2" "$previous/lib/libtensorflow_framework.so.2" "$work/lib/" 2>/dev/null; then
    echo "native: libtensorflow linked from $(readlink -f "$previous")" >&2
  else
    echo "native: copying libtensorflow from $tf_dir" >&2
    cp "$tf_dir/libtensorflow_cc.so.2" "$tf_dir/libtensorflow_framework.so.2" "$work/lib/"
  fi
  ln -s libtensorflow_cc.so.2 "$work/lib/libtensorflow_cc.so"
  ln -s libtensorflow_framework.so.2 "$work/lib/libtensorflow_framework.so"
  echo "native: compiling the addon (g++, Node-API headers from $node_include)" >&2
  local flags=(-std=c++17 -O2 -fPIC -fvisibility=hidden -w -DNAPI_VERSION=8 -I"$node_include" -I"$tf_dir/include")
  g++ "${flags[@]}" -c "$src_dir/addon.cc" -o "$work/addon.o"
  g++ "${flags[@]}" -c "$src_dir/options-view.cc" -o "$work/options-view.o"
  g++ -shared -o "$work/tfmodel_tf.node" "$work/addon.o" "$work/options-view.o" \
    -L"$work/lib" -ltensorflow_cc -ltensorflow_framework -Wl,-rpath,'$ORIGIN/lib'
  rm -rf "$work/addon.o" "$work/options-view.o" "$work/wheel"
  echo "$variant tensorflow $tf_version" >"$work/.tfmodel-native-complete"
  mv "$work" "$out"
  echo "native: built $out" >&2
}

mkdir -p "$cache_dir"
if [[ ! -f "$marker" ]]; then
  exec 9>"$out.lock"
  flock 9
  [[ -f "$marker" ]] || build
  flock -u 9
fi
ln -sfn "$(basename "$out")" "$cache_dir/native-$variant"
# Older builds of this variant are no longer linked; a process that loaded one keeps its open files.
for stale in "$cache_dir/native-$variant"-*; do
  [[ "$stale" == "$out" || "$stale" == "$out.lock" ]] || rm -rf "$stale"
done
echo "$out"
