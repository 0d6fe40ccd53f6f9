//! Mutations of an input: byte edits, tokens of the formats under test, splices.

use crate::rng::Rng;

/// Tokens that mean something to YAML, templates or JSON: inserting them reaches the parsers'
/// less common paths faster than random bytes do.
const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    "(",
    ")",
    "|",
    " ",
    "\n",
    "\t",
    "  ",
    "$",
    ".",
    ":=",
    "=",
    ",",
    "end",
    "if",
    "else",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "include",
    "tpl",
    "toYaml",
    "nindent 4",
    "indent 2",
    "printf \"%v\"",
    "\"",
    "'",
    "`",
    "\\",
    "/*",
    "*/",
    "&a ",
    "*a",
    "<<: ",
    "---\n",
    "...\n",
    "- ",
    "? ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    "#",
    "!!str ",
    "!!binary ",
    "!!int ",
    "!foo ",
    "%YAML 1.1\n",
    "%TAG ! tag:x:\n",
    "|\n",
    ">-\n",
    "|2+\n",
    "~",
    "null",
    "0x",
    "0o",
    "1e309",
    "-",
    "+",
    "9223372036854775808",
    "\u{feff}",
    "\u{85}",
    "\r\n",
    "\0",
    "é",
    "𝄞",
    "true",
    "nil",
    "$ref",
    "#/",
    "allOf",
    "\"$ref\":\"#\"",
];

/// Applies one to four random edits to `input`; `other` is spliced in sometimes.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 | 4 => {
                let t = rng.pick(TOKENS).as_bytes();
                out.splice(at..at, t.iter().copied());
            }
            5 if !out.is_empty() => {
                // Repeat a piece: nesting and long runs.
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(32)).min(out.len());
                let piece = out[start..end].to_vec();
                for _ in 0..=rng.below(8) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            6 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(256)).min(other.len());
                out.splice(at..at, other[start..end].iter().copied());
            }
            7 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                out.truncate(end.max(start));
            }
            _ => {
                let t = rng.pick(TOKENS).as_bytes();
                out.extend_from_slice(t);
            }
        }
    }
    out
}
