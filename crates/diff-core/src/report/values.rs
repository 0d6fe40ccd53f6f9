//! Values as one-line text in reports.

use yaml11::Value;

/// A value on one line: strings as they are, numbers and bools plainly, collections as
/// compact JSON; cut to `max` characters with an ellipsis.
pub fn display_value(v: &Value, max: usize) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    cut(&s, max)
}

pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_compact_json_and_long_text_is_cut() {
        let v = yaml11::parse_value("{a: [1, x]}", &Default::default()).unwrap();
        assert_eq!(display_value(&v, 100), r#"{"a":[1,"x"]}"#);
        assert_eq!(display_value(&Value::from("abcdef"), 4), "abc…");
    }
}
