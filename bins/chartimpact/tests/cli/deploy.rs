//! The project's own Helm chart, `deploy/helm/chartimpact`, checked with the project's tools:
//! for its defaults and every `ci/*.yaml` scenario, `helm template` and `chartimpact render
//! --renderer native` print the same bytes; the pods run under the restricted Pod Security
//! profile with probes, resources and a grace period longer than the server's drain; secrets
//! only ever arrive through Secrets; the manifests are valid for Kubernetes 1.31
//! (`kubernetes-validate --strict`); the alerts are valid PromQL that fire on the series the
//! server exports (`promtool test rules`); and the `chartimpact diff` from the default to the
//! HA setup is a reviewed snapshot.
//!
//! helm, kubernetes-validate and promtool are optional locally: without one, its checks say
//! they were skipped, unless `CHARTIMPACT_REQUIRE_HELM`, `CHARTIMPACT_REQUIRE_KUBE_VALIDATE` or
//! `CHARTIMPACT_REQUIRE_PROMTOOL` is `1` (as in CI), which makes a missing tool a failure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const RELEASE: &str = "release";
const NAMESPACE: &str = "default";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> PathBuf {
    workspace().join("deploy/helm/chartimpact")
}

/// `None` (the chart's defaults), then every `ci/*.yaml`, sorted.
fn scenarios() -> Vec<Option<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(chart().join("ci"))
        .expect("deploy/helm/chartimpact/ci")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "the chart needs at least the default and the HA scenario in ci/"
    );
    std::iter::once(None)
        .chain(files.into_iter().map(Some))
        .collect()
}

fn scenario_name(values: &Option<PathBuf>) -> String {
    values.as_ref().map_or("(defaults)".into(), |p| {
        p.file_name().unwrap().to_string_lossy().into_owned()
    })
}

fn ci_values(name: &str) -> Option<PathBuf> {
    Some(chart().join("ci").join(name))
}

/// A tool on `PATH`, or `None` after saying why the checks needing it are skipped; a panic
/// naming how to install it when `require_env` is `1`.
fn tool(name: &str, require_env: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let why = format!("{name} is not on PATH; {install}");
        assert!(
            std::env::var(require_env).as_deref() != Ok("1"),
            "{why} ({require_env}=1 makes it required)"
        );
        eprintln!("skipped: {why} (set {require_env}=1 to make this a failure)");
    }
    found
}

fn helm() -> Option<PathBuf> {
    tool(
        "helm",
        "CHARTIMPACT_REQUIRE_HELM",
        "run scripts/install-helm.sh",
    )
}

fn promtool() -> Option<PathBuf> {
    tool(
        "promtool",
        "CHARTIMPACT_REQUIRE_PROMTOOL",
        "apt-get install prometheus (it ships promtool)",
    )
}

fn values_args(values: &Option<PathBuf>) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| ["-f".to_owned(), v.to_string_lossy().into_owned()])
        .collect()
}

fn helm_template(helm: &Path, values: &Option<PathBuf>, extra: &[&str]) -> std::process::Output {
    Command::new(helm)
        .args(["template", RELEASE])
        .arg(chart())
        .args(["--namespace", NAMESPACE])
        .args(values_args(values))
        .args(extra)
        .output()
        .unwrap()
}

fn native_render(values: &Option<PathBuf>, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chartimpact"))
        .arg("render")
        .arg(chart())
        .args(["--release-name", RELEASE, "--namespace", NAMESPACE])
        .args(["--renderer", "native"])
        .args(values_args(values))
        .args(extra)
        .output()
        .unwrap()
}

