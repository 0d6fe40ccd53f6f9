#!/usr/bin/env bash
# Side-by-side: `chartimpact render --renderer native` vs `helm template` (v3.17.1), whole
# processes, on the largest corpus case (with its values file) and on a small one, in one run.
# Needs hyperfine (apt-get install hyperfine), helm on PATH (scripts/install-helm.sh) and GNU
# time (/usr/bin/time). Prints hyperfine's summary and, per case, min/median and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
[ -d "$corpus/cases" ] || { echo "no corpus at $corpus (set CHARTIMPACT_CORPUS)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 1; }
command -v helm >/dev/null || { echo "helm missing: scripts/install-helm.sh" >&2; exit 1; }
cargo build --release -q --bin chartimpact
bin="$target/release/chartimpact"
runs="${RUNS:-60}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

bench() { # name case-dir
  local name="$1" case="$2" values=()
  local v
  v="$(ls "$case"/values/* 2>/dev/null | head -1 || true)"
  [ -n "$v" ] && values=(-f "$v")
  # Both must print the same bytes before their speed means anything.
  "$bin" render "$case/after" --release-name release --namespace default --renderer native \
    "${values[@]}" >"$out/native.yaml"
  helm template release "$case/after" --namespace default "${values[@]}" >"$out/helm.yaml"
  cmp -s "$out/native.yaml" "$out/helm.yaml" || { echo "$name: outputs differ" >&2; exit 1; }
  echo "== $name ($(wc -c <"$out/helm.yaml") bytes of manifests)"
  hyperfine -N --warmup 5 --runs "$runs" --export-json "$out/$name.json" \
    -n native "$bin render $case/after --release-name release --namespace default --renderer native ${values[*]}" \
    -n helm "helm template release $case/after --namespace default ${values[*]}"
  python3 - "$out/$name.json" <<'EOF'
import json, statistics, sys
r = {x["command"]: sorted(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
n, h = r["native"], r["helm"]
ms = lambda t: f"{t * 1000:.1f} ms"
print(f"native min {ms(n[0])} median {ms(statistics.median(n))}; "
      f"helm min {ms(h[0])} median {ms(statistics.median(h))}; "
      f"ratio min/min {h[0] / n[0]:.1f}x, median/median {statistics.median(h) / statistics.median(n):.1f}x")
EOF
  /usr/bin/time -f "native peak RSS: %M KB" "$bin" render "$case/after" --release-name release \
    --namespace default --renderer native "${values[@]}" >/dev/null
}

bench largest "$corpus/cases/argo-cd__7.8.13__8.0.7"
bench small "$corpus/cases/metrics-server__3.12.2__3.13.1"
