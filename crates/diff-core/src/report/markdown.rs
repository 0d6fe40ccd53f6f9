//! The PR-ready markdown report.
//!
//! Verdict and risk table first, then one collapsible section per kind. GitHub refuses
//! comment bodies over 65,536 characters, so the report is built from whole blocks and stops
//! before the limit: a block that does not fit is cut on a line boundary with its code fence
//! and `<details>` closed, followed by an explicit truncation notice.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::Comparison;
use crate::model::{ChangeType, Level, ResourceDiff, Verdict};

use super::text::verdict_words;
use super::values::{cut, display_value};

/// GitHub's limit on an issue comment body, in characters.
pub const MARKDOWN_LIMIT: usize = 65_536;

/// How to print markdown.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// Heading text; defaults to "ChartImpact".
    pub title: String,
    /// Most bytes the report may take (bytes ≥ characters, so this bounds characters too).
    pub max_len: usize,
    /// Where the full result lives, linked from the truncation notice.
    pub full_result_url: Option<String>,
    /// Heading level of the title (`###` = 3).
    pub heading_level: usize,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            title: "ChartImpact".into(),
            max_len: MARKDOWN_LIMIT,
            full_result_url: None,
            heading_level: 3,
        }
    }
}

fn level_badge(l: Level) -> &'static str {
    match l {
        Level::High => "🔴 high",
        Level::Medium => "🟠 medium",
        Level::Low => "🟢 low",
    }
}

fn verdict_badge(v: Verdict) -> &'static str {
    match v {
        Verdict::HighRisk => "🔴",
        Verdict::MediumRisk => "🟠",
        Verdict::LowRisk => "🟢",
        Verdict::NoChanges => "⚪",
    }
}

/// Escapes text for a table cell or inline position.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
}

/// Inline code that survives backticks inside.
fn code(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.contains('`') {
        format!("`` {} ``", s.replace('|', "\\|"))
    } else {
        format!("`{}`", s.replace('|', "\\|"))
    }
}

