//! Dependency (subchart) version changes: the chart's own rules see resources, not where they
//! came from, so an upgrade of a subchart would read as many unrelated changes. This rule
//! names the version change once and lists the resources it accounts for.
//!
//! A resource belongs to a subchart when its `# Source:` path runs through the subchart's
//! directory (`argo-cd/charts/redis-ha/templates/…`, the alias when there is one) or, failing
//! that, when its `helm.sh/chart` label on either side names the subchart at one of the two
//! versions (`redis-ha-4.29.4`).

use crate::compare::Comparison;
use crate::model::{Level, Signal, SignalCategory};

/// The id of the rule.
pub const RULE: &str = "subchart-version-changed";

/// A dependency whose version differs between the two sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubchartChange {
    /// The chart declaring it: its name, `parent/child` for nested dependencies.
    pub parent: String,
    /// The dependency's chart name.
    pub name: String,
    /// Its alias, if any (its directory under `charts/` in `# Source:` paths).
    pub alias: Option<String>,
    /// The old version.
    pub from: String,
    /// The new version.
    pub to: String,
}

impl SubchartChange {
    /// The name the subchart renders under: its alias, else its name.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// `argo-cd/charts/redis-ha/` for parent `argo-cd`; `a/charts/b/charts/c/` for `a/b`.
    fn source_prefix(&self) -> String {
        format!(
            "{}/charts/{}/",
            self.parent.replace('/', "/charts/"),
            self.key()
        )
    }
}

/// One medium signal per changed subchart, naming the resources it accounts for (at most
/// eight by name, then a count).
pub fn subchart_signals(comparison: &Comparison, changes: &[SubchartChange]) -> Vec<Signal> {
    changes
        .iter()
        .map(|c| {
            let prefix = c.source_prefix();
            let labels = [
                format!("{}-{}", c.name, c.from),
                format!("{}-{}", c.name, c.to),
            ];
            let mut owned = Vec::new();
            for (i, r) in comparison.structured_diff.resources.iter().enumerate() {
                let by_source = r.source.as_deref().is_some_and(|s| s.starts_with(&prefix));
                let by_label = || {
                    comparison.sides.get(i).is_some_and(|s| {
                        [&s.before, &s.after].into_iter().flatten().any(|o| {
                            o.pointer(&["metadata", "labels", "helm.sh/chart"])
                                .and_then(|v| v.as_str())
                                .is_some_and(|l| labels.iter().any(|x| x == l))
                        })
                    })
                };
                if by_source || (r.source.is_none() && by_label()) {
                    owned.push(r.identity.display());
                }
            }
            let mut about = Vec::new();
            if c.alias.is_some() {
                about.push(format!("chart {}", c.name));
            }
            if !c.parent.is_empty() {
                about.push(format!("a dependency of {}", c.parent));
            }
            let about = if about.is_empty() {
                String::new()
            } else {
                format!(" ({})", about.join(", "))
            };
            let effect = match owned.len() {
                0 => "none of its rendered resources change".to_owned(),
                n => {
                    let mut names = owned.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
                    if n > 8 {
                        names.push_str(&format!(" and {} more", n - 8));
                    }
                    format!("{n} of the changed resources come from it: {names}")
                }
            };
            Signal {
                rule: RULE,
                resource: format!("Subchart/{}", c.key()),
                kind: "Subchart".into(),
                namespace: String::new(),
                level: Level::Medium,
                category: SignalCategory::Other,
                title: format!("subchart {} {} → {}", c.key(), c.from, c.to),
                description: format!(
                    "The subchart {}{about} moves from {} to {}; {effect}. Read its release \
                     notes for changes in defaults and behaviour.",
                    c.key(),
                    c.from,
                    c.to
                ),
                field: Some(format!("dependencies[{}].version", c.key())),
                old_value: Some(c.from.clone()),
                new_value: Some(c.to.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DiffOptions, ParseOptions, compare, parse_manifest};

    #[test]
    fn names_the_change_and_the_resources_it_accounts_for() {
        let before = "---\n# Source: app/charts/redis-ha/templates/sts.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: redis}\nspec: {replicas: 1}\n---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: own}\ndata: {a: '1'}\n";
        let after = before
            .replace("replicas: 1", "replicas: 3")
            .replace("a: '1'", "a: '2'");
        let opts = ParseOptions::default();
        let c = compare(
            &parse_manifest("a", before, &opts).unwrap(),
            &parse_manifest("b", &after, &opts).unwrap(),
            &DiffOptions::default(),
        );
        let s = subchart_signals(
            &c,
            &[SubchartChange {
                parent: "app".into(),
                name: "redis-ha".into(),
                alias: None,
                from: "4.29.4".into(),
                to: "4.33.2".into(),
            }],
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].title, "subchart redis-ha 4.29.4 → 4.33.2");
        assert_eq!(s[0].level, Level::Medium);
        assert!(
            s[0].description
                .contains("1 of the changed resources come from it: StatefulSet default/redis"),
            "{}",
            s[0].description
        );
        assert!(!s[0].description.contains("own"), "{}", s[0].description);
    }

    #[test]
    fn an_unsourced_resource_is_attributed_by_its_chart_label() {
        let before = "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {helm.sh/chart: grafana-7.2.3}}\nspec: {type: ClusterIP}\n";
        let after = "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {helm.sh/chart: grafana-8.2.0}}\nspec: {type: NodePort}\n";
        let opts = ParseOptions::default();
        let c = compare(
            &parse_manifest("a", before, &opts).unwrap(),
            &parse_manifest("b", after, &opts).unwrap(),
            &DiffOptions::default(),
        );
        let s = subchart_signals(
            &c,
            &[SubchartChange {
                parent: "stack".into(),
                name: "grafana".into(),
                alias: Some("dashboards".into()),
                from: "7.2.3".into(),
                to: "8.2.0".into(),
            }],
        );
        assert_eq!(s[0].title, "subchart dashboards 7.2.3 → 8.2.0");
        assert!(
            s[0].description.contains("Service default/s"),
            "{}",
            s[0].description
        );
        assert!(
            s[0].description
                .contains("dashboards (chart grafana, a dependency of stack)")
        );
    }
}
