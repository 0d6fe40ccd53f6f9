#!/usr/bin/env bash
# Side-by-side: `chartimpact diff` vs GNU `diff -u` on the largest corpus case, in one run.
# Needs hyperfine (apt-get install hyperfine) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
case_dir="$corpus/cases/argo-cd__7.8.13__8.0.7/rendered"
[ -f "$case_dir/before.yaml" ] || { echo "no corpus at $corpus (set CHARTIMPACT_CORPUS)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 1; }
cargo build --release -q --bin chartimpact
bin="$target/release/chartimpact"
b="$case_dir/before.yaml"; a="$case_dir/after.yaml"
echo "inputs: $(wc -c <"$b") + $(wc -c <"$a") bytes"
hyperfine -N --warmup 3 --runs 30 -i \
  "$bin diff $b $a --output json" \
  "$bin diff $b $a --output text --color never" \
  "diff -u $b $a"
echo "peak memory (max RSS):"
/usr/bin/time -f "  chartimpact diff --output json: %M KB" "$bin" diff "$b" "$a" --output json >/dev/null
/usr/bin/time -f "  diff -u: %M KB" diff -u "$b" "$a" >/dev/null || true
