//! huandu/xstrings' case conversions as Sprig v3.3.0 uses them (`snakecase`, `kebabcase`,
//! `camelcase`): its word scanner, its number rules (`http2xx` → `http_2xx`) and its
//! treatment of leading and repeated connectors.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// Go's `unicode.IsPunct` for ASCII (category P); other scripts' punctuation is rare here.
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c)
}

/// xstrings' `isAlphabet`: a letter outside the CJK scripts.
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic()
        && !matches!(c as u32,
            0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn first(s: &str) -> Option<(char, usize)> {
    s.chars().next().map(|c| (c, c.len_utf8()))
}

/// xstrings' `nextWord`: (type, word, remaining).
fn next_word(s: &str) -> (Word, &str, &str) {
    let Some((r, size)) = first(s) else {
        return (Word::Invalid, "", "");
    };
    let mut offset = size;
    let mut remaining = &s[size..];
    let take_while = |offset: &mut usize, remaining: &mut &str, keep: &dyn Fn(char) -> bool| {
        while let Some((c, sz)) = first(remaining) {
            if !keep(c) {
                break;
            }
            *offset += sz;
            *remaining = &remaining[sz..];
        }
    };
    let wt = if is_connector(r) {
        take_while(&mut offset, &mut remaining, &is_connector);
        Word::Connector
    } else if is_punct(r) {
        take_while(&mut offset, &mut remaining, &is_punct);
        Word::Punct
    } else if r.is_uppercase() {
        if let Some((c, sz)) = first(remaining) {
            if c.is_uppercase() {
                let mut prev_size = sz;
                offset += sz;
                remaining = &remaining[sz..];
                let mut last = c;
                while let Some((c, sz)) = first(remaining) {
                    last = c;
                    if !c.is_uppercase() {
                        break;
                    }
                    prev_size = sz;
                    offset += sz;
                    remaining = &remaining[sz..];
                }
                // "HTTPStatus" splits into "HTTP" and "Status".
                if !remaining.is_empty() && is_alphabet(last) {
                    offset -= prev_size;
                    remaining = &s[offset..];
                }
            } else if is_alphabet(c) {
                take_while(&mut offset, &mut remaining, &|c| {
                    is_alphabet(c) && !c.is_uppercase()
                });
            }
        }
        Word::Upper
    } else if is_alphabet(r) {
        take_while(&mut offset, &mut remaining, &|c| {
            is_alphabet(c) && !c.is_uppercase()
        });
        Word::Alphabet
    } else if r.is_numeric() {
        take_while(&mut offset, &mut remaining, &|c| c.is_numeric());
        Word::Number
    } else {
        take_while(&mut offset, &mut remaining, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (wt, &s[..offset], remaining)
}

fn to_lower(out: &mut String, wt: Word, s: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (`ToSnakeCase` with `_`, `ToKebabCase` with `-`).
pub(crate) fn to_lower_case(s: &str, connector: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    if s.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut remaining) = next_word(s);
    while !remaining.is_empty() {
        if wt != Word::Connector {
            to_lower(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    to_lower(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if !matches!(wt, Word::Invalid | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => to_lower(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                // A number followed by no letters belongs to the previous word ("Bld4Floor").
                if wt != Word::Alphabet {
                    to_lower(&mut out, Word::Number, last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                // Lower-case letters after a number start a new word ("HTTP2xx" → "http_2xx").
                out.push(connector);
                to_lower(&mut out, Word::Number, last, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    to_lower(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if !matches!(wt, Word::Invalid | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    to_lower(&mut out, wt, word, connector);
    out
}

/// xstrings' `ToCamelCase`: connectors dropped and the next rune upper-cased; leading and
/// repeated connectors kept.
pub(crate) fn to_camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            r0 = Some(c.to_uppercase().next().unwrap_or(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = r0.to_uppercase().next().unwrap_or(r0);
        } else {
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xstrings_documented_samples() {
        for (input, want) in [
            ("FirstName", "first_name"),
            ("HTTPServer", "http_server"),
            ("NoHTTPS", "no_https"),
            ("GO_PATH", "go_path"),
            ("GO PATH", "go_path"),
            ("GO-PATH", "go_path"),
            ("http2xx", "http_2xx"),
            ("HTTP20xOK", "http_20x_ok"),
            ("Duration2m3s", "duration_2m3s"),
            ("Bld4Floor3rd", "bld4_floor_3rd"),
        ] {
            assert_eq!(to_lower_case(input, '_'), want, "{input}");
        }
        for (input, want) in [
            ("some_words", "SomeWords"),
            ("http_server", "HttpServer"),
            ("no_https", "NoHttps"),
            ("_complex__case_", "_Complex_Case_"),
            ("some words", "SomeWords"),
        ] {
            assert_eq!(to_camel_case(input), want, "{input}");
        }
    }
}
