//! Replay of recorded exchanges in nock format (`tests/data/github/fixtures/*.json`).

use std::collections::VecDeque;

use serde::Deserialize;
use serde_json::Value;

/// One recorded exchange.
#[derive(Debug, Clone, Deserialize)]
pub struct ReplayEntry {
    /// Method, lower case as recorded.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// Request JSON, or `""` when none was sent.
    #[serde(default)]
    pub body: Value,
    /// Status to answer.
    pub status: u16,
    /// Response JSON.
    #[serde(default)]
    pub response: Value,
    /// Request headers as recorded (octokit's, for reference only).
    #[serde(default)]
    pub reqheaders: serde_json::Map<String, Value>,
    /// Response headers (`headers` in octokit's files, `responseHeaders` in some nock dumps).
    #[serde(default, alias = "responseHeaders")]
    pub headers: serde_json::Map<String, Value>,
}

/// A request that did not match the next recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayMismatch {
    /// What was expected (`METHOD path`).
    pub expected: String,
    /// What arrived.
    pub got: String,
    /// Why it did not match.
    pub reason: String,
}

/// Status, headers and body of a response.
pub(crate) type Answer = (u16, Vec<(String, String)>, Vec<u8>);

#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub entries: VecDeque<ReplayEntry>,
    pub mismatches: Vec<ReplayMismatch>,
}

const SKIPPED_HEADERS: &[&str] = &[
    "content-length",
    "connection",
    "transfer-encoding",
    "content-encoding",
];

impl Replay {
    /// Checks the request against the next entry; on a match, pops it and returns
    /// `(status, headers, body)` with `https://api.github.com` rewritten to `base_url`.
    pub(crate) fn answer(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
        base_url: &str,
    ) -> Result<Answer, ReplayMismatch> {
        let got = format!("{method} {path}");
        let Some(next) = self.entries.front() else {
            let m = ReplayMismatch {
                expected: "nothing (replay exhausted)".into(),
                got,
                reason: "unexpected request".into(),
            };
            self.mismatches.push(m.clone());
            return Err(m);
        };
        let expected = format!("{} {}", next.method.to_ascii_uppercase(), next.path);
        let mut reason = None;
        if !next.method.eq_ignore_ascii_case(method) || next.path != path {
            reason = Some("method or path differ".to_string());
        } else if next.body != Value::String(String::new()) && !next.body.is_null() {
            match serde_json::from_str::<Value>(body) {
                Ok(v) if v == next.body => {}
                Ok(v) => reason = Some(format!("body {v} differs from recorded {}", next.body)),
                Err(_) => reason = Some("body is not JSON".into()),
            }
        }
        if let Some(reason) = reason {
            let m = ReplayMismatch {
                expected,
                got,
                reason,
            };
            self.mismatches.push(m.clone());
            return Err(m);
        }
        let entry = self.entries.pop_front().unwrap_or_else(|| unreachable!());
        let headers = entry
            .headers
            .iter()
            .filter(|(k, _)| !SKIPPED_HEADERS.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (
                    k.to_ascii_lowercase(),
                    v.replace("https://api.github.com", base_url),
                )
            })
            .collect();
        let body = if entry.response.is_null() || entry.response == Value::String(String::new()) {
            Vec::new()
        } else {
            entry
                .response
                .to_string()
                .replace("https://api.github.com", base_url)
                .into_bytes()
        };
        Ok((entry.status, headers, body))
    }
}

/// Reads a nock-format fixture file.
pub fn load_fixture(path: &std::path::Path) -> std::io::Result<Vec<ReplayEntry>> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}
