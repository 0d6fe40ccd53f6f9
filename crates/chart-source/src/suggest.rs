//! "Did you mean" ranking for unknown revisions.

/// The nearest names to `input`, best first, at most `max`.
///
/// A candidate qualifies when it shares a prefix with the input (one starts with the other,
/// ignoring a leading `v`) or is within an edit distance of about a third of the input's
/// length. Prefix matches rank before edit-distance matches; ties are broken by distance, then
/// by name.
pub(crate) fn nearest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<String> {
    let norm = |s: &str| s.strip_prefix('v').unwrap_or(s).to_ascii_lowercase();
    let needle = norm(input);
    let budget = (needle.chars().count() / 3).max(2);
    let mut scored: Vec<(u8, usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != input)
        .filter_map(|c| {
            let cand = norm(c);
            let dist = levenshtein(&needle, &cand);
            let prefix = !needle.is_empty()
                && (cand.starts_with(&needle) || needle.starts_with(&cand) && cand.len() >= 2);
            if prefix {
                Some((0, dist, c))
            } else if dist <= budget {
                Some((1, dist, c))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(max)
        .map(|(_, _, c)| c.to_owned())
        .collect()
}

/// Levenshtein distance over chars.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("main", "main"), 0);
    }

    #[test]
    fn ranks_prefix_then_distance() {
        let names = [
            "v1.2.0", "v1.2.1", "v1.3.0", "main", "mian-old", "develop", "v2.0.0",
        ];
        assert_eq!(nearest("v1.2", names, 5), vec!["v1.2.0", "v1.2.1"]);
        assert_eq!(nearest("mian", names, 5), vec!["mian-old", "main"]);
        assert_eq!(nearest("1.3.0", names, 5)[0], "v1.3.0");
        assert!(nearest("zzzzzzzz", names, 5).is_empty());
        assert_eq!(nearest("v1", names, 2).len(), 2);
    }
}
