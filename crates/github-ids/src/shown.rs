//! How untrusted text appears in messages.

/// Untrusted text (a header, a payload field) for an error message or a reason: at most 100
/// characters, cut with `…`, so a hostile value cannot flood a log line.
///
/// ```
/// assert_eq!(github_ids::shown("abc"), "abc");
/// assert_eq!(github_ids::shown(&"x".repeat(500)).chars().count(), 101);
/// ```
pub fn shown(value: &str) -> String {
    const MAX: usize = 100;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_long_text_on_a_char_boundary() {
        assert_eq!(shown("abc"), "abc");
        let long = "é".repeat(150);
        let out = shown(&long);
        assert_eq!(out.chars().count(), 101);
        assert!(out.ends_with('…'));
    }
}
