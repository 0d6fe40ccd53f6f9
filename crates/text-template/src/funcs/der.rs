//! The few DER and PEM pieces Go's `crypto/x509` and `encoding/pem` write, so keys and
//! certificates come out in exactly Go's layout.

use base64::Engine as _;

/// A tag-length-value element.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded elements.
pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub(crate) fn uint(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|b| **b == 0).count();
    let mut content = Vec::with_capacity(be.len() + 1);
    let digits = &be[skip..];
    if digits.is_empty() || digits[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(digits);
    tlv(0x02, &content)
}

/// An OBJECT IDENTIFIER from its encoded content bytes.
pub(crate) fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

/// An OCTET STRING.
pub(crate) fn octets(content: &[u8]) -> Vec<u8> {
    tlv(0x04, content)
}

/// A BIT STRING of whole bytes.
pub(crate) fn bits(content: &[u8]) -> Vec<u8> {
    let mut c = vec![0u8];
    c.extend_from_slice(content);
    tlv(0x03, &c)
}

/// `NULL`.
pub(crate) const NULL: &[u8] = &[0x05, 0x00];

/// Go's `asn1` time: UTCTime for years 1950–2049, GeneralizedTime otherwise; whole seconds.
pub(crate) fn time(unix_seconds: i64) -> Vec<u8> {
    let days = unix_seconds.div_euclid(86400);
    let sod = unix_seconds.rem_euclid(86400);
    let (y, mo, d) = super::date::civil(days);
    let hms = format!(
        "{mo:02}{d:02}{:02}{:02}{:02}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if (1950..2050).contains(&y) {
        tlv(0x17, format!("{:02}{hms}", y % 100).as_bytes())
    } else {
        tlv(0x18, format!("{y:04}{hms}").as_bytes())
    }
}

/// Reads one element: (tag, content, rest).
pub(crate) fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// `pem.EncodeToMemory`.
pub(crate) fn pem_encode(kind: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// `pem.Decode`'s first block: (type, bytes), headers skipped.
pub(crate) fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let type_end = rest.find("-----")?;
    let kind = &rest[..type_end];
    if kind.contains('\n') {
        return None;
    }
    let body = &rest[type_end + 5..];
    let end = body.find(&format!("-----END {kind}-----"))?;
    let body = &body[..end];
    let body = match body.find("\n\n") {
        Some(i) if body[..i].contains(':') => &body[i + 2..],
        _ => body,
    };
    let clean: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    Some((kind.to_string(), der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(uint(&[0, 0, 5]), [2, 1, 5]);
        assert_eq!(uint(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(uint(&[]), [2, 1, 0]);
    }

    #[test]
    fn long_lengths() {
        let v = tlv(4, &[0; 300]);
        assert_eq!(&v[..4], &[4, 0x82, 1, 44]);
        let (tag, c, rest) = read(&v).unwrap();
        assert_eq!((tag, c.len(), rest.len()), (4, 300, 0));
    }

    #[test]
    fn times_switch_at_2050() {
        assert_eq!(time(0), tlv(0x17, b"700101000000Z"));
        assert_eq!(time(2_524_608_000), tlv(0x18, b"20500101000000Z"));
    }

    #[test]
    fn pem_round_trip() {
        let p = pem_encode("X", &[1; 100]);
        assert!(p.starts_with("-----BEGIN X-----\n"));
        assert_eq!(pem_decode(&p), Some(("X".to_string(), vec![1; 100])));
    }
}
