#!/usr/bin/env python3
"""Renders every chart found under some directories with `chartimpact render --renderer native` and
with `helm template`, and reports where the two differ.

    scripts/conformance-sweep.py [--chartimpact BIN] [--helm BIN] [--keep DIR] [--flag F]...
                                 [--time] [--prepare DIR] ROOT...

Every directory holding a Chart.yaml is a chart (its `charts/` are not searched). Each is
rendered with its defaults and once per `ci/*.yaml` and `examples/*/values.yaml` it ships,
as release "release" in namespace "default", with any `--flag` given to both (e.g.
`--flag=--include-crds`, `--flag=--kube-version=1.29.0`). Dependencies named in Chart.yaml or
requirements.yaml that are not vendored are copied in from a chart of that name found under
the roots (versions are not checked, as `helm template` does not check them); a chart whose
dependencies cannot all be found is skipped.

Outcomes, per render:
  identical    same bytes on stdout, both succeeded
  random-only  every differing line differs only in a value that looks generated
               (randAlphaNum, genCA, bcrypt salts, their checksums, `now`): same key, both values
               base64/hex-like and at least 10 long (or hex digests of one length),
               lengths within 16 — the native renderer seeds its randomness
               and clock so that a comparison is stable, helm does not
  same-error   both failed with the same message (helm's "deprecated" warning aside)
  DIFFERENT    anything else; the outputs are kept under --keep for a look

Exit status 1 if any render is DIFFERENT or fails on one side only.

--time also times each render that both sides make (whole process, best of 3, one after the
other as the contract check `performance` does) and prints how many times faster the native
renderer was, then the slowest and the median ratio: the speed on charts outside the corpus
(docs/BENCHMARKS.md). --prepare DIR only writes every chart, its dependencies vendored, into
DIR (one directory per chart, for scripts/pgo-profile.sh) and renders nothing.
"""
import argparse
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

RANDOMISH = re.compile(r"^[A-Za-z0-9+/=_.$-]*$")
HEX = re.compile(r"^[0-9a-f]+$")


def find_charts(roots):
    charts = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            if "/.git" in dirpath or "/testdata" in dirpath:
                continue
            if "Chart.yaml" in filenames:
                charts.setdefault(os.path.basename(dirpath), dirpath)
                dirnames[:] = [d for d in dirnames if d != "charts"]
    return charts


def dependency_names(chart_dir):
    text = ""
    for name in ("Chart.yaml", "requirements.yaml"):
        try:
            with open(os.path.join(chart_dir, name), encoding="utf-8", errors="replace") as f:
                text += f.read() + "\n"
        except OSError:
            pass
    names = []
    for block in re.findall(r"^dependencies:\n((?:[ \t-].*\n?)*)", text, re.M):
        names += re.findall(r"^\s*-?\s*name:\s*['\"]?([\w.-]+)", block, re.M)
    return names


def vendor(chart_dir, charts, seen=()):
    for name in dependency_names(chart_dir):
        present = os.path.isdir(os.path.join(chart_dir, "charts", name)) or glob.glob(
            os.path.join(chart_dir, "charts", name + "-*.tgz")
        )
        if present:
            continue
        source = charts.get(name)
        if not source or name in seen:
            return False
        target = os.path.join(chart_dir, "charts", name)
        shutil.copytree(source, target, symlinks=True)
        if not vendor(target, charts, seen + (name,)):
            return False
    return True


def value_is_randomish(a, b):
    a, b = a.strip().strip("\"'"), b.strip().strip("\"'")
    if a == b:
        return True
    # The time: native's clock stands at the Unix epoch (a is helm's value, b native's).
    if (b == "0" and a.isdigit() and len(a) >= 9) or b.startswith("1970-01-01"):
        return True
    # Short hex digests (a truncated checksum) of the same length.
    if len(a) == len(b) >= 4 and HEX.match(a) and HEX.match(b):
        return True
    # Long enough that a real value (a count, a tag, a flag) cannot pass for it.
    return (
        min(len(a), len(b)) >= 10
        and bool(RANDOMISH.match(a) and RANDOMISH.match(b))
        and abs(len(a) - len(b)) <= 16
    )


def line_is_randomish(x, y):
    for sep in (":", "="):
        if sep in x and sep in y:
            kx, vx = x.split(sep, 1)
            ky, vy = y.split(sep, 1)
            if kx == ky and value_is_randomish(vx, vy):
                return True
    return value_is_randomish(x, y)


