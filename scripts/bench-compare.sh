#!/usr/bin/env bash
# Side by side, in one run, on the largest corpus case (argo-cd):
#   (a) what the Go ChartImpact does per request: git clone + checkout of each side +
#       helm template x2 + diff -u  (scripts/baseline-clone-render.sh)
#   (b) chartimpact compare, cold: empty data dir (mirror created, both sides rendered)
#   (c) chartimpact compare, warm: mirror and render cache present, new process
# for each renderer available. Needs hyperfine and helm (scripts/install-helm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
case_dir="$corpus/cases/${BENCH_CASE:-argo-cd__7.8.13__8.0.7}"
[ -d "$case_dir" ] || { echo "no corpus case at $case_dir (set CHARTIMPACT_CORPUS)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 1; }
command -v helm >/dev/null || { echo "helm missing: scripts/install-helm.sh" >&2; exit 1; }
cargo build --release -q --bin chartimpact
bin="$target/release/chartimpact"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
repo="$work/repo"
scripts/make-case-repo.sh "$case_dir" "$repo" >/dev/null
vals=$(ls "$case_dir"/values/* 2>/dev/null | head -1 || true)
vflag=${vals:+--values $vals}
renderers="${BENCH_RENDERERS:-helm}"
args=(-N --runs "${BENCH_RUNS:-10}" --warmup 1 --export-markdown "$work/table.md")
args+=(--prepare "true" -n "(a) clone+checkout+helm x2+diff" "scripts/baseline-clone-render.sh $repo chart before after $vals")
for r in $renderers; do
  # Cold: an empty data dir before every run. Warm: the data dir is kept (warmup fills it).
  args+=(--prepare "rm -rf $work/cold-$r" -n "(b) cold compare ($r)"
         "env CHARTIMPACT_DATA_DIR=$work/cold-$r $bin compare --repo $repo --chart chart --from before --to after --output json --renderer $r $vflag")
  args+=(--prepare "true" -n "(c) warm compare ($r)"
         "env CHARTIMPACT_DATA_DIR=$work/warm-$r $bin compare --repo $repo --chart chart --from before --to after --output json --renderer $r $vflag")
done
hyperfine "${args[@]}"
cat "$work/table.md"
