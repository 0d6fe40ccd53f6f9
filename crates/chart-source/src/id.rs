//! Object id newtypes: every cache and result key uses these, never ref names.

use std::{fmt, str::FromStr};

use gix::ObjectId;

macro_rules! object_id_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ObjectId);

        impl $name {
            /// The id as 40 lowercase hex digits.
            pub fn to_hex(&self) -> String {
                self.0.to_hex().to_string()
            }

            /// The first `len` hex digits (at least 4, at most 40).
            pub fn short(&self, len: usize) -> String {
                let mut hex = self.to_hex();
                hex.truncate(len.clamp(4, 40));
                hex
            }

            /// The raw 20 bytes.
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }

            pub(crate) fn from_gix(id: impl Into<ObjectId>) -> Self {
                $name(id.into())
            }

            #[allow(dead_code)]
            pub(crate) fn to_gix(self) -> ObjectId {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            /// Parses exactly 40 hex digits (either case).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 40 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ParseIdError { what: $what, input: s.chars().take(64).collect() });
                }
                ObjectId::from_hex(s.to_ascii_lowercase().as_bytes())
                    .map($name)
                    .map_err(|_| ParseIdError { what: $what, input: s.to_owned() })
            }
        }
    };
}

object_id_newtype!(
    /// The id of a commit (SHA-1, 40 hex digits). `Display` and `FromStr` round-trip.
    ///
    /// ```
    /// use chart_source::CommitId;
    /// let id: CommitId = "0123456789abcdef0123456789ABCDEF01234567".parse().unwrap();
    /// assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef01234567");
    /// assert_eq!(id.short(7), "0123456");
    /// assert!("0123".parse::<CommitId>().is_err());
    /// ```
    CommitId,
    "commit id"
);

object_id_newtype!(
    /// The id of a tree (a directory snapshot). The tree id of a chart directory identifies its
    /// content exactly, which makes it the natural cache key for renders.
    TreeId,
    "tree id"
);

/// A string that is not 40 hex digits was parsed as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: expected 40 hex digits")]
pub struct ParseIdError {
    what: &'static str,
    input: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_id_round_trips() {
        let hex = "89abcdef0123456789abcdef0123456789abcdef";
        let id: CommitId = hex.parse().unwrap();
        assert_eq!(id.to_string(), hex);
        assert_eq!(id.to_string().parse::<CommitId>().unwrap(), id);
        assert_eq!(format!("{id:?}"), format!("CommitId({hex})"));
        assert!(
            "g9abcdef0123456789abcdef0123456789abcdef"
                .parse::<CommitId>()
                .is_err()
        );
        assert!(format!("{hex}0").parse::<CommitId>().is_err());
    }
}
