//! RBAC escalation: permissions that let their holder take over more than they were given.
//!
//! Found on the whole objects, so a Role added with `verbs: ["*"]` fires as well as a rule
//! edited to gain it. Only grants the old side did not already have fire.
//!
//! - Role/ClusterRole rules with `*` in verbs, resources or apiGroups;
//! - the verbs `escalate`, `bind` and `impersonate`;
//! - read access (`get`, `list`, `watch`, `*`) to all `secrets` (rules limited by
//!   `resourceNames` to named Secrets are left out);
//! - a RoleBinding/ClusterRoleBinding to the `cluster-admin` ClusterRole, or to the groups
//!   `system:unauthenticated`/`system:authenticated` or the user `system:anonymous`.

use std::collections::BTreeSet;

use yaml11::Value;

use crate::model::ChangeType::Removed;
use crate::model::Level::High;
use crate::model::SignalCategory::Security;

use super::super::findings::Findings;
use super::super::view::{View, list, seq_at, str_at, strings};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub(super) fn check(v: &View<'_>, out: &mut Findings) {
    if v.change_type() == Removed || v.diff.identity.group() != RBAC_GROUP {
        return;
    }
    let grants: fn(&Value) -> BTreeSet<String> = match v.kind() {
        "Role" | "ClusterRole" => role_grants,
        "RoleBinding" | "ClusterRoleBinding" => binding_grants,
        _ => return,
    };
    let old = v.before.map(grants).unwrap_or_default();
    let Some(after) = v.after else {
        return;
    };
    let new: Vec<String> = grants(after).difference(&old).cloned().collect();
    if new.is_empty() {
        return;
    }
    let (field, what) = if matches!(v.kind(), "Role" | "ClusterRole") {
        (
            "rules",
            "Anything bound to it can then act far beyond its own job: wildcards grant every \
             current and future resource or verb, escalate/bind let it grant itself any \
             permission, impersonate lets it act as any user, and reading Secrets exposes every \
             credential in scope.",
        )
    } else {
        (
            "roleRef",
            "Its subjects get the bound permissions: cluster-admin is full control of the \
             cluster, and system groups include every (or even unauthenticated) caller.",
        )
    };
    let s = out.signal(
        v,
        "rbac-escalation",
        High,
        Security,
        format!(
            "RBAC grants escalation-prone permissions: {}",
            list(&new, 3)
        ),
        format!(
            "{} now grants {}. {what} Check the chart really needs this and narrow it to the \
             resources and verbs it uses.",
            v.short(),
            list(&new, 10)
        ),
    );
    s.field = Some(field.to_owned());
    s.new_value = Some(new.join(", "));
}

fn role_grants(obj: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in seq_at(obj, &["rules"]) {
        let verbs = strings(seq_at(rule, &["verbs"]));
        let resources = strings(seq_at(rule, &["resources"]));
        let groups = strings(seq_at(rule, &["apiGroups"]));
        if verbs.contains(&"*") {
            out.insert("all verbs (*)".to_owned());
        }
        if resources.contains(&"*") {
            out.insert("all resources (*)".to_owned());
        }
        if groups.contains(&"*") {
            out.insert("all API groups (*)".to_owned());
        }
        for verb in ["escalate", "bind", "impersonate"] {
            if verbs.contains(&verb) {
                out.insert(format!("the {verb} verb"));
            }
        }
        let core = groups.iter().any(|g| g.is_empty() || *g == "*");
        let secrets = resources.iter().any(|r| *r == "secrets" || *r == "*");
        let reads = verbs
            .iter()
            .any(|v| matches!(*v, "get" | "list" | "watch" | "*"));
        let named = !seq_at(rule, &["resourceNames"]).is_empty();
        if core && secrets && reads && !named {
            out.insert("read access to Secrets".to_owned());
        }
    }
    out
}

fn binding_grants(obj: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if str_at(obj, &["roleRef", "kind"]) == Some("ClusterRole")
        && str_at(obj, &["roleRef", "name"]) == Some("cluster-admin")
    {
        out.insert("the cluster-admin role".to_owned());
    }
    for s in seq_at(obj, &["subjects"]) {
        match (str_at(s, &["kind"]), str_at(s, &["name"])) {
            (Some("Group"), Some(g @ ("system:unauthenticated" | "system:authenticated"))) => {
                out.insert(format!("its role to the group {g}"));
            }
            (Some("User"), Some("system:anonymous")) => {
                out.insert("its role to anonymous users".to_owned());
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::impact::testkit::*;
    use crate::model::Level::High;
    use crate::model::SignalCategory::Security;

    const RULE: &str = "rbac-escalation";

    const ROLE: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: app}
rules:
- {apiGroups: [''], resources: [pods], verbs: [get, list]}
";

    #[test]
    fn wildcards_in_an_added_role_are_escalation() {
        let b = ROLE.replace("[pods], verbs: [get, list]", "['*'], verbs: ['*']");
        let i = impact("", &b);
        let s = one(&i, RULE, High, Security);
        assert!(
            s.title.contains("all resources (*)") && s.title.contains("all verbs (*)"),
            "{}",
            s.title
        );
        // The wildcard also reads Secrets.
        assert!(
            s.new_value
                .as_deref()
                .unwrap()
                .contains("read access to Secrets")
        );
    }

    #[test]
    fn gaining_secret_reads_or_dangerous_verbs_is_escalation() {
        let b = ROLE.replace("[pods]", "[pods, secrets]");
        let s = one(&impact(ROLE, &b), RULE, High, Security);
        assert_eq!(s.new_value.as_deref(), Some("read access to Secrets"));
        let b = ROLE.replace("[get, list]", "[get, list, impersonate]");
        one(&impact(ROLE, &b), RULE, High, Security);
    }

    #[test]
    fn named_secrets_and_already_held_grants_are_not_escalation() {
        let b = ROLE.replace(
            "[pods], verbs: [get, list]",
            "[secrets], resourceNames: [app-tls], verbs: [get]",
        );
        silent(&impact(ROLE, &b), RULE);
        let star = ROLE.replace("verbs: [get, list]", "verbs: ['*']");
        let more = star.replace("[pods]", "[pods, services]");
        let i = impact(&star, &more);
        silent(&i, RULE);
        fired(&i, "rbac-rules-changed");
    }

    #[test]
    fn binding_cluster_admin_is_escalation() {
        let a = "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: app, namespace: default}]
";
        silent(&impact("", a), RULE);
        let admin = a.replace("name: view", "name: cluster-admin");
        let s = one(&impact("", &admin), RULE, High, Security);
        assert!(s.title.contains("cluster-admin"), "{}", s.title);
        one(&impact(a, &admin), RULE, High, Security);
        let anon = a.replace(
            "namespace: default}",
            "namespace: default}, {kind: Group, name: 'system:unauthenticated'}",
        );
        one(&impact(a, &anon), RULE, High, Security);
    }
}
