#!/usr/bin/env bash
# Makes sure the real-size benchmark models (bench/runtime/generate_models.py: keras.applications
# nets with random weights) exist and prints their directory as the last line on stdout.
#
#   models="$(bash bench/runtime/ensure-models.sh | tail -n1)"
#
# Cached in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/bench-models-<hash>, the
# hash covering the generator and the venv's pins; generate_models.py renames a finished directory
# into place, so a present manifest.json means a complete set.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
generator="$repo_root/bench/runtime/generate_models.py"
cache_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
venv="$(bash "$repo_root/scripts/python-env.sh" | tail -n1)"
hash="$(cat "$generator" "$repo_root/test/corpus/requirements.txt" | sha256sum | cut -c1-12)"
out="$cache_dir/bench-models-$hash"

if [[ ! -f "$out/manifest.json" ]]; then
  exec 9>"$out.lock"
  flock 9
  if [[ ! -f "$out/manifest.json" ]]; then
    echo "ensure-models: generating $out" >&2
    nice -n 10 "$venv/bin/python" "$generator" --out "$out" >&2
  fi
  flock -u 9
fi
echo "$out"
