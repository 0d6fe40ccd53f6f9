//! What the rules produce, collected and then put in a deterministic order.

use crate::model::{
    CrdChange, Impact, ImpactTotals, Level, Rollout, Signal, SignalCategory, Verdict,
};

use super::view::View;

/// Signals, rollouts and CRD summaries found so far.
#[derive(Default)]
pub(crate) struct Findings {
    pub signals: Vec<Signal>,
    pub rollouts: Vec<Rollout>,
    pub crd_changes: Vec<CrdChange>,
}

impl Findings {
    /// Records a signal about `v` and returns it so the rule can add field and values.
    ///
    /// For Helm hooks the description says so: hooks are created when their hook runs, not
    /// patched with the release.
    pub fn signal(
        &mut self,
        v: &View<'_>,
        rule: &'static str,
        level: Level,
        category: SignalCategory,
        title: String,
        description: String,
    ) -> &mut Signal {
        let mut description = description;
        if let Some(hook) = v.hook() {
            description.push_str(&format!(
                " This resource is a Helm hook (helm.sh/hook: {hook}): Helm creates it when \
                 the hook runs rather than patching it with the release."
            ));
        }
        self.signals.push(Signal {
            rule,
            resource: v.short(),
            kind: v.kind().to_owned(),
            namespace: v.namespace().to_owned(),
            level,
            category,
            title,
            description,
            field: None,
            old_value: None,
            new_value: None,
        });
        self.signals.last_mut().expect("just pushed")
    }

    /// True when the workload `kind/name` in `namespace` rolls out with this upgrade.
    pub fn rolls_out(&self, kind: &str, name: &str, namespace: &str) -> bool {
        let short = format!("{kind}/{name}");
        self.rollouts
            .iter()
            .any(|r| r.resource == short && r.namespace == namespace)
    }

    /// Sorts everything and decides the verdict.
    pub fn finish(mut self, changed_resources: usize) -> Impact {
        order_signals(&mut self.signals);
        self.rollouts.sort_by(|a, b| {
            (&a.kind, &a.namespace, &a.resource).cmp(&(&b.kind, &b.namespace, &b.resource))
        });
        self.crd_changes.sort_by(|a, b| a.name.cmp(&b.name));
        let (totals, verdict) = tally(&self.signals, changed_resources);
        Impact {
            verdict,
            signals: self.signals,
            totals,
            rollouts: self.rollouts,
            crd_changes: self.crd_changes,
        }
    }
}

impl Impact {
    /// Adds signals found outside the built-in rules (such as a repository's own rules in
    /// `.chartimpact.yaml`): the signals are ordered and the totals and verdict counted again,
    /// so an extra signal weighs exactly like a built-in one.
    pub fn add_signals(&mut self, extra: impl IntoIterator<Item = Signal>) {
        self.signals.extend(extra);
        order_signals(&mut self.signals);
        (self.totals, self.verdict) = tally(&self.signals, self.totals.changed_resources);
    }
}

/// Most severe first, then a total order so reports are deterministic; exact repeats dropped.
fn order_signals(signals: &mut Vec<Signal>) {
    signals.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(a.category.cmp(&b.category))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.field.cmp(&b.field))
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.title.cmp(&b.title))
            .then_with(|| a.old_value.cmp(&b.old_value))
            .then_with(|| a.new_value.cmp(&b.new_value))
    });
    signals.dedup();
}

/// Signal counts and the verdict they give.
fn tally(signals: &[Signal], changed_resources: usize) -> (ImpactTotals, Verdict) {
    let mut totals = ImpactTotals {
        changed_resources,
        ..ImpactTotals::default()
    };
    for s in signals {
        match s.level {
            Level::High => totals.high += 1,
            Level::Medium => totals.medium += 1,
            Level::Low => totals.low += 1,
        }
    }
    let verdict = if changed_resources == 0 {
        Verdict::NoChanges
    } else if totals.high > 0 {
        Verdict::HighRisk
    } else if totals.medium > 0 {
        Verdict::MediumRisk
    } else {
        Verdict::LowRisk
    };
    (totals, verdict)
}
