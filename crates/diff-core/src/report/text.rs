//! The human report: summary, signals, rollouts, then every change.

use std::fmt::Write;

use crate::Comparison;
use crate::model::{ChangeType, Importance, Level, Op, Verdict};

use super::values::display_value;

/// How to print text.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours (the CLI turns this on for a terminal unless `NO_COLOR` is set).
    pub color: bool,
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// Words for a verdict, as the Go ChartImpact's UI says them.
pub(crate) fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::HighRisk => "High risk: review before deploying",
        Verdict::MediumRisk => "Medium risk: consider reviewing",
        Verdict::LowRisk => "Low risk upgrade",
        Verdict::NoChanges => "No changes detected",
    }
}

/// Renders the text report.
pub fn text(cmp: &Comparison, opts: &TextOptions) -> String {
    let p = Paint(opts.color);
    let sd = &cmp.structured_diff;
    let st = &sd.stats;
    let mut out = String::new();
    let verdict = verdict_words(cmp.impact.verdict);
    let verdict = match cmp.impact.verdict {
        Verdict::HighRisk => p.red(verdict),
        Verdict::MediumRisk => p.yellow(verdict),
        _ => p.green(verdict),
    };
    let _ = writeln!(out, "{}", p.bold(&format!("ChartImpact: {verdict}")));
    let _ = writeln!(
        out,
        "Resources: {} added, {} removed, {} modified, {} unchanged; {} field changes",
        st.resources.added,
        st.resources.removed,
        st.resources.modified,
        st.resources.unchanged,
        st.changes.total
    );
    if st.suppressed_resources + st.suppressed_changes > 0 {
        let _ = writeln!(
            out,
            "Suppressed: {} resources by kind, {} changes by path",
            st.suppressed_resources, st.suppressed_changes
        );
    }
    for w in &sd.metadata.warnings {
        let _ = writeln!(out, "{} {w}", p.yellow("warning:"));
    }
    if !cmp.impact.signals.is_empty() {
        let _ = writeln!(out, "\nRisk signals:");
        for s in &cmp.impact.signals {
            let level = format!("{:<6}", s.level.as_str().to_uppercase());
            let level = match s.level {
                Level::High => p.red(&level),
                Level::Medium => p.yellow(&level),
                Level::Low => p.dim(&level),
            };
            let cat = serde_json::to_value(s.category)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = write!(out, "  {level} {:<12} {}: {}", cat, s.resource, s.title);
            match (&s.field, &s.old_value, &s.new_value) {
                (Some(f), Some(o), Some(n)) => {
                    let _ = write!(out, " ({f}: {o} → {n})");
                }
                (Some(f), None, Some(n)) => {
                    let _ = write!(out, " ({f}: {n})");
                }
                (Some(f), _, _) => {
                    let _ = write!(out, " ({f})");
                }
                _ => {}
            }
            out.push('\n');
        }
    }
    if !cmp.impact.rollouts.is_empty() {
        let _ = writeln!(out, "\nRollouts (pods will be replaced):");
        for r in &cmp.impact.rollouts {
            let _ = writeln!(out, "  {} — {}", r.resource, r.causes.join(", "));
        }
    }
    if !cmp.impact.crd_changes.is_empty() {
        let _ = writeln!(out, "\nCustomResourceDefinitions:");
        for c in &cmp.impact.crd_changes {
            let _ = writeln!(out, "  {} ({})", c.name, c.change_type);
            let lists = [
                ("versions added", &c.versions_added),
                ("versions removed", &c.versions_removed),
                ("served/storage", &c.flag_changes),
                ("properties added", &c.properties_added),
                ("properties removed", &c.properties_removed),
            ];
            for (what, items) in lists {
                if !items.is_empty() {
                    let _ = writeln!(out, "    {what}: {}", items.join(", "));
                }
            }
        }
    }
    if st.chart_version_noise > 0 {
        let _ = writeln!(
            out,
            "\n{}",
            p.dim(&format!(
                "{} resources changed only chart-version labels ({}); not shown below",
                st.chart_version_noise,
                crate::CHART_VERSION_LABELS.join(", ")
            ))
        );
    }
    if !sd.resources.is_empty() {
        out.push('\n');
    }
    for r in &sd.resources {
        if r.has_flag("chart-version-noise") {
            continue;
        }
        let id = r.identity.display();
        let hook = if r.has_flag("hook") { " [hook]" } else { "" };
        match r.change_type {
            ChangeType::Added => {
                let _ = writeln!(out, "{}", p.green(&format!("+ {id} (added){hook}")));
            }
            ChangeType::Removed => {
                let _ = writeln!(out, "{}", p.red(&format!("- {id} (removed){hook}")));
            }
            ChangeType::Modified => {
                let api = match &r.previous_api_version {
                    Some(prev) => format!(", apiVersion {prev} → {}", r.identity.api_version),
                    None => String::new(),
                };
                let _ = writeln!(
                    out,
                    "{}",
                    p.yellow(&format!(
                        "~ {id} (modified, {} changes{api}){hook}",
                        r.changes.len()
                    ))
                );
                for c in &r.changes {
                    let imp = match c.importance {
                        Importance::High => p.red("high"),
                        Importance::Medium => p.yellow("medium"),
                        Importance::Low => p.dim("low"),
                    };
                    let mut notes = String::new();
                    if c.has_flag("same-value") {
                        notes.push_str(" (same value)");
                    }
                    if c.has_flag("order-only") {
                        notes.push_str(" (order only)");
                    }
                    let _ = writeln!(out, "    {} [{imp}]{notes}", c.path);
                    if let Some(d) = &c.line_diff {
                        for line in d.lines() {
                            let line = if line.starts_with('+') {
                                p.green(line)
                            } else if line.starts_with('-') {
                                p.red(line)
                            } else {
                                line.to_owned()
                            };
                            let _ = writeln!(out, "      {line}");
                        }
                        continue;
                    }
                    if let (Op::Remove | Op::Replace, Some(b)) = (c.op, &c.before) {
                        let _ = writeln!(
                            out,
                            "      {}",
                            p.red(&format!("- {}", display_value(b, 400)))
                        );
                    }
                    if let (Op::Add | Op::Replace, Some(a)) = (c.op, &c.after) {
                        let _ = writeln!(
                            out,
                            "      {}",
                            p.green(&format!("+ {}", display_value(a, 400)))
                        );
                    }
                }
            }
        }
    }
    out
}
