//! Per-resource unified diffs of the compared objects.

use std::fmt::Write;

use crate::Comparison;
use crate::model::ChangeType;

use super::yaml::to_yaml;

/// A unified diff per differing resource, with `context` lines, over the objects as compared
/// (secrets redacted, keys in document order).
pub fn unified(cmp: &Comparison, context: usize) -> String {
    unified_per_resource(cmp, context).concat()
}

/// The same diffs, one string per item of `structured_diff.resources` (in that order), for
/// viewers that show one resource at a time.
pub fn unified_per_resource(cmp: &Comparison, context: usize) -> Vec<String> {
    let mut diffs = Vec::with_capacity(cmp.sides.len());
    for (r, sides) in cmp.structured_diff.resources.iter().zip(&cmp.sides) {
        let mut out = String::new();
        let id = r.identity.display();
        let before = sides.before.as_ref().map(to_yaml).unwrap_or_default();
        let after = sides.after.as_ref().map(to_yaml).unwrap_or_default();
        let (old_name, new_name) = match r.change_type {
            ChangeType::Added => ("/dev/null".to_owned(), format!("b/{id}")),
            ChangeType::Removed => (format!("a/{id}"), "/dev/null".to_owned()),
            ChangeType::Modified => (format!("a/{id}"), format!("b/{id}")),
        };
        let diff = similar::TextDiff::from_lines(&before, &after);
        let _ = write!(
            out,
            "{}",
            diff.unified_diff()
                .context_radius(context)
                .header(&old_name, &new_name)
        );
        diffs.push(out);
    }
    diffs
}
