//! Reading `x-ratelimit-*` headers and deciding how long to wait (reference §4, R20, R21).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

use crate::RateLimitSnapshot;

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `x-ratelimit-reset` in epoch seconds; values that only make sense as milliseconds (the
/// octokit fixture normaliser writes `1507651200000`) are scaled down.
fn reset_secs(headers: &HeaderMap) -> Option<u64> {
    header_u64(headers, "x-ratelimit-reset").map(|v| if v > 100_000_000_000 { v / 1000 } else { v })
}

/// The snapshot in `headers`, or `None` when the response carried no rate-limit headers.
pub(crate) fn snapshot(headers: &HeaderMap) -> Option<RateLimitSnapshot> {
    let snap = RateLimitSnapshot {
        limit: header_u64(headers, "x-ratelimit-limit"),
        remaining: header_u64(headers, "x-ratelimit-remaining"),
        used: header_u64(headers, "x-ratelimit-used"),
        reset: reset_secs(headers),
        resource: headers
            .get("x-ratelimit-resource")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    (snap != RateLimitSnapshot::default()).then_some(snap)
}

/// What a 403/429 means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limited {
    /// `retry-after` present: wait exactly this long.
    RetryAfter(Duration),
    /// Primary limit exhausted: wait until reset + 1 s.
    UntilReset(Duration),
    /// Secondary limit without `retry-after`: wait at least the configured minimum, doubled
    /// per attempt.
    Secondary,
}

/// Classifies a 403/429; `None` for a bare 403 (a permission problem, not retried).
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    now: u64,
) -> Option<Limited> {
    if let Some(secs) = header_u64(headers, "retry-after") {
        return Some(Limited::RetryAfter(Duration::from_secs(secs)));
    }
    if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
        let reset = reset_secs(headers).unwrap_or(now);
        return Some(Limited::UntilReset(Duration::from_secs(
            reset.saturating_sub(now) + 1,
        )));
    }
    let msg = message.to_ascii_lowercase();
    if status == 429 || msg.contains("secondary rate limit") || msg.contains("rate limit") {
        return Some(Limited::Secondary);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_wins() {
        let h = headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "0")]);
        assert_eq!(
            classify(403, &h, "", 100),
            Some(Limited::RetryAfter(Duration::from_secs(7)))
        );
    }

    #[test]
    fn remaining_zero_waits_until_reset_plus_one() {
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "110")]);
        assert_eq!(
            classify(403, &h, "", 100),
            Some(Limited::UntilReset(Duration::from_secs(11)))
        );
    }

    #[test]
    fn bare_403_is_not_a_limit() {
        assert_eq!(
            classify(403, &HeaderMap::new(), "Resource not accessible", 0),
            None
        );
        assert_eq!(
            classify(
                403,
                &HeaderMap::new(),
                "You have exceeded a secondary rate limit",
                0
            ),
            Some(Limited::Secondary)
        );
        assert_eq!(
            classify(429, &HeaderMap::new(), "", 0),
            Some(Limited::Secondary)
        );
    }

    #[test]
    fn snapshot_reads_headers_and_scales_milliseconds() {
        let h = headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-reset", "1507651200000"),
            ("x-ratelimit-resource", "core"),
        ]);
        let s = snapshot(&h).unwrap();
        assert_eq!(s.remaining, Some(4999));
        assert_eq!(s.reset, Some(1_507_651_200));
        assert_eq!(s.resource.as_deref(), Some("core"));
        assert!(snapshot(&HeaderMap::new()).is_none());
    }
}
