#!/usr/bin/env bash
# Regenerates pgo/chartimpact.profdata, the execution profile that release builds optimise
# with (pgo/rustc-wrapper adds `-C profile-use`; docs/DEVELOPERS.md, "Profile-guided release
# builds"), and pgo/rustc-commit, the compiler it is for.
#
#   scripts/pgo-profile.sh [CHARTS_DIR]
#
# Builds an instrumented `chartimpact` (the wrapper leaves `-C profile-generate` builds alone,
# so this one does not read the old profile), runs it over the corpus — every chart side
# rendered natively, every case's reference renders diffed in each output format, every case
# compared as two tags of a local git repository (a first compare, then one from the warm
# mirror and render cache) — then renders each chart of CHARTS_DIR, if given, twice with its
# defaults (a directory per chart, dependencies vendored: `scripts/conformance-sweep.py
# --prepare CHARTS_DIR ROOT...` writes one from clones of public chart repositories; the
# committed profile was made with Bitnami's, prometheus-community's and Grafana's charts, so
# that what is laid out as hot is not only what the corpus's eleven charts run), and merges
# what it recorded. The server's own code (HTTP, queue,
# database) is not in the workload: it is compiled as LLVM compiles code a profile never saw.
# Run it after changes to the renderer, the template engine, the diff or the toolchain, and
# commit the result: a profile older than the code still builds, but functions that changed
# since are optimised without it; a new compiler needs a new profile (until then the wrapper
# builds without one). Needs `rustup component add llvm-tools` (for llvm-profdata). The
# instrumented build stays in $CARGO_TARGET_DIR/pgo-generate (a few GB) so that the next run
# is quicker.
# Environment: CHARTIMPACT_CORPUS (default tests/data/corpus), CARGO_TARGET_DIR.
set -euo pipefail
charts_dir="${1:+$(cd "$1" && pwd)}"
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
[ -d "$corpus/cases" ] || { echo "no corpus at $corpus (set CHARTIMPACT_CORPUS)" >&2; exit 1; }
profdata="$(find "$(rustc --print sysroot)" -name llvm-profdata -type f | head -n 1)"
[ -n "$profdata" ] || { echo "llvm-profdata missing: rustup component add llvm-tools" >&2; exit 1; }

raw="$(mktemp -d)"
work="$(mktemp -d)"
trap 'rm -rf "$raw" "$work"' EXIT
target="${CARGO_TARGET_DIR:-$(pwd)/target}/pgo-generate"
RUSTFLAGS="-Cprofile-generate=$raw" cargo build --release -q --bin chartimpact --target-dir "$target"
bin="$target/release/chartimpact"

for case in "$corpus"/cases/*/; do
  # A case's values file, if it has one: given to render as -f, to compare as --values.
  render_values=()
  compare_values=()
  for v in "$case"values/*; do
    if [ -f "$v" ]; then
      render_values=(-f "$v")
      compare_values=(--values "$v")
      break
    fi
  done
  for side in before after; do
    for _ in 1 2 3; do
      "$bin" render "$case$side" --release-name release --namespace default --renderer native \
        "${render_values[@]}" >/dev/null
    done
  done
  for format in text json markdown unified; do
    # Exit 2 means "something changed", which is what a corpus case is.
    "$bin" diff -o "$format" --detailed-exitcode "$case"rendered/before.yaml \
      "$case"rendered/after.yaml >/dev/null || [ $? -eq 2 ]
  done
  repo="$work/repos/$(basename "$case")"
  scripts/make-case-repo.sh "$case" "$repo" >/dev/null
  for format in json markdown; do
    "$bin" compare --repo "$repo" --chart chart --from before --to after --renderer native \
      --data-dir "$work/data" -o "$format" "${compare_values[@]}" >/dev/null
  done
done

if [ -n "$charts_dir" ]; then
  for chart in "$charts_dir"/*/; do
    for _ in 1 2; do
      # Charts that fail to render (missing values they require) still ran their parse. A
      # render that makes RSA keys or bcrypt hashes takes seconds in a few arithmetic loops,
      # and counts that large would set the bar for "hot" above everything else the profile
      # holds: `timeout` ends it, and a process killed so writes no profile.
      timeout 0.5 "$bin" render "$chart" --renderer native >/dev/null 2>&1 || true
    done
  done
fi

# Sparse: functions the workload never ran are left out (36 MB → 6 MB).
"$profdata" merge --sparse -o pgo/chartimpact.profdata "$raw"
rustc -vV | sed -n 's/^commit-hash: //p' >pgo/rustc-commit
ls -l pgo/chartimpact.profdata