/// Renders the markdown report.
pub fn markdown(cmp: &Comparison, opts: &MarkdownOptions) -> String {
    let head = header(cmp, opts);
    let mut blocks: Vec<Block> = Vec::new();
    let mut by_kind: BTreeMap<&str, Vec<&ResourceDiff>> = BTreeMap::new();
    for r in &cmp.structured_diff.resources {
        if !r.has_flag("chart-version-noise") {
            by_kind.entry(r.identity.kind.as_str()).or_default().push(r);
        }
    }
    if !by_kind.is_empty() {
        blocks.push(Block::plain(format!(
            "{} Changes by kind\n\n",
            "#".repeat(opts.heading_level + 1)
        )));
    }
    for (kind, list) in &by_kind {
        let count = |t: ChangeType| list.iter().filter(|r| r.change_type == t).count();
        let mut parts = Vec::new();
        for (t, word) in [
            (ChangeType::Added, "added"),
            (ChangeType::Removed, "removed"),
            (ChangeType::Modified, "modified"),
        ] {
            let n = count(t);
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        blocks.push(Block::open(format!(
            "<details><summary><b>{}</b> — {}</summary>\n\n",
            cell(kind),
            parts.join(", ")
        )));
        for r in list {
            blocks.push(resource_block(r));
        }
        blocks.push(Block::close("</details>\n\n".into()));
    }
    assemble(head, blocks, cmp, opts)
}

fn header(cmp: &Comparison, opts: &MarkdownOptions) -> String {
    let st = &cmp.structured_diff.stats;
    let h = "#".repeat(opts.heading_level);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{h} {} {}: {}\n",
        verdict_badge(cmp.impact.verdict),
        opts.title,
        verdict_words(cmp.impact.verdict)
    );
    let t = &cmp.impact.totals;
    let _ = writeln!(
        out,
        "| Added | Removed | Modified | Unchanged | High | Medium | Low |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        st.resources.added,
        st.resources.removed,
        st.resources.modified,
        st.resources.unchanged,
        t.high,
        t.medium,
        t.low
    );
    if !cmp.impact.signals.is_empty() {
        let _ = writeln!(out, "{h}# Risk signals\n");
        let _ = writeln!(out, "| Level | Category | Resource | Signal | Change |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for s in &cmp.impact.signals {
            let cat = serde_json::to_value(s.category)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let change = match (&s.field, &s.old_value, &s.new_value) {
                (Some(f), Some(o), Some(n)) => {
                    format!("{}: {} → {}", code(f), code(&cut(o, 80)), code(&cut(n, 80)))
                }
                (Some(f), None, Some(n)) => format!("{}: {}", code(f), code(&cut(n, 80))),
                (Some(f), _, _) => code(f),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                level_badge(s.level),
                cat,
                cell(&s.resource),
                cell(&s.title),
                change
            );
        }
        out.push('\n');
    }
    if !cmp.impact.rollouts.is_empty() {
        let _ = writeln!(out, "{h}# Rollouts\n");
        for r in &cmp.impact.rollouts {
            let _ = writeln!(
                out,
                "- **{}** restarts its pods: {}",
                cell(&r.resource),
                cell(&r.causes.join(", "))
            );
        }
        out.push('\n');
    }
    if !cmp.impact.crd_changes.is_empty() {
        let _ = writeln!(out, "{h}# CustomResourceDefinitions\n");
        for c in &cmp.impact.crd_changes {
            let mut facts = Vec::new();
            for (what, items) in [
                ("versions added", &c.versions_added),
                ("versions removed", &c.versions_removed),
                ("served/storage", &c.flag_changes),
                ("properties added", &c.properties_added),
                ("properties removed", &c.properties_removed),
            ] {
                if !items.is_empty() {
                    let shown: Vec<_> = items.iter().take(10).map(|i| code(i)).collect();
                    let more = if items.len() > 10 {
                        format!(" and {} more", items.len() - 10)
                    } else {
                        String::new()
                    };
                    facts.push(format!("{what}: {}{more}", shown.join(", ")));
                }
            }
            let _ = writeln!(
                out,
                "- **{}** ({}){}{}",
                cell(&c.name),
                c.change_type,
                if facts.is_empty() { "" } else { ": " },
                facts.join("; ")
            );
        }
        out.push('\n');
    }
    if st.chart_version_noise > 0 {
        let _ = writeln!(
            out,
            "> {} resources changed only chart-version labels ({}); collapsed.\n",
            st.chart_version_noise,
            crate::CHART_VERSION_LABELS
                .iter()
                .map(|l| code(l))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

fn resource_block(r: &ResourceDiff) -> Block {
    let id = r.identity.display();
    let hook = if r.has_flag("hook") { " _(hook)_" } else { "" };
    match r.change_type {
        ChangeType::Added => Block::plain(format!("- ➕ **{}** added{hook}\n\n", cell(&id))),
        ChangeType::Removed => Block::plain(format!("- ➖ **{}** removed{hook}\n\n", cell(&id))),
        ChangeType::Modified => {
            let mut s = String::new();
            let api = match &r.previous_api_version {
                Some(prev) => format!(
                    ", apiVersion {} → {}",
                    code(prev),
                    code(&r.identity.api_version)
                ),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "**✏️ {}** — {} changes{api}{hook}\n",
                cell(&id),
                r.changes.len()
            );
            let _ = writeln!(s, "```diff");
            for c in &r.changes {
                let _ = writeln!(s, "@ {} ({})", c.path, c.importance.as_str());
                if let Some(d) = &c.line_diff {
                    for line in d.lines() {
                        let _ = writeln!(s, "{}", fence_safe(line));
                    }
                    continue;
                }
                if let Some(b) = &c.before {
                    let _ = writeln!(s, "- {}", fence_safe(&display_value(b, 300)));
                }
                if let Some(a) = &c.after {
                    let _ = writeln!(s, "+ {}", fence_safe(&display_value(a, 300)));
                }
            }
            let _ = writeln!(s, "```\n");
            Block {
                text: s,
                kind: BlockKind::Fenced,
            }
        }
    }
}

/// Keeps a line from closing the fence it sits in.
fn fence_safe(line: &str) -> String {
    if line.trim_start().starts_with("```") {
        format!(" {line}")
    } else {
        line.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Plain,
    Fenced,
    Open,
    Close,
}

struct Block {
    text: String,
    kind: BlockKind,
}

impl Block {
    fn plain(text: String) -> Self {
        Block {
            text,
            kind: BlockKind::Plain,
        }
    }
    fn open(text: String) -> Self {
        Block {
            text,
            kind: BlockKind::Open,
        }
    }
    fn close(text: String) -> Self {
        Block {
            text,
            kind: BlockKind::Close,
        }
    }
}

fn notice(shown: usize, total: usize, opts: &MarkdownOptions) -> String {
    let link = match &opts.full_result_url {
        Some(u) => format!(" [Full result]({u})."),
        None => " Run `chartimpact` locally or use `--output json` for the full result.".into(),
    };
    format!(
        "\n> ⚠️ **Truncated**: this report hit GitHub's {MARKDOWN_LIMIT}-character comment limit; {shown} of {total} changed resources are shown.{link}\n"
    )
}

fn assemble(head: String, blocks: Vec<Block>, cmp: &Comparison, opts: &MarkdownOptions) -> String {
    let total: usize = cmp
        .structured_diff
        .resources
        .iter()
        .filter(|r| !r.has_flag("chart-version-noise"))
        .count();
    // Room kept for the notice and for closing an open <details>.
    let reserve = notice(total, total, opts).len() + "</details>\n\n".len() + 16;
    let budget = opts.max_len.saturating_sub(reserve);
    let mut out = head;
    if out.len() > budget {
        let mut cut_at = budget;
        while !out.is_char_boundary(cut_at) {
            cut_at -= 1;
        }
        let line_end = out[..cut_at].rfind('\n').map(|i| i + 1).unwrap_or(0);
        out.truncate(line_end);
        out.push_str(&notice(0, total, opts));
        return out;
    }
    let mut open_details = false;
    let mut shown = 0;
    for block in blocks {
        if out.len() + block.text.len() <= budget {
            out.push_str(&block.text);
            match block.kind {
                BlockKind::Open => open_details = true,
                BlockKind::Close => open_details = false,
                BlockKind::Fenced => shown += 1,
                BlockKind::Plain => shown += usize::from(block.text.starts_with("- ")),
            }
            continue;
        }
        // Cut this block on a line boundary, closing what it opened.
        if block.kind == BlockKind::Fenced {
            let room = budget.saturating_sub(out.len() + "```\n\n".len());
            let mut taken = 0;
            for line in block.text.split_inclusive('\n') {
                if taken + line.len() > room {
                    break;
                }
                taken += line.len();
            }
            let part = &block.text[..taken];
            if part.lines().count() > 2 {
                out.push_str(part);
                out.push_str("```\n\n");
            }
        }
        if open_details {
            out.push_str("</details>\n\n");
        }
        out.push_str(&notice(shown, total, opts));
        return out;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_escapes_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc<d"), "a\\|b c&lt;d");
        assert_eq!(code("a`b"), "`` a`b ``");
    }

    #[test]
    fn fence_lines_are_defused() {
        assert_eq!(fence_safe("```"), " ```");
    }
}