def only_random(a, b):
    a = a.decode("utf-8", "replace").splitlines()
    b = b.decode("utf-8", "replace").splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op != "replace" or i2 - i1 != j2 - j1:
            return False
        if not all(line_is_randomish(a[i1 + k], b[j1 + k]) for k in range(i2 - i1)):
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roots", nargs="+")
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    ap.add_argument("--chartimpact", default=os.path.join(target, "release", "chartimpact"))
    ap.add_argument("--helm", default="helm")
    ap.add_argument("--keep", help="directory for the outputs of DIFFERENT renders")
    ap.add_argument("--flag", action="append", default=[], help="a flag for both commands")
    ap.add_argument("--time", action="store_true", help="time both renders, report the ratios")
    ap.add_argument("--prepare", metavar="DIR", help="write the vendored charts into DIR, no renders")
    args = ap.parse_args()

    charts = find_charts(args.roots)
    if args.prepare:
        return prepare(charts, args.prepare)
    work = tempfile.mkdtemp(prefix="conformance-sweep-")
    counts = {k: 0 for k in ("identical", "random-only", "same-error", "DIFFERENT", "one-side-fails", "skipped")}
    problems = []
    ratios = []
    try:
        for name, source in sorted(charts.items()):
            chart_dir = os.path.join(work, name)
            if not copy_vendored(source, chart_dir, charts):
                counts["skipped"] += 1
                print(f"skipped     {name} (a dependency is not under the roots)")
                continue
            extras = sorted(glob.glob(os.path.join(chart_dir, "ci", "*.yaml")))
            extras += sorted(glob.glob(os.path.join(chart_dir, "examples", "*", "values.yaml")))
            for values in [None] + extras:
                label = name if values is None else f"{name} -f {os.path.relpath(values, chart_dir)}"
                flags = args.flag + ([] if values is None else ["-f", values])
                helm = subprocess.run(
                    [args.helm, "template", "release", chart_dir, "--namespace", "default"] + flags,
                    capture_output=True, timeout=300,
                )
                native = subprocess.run(
                    [args.chartimpact, "render", chart_dir, "--renderer", "native"] + flags, capture_output=True, timeout=300
                )
                if helm.returncode == 0 and native.returncode == 0:
                    if helm.stdout == native.stdout:
                        outcome = "identical"
                    elif only_random(helm.stdout, native.stdout):
                        outcome = "random-only"
                    else:
                        outcome = "DIFFERENT"
                        if args.keep:
                            os.makedirs(args.keep, exist_ok=True)
                            stem = os.path.join(args.keep, label.replace("/", "_").replace(" ", "_"))
                            with open(stem + ".helm.yaml", "wb") as f:
                                f.write(helm.stdout)
                            with open(stem + ".native.yaml", "wb") as f:
                                f.write(native.stdout)
                elif helm.returncode != 0 and native.returncode != 0:
                    h = helm.stderr.decode("utf-8", "replace").replace("WARNING: This chart is deprecated\n", "")
                    h = "".join(l for l in h.splitlines(True) if not l.startswith("dependencies.go:"))
                    n = native.stderr.decode("utf-8", "replace")
                    outcome = "same-error" if h == n else "DIFFERENT"
                else:
                    outcome = "one-side-fails"
                    failed = helm if helm.returncode != 0 else native
                    side = "helm" if helm.returncode != 0 else "native"
                    last = (failed.stderr.decode("utf-8", "replace").strip().splitlines() or ["(no message)"])[-1]
                    label += f" ({side}: {last[:200]})"
                if args.time and outcome in ("identical", "random-only"):
                    n = best([args.chartimpact, "render", chart_dir, "--renderer", "native"] + flags)
                    h = best([args.helm, "template", "release", chart_dir, "--namespace", "default"] + flags)
                    ratios.append((h / n, label))
                    outcome_note = f"  {h / n:5.1f}x  ({n * 1000:.1f} ms vs helm {h * 1000:.1f} ms)"
                else:
                    outcome_note = ""
                counts[outcome] += 1
                if outcome in ("DIFFERENT", "one-side-fails"):
                    problems.append(f"{outcome:14} {label}")
                print(f"{outcome:14} {label}{outcome_note}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = sum(v for k, v in counts.items() if k != "skipped")
    print()
    print(f"{len(charts)} charts, {total} renders: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    for p in problems:
        print("  " + p)
    if ratios:
        ratios.sort()
        slowest = ", ".join(f"{r:.1f}x {label}" for r, label in ratios[:5])
        print(f"native vs helm over {len(ratios)} renders: median {ratios[len(ratios) // 2][0]:.1f}x, slowest {slowest}")
    return 1 if problems else 0


def best(cmd, k=3):
    """The shortest of `k` runs of `cmd`, in seconds."""
    b = float("inf")
    for _ in range(k):
        s = time.perf_counter()
        subprocess.run(cmd, capture_output=True, timeout=300)
        b = min(b, time.perf_counter() - s)
    return b


def copy_vendored(source, chart_dir, charts):
    """Copies the chart at `source` to `chart_dir` with its dependencies vendored; False (and
    nothing left at `chart_dir`) when one is not under the roots."""
    if os.path.exists(chart_dir):
        shutil.rmtree(chart_dir)
    shutil.copytree(source, chart_dir, symlinks=True)
    if vendor(chart_dir, charts):
        return True
    shutil.rmtree(chart_dir)
    return False


def prepare(charts, out):
    os.makedirs(out, exist_ok=True)
    ready = skipped = 0
    for name, source in sorted(charts.items()):
        if copy_vendored(source, os.path.join(out, name), charts):
            ready += 1
        else:
            skipped += 1
    print(f"{ready} charts written to {out}, {skipped} skipped (a dependency is not under the roots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
