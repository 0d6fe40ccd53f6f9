#!/usr/bin/env python3
"""Burst benchmark of webhook intake (bounded, loopback only): 1,000 signed pull_request
deliveries from 50 concurrent connections (sent by the Rust client
bins/chartimpact-server/examples/webhook_burst.rs) against a release chartimpact-server with SQLite, for a
local "GitHub" holding a corpus case as acme/charts. Reports acknowledgement latency
(p50/p99/max) and how long the workers take to complete every job.

usage: scripts/bench-webhooks.py [CASE] [DELIVERIES] [CLIENTS]"""
import json, os, shutil, socket, subprocess, sys, tempfile, time
import urllib.request

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.environ.get("CHARTIMPACT_CORPUS", os.path.join(root, "tests", "data", "corpus"))
case = sys.argv[1] if len(sys.argv) > 1 else "metrics-server__3.12.2__3.13.1"
total = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 50
secret = "bench-webhook-secret-0123456789"

subprocess.run(["cargo", "build", "--release", "-q", "--bin", "chartimpact-server", "--example", "webhook_burst"], cwd=root, check=True)
# Where cargo just put them (CARGO_TARGET_DIR, when set, moves the target directory).
release = os.path.join(root, os.environ.get("CARGO_TARGET_DIR") or "target", "release")
work = tempfile.mkdtemp(prefix="bench-webhooks-")
try:
    src = os.path.join(work, "src")
    subprocess.run([os.path.join(root, "scripts/make-case-repo.sh"), os.path.join(corpus, "cases", case), src],
                   check=True, capture_output=True)
    os.makedirs(os.path.join(work, "gh", "acme"))
    subprocess.run(["git", "clone", "-q", "--bare", src, os.path.join(work, "gh", "acme", "charts.git")], check=True)
    rev = lambda r: subprocess.run(["git", "-C", src, "rev-parse", r + "^{commit}"], capture_output=True, text=True).stdout.strip()
    base, head = rev("before"), rev("after")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    log = open(os.path.join(work, "server.log"), "wb")
    srv = subprocess.Popen([os.path.join(release, "chartimpact-server"), "--listen", f"127.0.0.1:{port}",
                            "--data-dir", os.path.join(work, "data"), "--allow-local-repos", "--rate-limit", "0",
                            "--webhook-secrets", secret, "--github-git-url", "file://" + os.path.join(work, "gh"),
                            "--max-queued-jobs", str(total), "--max-jobs-per-repo", str(total)] + os.environ.get("BENCH_SERVER_FLAGS", "").split(),
                           stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, CHARTIMPACT_LOG="warn"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1); break
        except Exception:
            time.sleep(0.05)
    out = subprocess.run([os.path.join(release, "examples", "webhook_burst"), url, secret, base, head,
                          str(total), str(clients)], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    start = time.perf_counter() - r["elapsed"]
    acked, accepted, jobs = r["elapsed"], r["accepted"], r["jobs"]
    print(f"deliveries: {total} from {clients} concurrent connections in {acked:.2f} s ({total / acked:.0f}/s); {accepted} accepted (202)")
    print(f"acknowledgement: p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms")
    while True:
        m = urllib.request.urlopen(url + "/metrics").read().decode()
        q = {l.split("{")[1].split('"')[1]: float(l.rsplit(" ", 1)[1]) for l in m.splitlines() if l.startswith("chartimpact_jobs{")}
        if q and q.get("queued", 0) + q.get("running", 0) + q.get("deferred", 0) == 0:
            break
        if time.perf_counter() - start > 600:
            print("jobs still pending after 600 s:", q); break
        time.sleep(0.2)
    finished = time.perf_counter() - start
    ok = 0
    for j in jobs:
        st = json.loads(urllib.request.urlopen(f"{url}/api/jobs/{j}").read())["status"]
        ok += st == "succeeded"
    print(f"jobs: {ok}/{len(jobs)} succeeded; all done {finished:.1f} s after the first delivery ({len(jobs) / finished:.0f} jobs/s)")
    hwm = [l.split()[1] for l in open(f"/proc/{srv.pid}/status") if l.startswith("VmHWM")]
    print(f"server peak RSS: {int(hwm[0]) // 1024} MiB" if hwm else "")
    srv.terminate(); srv.wait(30)
finally:
    shutil.rmtree(work, ignore_errors=True)
