//! Go strings are byte strings; Rust's `str` must be UTF-8.
//!
//! A chart may hold binary files (a keystore, a `.bz2` of CRDs) that templates read with
//! `.Files.Get` and pass to `b64enc` or `sha256sum`. Go keeps every byte; a lossy UTF-8
//! conversion would replace each invalid byte with U+FFFD and change the encoded result. So
//! where Go turns bytes into a string, each byte that is not part of valid UTF-8 is carried
//! as one character of the supplementary private use area, U+10FF80 + (byte − 0x80), and the
//! functions that see a string as bytes (encoders, hashes, `len`) turn those characters back.
//! A chart's own text holding one of those 128 code points would read back as the byte; no
//! real chart text uses that corner of plane 16.

use std::borrow::Cow;

/// The first of the 128 code points standing for the bytes 0x80..=0xFF.
const BASE: u32 = 0x10_FF80;

/// `string(b)` in Go: the bytes as a string, invalid UTF-8 carried losslessly.
pub fn from_go_bytes(b: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(b.len() + b.len() / 2);
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for &x in chunk.invalid() {
            // Invalid bytes are always >= 0x80: every ASCII byte is valid UTF-8.
            out.push(char::from_u32(BASE + u32::from(x) - 0x80).unwrap_or('\u{FFFD}'));
        }
    }
    Cow::Owned(out)
}

/// `[]byte(s)` in Go: the bytes a string stands for.
pub fn to_go_bytes(s: &str) -> Cow<'_, [u8]> {
    // Every carried byte is encoded F4 8F BE/BF xx; strings without 0xF4 are the common case.
    if memchr::memchr(0xF4, s.as_bytes()).is_none() {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let cp = c as u32;
        if (BASE..=0x10_FFFF).contains(&cp) {
            out.push((cp - BASE + 0x80) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// The length of a string in Go: its bytes.
pub fn go_len(s: &str) -> usize {
    to_go_bytes(s).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_borrowed_both_ways() {
        assert!(matches!(
            from_go_bytes("héllo".as_bytes()),
            Cow::Borrowed("héllo")
        ));
        assert!(matches!(to_go_bytes("héllo"), Cow::Borrowed(_)));
        // U+10FF7F, the plane-16 character just below the carried range, passes through.
        let s = "\u{10FF7F}";
        assert_eq!(to_go_bytes(s).as_ref(), s.as_bytes());
    }

    #[test]
    fn every_byte_sequence_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        let s = from_go_bytes(&all);
        assert_eq!(to_go_bytes(&s).as_ref(), &all[..]);
        assert_eq!(go_len(&s), 256);
        // bzip2's magic followed by binary, as in a chart's `files/crds.bz2`.
        let bz = b"BZh91AY&SY\xa3\x00\xff\xfe\xc3\x28ok";
        assert_eq!(to_go_bytes(&from_go_bytes(bz)).as_ref(), &bz[..]);
    }

    #[test]
    fn truncated_multibyte_sequences_are_kept() {
        let b = b"a\xe2\x82"; // the first two bytes of '€'
        let s = from_go_bytes(b);
        assert_eq!(s.chars().count(), 3);
        assert_eq!(to_go_bytes(&s).as_ref(), &b[..]);
    }
}
