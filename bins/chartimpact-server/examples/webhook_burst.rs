//! Load client for `scripts/bench-webhooks.py`: sends N distinct signed `pull_request`
//! deliveries from C concurrent connections and prints acknowledgement latencies as JSON.
//! A Rust client, so the client does not take the server's CPU the way a Python one would.
//!
//! usage: webhook_burst URL SECRET BASE_SHA HEAD_SHA N C

use std::sync::Arc;
use std::time::Instant;

fn sign(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let hex: String = ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    let [_, url, secret, base, head, n, c] = a.as_slice() else {
        eprintln!("usage: webhook_burst URL SECRET BASE_SHA HEAD_SHA N C");
        std::process::exit(2);
    };
    let (n, c): (usize, usize) = (n.parse().unwrap(), c.parse().unwrap());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let repo = serde_json::json!({"id": 424242, "name": "charts", "full_name": "acme/charts", "owner": {"login": "acme", "id": 99}});
    let requests: Vec<(Vec<u8>, String)> = (1..=n)
        .map(|i| {
            let body = serde_json::to_vec(&serde_json::json!({
                "action": "opened", "number": i, "repository": repo,
                "pull_request": {"number": i, "state": "open", "draft": false, "labels": [],
                    "head": {"sha": head, "ref": format!("pr-{i}"), "repo": repo},
                    "base": {"sha": base, "ref": "main", "repo": repo}},
            }))
            .unwrap();
            let sig = sign(secret, &body);
            (body, sig)
        })
        .collect();
    let requests = Arc::new(requests);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (client, requests, next, url) =
            (client.clone(), requests.clone(), next.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, sig)) = requests.get(i) else {
                    break;
                };
                let t = Instant::now();
                let r = client
                    .post(format!("{url}/api/webhooks/github"))
                    .header("content-type", "application/json")
                    .header("x-github-event", "pull_request")
                    .header("x-github-delivery", format!("burst-{i}"))
                    .header("x-hub-signature-256", sig)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let ack: serde_json::Value = r.json().await.unwrap();
                out.push((
                    t.elapsed().as_secs_f64() * 1000.0,
                    status,
                    ack["jobId"].as_str().map(str::to_owned),
                ));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut lat: Vec<f64> = all.iter().map(|r| r.0).collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let jobs: Vec<String> = all.iter().filter_map(|r| r.2.clone()).collect();
    println!(
        "{}",
        serde_json::json!({
            "elapsed": elapsed, "accepted": all.iter().filter(|r| r.1 == 202).count(),
            "p50": pct(0.5), "p99": pct(0.99), "max": lat[lat.len() - 1], "jobs": jobs,
        })
    );
}
