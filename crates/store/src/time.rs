//! Timestamps as stored: BIGINT unix milliseconds in both backends.
//!
//! Stored instants are rounded down to the millisecond. Bounds are converted so that comparing
//! stored milliseconds gives the same answer as comparing exact instants: an instant `t` with a
//! sub-millisecond part is `floor(t)` for `stored > t` / `stored <= t` and `ceil(t)` for
//! `stored >= t` / `stored < t`.

use std::time::Duration;

use jiff::Timestamp;

const NANOS_PER_MILLI: i128 = 1_000_000;

/// `t` in whole milliseconds, rounded down (how instants are stored).
pub(crate) fn floor_ms(t: Timestamp) -> i64 {
    // Timestamp's range (years -9999..=9999) fits an i64 of milliseconds.
    t.as_nanosecond().div_euclid(NANOS_PER_MILLI) as i64
}

/// `t` in whole milliseconds, rounded up.
pub(crate) fn ceil_ms(t: Timestamp) -> i64 {
    -((-t.as_nanosecond()).div_euclid(NANOS_PER_MILLI)) as i64
}

/// `start + ttl` in milliseconds, saturating at the largest representable instant.
pub(crate) fn add_ttl_ms(start_ms: i64, ttl: Duration) -> i64 {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    start_ms.saturating_add(ttl_ms).min(max_ms())
}

/// The largest millisecond value jiff turns back into a timestamp (a whole second).
fn max_ms() -> i64 {
    Timestamp::MAX.as_second() * 1000
}

/// A stored millisecond value back to a timestamp; `None` when out of range.
pub(crate) fn from_ms(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn whole_milliseconds_are_exact() {
        let t = ts("2025-03-04T05:06:07.123Z");
        assert_eq!(floor_ms(t), 1_741_064_767_123);
        assert_eq!(ceil_ms(t), 1_741_064_767_123);
        assert_eq!(from_ms(floor_ms(t)), Some(t));
    }

    #[test]
    fn sub_milliseconds_round_both_ways() {
        let t = ts("2025-03-04T05:06:07.123456Z");
        assert_eq!(floor_ms(t), 1_741_064_767_123);
        assert_eq!(ceil_ms(t), 1_741_064_767_124);
        let before_epoch = ts("1969-12-31T23:59:59.9995Z");
        assert_eq!(floor_ms(before_epoch), -1);
        assert_eq!(ceil_ms(before_epoch), 0);
    }

    #[test]
    fn ttl_saturates() {
        assert_eq!(add_ttl_ms(1_000, Duration::from_millis(500)), 1_500);
        assert_eq!(add_ttl_ms(1_000, Duration::MAX), max_ms());
        assert_eq!(
            add_ttl_ms(i64::MAX - 5, Duration::from_millis(10)),
            max_ms()
        );
        let latest = from_ms(add_ttl_ms(0, Duration::MAX)).unwrap();
        assert_eq!(latest.as_second(), Timestamp::MAX.as_second());
        assert_eq!(from_ms(max_ms() + 1), None);
        assert_eq!(from_ms(i64::MAX), None);
    }
}
