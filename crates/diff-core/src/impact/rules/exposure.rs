//! Exposure: what becomes reachable from outside the cluster — Services of type LoadBalancer
//! or NodePort, Ingress hosts and TLS.

use std::collections::BTreeSet;

use yaml11::Value;

use crate::model::ChangeType::{Added, Modified};
use crate::model::Level::{High, Medium};
use crate::model::SignalCategory::Security;

use super::super::findings::Findings;
use super::super::view::{View, list, seq_at, str_at, strings};

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    match v.kind() {
        "Service" if v.is_core() => service(v, out),
        "Ingress" => ingress(v, out),
        _ => {}
    }
}

fn service_type(obj: Option<&Value>) -> Option<&str> {
    obj.map(|o| str_at(o, &["spec", "type"]).unwrap_or("ClusterIP"))
}

fn service(v: &View<'_>, out: &mut Findings) {
    let old = service_type(v.before);
    let Some(new) = service_type(v.after) else {
        return;
    };
    let more_exposed = match new {
        "LoadBalancer" => old != Some("LoadBalancer"),
        "NodePort" => !matches!(old, Some("NodePort" | "LoadBalancer")),
        _ => false,
    };
    if !more_exposed {
        return;
    }
    let how = if new == "LoadBalancer" {
        "a cloud load balancer with an external address is provisioned for it (and a port is \
         opened on every node)"
    } else {
        "a port is opened on every node and forwards to it"
    };
    let s = out.signal(
        v,
        "service-exposed",
        High,
        Security,
        format!("Service exposed outside the cluster: {new}"),
        format!(
            "{} becomes reachable from outside the cluster: {how}. Check it is meant to be \
             public, restrict it (loadBalancerSourceRanges, firewall, an internal load balancer \
             annotation) and that the backend authenticates callers.",
            v.short()
        ),
    );
    s.field = Some("spec.type".to_owned());
    s.old_value = old.map(str::to_owned);
    s.new_value = Some(new.to_owned());
}

/// The hosts an Ingress routes; `*` stands for a rule without a host (every host).
fn hosts(obj: &Value) -> BTreeSet<String> {
    seq_at(obj, &["spec", "rules"])
        .iter()
        .map(|r| str_at(r, &["host"]).unwrap_or("*").to_owned())
        .collect()
}

/// Each TLS entry as `secret: host, host`.
fn tls(obj: &Value) -> BTreeSet<String> {
    seq_at(obj, &["spec", "tls"])
        .iter()
        .map(|t| {
            let mut hosts = strings(seq_at(t, &["hosts"]));
            hosts.sort_unstable();
            format!(
                "{}: {}",
                str_at(t, &["secretName"]).unwrap_or("(default certificate)"),
                hosts.join(", ")
            )
        })
        .collect()
}

fn joined(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "none".to_owned()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join("; ")
    }
}

fn ingress(v: &View<'_>, out: &mut Findings) {
    let short = v.short();
    match (v.change_type(), v.before, v.after) {
        (Added, _, Some(after)) => {
            let h: Vec<String> = hosts(after).into_iter().collect();
            let s = out.signal(
                v,
                "ingress-added",
                Medium,
                Security,
                format!(
                    "Ingress added: {}",
                    if h.is_empty() {
                        "no hosts".to_owned()
                    } else {
                        list(&h, 3)
                    }
                ),
                format!(
                    "{short} makes backend Services reachable through the ingress controller, \
                     usually from outside the cluster. Check the hosts, paths, TLS and that the \
                     backends authenticate callers."
                ),
            );
            s.field = Some("spec.rules".to_owned());
            s.new_value = Some(h.join(", "));
        }
        (Modified, Some(before), Some(after)) => {
            let (old, new) = (hosts(before), hosts(after));
            if old != new {
                let s = out.signal(
                    v,
                    "ingress-hosts-changed",
                    Medium,
                    Security,
                    "Ingress hosts changed".to_owned(),
                    format!(
                        "{short} routes different host names: clients of removed hosts get \
                         errors, added hosts become reachable (a rule without a host, shown as \
                         *, matches every host). Check DNS records and certificates for the new \
                         names."
                    ),
                );
                s.field = Some("spec.rules".to_owned());
                s.old_value = Some(joined(&old));
                s.new_value = Some(joined(&new));
            }
            let (old, new) = (tls(before), tls(after));
            if old != new {
                let s = out.signal(
                    v,
                    "ingress-tls-changed",
                    Medium,
                    Security,
                    "Ingress TLS changed".to_owned(),
                    format!(
                        "{short} serves different certificates or hosts over HTTPS: a host left \
                         out of tls is served with the controller's default certificate or over \
                         plain HTTP. Check the referenced Secrets exist and cover every host."
                    ),
                );
                s.field = Some("spec.tls".to_owned());
                s.old_value = Some(joined(&old));
                s.new_value = Some(joined(&new));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Medium};
    use crate::model::SignalCategory::{Availability, Security};

    const SVC: &str = "
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  ports: [{port: 80}]
";

    #[test]
    fn becoming_a_load_balancer_is_exposure_and_a_type_change() {
        let b = SVC.replace("ClusterIP", "LoadBalancer");
        let i = impact(SVC, &b);
        let s = one(&i, "service-exposed", High, Security);
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("ClusterIP"), Some("LoadBalancer"))
        );
        one(&i, "service-type-changed", High, Availability);
    }

    #[test]
    fn an_added_node_port_service_is_exposure() {
        one(
            &impact("", &SVC.replace("ClusterIP", "NodePort")),
            "service-exposed",
            High,
            Security,
        );
        silent(&impact("", SVC), "service-exposed");
    }

    #[test]
    fn less_exposure_is_not_exposure() {
        let lb = SVC.replace("ClusterIP", "LoadBalancer");
        silent(
            &impact(&lb, &SVC.replace("ClusterIP", "NodePort")),
            "service-exposed",
        );
        silent(&impact(&lb, SVC), "service-exposed");
    }

    const ING: &str = "
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  tls: [{hosts: [a.example.com], secretName: web-tls}]
  rules:
  - host: a.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
";

    #[test]
    fn ingress_added_is_medium_security() {
        let s = one(&impact("", ING), "ingress-added", Medium, Security);
        assert_eq!(s.title, "Ingress added: a.example.com");
    }

    #[test]
    fn ingress_host_change() {
        let b = ING.replace("- host: a.example.com", "- host: b.example.com");
        let s = one(&impact(ING, &b), "ingress-hosts-changed", Medium, Security);
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("a.example.com"), Some("b.example.com"))
        );
        silent(&impact(ING, &b), "ingress-tls-changed");
    }

    #[test]
    fn ingress_tls_change() {
        let b = ING.replace("secretName: web-tls", "secretName: web-tls-2");
        let s = one(&impact(ING, &b), "ingress-tls-changed", Medium, Security);
        assert_eq!(s.new_value.as_deref(), Some("web-tls-2: a.example.com"));
    }

    #[test]
    fn ingress_path_change_is_neither_host_nor_tls() {
        let i = impact(ING, &ING.replace("path: /,", "path: /api,"));
        silent(&i, "ingress-hosts-changed");
        silent(&i, "ingress-tls-changed");
    }
}
