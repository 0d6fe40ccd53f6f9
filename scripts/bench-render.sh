#!/usr/bin/env bash
# Side by side: `chartimpact render --renderer native` vs `helm template` (v3.17.1) on EVERY
# corpus chart side, whole processes, best of N each (the contract check `performance` takes
# the best of 3), runs interleaved so that both see the same machine. Prints each side's times,
# ratio and peak RSS, then the slowest ratio (the figure that counts) and the median. The CPU
# time (user + system) of the same runs is printed too: on a loaded machine the wall ratio of
# a few-millisecond process is mostly its scheduling luck, the CPU ratio much less so.
#
#   scripts/bench-render.sh [--baseline BIN] [CASE-SUBSTRING...]
#
# --baseline BIN also times another chartimpact binary (e.g. a build of an older commit) in the
# same runs, so before/after ratios come from one run. Environment: CHARTIMPACT_CORPUS (default
# tests/data/corpus in this repository), CARGO_TARGET_DIR (where the release build goes), RUNS
# (default 3). Needs helm on PATH (scripts/install-helm.sh), python3 and GNU time
# (/usr/bin/time, for peak RSS). Exits 1 when the two renderers print different bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CHARTIMPACT_CORPUS:-$(pwd)/tests/data/corpus}"
[ -d "$corpus/cases" ] || { echo "no corpus at $corpus (set CHARTIMPACT_CORPUS)" >&2; exit 1; }
command -v helm >/dev/null || { echo "helm missing: scripts/install-helm.sh" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time missing: apt-get install time" >&2; exit 1; }
baseline=""
if [ "${1:-}" = "--baseline" ]; then
  baseline="$(realpath "$2")"
  shift 2
fi
cargo build --release -q --bin chartimpact
bin="${CARGO_TARGET_DIR:-$(pwd)/target}/release/chartimpact"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

python3 - "$bin" "$corpus" "${RUNS:-3}" "$baseline" "$@" <<'EOF'
import glob, os, platform, resource, statistics, subprocess, sys, time

binary, corpus, runs, baseline = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
filters = sys.argv[5:]

def timed(cmd):
    """Wall time of the whole process, its stdout read through a pipe (as the check does),
    its CPU time (user + system, all threads), and the completed process."""
    def cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime
    before = cpu()
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    # One child at a time: what the reaped children's total grew by is this one's.
    return wall, cpu() - before, p

def peak_rss_kb(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    return int(p.stderr.strip().splitlines()[-1])

def load():
    return open("/proc/loadavg").read().split()[0]

model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}; "
      f"load average {load()} at start; best of {runs}")
helm_version = subprocess.run(["helm", "version", "--template", "{{.Version}}"],
                              capture_output=True, text=True).stdout.strip()
print(f"helm {helm_version}; native: {binary}" + (f"; baseline: {baseline}" if baseline else ""))
print()
head = "| case | side | native ms | helm ms | ratio | CPU ratio |"
rule = "|---|---|---:|---:|---:|---:|"
if baseline:
    head += " baseline ms | baseline ratio |"
    rule += "---:|---:|"
head += " native / helm peak RSS MB |"
rule += "---:|"
print(head)
print(rule)

rows, base_rows, cpu_rows, different = [], [], [], []
for case in sorted(glob.glob(os.path.join(corpus, "cases", "*"))):
    name = os.path.basename(case)
    if filters and not any(f in name for f in filters):
        continue
    values = sorted(glob.glob(os.path.join(case, "values", "*")))
    extra = ["-f", values[0]] if values else []
    for side in ("before", "after"):
        d = os.path.join(case, side)
        native = [binary, "render", d, "--release-name", "release", "--namespace", "default",
                  "--renderer", "native"] + extra
        helm = ["helm", "template", "release", d, "--namespace", "default"] + extra
        older = [baseline] + native[1:] if baseline else None
        best = {"native": 1e9, "helm": 1e9, "baseline": 1e9}
        cpu = {"native": 1e9, "helm": 1e9, "baseline": 1e9}
        for i in range(runs):
            order = [("native", native), ("helm", helm)] + ([("baseline", older)] if older else [])
            if i % 2:
                order.reverse()
            for key, cmd in order:
                t, c, p = timed(cmd)
                best[key] = min(best[key], t)
                cpu[key] = min(cpu[key], c)
                if i == 0 and key == "native":
                    out_native = p
                if i == 0 and key == "helm":
                    out_helm = p
        if (out_native.returncode, out_native.stdout) != (out_helm.returncode, out_helm.stdout):
            different.append(f"{name} {side}")
        ratio = best["helm"] / best["native"]
        cpu_ratio = cpu["helm"] / max(cpu["native"], 1e-6)
        rows.append((ratio, f"{name} {side}"))
        cpu_rows.append((cpu_ratio, f"{name} {side}"))
        line = (f"| {name} | {side} | {best['native'] * 1000:.1f} | {best['helm'] * 1000:.1f} "
                f"| {ratio:.1f}× | {cpu_ratio:.1f}× |")
        if older:
            base_ratio = best["helm"] / best["baseline"]
            base_rows.append((base_ratio, f"{name} {side}"))
            line += f" {best['baseline'] * 1000:.1f} | {base_ratio:.1f}× |"
        rss_native, rss_helm = peak_rss_kb(native), peak_rss_kb(helm)
        line += f" {rss_native / 1024:.0f} / {rss_helm / 1024:.0f} |"
        print(line, flush=True)

def summary(label, rs):
    if not rs:
        return
    rs = sorted(rs)
    print(f"{label}: slowest {rs[0][0]:.1f}× ({rs[0][1]}), median {statistics.median(r for r, _ in rs):.1f}×, "
          f"fastest {rs[-1][0]:.1f}× over {len(rs)} sides")

print()
summary("native", rows)
summary("native, CPU time", cpu_rows)
summary("baseline", base_rows)
print(f"load average {load()} at the end")
if different:
    print("outputs differ (native vs helm): " + ", ".join(different), file=sys.stderr)
    sys.exit(1)
EOF
