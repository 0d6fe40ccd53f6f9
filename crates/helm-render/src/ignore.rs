//! `.helmignore` rules, matched exactly as Helm 3.17's `pkg/ignore` matches them.
//!
//! Helm's semantics have quirks that charts rely on, so they are kept: a pattern without `/`
//! matches the base name only; a pattern with `/` matches the whole path with Go's
//! `filepath.Match`; a trailing `/` restricts it to directories; a leading `/` anchors it at the
//! chart root; `**` is an error; and a negated rule (`!x`) that does *not* match a path marks that
//! path ignored.

use std::fmt;

/// A syntax error in a `.helmignore` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (.helmignore line {line}: {rule:?})")]
pub struct IgnoreError {
    /// 1-based line.
    pub line: usize,
    /// The rule as written.
    pub rule: String,
    /// What is wrong with it.
    pub message: String,
}

#[derive(Debug, Clone)]
struct Pattern {
    raw: String,
    /// The glob as characters: matched against every path of a chart, so split once.
    glob: Vec<char>,
    shape: Shape,
    negate: bool,
    must_dir: bool,
    anchor: Anchor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Leading `/`: the whole path from the chart root.
    Root,
    /// Contains `/`: the whole path.
    Path,
    /// No `/`: the base name only.
    Base,
}

/// Globs most rules are, matched without the general matcher (same results).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No `*`, `?`, `[` or `\\`: the name itself (`OWNERS`, `.git`).
    Literal,
    /// `*` then a literal (`*.swp`, `*~`): a suffix after a part without `/`.
    StarSuffix,
    /// Anything else.
    General,
}

impl Shape {
    fn of(glob: &[char]) -> Shape {
        let special = |c: &char| matches!(c, '*' | '?' | '[' | '\\');
        match glob.split_first() {
            _ if !glob.iter().any(special) => Shape::Literal,
            Some(('*', rest)) if !rest.is_empty() && !rest.iter().any(special) => Shape::StarSuffix,
            _ => Shape::General,
        }
    }

    fn matches(self, glob: &[char], name: &[char]) -> bool {
        match self {
            Shape::Literal => glob == name,
            Shape::StarSuffix => {
                let suffix = &glob[1..];
                name.ends_with(suffix) && !name[..name.len() - suffix.len()].contains(&'/')
            }
            Shape::General => match_from(glob, name).unwrap_or(false),
        }
    }
}

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.patterns {
            writeln!(f, "{}", p.raw)?;
        }
        Ok(())
    }
}

impl Rules {
    /// No rules.
    pub fn empty() -> Self {
        Rules::default()
    }

    /// Parses a `.helmignore` file (a UTF-8 BOM on the first line is ignored).
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, line) in text.lines().enumerate() {
            rules.add(line).map_err(|message| IgnoreError {
                line: i + 1,
                rule: line.to_owned(),
                message,
            })?;
        }
        Ok(rules)
    }

    /// Adds Helm's default rule, `templates/.?*`: hidden files under `templates/`.
    pub fn add_defaults(&mut self) {
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        let rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        go_match(rule, "abc").map_err(|e| e.to_string())?;
        let raw = rule.to_owned();
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (anchor, glob) = if let Some(r) = rule.strip_prefix('/') {
            (Anchor::Root, r)
        } else if rule.contains('/') {
            (Anchor::Path, rule)
        } else {
            (Anchor::Base, rule)
        };
        let glob: Vec<char> = glob.chars().collect();
        self.patterns.push(Pattern {
            raw,
            shape: Shape::of(&glob),
            glob,
            negate,
            must_dir,
            anchor,
        });
        Ok(())
    }

    /// True when `path` (relative to the chart root, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        let chars: Vec<char> = path.chars().collect();
        let base = chars.iter().rposition(|&c| c == '/').map_or(0, |i| i + 1);
        for p in &self.patterns {
            if p.must_dir && !is_dir {
                if p.negate {
                    return true;
                }
                continue;
            }
            let subject = match p.anchor {
                Anchor::Base => &chars[base..],
                Anchor::Root | Anchor::Path => &chars[..],
            };
            let matched = p.shape.matches(&p.glob, subject);
            if matched != p.negate {
                return true;
            }
        }
        false
    }
}

/// A malformed glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("syntax error in pattern")
    }
}

