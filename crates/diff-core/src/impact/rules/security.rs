//! Security: NetworkPolicies, RBAC objects, ServiceAccounts and Secrets appearing, going away
//! or changing.

use crate::model::ChangeType::{Added, Modified, Removed};
use crate::model::Level::{High, Medium};
use crate::model::SignalCategory::Security;

use super::super::findings::Findings;
use super::super::view::{View, text_or_unset};

/// Kinds whose appearance or removal changes who may do what (NetworkPolicy has its own rules).
const SECURITY_KINDS: &[&str] = &[
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Secret",
    "ServiceAccount",
];

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    let kind = v.kind();
    let short = v.short();
    let group = v.diff.identity.group();
    let is_security_kind = SECURITY_KINDS.contains(&kind)
        && (group.is_empty() && matches!(kind, "Secret" | "ServiceAccount") || group == RBAC_GROUP);
    match (kind, v.change_type()) {
        ("NetworkPolicy", Added) => {
            out.signal(
                v,
                "networkpolicy-added",
                Medium,
                Security,
                "NetworkPolicy added".to_owned(),
                format!(
                    "{short} starts filtering traffic: once a pod is selected by any \
                     NetworkPolicy, traffic no policy allows is dropped. Check the pods it \
                     selects still receive and send everything they need (DNS, databases, \
                     ingress controller, monitoring)."
                ),
            );
        }
        ("NetworkPolicy", Removed) => {
            out.signal(
                v,
                "networkpolicy-removed",
                High,
                Security,
                "NetworkPolicy removed".to_owned(),
                format!(
                    "Helm will delete {short}: the traffic restrictions it enforced disappear, \
                     and pods no other policy selects accept traffic from anywhere. Check this \
                     is intended and that a replacement policy exists."
                ),
            );
        }
        ("NetworkPolicy", Modified) if v.changed_under(&["spec"]) => {
            let s = out.signal(
                v,
                "networkpolicy-changed",
                High,
                Security,
                "Network policy modified".to_owned(),
                format!(
                    "{short} allows or blocks different traffic as soon as it is applied. Check \
                     the pod selector and the ingress/egress rules: a narrower rule cuts \
                     connections, a wider one exposes pods."
                ),
            );
            s.field = Some("spec".to_owned());
        }
        (k, Added) if is_security_kind => {
            out.signal(
                v,
                "security-resource-added",
                Medium,
                Security,
                format!("{k} added"),
                format!(
                    "New {k} {short}. Review what access it grants or holds: who can use it \
                     and what it allows."
                ),
            );
        }
        (k, Removed) if is_security_kind => {
            out.signal(
                v,
                "security-resource-removed",
                Medium,
                Security,
                format!("{k} removed"),
                format!(
                    "Helm will delete {short}. Check that no pod still uses it (pods referencing \
                     a missing ServiceAccount or Secret fail to start) and what access is lost or \
                     left behind."
                ),
            );
        }
        _ => {}
    }
    if !v.is_modified() {
        return;
    }
    if kind == "ServiceAccount" && group.is_empty() {
        service_account(v, out);
    }
    if group != RBAC_GROUP {
        return;
    }
    match kind {
        "Role" | "ClusterRole"
            if v.changed_under(&["rules"]) || v.changed_under(&["aggregationRule"]) =>
        {
            let field = if v.changed_under(&["rules"]) {
                "rules"
            } else {
                "aggregationRule"
            };
            let s = out.signal(
                v,
                "rbac-rules-changed",
                High,
                Security,
                "RBAC permissions changed".to_owned(),
                format!(
                    "{short} grants different permissions to everything bound to it. Check \
                     added permissions are needed (least privilege) and removed ones are not \
                     used, or the workload gets \"forbidden\" errors."
                ),
            );
            s.field = Some(field.to_owned());
            s.old_value = Some(text_or_unset(v.before_at(&[field])));
            s.new_value = Some(text_or_unset(v.after_at(&[field])));
        }
        "RoleBinding" | "ClusterRoleBinding" if v.changed_under(&["subjects"]) => {
            let s = out.signal(
                v,
                "rbac-subjects-changed",
                High,
                Security,
                "RBAC subjects changed".to_owned(),
                format!(
                    "{short} grants its role to different users, groups or ServiceAccounts. \
                     Check every new subject should hold the role and removed ones no longer \
                     need it."
                ),
            );
            s.field = Some("subjects".to_owned());
            s.old_value = Some(text_or_unset(v.before_at(&["subjects"])));
            s.new_value = Some(text_or_unset(v.after_at(&["subjects"])));
        }
        _ => {}
    }
}

