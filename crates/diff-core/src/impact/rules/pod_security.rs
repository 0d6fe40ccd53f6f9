//! Pod security: settings that weaken the isolation between a pod and its node, flagged when
//! newly introduced — in a new workload as well as in a changed one.
//!
//! All high except `capability-added` for capabilities outside the dangerous list (medium),
//! e.g. `NET_BIND_SERVICE`.

use std::collections::BTreeSet;

use yaml11::Value;

use crate::classify::pod_spec_prefix;
use crate::model::ChangeType::Removed;
use crate::model::Level;
use crate::model::Level::{High, Medium};
use crate::model::SignalCategory::Security;
use crate::path::Path;

use super::super::findings::Findings;
use super::super::pod::{containers, list_word, pod_spec};
use super::super::view::{View, keys_path, seq_at, str_at};

/// Capabilities that amount to (or quickly lead to) root on the node.
const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "BPF",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "NET_ADMIN",
    "NET_RAW",
    "PERFMON",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_TIME",
];

struct Finding {
    /// Identity for comparing the two sides.
    key: String,
    rule: &'static str,
    level: Level,
    field: String,
    value: String,
    title: String,
    description: String,
}

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    if v.change_type() == Removed {
        return;
    }
    let kind = v.kind();
    let (Some(prefix), Some(after)) = (pod_spec_prefix(kind), v.after) else {
        return;
    };
    let old: BTreeSet<String> = v
        .before
        .map(|b| {
            findings(kind, prefix, b)
                .into_iter()
                .map(|f| f.key)
                .collect()
        })
        .unwrap_or_default();
    for f in findings(kind, prefix, after) {
        if old.contains(&f.key) {
            continue;
        }
        let s = out.signal(
            v,
            f.rule,
            f.level,
            Security,
            f.title,
            format!("{}: {}", v.short(), f.description),
        );
        s.field = Some(f.field);
        s.new_value = Some(f.value);
    }
}

fn findings(kind: &str, prefix: &[&str], obj: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(pod) = pod_spec(kind, obj) else {
        return out;
    };
    let base = keys_path(prefix);
    for ns in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.get(ns).and_then(Value::as_bool) == Some(true) {
            out.push(Finding {
                key: ns.to_owned(),
                rule: "host-namespace",
                level: High,
                field: base.key(ns).to_string(),
                value: "true".to_owned(),
                title: format!("Pod shares the node's namespace: {ns}"),
                description: format!(
                    "{ns}: true puts the pods in the node's {} namespace, so they see (and can \
                     interfere with) the node's {}. Check this is required, e.g. for a node \
                     agent.",
                    &ns[4..].to_lowercase(),
                    match ns {
                        "hostNetwork" => "network interfaces and every port bound on the node",
                        "hostPID" => "processes",
                        _ => "shared memory and IPC",
                    }
                ),
            });
        }
    }
    for (i, vol) in seq_at(pod, &["volumes"]).iter().enumerate() {
        let Some(path) = vol.get("hostPath").and_then(|h| str_at(h, &["path"])) else {
            continue;
        };
        let name = str_at(vol, &["name"]).unwrap_or("");
        out.push(Finding {
            key: format!("hostPath {name} {path}"),
            rule: "host-path-volume",
            level: High,
            field: base
                .key("volumes")
                .select(vec![("name".to_owned(), name.to_owned())], i)
                .key("hostPath")
                .to_string(),
            value: path.to_owned(),
            title: format!("hostPath volume mounted: {path}"),
            description: format!(
                "volume {name} mounts {path} from the node's filesystem, which lets the pods \
                 read or change node files and can be a path to root on the node. Check the path \
                 is needed and mounted read-only where possible."
            ),
        });
    }
    if let Some(ctx) = pod.get("securityContext") {
        root_findings(
            &mut out,
            ctx,
            &base.key("securityContext"),
            "pod",
            "the pods",
        );
    }
    for c in containers(pod) {
        let ctx = c.value.get("securityContext");
        let at = c.path(prefix).key("securityContext");
        let who = format!("{} {}", list_word(c.list), c.name);
        let flag = |k: &str| ctx.and_then(|x| x.get(k)).and_then(Value::as_bool);
        if flag("privileged") == Some(true) {
            out.push(Finding {
                key: format!("privileged {who}"),
                rule: "privileged-container",
                level: High,
                field: at.key("privileged").to_string(),
                value: "true".to_owned(),
                title: format!("Privileged container: {}", c.name),
                description: format!(
                    "{who} runs privileged: it has every capability and access to the node's \
                     devices, so a compromise of the container is a compromise of the node. \
                     Check whether specific capabilities would do."
                ),
            });
        }
        if flag("allowPrivilegeEscalation") == Some(true) {
            out.push(Finding {
                key: format!("escalation {who}"),
                rule: "privilege-escalation-allowed",
                level: High,
                field: at.key("allowPrivilegeEscalation").to_string(),
                value: "true".to_owned(),
                title: format!("Privilege escalation allowed: {}", c.name),
                description: format!(
                    "{who} sets allowPrivilegeEscalation: true, so its processes can gain more \
                     privileges than their parent (setuid binaries). Check it is needed; \
                     restricted pod security requires false."
                ),
            });
        }
        let caps = ctx
            .map(|x| seq_at(x, &["capabilities", "add"]))
            .unwrap_or(&[]);
        for cap in caps.iter().filter_map(Value::as_str) {
            let norm = cap.trim_start_matches("CAP_").to_uppercase();
            let dangerous = DANGEROUS_CAPS.contains(&norm.as_str());
            out.push(Finding {
                key: format!("cap {who} {norm}"),
                rule: "capability-added",
                level: if dangerous { High } else { Medium },
                field: at.key("capabilities").key("add").to_string(),
                value: norm.clone(),
                title: format!("Linux capability added: {norm} in {}", c.name),
                description: format!(
                    "{who} gains the {norm} capability{}. Check it is needed and that the \
                     namespace's pod security level admits it.",
                    if dangerous {
                        ", which gives it powers over the node's kernel, network or other \
                         processes that can be turned into root on the node"
                    } else {
                        ""
                    }
                ),
            });
        }
        if let Some(ctx) = ctx {
            root_findings(&mut out, ctx, &at, &who, &who);
        }
    }
    out
}

