#!/usr/bin/env bash
# Makes sure the TensorFlow ground-truth corpus exists and prints its directory
# as the last line on stdout; everything else goes to stderr.
#
#   corpus="$(bash scripts/ensure-corpus.sh | tail -n1)"
#
# The corpus is cached in
#   ${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}/corpus-<hash>
# where <hash> covers test/corpus/generate.py and test/corpus/requirements.txt,
# so editing either regenerates it. generate.py writes into a temporary
# directory and renames it into place, so a present manifest.json means a
# complete corpus.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
generator="$repo_root/test/corpus/generate.py"
requirements="$repo_root/test/corpus/requirements.txt"
cache_dir="${TFMODEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfmodel}"

venv="$(bash "$repo_root/scripts/python-env.sh" | tail -n1)"

corpus_hash="$(cat "$generator" "$requirements" | sha256sum | cut -c1-12)"
corpus="$cache_dir/corpus-$corpus_hash"

generate() {
  if [[ -f "$corpus/manifest.json" ]]; then
    return 0
  fi
  echo "ensure-corpus: generating $corpus" >&2
  TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" "$generator" --out "$corpus" >&2
}

if [[ -f "$corpus/manifest.json" ]]; then
  : # fast path: corpus already generated
elif command -v flock >/dev/null 2>&1; then
  # Serialise concurrent first runs (e.g. parallel test jobs).
  exec 9>"$cache_dir/corpus-$corpus_hash.lock"
  flock 9
  generate
  flock -u 9
else
  generate
fi

echo "$corpus"