fn native(values: &Option<PathBuf>) -> String {
    let out = native_render(values, &[]);
    assert!(
        out.status.success(),
        "{}: {}",
        scenario_name(values),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The documents of a render, as JSON values.
fn documents(manifest: &str) -> Vec<Value> {
    yaml11::parse_stream(manifest, &yaml11::Limits::default())
        .unwrap()
        .into_iter()
        .map(|d| serde_json::to_value(&d.value).unwrap())
        .filter(|v| v.is_object())
        .collect()
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

fn name(doc: &Value) -> String {
    format!(
        "{}/{}",
        kind(doc),
        doc["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Pod specs of every workload kind, with the workload's name.
fn pod_specs(docs: &[Value]) -> Vec<(String, &Value)> {
    docs.iter()
        .filter_map(|d| {
            let spec = match kind(d) {
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                    &d["spec"]["template"]["spec"]
                }
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                "Pod" => &d["spec"],
                _ => return None,
            };
            Some((name(d), spec))
        })
        .collect()
}

fn env_value(container: &Value, var: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == var)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

#[test]
fn helm_and_the_native_renderer_print_the_same_bytes_for_every_scenario() {
    let Some(helm) = helm() else { return };
    let mut different = Vec::new();
    for values in scenarios() {
        let h = helm_template(&helm, &values, &[]);
        assert!(
            h.status.success(),
            "helm template {}: {}",
            scenario_name(&values),
            String::from_utf8_lossy(&h.stderr)
        );
        let n = native(&values);
        if h.stdout != n.as_bytes() {
            let h = String::from_utf8_lossy(&h.stdout);
            let line = h
                .lines()
                .zip(n.lines())
                .position(|(a, b)| a != b)
                .map_or(h.lines().count().min(n.lines().count()), |i| i);
            different.push(format!(
                "{}: first difference at line {}:\n  helm:   {:?}\n  native: {:?}",
                scenario_name(&values),
                line + 1,
                h.lines().nth(line),
                n.lines().nth(line)
            ));
        }
    }
    assert!(different.is_empty(), "{}", different.join("\n"));
}

#[test]
fn helm_lint_passes() {
    let Some(helm) = helm() else { return };
    for values in scenarios() {
        let out = Command::new(&helm)
            .arg("lint")
            .arg(chart())
            .args(["--strict"])
            .args(values_args(&values))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm lint {}: {}{}",
            scenario_name(&values),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn pods_run_under_the_restricted_profile_with_probes_resources_and_a_long_enough_grace() {
    for values in scenarios() {
        let scenario = scenario_name(&values);
        let docs = documents(&native(&values));
        let pods = pod_specs(&docs);
        assert!(!pods.is_empty(), "{scenario}: no workload rendered");
        for (workload, pod) in pods {
            let at = format!("{scenario}: {workload}");
            let pod_sc = &pod["securityContext"];
            assert_eq!(pod_sc["runAsNonRoot"], true, "{at}: pod runAsNonRoot");
            assert_ne!(pod_sc["runAsUser"], 0, "{at}: runAsUser 0");
            assert_eq!(
                pod_sc["seccompProfile"]["type"], "RuntimeDefault",
                "{at}: pod seccomp"
            );
            for host in ["hostNetwork", "hostPID", "hostIPC"] {
                assert_ne!(pod[host], true, "{at}: {host}");
            }
            for volume in pod["volumes"].as_array().into_iter().flatten() {
                assert!(volume["hostPath"].is_null(), "{at}: hostPath volume");
            }
            assert_eq!(
                pod["automountServiceAccountToken"], false,
                "{at}: the server needs no Kubernetes API token"
            );
            let containers: Vec<&Value> = pod["containers"]
                .as_array()
                .into_iter()
                .chain(pod["initContainers"].as_array())
                .flatten()
                .collect();
            for c in containers {
                let at = format!("{at} container {}", c["name"]);
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{at}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{at}");
                assert_ne!(sc["privileged"], true, "{at}");
                assert_ne!(sc["runAsNonRoot"], false, "{at}");
                assert_eq!(
                    sc["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{at}"
                );
                assert!(
                    sc["capabilities"]["add"].is_null(),
                    "{at}: capabilities added"
                );
                assert!(
                    matches!(
                        sc["seccompProfile"]["type"].as_str(),
                        None | Some("RuntimeDefault")
                    ),
                    "{at}: seccomp"
                );
                for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
                    assert_eq!(c[probe]["httpGet"]["path"], "/api/health", "{at}: {probe}");
                }
                for need in ["cpu", "memory"] {
                    assert!(
                        c["resources"]["requests"][need].is_string(),
                        "{at}: requests.{need}"
                    );
                    assert!(
                        c["resources"]["limits"][need].is_string(),
                        "{at}: limits.{need}"
                    );
                }
                // A read-only root needs somewhere to write: renders go to /tmp, the rest to
                // the data directory.
                let mounts: BTreeSet<&str> = c["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["mountPath"].as_str())
                    .collect();
                assert!(
                    mounts.contains("/tmp") && mounts.contains("/data"),
                    "{at}: {mounts:?}"
                );
                assert_eq!(
                    env_value(c, "CHARTIMPACT_DATA_DIR").as_deref(),
                    Some("/data")
                );

                // The server drains in-flight requests (each bounded by the compare timeout),
                // then its job workers for up to 30 s, after any preStop sleep.
                let compare_timeout: u64 = env_value(c, "CHARTIMPACT_COMPARE_TIMEOUT")
                    .expect("CHARTIMPACT_COMPARE_TIMEOUT")
                    .parse()
                    .unwrap();
                let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
                    .as_u64()
                    .unwrap_or(0);
                let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
                assert!(
                    grace > pre_stop + compare_timeout + 30,
                    "{at}: terminationGracePeriodSeconds {grace} is not longer than the drain"
                );
            }
        }
    }
}

#[test]
fn secrets_only_arrive_through_secrets() {
    let secret_vars = [
        "CHARTIMPACT_DATABASE_URL",
        "CHARTIMPACT_WEBHOOK_SECRETS",
        "CHARTIMPACT_GITHUB_TOKEN",
    ];
    let mut seen = BTreeSet::new();
    for values in scenarios() {
        let scenario = scenario_name(&values);
        let docs = documents(&native(&values));
        assert!(
            !docs.iter().any(|d| kind(d) == "Secret"),
            "{scenario}: the chart must not create Secrets; it takes existing ones"
        );
        for d in docs.iter().filter(|d| kind(d) == "ConfigMap") {
            for key in d["data"].as_object().into_iter().flatten().map(|(k, _)| k) {
                assert!(
                    !secret_vars.contains(&key.as_str()),
                    "{scenario}: {key} in {}",
                    name(d)
                );
            }
        }
        for (workload, pod) in pod_specs(&docs) {
            for c in pod["containers"].as_array().unwrap() {
                for e in c["env"].as_array().into_iter().flatten() {
                    let var = e["name"].as_str().unwrap();
                    if secret_vars.contains(&var) {
                        seen.insert(var.to_owned());
                        assert!(
                            e["value"].is_null() && e["valueFrom"]["secretKeyRef"].is_object(),
                            "{scenario}: {workload} sets {var} without a secretKeyRef: {e}"
                        );
                    }
                }
                if let Some(key_file) = env_value(c, "CHARTIMPACT_GITHUB_PRIVATE_KEY_FILE") {
                    let mounted_from_secret = c["volumeMounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|m| key_file.starts_with(m["mountPath"].as_str().unwrap()))
                        .any(|m| {
                            pod["volumes"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .any(|v| v["name"] == m["name"] && v["secret"].is_object())
                        });
                    assert!(
                        mounted_from_secret,
                        "{scenario}: {key_file} is not on a Secret volume"
                    );
                    seen.insert("CHARTIMPACT_GITHUB_PRIVATE_KEY_FILE".to_owned());
                }
            }
        }
    }
    // The scenarios between them exercise every secret.
    assert_eq!(
        seen.len(),
        secret_vars.len() + 1,
        "scenarios should cover every secret: {seen:?}"
    );
}

#[test]
fn scenarios_cover_sqlite_on_a_claim_and_postgres_with_several_replicas() {
    let default = documents(&native(&ci_values("default.yaml")));
    let deployment = default.iter().find(|d| kind(d) == "Deployment").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    assert!(default.iter().any(|d| kind(d) == "PersistentVolumeClaim"));
    assert!(
        !default.iter().any(|d| kind(d) == "PodDisruptionBudget"),
        "a PDB over one replica blocks node drains"
    );

    let ha = documents(&native(&ci_values("ha-postgres.yaml")));
    let deployment = ha.iter().find(|d| kind(d) == "Deployment").unwrap();
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() > 1);
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    assert!(!ha.iter().any(|d| kind(d) == "PersistentVolumeClaim"));
    for k in [
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "ServiceMonitor",
        "PrometheusRule",
    ] {
        assert!(ha.iter().any(|d| kind(d) == k), "HA scenario lacks a {k}");
    }
    let ingress = ha.iter().find(|d| kind(d) == "Ingress").unwrap();
    assert!(
        ingress["spec"]["tls"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    let dashboard = ha
        .iter()
        .find(|d| kind(d) == "ConfigMap" && d["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("the Grafana dashboard ConfigMap");
    let json: Value =
        serde_json::from_str(dashboard["data"]["chartimpact.json"].as_str().unwrap()).unwrap();
    assert_eq!(json["uid"], "chartimpact");
}

#[test]
fn bad_combinations_of_values_are_refused_with_what_to_do() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--set", "replicaCount=3"],
            "replicaCount is 3 but database.type is sqlite",
        ),
        (
            &["--set", "database.type=postgres"],
            "database.existingSecret is empty",
        ),
        (
            &["--set", "terminationGracePeriodSeconds=30"],
            "terminationGracePeriodSeconds 30 is shorter than the server's drain",
        ),
        (
            &[
                "--set",
                "github.app.id=1",
                "--set",
                "github.token.existingSecret=t",
            ],
            "either as a GitHub App or with a token",
        ),
        (
            &["--set", "podSecurity.runAsUser=0"],
            "podSecurity.runAsUser: Must be greater than or equal to 1",
        ),
    ];
    let helm = helm();
    for (args, message) in cases {
        let n = native_render(&None, args);
        let err = String::from_utf8_lossy(&n.stderr);
        assert!(!n.status.success() && n.stdout.is_empty(), "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        if let Some(helm) = &helm {
            let h = helm_template(helm, &None, args);
            assert!(!h.status.success(), "{args:?}");
            assert!(
                String::from_utf8_lossy(&h.stderr).contains(message),
                "helm {args:?}: {}",
                String::from_utf8_lossy(&h.stderr)
            );
        }
    }
}

#[test]
fn manifests_are_valid_for_kubernetes_1_31() {
    let Some(validate) = tool(
        "kubernetes-validate",
        "CHARTIMPACT_REQUIRE_KUBE_VALIDATE",
        "pip install kubernetes-validate",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for values in scenarios() {
        let scenario = scenario_name(&values);
        let file = dir.path().join("render.yaml");
        std::fs::write(&file, native(&values)).unwrap();
        let out = Command::new(&validate)
            .args(["--strict", "--quiet", "-k", "1.31.0"])
            .arg(&file)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{scenario}: {report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Only the Prometheus Operator's kinds have no schema there.
        for line in report.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                line.contains("api version monitoring.coreos.com/v1"),
                "{scenario}: {line}"
            );
        }
    }
}

/// Every `chartimpact_*` name the server's sources record (`crates/**/src`).
fn exported_metric_names() -> BTreeSet<String> {
    fn walk(dir: &Path, names: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, names);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("\"chartimpact_").skip(1) {
                    let end = piece
                        .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                        .unwrap_or(piece.len());
                    if piece[end..].starts_with('"') {
                        names.insert(format!("chartimpact_{}", &piece[..end]));
                    }
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    for dir in ["crates", "bins"] {
        for entry in std::fs::read_dir(workspace().join(dir)).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                walk(&src, &mut names);
            }
        }
    }
    names
}

/// `chartimpact_*` metric names in a PromQL expression, histogram series suffixes removed.
fn metric_names_in(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for piece in expr.split("chartimpact_").skip(1) {
        let end = piece
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(piece.len());
        let name = format!("chartimpact_{}", &piece[..end]);
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .map_or(name.clone(), str::to_owned);
        names.insert(base);
    }
    names
}

fn ha_rules() -> Value {
    let docs = documents(&native(&ci_values("ha-postgres.yaml")));
    let rule = docs
        .iter()
        .find(|d| kind(d) == "PrometheusRule")
        .expect("the HA scenario renders the PrometheusRule");
    serde_json::json!({ "groups": rule["spec"]["groups"] })
}

fn dashboard_exprs() -> Vec<String> {
    let text = std::fs::read_to_string(chart().join("dashboards/chartimpact.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(exprs.len() >= 10, "{exprs:?}");
    exprs
}

#[test]
fn alerts_and_dashboard_use_only_metrics_the_server_exports() {
    let exported = exported_metric_names();
    assert!(
        exported.contains("chartimpact_http_requests_total"),
        "{exported:?}"
    );
    let rules = ha_rules();
    let alerts: Vec<String> = rules["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["expr"].as_str().unwrap().to_owned())
        .collect();
    for expr in alerts.iter().chain(&dashboard_exprs()) {
        for metric in metric_names_in(expr) {
            assert!(
                exported.contains(&metric),
                "{metric} (in {expr}) is not recorded anywhere in crates/*/src"
            );
        }
    }
    // The four alerts are there.
    let names: Vec<&str> = rules["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["alert"].as_str())
        .collect();
    for want in [
        "ChartImpactWebhookFailures",
        "ChartImpactJobQueueBacklog",
        "ChartImpactJobsFailing",
        "ChartImpactGithubRateLimitLow",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
}

#[test]
fn alerts_fire_on_trouble_and_stay_quiet_otherwise() {
    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.json"),
        serde_json::to_string_pretty(&ha_rules()).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        workspace().join("deploy/helm/tests/alerts-test.yaml"),
        dir.path().join("alerts-test.yaml"),
    )
    .unwrap();
    let check = Command::new(&promtool)
        .args(["check", "rules", "rules.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let test = Command::new(&promtool)
        .args(["test", "rules", "alerts-test.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

#[test]
fn dashboard_queries_are_valid_promql() {
    let Some(promtool) = promtool() else { return };
    // Grafana's variables replaced by what they stand for, each query a recording rule.
    let rules: Vec<Value> = dashboard_exprs()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let expr = e
                .replace("$__rate_interval", "5m")
                .replace("$namespace", NAMESPACE)
                .replace("$job", "release-chartimpact");
            serde_json::json!({ "record": format!("dashboard:query{i}"), "expr": expr })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.json");
    std::fs::write(
        &file,
        serde_json::json!({ "groups": [{ "name": "dashboard", "rules": rules }] }).to_string(),
    )
    .unwrap();
    let out = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_diff_from_the_default_to_the_ha_setup_is_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let (default, ha) = (dir.path().join("default.yaml"), dir.path().join("ha.yaml"));
    std::fs::write(&default, native(&ci_values("default.yaml"))).unwrap();
    std::fs::write(&ha, native(&ci_values("ha-postgres.yaml"))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chartimpact"))
        .arg("diff")
        .arg(&default)
        .arg(&ha)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn the_github_app_manifest_asks_for_what_the_server_uses_and_no_more() {
    let text = std::fs::read_to_string(workspace().join("deploy/github-app.yml")).unwrap();
    let manifest = serde_json::to_value(
        yaml11::parse_value(&text, &yaml11::Limits::default()).expect("valid YAML"),
    )
    .unwrap();
    assert_eq!(
        manifest["default_permissions"],
        serde_json::json!({
            "checks": "write",
            "statuses": "write",
            "pull_requests": "write",
            "issues": "write",
            "contents": "read",
            "metadata": "read",
        })
    );
    let events: BTreeSet<&str> = manifest["default_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        BTreeSet::from([
            "pull_request",
            "push",
            "issue_comment",
            "release",
            "check_run"
        ])
    );
    assert!(
        manifest["hook_attributes"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/api/webhooks/github")
    );
    assert_eq!(manifest["public"], false);
}
