//! Sprig's regular expression functions (RE2 semantics via the `regex` crate's engine).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex_automata::meta;
use regex_automata::util::syntax;

use super::{FuncError, FuncMap, Sig, Ty, err, i, s};
use crate::value::Value;

/// What a compiled pattern is built to search. Go matches by character; a pattern compiled
/// for any text needs UTF-8 automata for each class that takes in non-ASCII characters (`.`,
/// `[^a-z]`), and building those is most of compiling it: ~0.2 ms and a hundred fresh pages
/// a pattern, which a Bitnami render paid three or four times on its rendering thread. Text
/// that is all ASCII, nearly all of a chart's, is searched with the pattern compiled for
/// bytes, where such a class is one byte range; on such text both find the same matches (each
/// character is one byte, and what a class or `.` adds beyond ASCII cannot occur in it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    /// Any UTF-8 text.
    Unicode,
    /// ASCII text only.
    Ascii,
}

/// The pattern `re`, compiled to search `text`.
fn compile_for(re: &str, text: &str) -> Result<Arc<Pattern>, FuncError> {
    compile_as(
        re,
        if text.is_ascii() {
            Alphabet::Ascii
        } else {
            Alphabet::Unicode
        },
    )
}

/// `re` compiled for any text.
fn compile(re: &str) -> Result<Arc<Pattern>, FuncError> {
    compile_as(re, Alphabet::Unicode)
}

/// Compiled patterns kept across calls: charts call the same few patterns from helpers that
/// are included many times, and compiling (Unicode classes above all) costs far more than
/// matching. Bounded: cleared when full.
/// Shared (not cloned: a cloned `Regex` starts a new matching-cache pool).
fn compile_as(re: &str, alphabet: Alphabet) -> Result<Arc<Pattern>, FuncError> {
    const MAX_CACHED: usize = 256;
    type Cache = [HashMap<String, Arc<Pattern>>; 2];
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let slot = alphabet as usize;
    if let Some(r) = cache.lock().unwrap_or_else(|e| e.into_inner())[slot].get(re) {
        return Ok(r.clone());
    }
    let r = match (alphabet, compile_uncached(re, alphabet)) {
        (_, Ok(pattern)) => Arc::new(pattern),
        // What needs Unicode to be written (`\pL`, `[^é]`) is compiled for any text, which
        // also gives the error a pattern that compiles for neither has.
        (Alphabet::Ascii, Err(_)) => compile(re)?,
        (Alphabet::Unicode, Err(e)) => return Err(e),
    };
    let mut maps = cache.lock().unwrap_or_else(|e| e.into_inner());
    let map = &mut maps[slot];
    if map.len() >= MAX_CACHED {
        map.clear();
    }
    map.insert(re.to_owned(), r.clone());
    Ok(r)
}

/// A compiled pattern: what `regex::Regex` is (the same engine, configured as `regex` does),
/// except that no full DFA is built. `regex` builds one for every small pattern when any crate
/// in the build enables `regex-automata`'s `dfa-build` (here `tracing-subscriber`'s filter
/// does): for a class like `[^}]`, which is most of Unicode, that took 0.2–0.3 ms per pattern,
/// a fifth of executing a Bitnami chart's templates, to speed up matches against strings of a
/// few dozen bytes. The lazy DFA and the other engines remain.
pub(crate) struct Pattern {
    re: meta::Regex,
    /// The pattern as compiled (after [`go_syntax`]).
    source: String,
}

impl Pattern {
    fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    fn find<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.re.find(text).map(|m| &text[m.range()])
    }

    fn find_iter<'t>(&self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + use<'_, 't> {
        self.re.find_iter(text).map(|m| (m.start(), m.end()))
    }
}

