#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input for a bounded time (not part of CI): the YAML reader,
# the template parser and executor, the native renderer (values, schema, --set) and the
# GitHub webhook parser. See fuzz/src/main.rs for what each target checks.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [yaml|template|render|webhook ...]
#
# Defaults: 120 s for each of the four targets. Findings (panics, broken properties, hangs,
# aborts) are written to $FUZZ_OUT (default fuzz/findings) and the script exits 1; replay one
# with `target/release/chartimpact-fuzz --replay FILE TARGET`, fix it, and turn it into a
# test. Each run is confined to $FUZZ_MEMORY_KB of address space (default 4 GiB), so input
# that makes the code allocate without bound aborts and is kept, instead of taking the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(yaml template render webhook)
out="${FUZZ_OUT:-fuzz/findings}"
mem_kb="${FUZZ_MEMORY_KB:-4194304}"
seed="${FUZZ_SEED:-$(date +%s)}"

cargo build --release -p chartimpact-fuzz
bin="${CARGO_TARGET_DIR:-target}/release/chartimpact-fuzz"
mkdir -p "$out"
echo "fuzzing ${targets[*]} for ${seconds} s each (seed $seed), findings in $out"

status=0
for t in "${targets[@]}"; do
  end=$((SECONDS + seconds))
  run=0
  while [ "$SECONDS" -lt "$end" ]; do
    run=$((run + 1))
    set +e
    (ulimit -v "$mem_kb"; exec "$bin" --seconds "$((end - SECONDS))" --seed "$((seed + run))" --out "$out" "$t")
    rc=$?
    set -e
    case "$rc" in
      0) break ;;
      1) status=1; break ;;                 # findings saved; the time was used up
      3) status=1 ;;                        # a hang saved; go on with the time left
      *)                                    # aborted (stack, memory) or killed: keep the input
        status=1
        if [ -f "$out/.current-$t" ]; then
          kept="$out/$t-abort-$(date +%s)-$run"
          mv "$out/.current-$t" "$kept"
          echo "ABORT $t (exit $rc): $kept"
        fi ;;
    esac
  done
done
if [ "$status" -ne 0 ]; then
  echo "findings in $out"
fi
exit "$status"
