use std::fmt;
use std::str::FromStr;

/// The id of a compare result: a sha256 digest as 64 lowercase hex digits.
///
/// Compare ids are deterministic (the same inputs give the same id), which is what lets the
/// store deduplicate repeated compares.
///
/// ```
/// use store::CompareId;
///
/// let id: CompareId = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".parse().unwrap();
/// assert_eq!(id.to_string(), id.as_str());
/// assert!("9F86".parse::<CompareId>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompareId(String);

/// Why a string is not a [`CompareId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidCompareId {
    /// The string is not 64 characters long.
    #[error("compare id must be 64 lowercase hex digits, got {len} characters")]
    Length {
        /// Its length in characters.
        len: usize,
    },
    /// A character is not a lowercase hex digit.
    #[error("compare id must be 64 lowercase hex digits, found {found:?} at position {position}")]
    Character {
        /// The offending character.
        found: char,
        /// Its position (0-based, in characters).
        position: usize,
    },
}

impl CompareId {
    /// The length of a compare id in hex digits.
    pub const LEN: usize = 64;

    /// The id for a sha256 digest.
    pub fn from_digest(digest: [u8; 32]) -> CompareId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(Self::LEN);
        for b in digest {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 0xf)] as char);
        }
        CompareId(s)
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 hex digits, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for CompareId {
    type Err = InvalidCompareId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((position, found)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !matches!(c, '0'..='9' | 'a'..='f'))
        {
            // A wrong character is the more useful message, unless the string is just too long.
            if position < Self::LEN {
                return Err(InvalidCompareId::Character { found, position });
            }
        }
        if s.len() != Self::LEN {
            return Err(InvalidCompareId::Length {
                len: s.chars().count(),
            });
        }
        Ok(CompareId(s.to_owned()))
    }
}

impl TryFrom<String> for CompareId {
    type Error = InvalidCompareId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for CompareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CompareId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<CompareId> for String {
    fn from(id: CompareId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256_TEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn parses_and_displays_round_trip() {
        let id: CompareId = SHA256_TEST.parse().unwrap();
        assert_eq!(id.as_str(), SHA256_TEST);
        assert_eq!(id.to_string(), SHA256_TEST);
        assert_eq!(id.to_string().parse::<CompareId>().unwrap(), id);
        assert_eq!(String::from(id.clone()), SHA256_TEST);
        assert_eq!(CompareId::try_from(SHA256_TEST.to_owned()).unwrap(), id);
    }

    #[test]
    fn from_digest_is_lowercase_hex() {
        let mut digest = [0u8; 32];
        digest[0] = 0xab;
        digest[31] = 0x0f;
        let id = CompareId::from_digest(digest);
        assert_eq!(id.as_str().len(), 64);
        assert!(id.as_str().starts_with("ab00"));
        assert!(id.as_str().ends_with("000f"));
        assert_eq!(id.as_str().parse::<CompareId>().unwrap(), id);
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            "".parse::<CompareId>(),
            Err(InvalidCompareId::Length { len: 0 })
        );
        assert_eq!(
            "abc".parse::<CompareId>(),
            Err(InvalidCompareId::Length { len: 3 })
        );
        let long = format!("{SHA256_TEST}0");
        let err = long.parse::<CompareId>().unwrap_err();
        assert_eq!(err, InvalidCompareId::Length { len: 65 });
        assert_eq!(
            err.to_string(),
            "compare id must be 64 lowercase hex digits, got 65 characters"
        );
    }

    #[test]
    fn rejects_uppercase_and_non_hex_naming_the_position() {
        let upper = SHA256_TEST.to_uppercase();
        assert_eq!(
            upper.parse::<CompareId>(),
            Err(InvalidCompareId::Character {
                found: 'F',
                position: 1
            })
        );
        let mut bad = SHA256_TEST.to_owned();
        bad.replace_range(10..11, "g");
        let err = bad.parse::<CompareId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "compare id must be 64 lowercase hex digits, found 'g' at position 10"
        );
        // Short and with a bad character: the character is named.
        assert_eq!(
            "../etc".parse::<CompareId>(),
            Err(InvalidCompareId::Character {
                found: '.',
                position: 0
            })
        );
        // Multi-byte characters are counted as characters.
        let mut unicode = SHA256_TEST[..63].to_owned();
        unicode.push('é');
        assert_eq!(
            unicode.parse::<CompareId>(),
            Err(InvalidCompareId::Character {
                found: 'é',
                position: 63
            })
        );
    }
}
