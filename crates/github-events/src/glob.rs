//! `*` wildcards for repository and branch filters.

/// Whether `text` matches `pattern`, where `*` matches any run of characters other than
/// `stop` (any characters at all when `stop` is `None`) and every other character matches
/// itself (ASCII case-insensitively when `ignore_case`).
pub(crate) fn matches(pattern: &str, text: &str, stop: Option<char>, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Classic wildcard matching with one backtrack point; a `stop` character ends what the
    // last `*` may swallow.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && same(p[pi], t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star.filter(|&(_, st)| Some(t[st]) != stop) {
            star = Some((sp, st + 1));
            pi = sp + 1;
            ti = st + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards() {
        assert!(matches("main", "main", None, false));
        assert!(!matches("main", "Main", None, false));
        assert!(matches("release/*", "release/1.2", None, false));
        assert!(matches("*", "feature/x/y", None, false));
        assert!(matches("*-stable", "v1-stable", None, false));
        assert!(!matches("*-stable", "v1-stable-2", None, false));
        assert!(matches("a*b*c", "axxbyyc", None, false));
        assert!(matches("", "", None, false));
        assert!(!matches("", "x", None, false));
    }

    #[test]
    fn stop_character() {
        assert!(matches("org/*", "org/repo", Some('/'), false));
        assert!(!matches("*", "org/repo", Some('/'), false));
        assert!(matches("*/*", "org/repo", Some('/'), false));
        assert!(matches("*/chart-*", "org/chart-x", Some('/'), false));
        assert!(!matches("org*", "org/repo", Some('/'), false));
        assert!(matches("ORG/Repo", "org/repo", Some('/'), true));
    }
}
