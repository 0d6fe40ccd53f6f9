#!/usr/bin/env bash
# The per-request pipeline of the Go ChartImpact, for comparison: a fresh clone, a checkout of
# each side, helm template of each, diff -u.
# usage: baseline-clone-render.sh REPO CHART FROM TO [VALUES_FILE]
set -euo pipefail
repo=$1 chart=$2 from=$3 to=$4 vals=${5:-}
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
git clone -q --no-local "$repo" "$w/r" 2>/dev/null
n=0
for rev in "$from" "$to"; do
  n=$((n + 1))
  git -C "$w/r" checkout -q "$rev" 2>/dev/null
  cp -r "$w/r/$chart" "$w/v$n"
  helm template release "$w/v$n" --namespace default ${vals:+-f "$vals"} > "$w/out$n.yaml"
done
diff -u "$w/out1.yaml" "$w/out2.yaml" > "$w/d.txt" || true