/// Go's `path/filepath.Match` on `/`-separated paths: `*` and `?` never match `/`, `[...]`
/// classes with `^` negation and ranges, `\` escapes.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(mut p: &[char], mut n: &[char]) -> Result<bool, BadPattern> {
    'pattern: while !p.is_empty() {
        let (star, chunk, rest) = scan_chunk(p);
        p = rest;
        if star && chunk.is_empty() {
            // Trailing * matches the rest unless it holds a separator.
            return Ok(!n.contains(&'/'));
        }
        let (t, ok) = match_chunk(chunk, n)?;
        if ok && (t.is_empty() || !p.is_empty()) {
            n = t;
            continue;
        }
        if star {
            // Try every split that does not cross a separator.
            let mut i = 0;
            while i < n.len() && n[i] != '/' {
                let (t, ok) = match_chunk(chunk, &n[i + 1..])?;
                if ok {
                    if p.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    n = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        // Keep validating the rest of the pattern, as Go does.
        while !p.is_empty() {
            let (_, chunk, rest) = scan_chunk(p);
            p = rest;
            match_chunk(chunk, &[])?;
        }
        return Ok(false);
    }
    Ok(n.is_empty())
}

fn scan_chunk(mut p: &[char]) -> (bool, &[char], &[char]) {
    let mut star = false;
    while p.first() == Some(&'*') {
        p = &p[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => i += 1,
            '[' => in_range = true,
            ']' => in_range = false,
            '*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &p[..i], &p[i..])
}

fn match_chunk<'a>(
    mut chunk: &[char],
    mut s: &'a [char],
) -> Result<(&'a [char], bool), BadPattern> {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            '[' => {
                let r = if failed { '\0' } else { s[0] };
                if !failed {
                    s = &s[1..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if !chunk.is_empty() && chunk[0] == ']' && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&'-') {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    if s[0] == '/' {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
            '\\' => {
                chunk = &chunk[1..];
                if chunk.is_empty() {
                    return Err(BadPattern);
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
            c => {
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        return Ok((&[], false));
    }
    Ok((s, true))
}

fn get_esc(chunk: &[char]) -> Result<(char, &[char]), BadPattern> {
    if chunk.is_empty() || chunk[0] == '-' || chunk[0] == ']' {
        return Err(BadPattern);
    }
    let mut chunk = chunk;
    if chunk[0] == '\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let r = chunk[0];
    chunk = &chunk[1..];
    if chunk.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, chunk))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The shortcuts for literal and `*suffix` globs agree with the general matcher.
        #[test]
        fn shapes_agree_with_go_match(glob in "[*a.b/?]{0,5}", name in "[a.b/]{0,6}") {
            let g: Vec<char> = glob.chars().collect();
            let n: Vec<char> = name.chars().collect();
            proptest::prop_assert_eq!(
                Shape::of(&g).matches(&g, &n),
                match_from(&g, &n).unwrap_or(false)
            );
        }
    }

    #[test]
    fn go_match_cases() {
        // Cases from Go's path/filepath match tests.
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("*x", "xxx", Ok(true)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("a[", "a", Err(BadPattern)),
            ("a[", "ab", Err(BadPattern)),
            ("a\\", "a", Err(BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for (p, n, want) in cases {
            assert_eq!(go_match(p, n), *want, "match({p:?}, {n:?})");
        }
    }

    #[test]
    fn helm_ignore_cases() {
        // From Helm's pkg/ignore tests, run against a tree:
        // cargo.txt, mast/a.txt, rudder.txt, templates/.dotfile, helm.txt, .joonix, a/b/c.txt, ...
        let cases: &[(&str, &str, bool, bool)] = &[
            ("cargo.txt", "cargo.txt", false, true),
            ("cargo.txt", "mast/cargo.txt", false, true),
            ("/cargo.txt", "cargo.txt", false, true),
            ("/cargo.txt", "mast/cargo.txt", false, false),
            ("mast/", "mast", true, true),
            ("mast/", "mast/a.txt", false, false),
            ("rudder.txt/", "rudder.txt", false, false),
            ("*.txt", "helm.txt", false, true),
            ("*.txt", "a/b/c.txt", false, true),
            ("mast/*.txt", "mast/a.txt", false, true),
            ("mast/*.txt", "mast/b/c.txt", false, false),
            ("!cargo.txt", "cargo.txt", false, false),
            ("!cargo.txt", "helm.txt", false, true),
            (".*", ".joonix", false, true),
            ("templates/.?*", "templates/.dotfile", false, true),
        ];
        for (rule, path, dir, want) in cases {
            let r = Rules::parse(rule).unwrap();
            assert_eq!(r.ignore(path, *dir), *want, "rule {rule:?} path {path:?}");
        }
    }

    #[test]
    fn comments_blank_lines_and_bom_are_skipped() {
        let r = Rules::parse("\u{feff}# comment\n\n*.bak\n").unwrap();
        assert!(r.ignore("x.bak", false));
        assert!(!r.ignore("x.yaml", false));
    }

    #[test]
    fn double_star_and_bad_globs_are_errors_naming_the_line() {
        let e = Rules::parse("ok\nsrc/**/x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("double-star"));
        assert!(Rules::parse("a[").is_err());
    }

    #[test]
    fn root_path_is_never_ignored() {
        let r = Rules::parse("*").unwrap();
        assert!(!r.ignore("", true));
        assert!(!r.ignore(".", true));
    }
}
