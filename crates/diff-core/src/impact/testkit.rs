//! Test helpers: run the real pipeline on two small manifests and look at the impact.

use crate::model::{Impact, Level, Signal, SignalCategory};

/// Strips the common leading indentation so manifests can be written indented in tests.
pub(crate) fn dedent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    s.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The impact of going from `before` to `after` (both manifest streams).
pub(crate) fn impact(before: &str, after: &str) -> Impact {
    let opts = crate::ParseOptions::default();
    let b = crate::parse_manifest("before", &dedent(before), &opts).expect("before parses");
    let a = crate::parse_manifest("after", &dedent(after), &opts).expect("after parses");
    crate::compare(&b, &a, &crate::DiffOptionsBuilder::new().build().unwrap()).impact
}

/// Every signal of `rule`.
pub(crate) fn fired<'a>(i: &'a Impact, rule: &str) -> Vec<&'a Signal> {
    i.signals.iter().filter(|s| s.rule == rule).collect()
}

/// The one signal of `rule`, checked for level and category.
#[track_caller]
pub(crate) fn one(i: &Impact, rule: &str, level: Level, category: SignalCategory) -> Signal {
    let got = fired(i, rule);
    assert_eq!(
        got.len(),
        1,
        "expected one {rule} signal, got: {:#?}",
        i.signals
    );
    assert_eq!(
        (got[0].level, got[0].category),
        (level, category),
        "{:#?}",
        got[0]
    );
    got[0].clone()
}

/// Asserts that `rule` did not fire.
#[track_caller]
pub(crate) fn silent(i: &Impact, rule: &str) {
    let got = fired(i, rule);
    assert!(got.is_empty(), "expected no {rule} signal, got: {got:#?}");
}