fn compile_uncached(re: &str, alphabet: Alphabet) -> Result<Pattern, FuncError> {
    let source = go_syntax(re).into_owned();
    let unicode = alphabet == Alphabet::Unicode;
    // `regex::RegexBuilder`'s settings for a `Regex`, plus octal escapes (RE2 reads `\123` as
    // a character code) and minus the full DFA.
    let config = meta::Config::new()
        .nfa_size_limit(Some(10 * (1 << 20)))
        .hybrid_cache_capacity(2 * (1 << 20))
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .dfa(false);
    meta::Builder::new()
        .configure(config)
        .syntax(
            syntax::Config::new()
                .utf8(unicode)
                .unicode(unicode)
                .octal(true),
        )
        .build(&source)
        .map(|re| Pattern { re, source })
        .or_else(|e| {
            // The text `regex` gives for the same failure, whose last line Go's resembles.
            let text = match (e.size_limit(), e.syntax_error()) {
                (Some(limit), _) => format!("Compiled regex exceeds size limit of {limit} bytes."),
                (None, Some(syntax)) => syntax.to_string(),
                (None, None) => e.to_string(),
            };
            err(format!(
                "error parsing regexp: {}",
                text.lines().last().unwrap_or("")
            ))
        })
}

/// A Go (RE2) pattern in the `regex` crate's syntax, where the two differ:
/// - Perl classes and word boundaries are ASCII in RE2 (`\d` is `[0-9]`, `\s` is
///   `[\t\n\f\r ]`, `\w` is `[0-9A-Za-z_]`) and Unicode in `regex`, where `\d` also
///   matches `٣`. Spelled out as ASCII classes, they match what Helm matches, and compile
///   without the UTF-8 automata a Unicode class needs (a third of a millisecond each).
/// - RE2 reads a `-` right after a class escape inside `[...]` (`[\w-.]`) as a literal; the
///   `regex` crate refuses it, so such dashes are escaped.
/// - `\Q...\E` quotes literal text in RE2; `regex` has no such syntax, so the text is escaped.
/// - A `{` that starts no counted repetition is a literal in RE2 and an error in `regex`:
///   escaped.
/// - In a class, `[`, `&` and `~` are literals in RE2 and nested classes or set operators in
///   `regex`: escaped.
fn go_syntax(re: &str) -> std::borrow::Cow<'_, str> {
    if !re.contains(['\\', '[', '{']) {
        return std::borrow::Cow::Borrowed(re);
    }
    const DIGIT: &str = "0-9";
    const SPACE: &str = "\\t\\n\\f\\r ";
    const WORD: &str = "0-9A-Za-z_";
    let mut out = String::with_capacity(re.len() + 16);
    let mut in_class = false;
    let mut rest = re;
    while let Some(ch) = rest.chars().next() {
        rest = &rest[ch.len_utf8()..];
        match ch {
            '\\' => {
                let Some(esc) = rest.chars().next() else {
                    out.push(ch);
                    break;
                };
                rest = &rest[esc.len_utf8()..];
                let class = match esc.to_ascii_lowercase() {
                    'd' => Some(DIGIT),
                    's' => Some(SPACE),
                    'w' => Some(WORD),
                    _ => None,
                };
                match (class, esc.is_ascii_uppercase(), in_class) {
                    (Some(set), false, true) => out.push_str(set),
                    // A negated set inside a class: a nested class, which `regex` unites.
                    (Some(set), true, true) => {
                        out.push_str("[^");
                        out.push_str(set);
                        out.push(']');
                    }
                    (Some(set), negated, false) => {
                        out.push_str(if negated { "[^" } else { "[" });
                        out.push_str(set);
                        out.push(']');
                    }
                    (None, _, false) if esc == 'b' || esc == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(esc);
                        out.push(')');
                    }
                    (None, _, _) if esc == 'Q' => {
                        let (quoted, after) = match rest.find("\\E") {
                            Some(end) => (&rest[..end], &rest[end + 2..]),
                            None => (rest, ""),
                        };
                        out.push_str(&regex::escape(quoted));
                        rest = after;
                    }
                    (None, _, _) => {
                        out.push(ch);
                        out.push(esc);
                    }
                }
                if class.is_some() && in_class && rest.starts_with('-') && !rest.starts_with("-]") {
                    out.push_str("\\-");
                    rest = &rest[1..];
                }
            }
            '[' if in_class && rest.starts_with(':') => {
                // A POSIX class (`[:alpha:]`) inside a class: copied whole, its `]` is not
                // the class's end.
                let end = rest.find(":]").map_or(rest.len(), |i| i + 2);
                out.push('[');
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` first in the class (after any `^`) is a literal.
                if let Some(r) = rest.strip_prefix('^') {
                    out.push('^');
                    rest = r;
                }
                if let Some(r) = rest.strip_prefix(']') {
                    out.push_str("\\]");
                    rest = r;
                }
            }
            // Literal in an RE2 class; a nested class or a set operator (`&&`, `~~`) in one of
            // the `regex` crate.
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(ch);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            // RE2 reads a `{` that does not start `{n}`, `{n,}` or `{n,m}` as a literal (Bitnami's
            // `{(v[0-9])*[^}]*}}$`); the `regex` crate refuses it.
            '{' if !in_class && !is_repetition(rest) => out.push_str("\\{"),
            _ => out.push(ch),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn both(m: &mut FuncMap, name: &str, sig: Sig, f: fn(&[Value]) -> super::FuncResult) {
    m.add(name, sig.clone(), move |_, a| f(&a));
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    m.add(&must, sig, move |_, a| f(&a));
}

fn limit(n: i64) -> usize {
    if n < 0 { usize::MAX } else { n as usize }
}

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    m.add("regexMatch", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(
            compile_for(s(&a[0]), s(&a[1]))
                .map(|r| r.is_match(s(&a[1])))
                .unwrap_or(false),
        ))
    });
    m.add("mustRegexMatch", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(
            compile_for(s(&a[0]), s(&a[1]))?.is_match(s(&a[1])),
        ))
    });
    both(m, "regexFindAll", Sig::fixed(&[st, st, Ty::Int]), |a| {
        let text = s(&a[1]);
        let re = compile_for(s(&a[0]), text)?;
        Ok(Value::string_list(
            re.find_iter(text)
                .take(limit(i(&a[2])))
                .map(|(start, end)| &text[start..end]),
        ))
    });
    both(m, "regexFind", Sig::fixed(&[st, st]), |a| {
        let text = s(&a[1]);
        Ok(Value::str(
            compile_for(s(&a[0]), text)?.find(text).unwrap_or(""),
        ))
    });
    both(m, "regexReplaceAll", Sig::fixed(&[st, st, st]), |a| {
        Ok(Value::str(replace_all(
            &*compile_for(s(&a[0]), s(&a[1]))?,
            s(&a[1]),
            s(&a[2]),
            true,
        )?))
    });
    both(
        m,
        "regexReplaceAllLiteral",
        Sig::fixed(&[st, st, st]),
        |a| {
            Ok(Value::str(replace_all(
                &*compile_for(s(&a[0]), s(&a[1]))?,
                s(&a[1]),
                s(&a[2]),
                false,
            )?))
        },
    );
    both(m, "regexSplit", Sig::fixed(&[st, st, Ty::Int]), |a| {
        let re = compile_for(s(&a[0]), s(&a[1]))?;
        let n = i(&a[2]);
        if n == 0 {
            return Ok(Value::string_list(Vec::<String>::new()));
        }
        Ok(Value::string_list(go_split(&re, s(&a[1]), n)))
    });
    m.add("regexQuoteMeta", Sig::fixed(&[st]), |_, a| {
        let mut out = String::new();
        for c in s(&a[0]).chars() {
            if "\\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(Value::str(out))
    });
}

/// `Regex::replace_all` (expanding `$name` in `rep` when `expand`), within the memory budget:
/// every match can add the whole replacement, and `$0$0…` doubles what each match adds, so
/// the result is checked as it grows rather than estimated.
fn replace_all(re: &Pattern, text: &str, rep: &str, expand: bool) -> Result<String, FuncError> {
    let mut out = String::new();
    let mut last = 0;
    // Each `$` of the replacement adds at most a group of the match, no longer than the match.
    let refs = if expand { rep.matches('$').count() } else { 0 };
    let mut next = |start: usize, end: usize, out: &mut String| {
        let most = out.len() + (start - last) + rep.len() + refs.saturating_mul(end - start);
        crate::exec::CallCtx::reserve(most as u64)?;
        // Expanding costs a step per reference: a million matches of a thousand `$0` each
        // reach the step limit and the deadline, not only the budget.
        crate::budget::work(refs as u64 + 1).map_err(|l| FuncError::new(l.to_string()))?;
        out.push_str(&text[last..start]);
        last = end;
        Ok::<_, FuncError>(())
    };
    if expand {
        for caps in re.re.captures_iter(text) {
            let Some(m) = caps.get_match() else { continue };
            next(m.start(), m.end(), &mut out)?;
            // `regex::Captures::expand`'s own implementation.
            caps.interpolate_string_into(text, rep, &mut out);
        }
    } else {
        for (start, end) in re.find_iter(text) {
            next(start, end, &mut out)?;
            out.push_str(rep);
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Go's `Regexp.FindAllStringIndex`: an empty match right after the previous match is skipped.
fn go_find_all(re: &Pattern, text: &str, n: i64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut prev_end: Option<usize> = None;
    for (start, end) in re.find_iter(text) {
        if n >= 0 && out.len() as i64 >= n {
            break;
        }
        if start == end && prev_end == Some(start) {
            continue;
        }
        out.push((start, end));
        prev_end = Some(end);
    }
    out
}

/// Go's `Regexp.Split`.
fn go_split<'a>(re: &Pattern, text: &'a str, n: i64) -> Vec<&'a str> {
    if !re.source.is_empty() && text.is_empty() {
        return vec![""];
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (s, e) in go_find_all(re, text, n) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = s;
        if e != 0 {
            parts.push(&text[beg..end]);
        }
        beg = e;
    }
    if end != text.len() {
        parts.push(&text[beg..]);
    }
    parts
}

/// Whether `rest`, the text after a `{`, completes a counted repetition: digits, optionally a
/// comma and more digits, and `}`.
fn is_repetition(rest: &str) -> bool {
    let b = rest.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(0);
    if n == 0 {
        return false;
    }
    let mut at = n;
    if b.get(at) == Some(&b',') {
        at += 1 + digits(at + 1);
    }
    b.get(at) == Some(&b'}')
}

#[cfg(test)]
mod go_syntax_tests {
    use super::compile;

    #[test]
    fn go_accepts_dash_after_class_escape() {
        let re = compile(r"^[\w-\.]+$").unwrap();
        assert!(re.is_match("my-master.1"));
        assert!(!re.is_match("a b"));
    }

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        // Arabic-Indic three, an accented letter, a no-break space and a vertical tab: none
        // is a digit, word character or space to Go.
        for (pattern, yes, no) in [
            (r"^\d+$", "042", "٣"),
            (r"^\w+$", "a_Z9", "é"),
            (r"^\s+$", " \t\n\r\x0c", "\u{a0}"),
            (r"^\s$", " ", "\x0b"),
            (r"^[\d.]+$", "1.2", "٣.2"),
            (r"^\D$", "٣", "3"),
            (r"^[\W]$", "é", "e"),
            (r"^[^\S]$", "\t", "\u{a0}"),
            (r"^[x\D]$", "٣", "3"),
        ] {
            let re = compile(pattern).unwrap();
            assert!(re.is_match(yes), "{pattern} should match {yes:?}");
            assert!(!re.is_match(no), "{pattern} should not match {no:?}");
        }
    }

    #[test]
    fn word_boundaries_are_ascii_as_in_re2() {
        // Go sees a boundary between `é` and `t` (`é` is not a word character to it); the
        // `regex` crate's Unicode `\b` does not.
        let re = compile(r"\bt").unwrap();
        assert!(re.is_match("a t"));
        assert!(re.is_match("ét"));
        assert!(!compile(r"\Bt").unwrap().is_match("ét"));
    }

    #[test]
    fn escapes_re2_has_and_regex_spells_differently() {
        assert!(compile(r"^\Qa.b*\E$").unwrap().is_match("a.b*"));
        assert!(!compile(r"^\Qa.b*\E$").unwrap().is_match("axb"));
        assert!(compile(r"^\Q(x$").unwrap().is_match("(x$"));
        assert!(compile(r"^\101$").unwrap().is_match("A"));
        assert!(compile(r"^[[:alpha:]\d]+$").unwrap().is_match("ab12"));
        assert!(compile(r"^[]a]+$").unwrap().is_match("]a"));
        assert!(compile(r"^[[&~]+$").unwrap().is_match("[&~"));
        assert!(
            compile(r"{(v[0-9])*[^}]*}}$")
                .unwrap()
                .is_match("{v3.17.1}}")
        );
        assert!(compile(r"^a{2}b{1,}c{1,2}{$").unwrap().is_match("aabcc{"));
        assert!(compile(r"^x{,2}$").unwrap().is_match("x{,2}"));
        assert!(!compile(r"^[a&&b]$").unwrap().is_match("c"));
        assert!(compile(r"^[\\d]+$").unwrap().is_match("\\d"));
        assert!(compile(r"^\\d$").unwrap().is_match("\\d"));
    }
}

#[cfg(test)]
mod alphabet_tests {
    use super::{Alphabet, compile_for, compile_uncached, go_split, replace_all};

    /// Patterns whose classes or dots take in non-ASCII characters, case folding that does
    /// (`k` and the Kelvin sign), byte escapes and non-ASCII literals: what differs between
    /// the two compilations, if anything does.
    const PATTERNS: &[&str] = &[
        r"[^A-Za-z0-9]+$",
        r"(-?[^a-z\d\-])+-?",
        r"{(v[0-9])*[^}]*}}$",
        r"^.+$",
        r"(?s)a.b",
        r"(?i)k[^s]",
        r"[^\xFF]",
        r"é|x",
        r"(?P<w>\w+)-(\d*)",
        r"\b.",
        r"",
        r"a*",
        r"[[:^alpha:]]",
        r"\W+",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// On ASCII text the pattern compiled for bytes finds, replaces and splits exactly as
        /// the one compiled for any text.
        #[test]
        fn ascii_text_is_searched_alike(text in "[ -~\t\n]{0,24}", which in 0..PATTERNS.len()) {
            let pattern = PATTERNS[which];
            let any = compile_uncached(pattern, Alphabet::Unicode).unwrap();
            let ascii = compile_uncached(pattern, Alphabet::Ascii).unwrap();
            proptest::prop_assert_eq!(any.is_match(&text), ascii.is_match(&text));
            proptest::prop_assert_eq!(
                any.find_iter(&text).collect::<Vec<_>>(),
                ascii.find_iter(&text).collect::<Vec<_>>()
            );
            proptest::prop_assert_eq!(
                replace_all(&any, &text, "<$1${w}>", true).unwrap(),
                replace_all(&ascii, &text, "<$1${w}>", true).unwrap()
            );
            proptest::prop_assert_eq!(go_split(&any, &text, -1), go_split(&ascii, &text, -1));
        }
    }

    #[test]
    fn text_beyond_ascii_gets_the_unicode_pattern() {
        // One character, two bytes: matched once, as Go does, not byte by byte.
        let re = compile_for(r"[^a-z]", "é").unwrap();
        assert_eq!(re.find_iter("aéb").collect::<Vec<_>>(), [(1, 3)]);
        assert_eq!(
            compile_for(r"[^a-z]", "aXb")
                .unwrap()
                .find_iter("aXb")
                .collect::<Vec<_>>(),
            [(1, 2)]
        );
    }

    #[test]
    fn patterns_that_need_unicode_still_compile_for_ascii_text() {
        // `\pL` and a non-ASCII character in a class cannot be written for bytes.
        assert!(compile_for(r"^\pL+$", "abc").unwrap().is_match("abc"));
        assert!(compile_for(r"^[^é]+$", "abc").unwrap().is_match("abc"));
        // And what compiles for neither fails with the same message for both.
        let (a, b) = (compile_for("(", "abc"), compile_for("(", "é"));
        assert_eq!(a.err().unwrap().to_string(), b.err().unwrap().to_string());
    }
}
