//! Lowercase hexadecimal, the only form GitHub uses for signatures and commit ids.

/// Encodes bytes as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The value of one lowercase hex digit.
fn lower_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Why a string is not lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// An uppercase digit `A`–`F`.
    Uppercase,
    /// A character that is no hex digit at all.
    NotHex,
}

/// Decodes exactly `N` bytes of lowercase hex (the caller checked the length).
pub(crate) fn decode_lower<const N: usize>(s: &[u8]) -> Result<[u8; N], DecodeError> {
    debug_assert_eq!(s.len(), N * 2);
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let digit = |c: u8| {
            lower_digit(c).ok_or(if c.is_ascii_hexdigit() {
                DecodeError::Uppercase
            } else {
                DecodeError::NotHex
            })
        };
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = [0x00, 0x7f, 0xab, 0xff];
        let hex = encode(&bytes);
        assert_eq!(hex, "007fabff");
        assert_eq!(decode_lower::<4>(hex.as_bytes()), Ok(bytes));
    }

    #[test]
    fn rejects_uppercase_and_garbage() {
        assert_eq!(decode_lower::<1>(b"AB"), Err(DecodeError::Uppercase));
        assert_eq!(decode_lower::<1>(b"0g"), Err(DecodeError::NotHex));
        assert_eq!(decode_lower::<1>(b"+1"), Err(DecodeError::NotHex));
    }
}
