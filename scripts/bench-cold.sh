#!/usr/bin/env bash
# The first (cold) compare of a repository with a long history, side by side in one run:
#   (a) what the Go ChartImpact does per request: two shallow clones (`git clone --depth 1
#       --branch TAG`), `helm template` of each side, `diff -u`
#   (b) `chartimpact compare` with an empty data directory, the repository named by its path
#       (the mirror reads its objects in place), both sides rendered natively
#   (c) the same with the repository named by a `file://` URL: fetched from like a remote
#       (shallow fetches of the two versions)
# and what (b) keeps on disk against the repository's size.
#
# Repositories:
#   - a synthetic monorepo, always: 1,500 commits of other files (30 KB of random bytes each,
#     about 45 MB of packs), then a corpus chart (BENCH_CASE, external-dns by default) at
#     charts/app in two tagged commits;
#   - a real chart monorepo when BENCH_REAL_REPO names a local clone of one (for example
#     prometheus-community/helm-charts with its whole history: `git clone --mirror
#     https://github.com/prometheus-community/helm-charts`), comparing BENCH_REAL_CHART between
#     the tags BENCH_REAL_FROM and BENCH_REAL_TO (defaults: prometheus-node-exporter 4.49.0 → 4.49.2).
#
# Needs hyperfine, git and helm (scripts/install-helm.sh). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
case_dir="$corpus/cases/${BENCH_CASE:-external-dns__1.16.1__1.18.0}"
[ -d "$case_dir" ] || case_dir=$(ls -d "$corpus"/cases/external-dns__* | head -1)
for tool in hyperfine helm git; do
  command -v "$tool" >/dev/null || { echo "$tool missing (hyperfine: apt-get install hyperfine; helm: scripts/install-helm.sh)" >&2; exit 1; }
done
cargo build --release -q --bin chartimpact
bin="$target/release/chartimpact"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
runs="${BENCH_RUNS:-5}"

mono="$work/mono"
git init -q -b main "$mono"
python3 - "$mono" <<'EOF'
import os, subprocess, sys
fi = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=sys.argv[1], stdin=subprocess.PIPE)
for i in range(1, 1501):
    blob = os.urandom(30000)
    msg = f"c{i:04d}"
    fi.stdin.write(f"commit refs/heads/main\ncommitter t <t@e> {1600000000 + i} +0000\ndata {len(msg)}\n{msg}\n".encode())
    fi.stdin.write(f"M 644 inline other/f{i % 300:03d}.bin\ndata {len(blob)}\n".encode() + blob + b"\n")
fi.stdin.close()
sys.exit(fi.wait())
EOF
g() { git -C "$mono" -c user.name=bench -c user.email=bench@example.invalid "$@"; }
g checkout -q -f main
for side in before after; do
  rm -rf "$mono/charts/app"; mkdir -p "$mono/charts"
  cp -r "$case_dir/$side" "$mono/charts/app"
  rm -f "$mono/.git/index"
  g add -A -f; g commit -q -m "$side"; g tag "$side"
done
g gc -q

# One repository: hyperfine of (a) and (b), then one more cold compare to measure what it keeps.
bench() { # name repo chart from to
  local name=$1 repo=$2 chart=$3 from=$4 to=$5
  local base="$work/base-$name" data="$work/data-$name"
  local pipeline="rm -rf $base; mkdir -p $base; for v in $from $to; do git clone -q --depth 1 --branch \$v file://$repo $base/\$v && helm template release $base/\$v/$chart > $base/\$v.yaml || exit 1; done; diff -u $base/$from.yaml $base/$to.yaml > /dev/null; true"
  # (b) names the repository by its path: its mirror reads the objects in place (alternates).
  # (c) names it by a file:// URL: fetched from like a remote (shallow fetches), which is what
  # a repository on a server costs apart from the network.
  hyperfine -N --runs "$runs" --warmup 1 --export-markdown "$work/$name.md" \
    --prepare "rm -rf $data" -n "(a) 2 shallow clones + helm template x2 + diff" "bash -c '$pipeline'" \
    --prepare "rm -rf $data" -n "(b) chartimpact compare, cold, by path" \
    "env CHARTIMPACT_DATA_DIR=$data $bin compare --repo $repo --chart $chart --from $from --to $to --output json --renderer native" \
    --prepare "rm -rf $data" -n "(c) chartimpact compare, cold, by file:// URL" \
    "env CHARTIMPACT_DATA_DIR=$data $bin compare --repo file://$repo --chart $chart --from $from --to $to --output json --renderer native"
  local repo_kb
  repo_kb=$(du -sk "$repo/.git" 2>/dev/null | cut -f1 || true)
  [ -n "$repo_kb" ] || repo_kb=$(du -sk "$repo" | cut -f1)
  cat "$work/$name.md"
  for how in "by path|$repo" "by file:// URL|file://$repo"; do
    rm -rf "$data"
    CHARTIMPACT_DATA_DIR="$data" "$bin" compare --repo "${how#*|}" --chart "$chart" --from "$from" --to "$to" --output json --renderer native >/dev/null || [ $? -eq 2 ]
    local data_kb mirror_kb
    data_kb=$(du -sk "$data" | cut -f1)
    mirror_kb=$(du -sk "$data"/mirrors 2>/dev/null | cut -f1 || echo 0)
    echo "kept on disk after one cold compare ${how%%|*}: ${data_kb} KB (mirror ${mirror_kb} KB) of a ${repo_kb} KB repository = $(awk "BEGIN{printf \"%.3f\", $data_kb/$repo_kb}")"
  done
  echo
}

echo "## synthetic monorepo: $(g rev-list --count main) commits, chart $(basename "$case_dir")"
bench synthetic "$mono" charts/app before after
if [ -n "${BENCH_REAL_REPO:-}" ]; then
  chart="${BENCH_REAL_CHART:-charts/prometheus-node-exporter}"
  from="${BENCH_REAL_FROM:-prometheus-node-exporter-4.49.0}" to="${BENCH_REAL_TO:-prometheus-node-exporter-4.49.2}"
  echo "## $BENCH_REAL_REPO: $(git -C "$BENCH_REAL_REPO" rev-list --count --all) commits, $chart $from → $to"
  bench real "$BENCH_REAL_REPO" "$chart" "$from" "$to"
fi
