//! Access to the GitHub test data (`tests/data/github` of the workspace).

use std::path::PathBuf;

/// The GitHub test data folder: `tests/data/github`, or `$CHARTIMPACT_GITHUB_DATA`. It is part
/// of the repository: a missing folder fails the test (`what` names the test's need).
pub fn github_dir(what: &str) -> PathBuf {
    let dir = match std::env::var_os("CHARTIMPACT_GITHUB_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/github"),
    };
    assert!(
        dir.join("signatures.json").is_file() && dir.join("webhooks").is_dir(),
        "{what}: the GitHub test data is missing at {}: it is part of the repository (tests/data/github); restore it with git, or point CHARTIMPACT_GITHUB_DATA at a copy",
        dir.display()
    );
    dir
}

/// Every webhook file as (file name, event name from the prefix, raw bytes), sorted by name.
pub fn webhook_files(dir: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("webhooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .map(|name| {
            let bytes = std::fs::read(dir.join("webhooks").join(&name)).unwrap();
            let event = name.split('.').next().unwrap().to_owned();
            (name, event, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Decodes standard base64 (with `=` padding), as in `signatures.json`.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decoder() {
    assert_eq!(base64_decode("SGVsbG8sIFdvcmxkIQ=="), b"Hello, World!");
    assert_eq!(base64_decode("eyJmb28iOiJiYXIifQ=="), br#"{"foo":"bar"}"#);
    assert_eq!(base64_decode("YWJj"), b"abc");
    assert_eq!(base64_decode("YWI="), b"ab");
}