/// `runAsUser: 0` and `runAsNonRoot: false` in a pod or container security context.
fn root_findings(out: &mut Vec<Finding>, ctx: &Value, at: &Path, key: &str, who: &str) {
    if ctx.get("runAsUser").and_then(Value::as_f64) == Some(0.0) {
        out.push(Finding {
            key: format!("uid0 {key}"),
            rule: "runs-as-root",
            level: High,
            field: at.key("runAsUser").to_string(),
            value: "0".to_owned(),
            title: format!("Runs as root: {who}"),
            description: format!(
                "Processes in {who} run as user 0 (root). A process escaping the container is root on the \
                 node, and root in the container can change anything in it. Check the image \
                 works as a non-root user."
            ),
        });
    }
    if ctx.get("runAsNonRoot").and_then(Value::as_bool) == Some(false) {
        out.push(Finding {
            key: format!("nonroot-false {key}"),
            rule: "runs-as-root",
            level: High,
            field: at.key("runAsNonRoot").to_string(),
            value: "false".to_owned(),
            title: format!("Root allowed: {who}"),
            description: format!(
                "The security context of {who} sets runAsNonRoot: false, so images that run as root are allowed to. \
                 Check the images run as a non-root user and set runAsNonRoot: true."
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Medium};
    use crate::model::SignalCategory::Security;

    const DEPLOY: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - name: app
        image: 'agent:1'
        securityContext: {runAsUser: 1000, allowPrivilegeEscalation: false}
";

    fn with_pod(extra: &str) -> String {
        DEPLOY.replace("      containers:", &format!("{extra}\n      containers:"))
    }

    fn with_ctx(ctx: &str) -> String {
        DEPLOY.replace("{runAsUser: 1000, allowPrivilegeEscalation: false}", ctx)
    }

    #[test]
    fn privileged_container_in_an_added_workload() {
        let b = with_ctx("{privileged: true}");
        let s = one(&impact("", &b), "privileged-container", High, Security);
        assert_eq!(
            s.field.as_deref(),
            Some("spec.template.spec.containers[name=app].securityContext.privileged")
        );
        silent(&impact("", DEPLOY), "privileged-container");
    }

    #[test]
    fn host_namespaces_fire_only_when_new() {
        let b = with_pod("      hostNetwork: true\n      hostPID: true");
        let i = impact(DEPLOY, &b);
        assert_eq!(fired(&i, "host-namespace").len(), 2);
        let c = b.replace("agent:1", "agent:2");
        silent(&impact(&b, &c), "host-namespace");
    }

    #[test]
    fn host_path_volume() {
        let b = with_pod("      volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}]");
        let s = one(&impact(DEPLOY, &b), "host-path-volume", High, Security);
        assert_eq!(s.new_value.as_deref(), Some("/var/run/docker.sock"));
        let empty = with_pod("      volumes: [{name: tmp, emptyDir: {}}]");
        silent(&impact(DEPLOY, &empty), "host-path-volume");
    }

    #[test]
    fn added_capabilities_are_high_when_dangerous() {
        let b = with_ctx("{capabilities: {add: [NET_ADMIN]}}");
        one(&impact(DEPLOY, &b), "capability-added", High, Security);
        let b = with_ctx("{capabilities: {add: [NET_BIND_SERVICE]}}");
        one(&impact(DEPLOY, &b), "capability-added", Medium, Security);
        let b = with_ctx("{capabilities: {drop: [ALL]}}");
        silent(&impact(DEPLOY, &b), "capability-added");
    }

    #[test]
    fn running_as_root() {
        let b = with_ctx("{runAsUser: 0, allowPrivilegeEscalation: false}");
        let s = one(&impact(DEPLOY, &b), "runs-as-root", High, Security);
        assert!(
            s.field
                .as_deref()
                .unwrap()
                .ends_with("securityContext.runAsUser")
        );
        let b = with_pod("      securityContext: {runAsNonRoot: false}");
        let s = one(&impact(DEPLOY, &b), "runs-as-root", High, Security);
        assert_eq!(
            s.field.as_deref(),
            Some("spec.template.spec.securityContext.runAsNonRoot")
        );
        let b = with_ctx("{runAsUser: 1001, allowPrivilegeEscalation: false}");
        silent(&impact(DEPLOY, &b), "runs-as-root");
    }

    #[test]
    fn privilege_escalation_allowed() {
        let b = with_ctx("{runAsUser: 1000, allowPrivilegeEscalation: true}");
        one(
            &impact(DEPLOY, &b),
            "privilege-escalation-allowed",
            High,
            Security,
        );
        silent(&impact("", DEPLOY), "privilege-escalation-allowed");
    }
}