fn service_account(v: &View<'_>, out: &mut Findings) {
    let keys = ["automountServiceAccountToken"];
    if !v.changed_under(&keys) {
        return;
    }
    let s = out.signal(
        v,
        "serviceaccount-token-changed",
        Medium,
        Security,
        "Service account token mount changed".to_owned(),
        format!(
            "Pods using {} (and not overriding it) will {} an API token mounted: with a token a \
             compromised pod can call the Kubernetes API with the account's permissions, \
             without one pods that call the API fail. Check which is needed.",
            v.short(),
            match v.after_at(&keys).and_then(yaml11::Value::as_bool) {
                Some(false) => "no longer get",
                _ => "get",
            }
        ),
    );
    s.field = Some(keys[0].to_owned());
    s.old_value = Some(text_or_unset(v.before_at(&keys)));
    s.new_value = Some(text_or_unset(v.after_at(&keys)));
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::{High, Medium};
    use crate::model::SignalCategory::Security;

    const NETPOL: &str = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, labels: {team: a}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {role: fe}}}]}]
";

    #[test]
    fn network_policy_lifecycle() {
        one(&impact("", NETPOL), "networkpolicy-added", Medium, Security);
        one(&impact(NETPOL, ""), "networkpolicy-removed", High, Security);
    }

    #[test]
    fn network_policy_spec_change_is_high_but_a_label_change_is_nothing() {
        let b = NETPOL.replace("role: fe", "role: any");
        one(&impact(NETPOL, &b), "networkpolicy-changed", High, Security);
        let i = impact(NETPOL, &NETPOL.replace("team: a", "team: b"));
        assert!(i.signals.is_empty(), "{:#?}", i.signals);
    }

    const ROLE: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules:
- {apiGroups: [''], resources: [pods], verbs: [get, list]}
";

    #[test]
    fn rbac_rule_change_is_high() {
        let b = ROLE.replace("[get, list]", "[get, list, delete]");
        let s = one(&impact(ROLE, &b), "rbac-rules-changed", High, Security);
        assert_eq!(s.field.as_deref(), Some("rules"));
        silent(
            &impact(ROLE, &ROLE.replace("reader}", "reader, labels: {a: b}}")),
            "rbac-rules-changed",
        );
    }

    #[test]
    fn rbac_subjects_change_is_high() {
        let a = "
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app}]
";
        let b = a.replace(
            "name: app}",
            "name: app}, {kind: ServiceAccount, name: other}",
        );
        one(&impact(a, &b), "rbac-subjects-changed", High, Security);
    }

    #[test]
    fn security_kinds_added_and_removed_are_medium() {
        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n";
        let s = one(&impact("", sa), "security-resource-added", Medium, Security);
        assert_eq!(s.title, "ServiceAccount added");
        one(
            &impact(ROLE, ""),
            "security-resource-removed",
            Medium,
            Security,
        );
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n";
        silent(&impact("", cm), "security-resource-added");
    }

    #[test]
    fn service_account_token_automount_change_is_medium() {
        let a = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\nautomountServiceAccountToken: false\n";
        let s = one(
            &impact(a, &a.replace("false", "true")),
            "serviceaccount-token-changed",
            Medium,
            Security,
        );
        assert_eq!(
            (s.old_value.as_deref(), s.new_value.as_deref()),
            (Some("false"), Some("true"))
        );
    }
}
