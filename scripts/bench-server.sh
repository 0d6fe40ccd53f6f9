#!/usr/bin/env bash
# Load benchmark of chartimpact-server on loopback (bounded: two 10-second wrk runs):
# repeated cached compares of the largest corpus case, and health checks.
# usage: scripts/bench-server.sh [CASE] [DURATION]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
case_name="${1:-argo-cd__7.8.13__8.0.7}"
duration="${2:-10s}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -q --bin chartimpact-server
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
scripts/make-case-repo.sh "$corpus/cases/$case_name" "$work/repo" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$target/release/chartimpact-server" --listen "127.0.0.1:$port" --data-dir "$work/data" \
  --allow-local-repos --rate-limit 0 2>"$work/server.log" &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$url/api/health" >/dev/null && break; sleep 0.1; done
body=$(printf '{"repository":"%s","chartPath":"chart","version1":"before","version2":"after"}' "$work/repo")
echo "== first compare (cold: fetch from the local repo, render both sides, diff, store)"
curl -fs -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes, %{time_total} s\n' "$url/api/compare" -d "$body"
echo "== second compare (warm)"
curl -fs -o /dev/null -w 'HTTP %{http_code}, %{time_total} s\n' "$url/api/compare" -d "$body"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== repeated cached compares: wrk -t2 -c8 -d$duration"
wrk -t2 -c8 -d"$duration" --latency -s "$work/post.lua" "$url/api/compare"
echo "== health checks: wrk -t2 -c32 -d$duration"
wrk -t2 -c32 -d"$duration" --latency "$url/api/health"
echo "== server peak memory (VmHWM)"
grep VmHWM "/proc/$pid/status"
