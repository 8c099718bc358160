#!/usr/bin/env bash
# Creates (once) the pinned Python virtual environment used to generate the
# TensorFlow ground-truth corpus and the example model, and prints its
# directory as the last line on stdout. Progress goes to stderr.
#
#   venv="$(bash scripts/python-env.sh | tail -n1)"
#   clients="$(bash scripts/python-env.sh clients | tail -n1)"
#
# With the argument `clients`, the venv of the Open Inference Protocol clients instead
# (test/clients/requirements.txt: tritonclient, kserve; no TensorFlow), cached the same way
# under venv-clients-<hash>.
#
# Two pin files: test/corpus/requirements.txt is installed with its
# dependencies; test/corpus/requirements-nodeps.txt is installed after it with
# --no-deps, for packages whose declared dependencies must not be pulled in
# (tensorflow-serving-api requires the full `tensorflow`, which would sit
# beside tensorflow-cpu; the pins in requirements.txt already cover what it
# needs at run time).
#
# The venv lives in ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}
# under a name derived from the hash of both pin files, so a change of pins
# gets a fresh venv. A marker file is written only after pip has finished; a
# venv without it (an interrupted install) is rebuilt.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"
if [[ "${1:-}" == "clients" ]]; then
  requirements="$repo_root/test/clients/requirements.txt"
  requirements_nodeps=/dev/null
  req_hash="$(cat "$requirements" | sha256sum | cut -c1-12)"
  venv="$cache_dir/venv-clients-$req_hash"
else
  requirements="$repo_root/test/corpus/requirements.txt"
  requirements_nodeps="$repo_root/test/corpus/requirements-nodeps.txt"
  req_hash="$(cat "$requirements" "$requirements_nodeps" | sha256sum | cut -c1-12)"
  venv="$cache_dir/venv-$req_hash"
fi
marker="$venv/.tfmodel-install-complete"

mkdir -p "$cache_dir"

install_venv() {
  if [[ -f "$marker" ]]; then
    return 0
  fi
  echo "python-env: creating $venv (pins from test/corpus/requirements*.txt)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$requirements" >&2
  if [[ "$requirements_nodeps" != /dev/null ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      --no-input --no-deps -r "$requirements_nodeps" >&2
  fi
  echo "$req_hash" >"$marker"
  echo "python-env: ready" >&2
}

if [[ -f "$marker" ]]; then
  : # fast path: nothing to do
elif command -v flock >/dev/null 2>&1; then
  # Serialise concurrent first runs (e.g. parallel test jobs).
  exec 9>"$venv.lock"
  flock 9
  install_venv
  flock -u 9
else
  install_venv
fi

echo "$venv"
