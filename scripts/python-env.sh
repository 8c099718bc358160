#!/usr/bin/env bash
# Creates (once) the pinned Python virtual environment used to generate the
# TensorFlow ground-truth corpus and the example model, and prints its
# directory as the last line on stdout. Progress goes to stderr.
#
#   venv="$(bash scripts/python-env.sh | tail -n1)"
#
# The venv lives in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}
# under a name derived from the hash of test/corpus/requirements.txt, so a
# change of pins gets a fresh venv. A marker file is written only after pip
# has finished; a venv without it (an interrupted install) is rebuilt.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$repo_root/test/corpus/requirements.txt"
cache_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
req_hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="$cache_dir/venv-$req_hash"
marker="$venv/.tfmodel-install-complete"

mkdir -p "$cache_dir"

install_venv() {
  if [[ -f "$marker" ]]; then
    return 0
  fi
  echo "python-env: creating $venv (pins from test/corpus/requirements.txt)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$requirements" >&2
  echo "$req_hash" >"$marker"
  echo "python-env: ready" >&2
}

if [[ -f "$marker" ]]; then
  : # fast path: nothing to do
elif command -v flock >/dev/null 2>&1; then
  # Serialise concurrent first runs (e.g. parallel test jobs).
  exec 9>"$cache_dir/venv-$req_hash.lock"
  flock 9
  install_venv
  flock -u 9
else
  install_venv
fi

echo "$venv"
