#!/usr/bin/env bash
# `npm run bench:thread-cpu -- NAME plain|routed`: one tfmodel-server serving half_plus_two
# (versions 123 and 124, label stable -> 123; `routed` adds bench:routing's 10% canary + 20% shadow),
# 3 s of warm-up, then SECONDS (8) of REST :predict through /labels/stable at 16 connections and a
# fixed RATE (3000 req/s; 0: as fast as it goes), and the server's CPU per request by thread name
# (/proc/<pid>/task: `node` is the event loop, libuv's pool and V8's helpers; `tf_Compute` is
# TensorFlow's inter-op pool). A fixed rate keeps CPU per request comparable between servers
# measured one after the other. SERVER_MAIN runs another build's dist/src/server/main.js (with its
# own TFMODEL_CACHE_DIR for its addon); the server inherits the environment (TF_NUM_INTEROP_THREADS).
set -euo pipefail
name="$1" mode="$2"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
main="${SERVER_MAIN:-$repo/dist/src/server/main.js}"
rate="${RATE:-3000}" seconds="${SECONDS_MEASURED:-8}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "model_config_list { config { name: \"half\" base_path: \"$repo/test/models/half_plus_two_2_versions\" model_platform: \"tensorflow\" model_version_policy { all {} } version_labels { key: \"stable\" value: 123 } } }" >"$work/models.config"
echo '{"models":{"half":{"labels":{"stable":{"canaries":[{"version":124,"percent":10}],"shadow":{"version":124,"percent":20}}}}}}' >"$work/routing.json"
routing=()
[[ "$mode" == routed ]] && routing=("--routing_config_file=$work/routing.json")
port=$((20000 + RANDOM % 20000))
node "$main" --bind_address=127.0.0.1 --port=$((port + 1)) --rest_api_port=$port --model_config_file="$work/models.config" "${routing[@]}" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q rest_listening "$work/server.log" && break; sleep 1; done
autocannon="$repo/node_modules/.bin/autocannon"
url="http://127.0.0.1:$port/v1/models/half/labels/stable:predict"
load=(-c 16 -m POST -H content-type=application/json -b '{"instances":[1.0]}')
[[ "$rate" != 0 ]] && load+=(-R "$rate")
"$autocannon" "${load[@]}" -d 3 "$url" >/dev/null 2>&1
before="$(python3 "$repo/bench/routing/thread-cpu.py" $pid)"
"$autocannon" "${load[@]}" -d "$seconds" -j "$url" >"$work/load.json" 2>/dev/null
after="$(python3 "$repo/bench/routing/thread-cpu.py" $pid)"
kill $pid
wait $pid 2>/dev/null || true
python3 - "$name" "$before" "$after" "$work/load.json" <<'PY'
import json, sys
name, before, after = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
load = json.load(open(sys.argv[4]))
n = load['requests']['total']
per = {k: (after[k] - before.get(k, 0)) * 1e6 / n for k in after}
shown = ', '.join(f'{k} {v:.1f}' for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v >= 0.5)
print(f"{name}: {n} requests ({load['requests']['average']:.0f}/s, {load['non2xx']} non-2xx, {load['errors']} errors); server CPU µs per request {sum(per.values()):.0f}: {shown}")
PY
