#!/usr/bin/env bash
# Renders hostile charts with the native renderer and reports each outcome with its peak
# memory (/usr/bin/time) and wall time: the figures of docs/SECURITY.md. Not part of CI.
#
#   scripts/hostile-memory.sh            # builds the render_dir example (release) and runs it
#   RENDER_DIR_BIN=path scripts/hostile-memory.sh   # another build of the example
#
# Each case runs confined to $HOSTILE_MEMORY_KB of address space (default 8 GiB) and
# $HOSTILE_SECONDS (default 120 s), so a build without budgets fails there instead of taking
# the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RENDER_DIR_BIN:-}" ]; then
  cargo build --release -p helm-render --example render_dir
  RENDER_DIR_BIN="${CARGO_TARGET_DIR:-target}/release/examples/render_dir"
fi
mem_kb="${HOSTILE_MEMORY_KB:-8388608}"
secs="${HOSTILE_SECONDS:-120}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# chart NAME TEMPLATE: a chart whose only template is TEMPLATE.
chart() {
  mkdir -p "$work/$1/templates"
  printf 'apiVersion: v2\nname: %s\nversion: 0.1.0\n' "$1" > "$work/$1/Chart.yaml"
  printf '%s\n' "$2" > "$work/$1/templates/t.yaml"
}

chart indent '{{ indent 1000000000000000 "x" }}'
chart nindent 'a: {{ nindent 1000000000000000 "x" }}'
chart set-loop '{{ $m := dict }}{{ range $i := until 10000000 }}{{ $_ := set $m (printf "k%d" $i) $i }}{{ end }}'
chart append-files '{{ $l := list }}{{ range until 200 }}{{ $l = append $l ($.Files.Get "big.bin") }}{{ end }}'
head -c $((50 << 20)) /dev/zero | tr '\0' x > "$work/append-files/big.bin"
chart doubling '{{ $s := "x" }}{{ range until 40 }}{{ $s = printf "%s%s" $s $s }}{{ end }}{{ len $s }}'
chart shared-toyaml '{{ $a := list "leaf" }}{{ range until 40 }}{{ $a = list $a $a }}{{ end }}{{ toYaml $a }}'
chart regex '{{ regexReplaceAll "a" (repeat 1000000 "a") (repeat 1000 "$0") | len }}'
chart nested-drop '{{ $l := list }}{{ range until 1000000 }}{{ $l = list $l }}{{ end }}done'
chart parens "{{ $(printf '(print %.0s' $(seq 1 50000))1$(printf ')%.0s' $(seq 1 50000)) }}"

# Request values whose aliases expand: 158 KB, nineteen million values (just under the node
# limit), two gigabytes of copies.
python3 - "$work/laughs.yaml" <<'PY'
import sys
row = "x" * 100
with open(sys.argv[1], "w") as f:
    f.write("a: &a [" + ",".join([row] * 1000) + "]\n")
    f.write("b: [" + ",".join(["*a"] * 19000) + "]\n")
PY
chart laughs 'n: {{ len .Values.b }}'

# Eight packaged subcharts, each a 200 KB archive of 200 MB of zeros.
chart bombs 'a: 1'
for i in 1 2 3 4 5 6 7 8; do
  d="$work/bomb$i/sub$i"
  mkdir -p "$d/files"
  printf 'apiVersion: v2\nname: sub%s\nversion: 0.1.0\n' "$i" > "$d/Chart.yaml"
  head -c $((200 << 20)) /dev/zero > "$d/files/zeros"
  mkdir -p "$work/bombs/charts"
  tar -C "$work/bomb$i" -czf "$work/bombs/charts/sub$i-0.1.0.tgz" "sub$i"
  rm -rf "$work/bomb$i"
done

# A schema that refers to itself four times at every level.
chart schema 'a: 1'
printf '{"allOf":[{"$ref":"#"},{"$ref":"#"},{"$ref":"#"},{"$ref":"#"}]}\n' > "$work/schema/values.schema.json"
printf 'a: {b: [1, 2, 3]}\n' > "$work/schema/values.yaml"

run() {
  local name="$1"; shift
  local out rc
  set +e
  out="$( (ulimit -v "$mem_kb"; /usr/bin/time -f 'PEAK %M %e' timeout "$secs" "$RENDER_DIR_BIN" "$@") 2>&1)"
  rc=$?
  set -e
  local peak wall result
  peak="$(printf '%s\n' "$out" | awk '/^PEAK/ {printf "%.0f", $2 / 1024}')"
  wall="$(printf '%s\n' "$out" | awk '/^PEAK/ {print $3}')"
  result="$(printf '%s\n' "$out" | grep -E '^(ok|error)' | head -1 | cut -c1-110 || true)"
  if [ -z "$result" ]; then
    last="$(printf '%s\n' "$out" | grep -vE '^PEAK|^Command' | tail -1 | cut -c1-80 || true)"
    case "$rc" in
      124) result="killed after ${secs} s" ;;
      *) result="failed (exit $rc): $last" ;;
    esac
  fi
  printf '| %s | %s MB | %s s | %s |\n' "$name" "${peak:-?}" "${wall:-?}" "$result"
}

echo "| case | peak RSS | wall | outcome |"
echo "|---|---|---|---|"
for c in indent nindent set-loop append-files doubling shared-toyaml regex nested-drop parens bombs schema; do
  run "$c" "$work/$c"
done
run laughs "$work/laughs" -f "$work/laughs.yaml"
