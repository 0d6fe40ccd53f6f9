#!/usr/bin/env bash
# Turns a corpus case into a local git repository: chart at chart/, tags before and after.
# The index is rebuilt for each commit, so git's stat cache cannot keep a stale file
# (files of both sides often share size and mtime).
# usage: make-case-repo.sh CASE_DIR OUT_DIR
set -euo pipefail
case_dir=$1 out=$2
mkdir -p "$out"
g() { git -C "$out" -c user.name=chartimpact -c user.email=ci@example.invalid "$@"; }
g init -q -b main
for side in before after; do
  rm -rf "$out/chart"
  cp -r "$case_dir/$side" "$out/chart"
  rm -f "$out/.git/index"
  g add -A -f chart
  g commit -q -m "$side"
  g tag "$side"
done
echo "$out"
