//! Kubernetes resource quantities (`500m`, `1Gi`, `1e3`), compared by value.

use yaml11::{Number, Value};

/// A quantity as an exact decimal: `mantissa × 10^exp10 × 2^exp2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quantity {
    negative: bool,
    /// Digits without the decimal point.
    mantissa: u128,
    exp10: i32,
    exp2: u32,
}

/// Parses the Kubernetes quantity grammar: sign, decimal number, then a binary suffix
/// (`Ki`…`Ei`), a decimal suffix (`n u m k M G T P E`) or an exponent (`e3`, `E-2`).
fn parse(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(num_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 36 {
        return None;
    }
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let mut exp10 = -(frac_part.len() as i32);
    let mut exp2 = 0u32;
    match suffix {
        "" => {}
        "Ki" => exp2 = 10,
        "Mi" => exp2 = 20,
        "Gi" => exp2 = 30,
        "Ti" => exp2 = 40,
        "Pi" => exp2 = 50,
        "Ei" => exp2 = 60,
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().ok()?;
            if !(-100..=100).contains(&e) {
                return None;
            }
            exp10 += e;
        }
        _ => return None,
    }
    Some(Quantity {
        negative: negative && mantissa != 0,
        mantissa,
        exp10,
        exp2,
    })
}

impl Quantity {
    /// The value as an exact rational `num / 10^k` with num in u128, when it fits.
    fn scaled(self, k: i32) -> Option<u128> {
        let mut v = self.mantissa.checked_mul(1u128.checked_shl(self.exp2)?)?;
        let shift = self.exp10 + k;
        if shift >= 0 {
            v = v.checked_mul(10u128.checked_pow(shift as u32)?)?;
        } else {
            let div = 10u128.checked_pow((-shift) as u32)?;
            if v % div != 0 {
                return None;
            }
            v /= div;
        }
        Some(v)
    }
}

/// True when both values are quantities with the same value (`500m` = `0.5`, `1Gi` = `1024Mi`).
pub fn equal_by_value(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (as_quantity(a), as_quantity(b)) else {
        return false;
    };
    if a.negative != b.negative {
        return a.mantissa == 0 && b.mantissa == 0;
    }
    // Compare in a common decimal scale fine enough for nano units.
    let k = 12 - a.exp10.min(b.exp10).min(0);
    match (a.scaled(k), b.scaled(k)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Orders two quantities by value (`1Gi` < `2G`), when both parse and fit.
pub fn cmp_by_value(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let (a, b) = (as_quantity(a)?, as_quantity(b)?);
    let k = 12 - a.exp10.min(b.exp10).min(0);
    let (x, y) = (a.scaled(k)?, b.scaled(k)?);
    // `negative` is never set on zero.
    Some(match (a.negative, b.negative) {
        (false, false) => x.cmp(&y),
        (true, true) => y.cmp(&x),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
    })
}

fn as_quantity(v: &Value) -> Option<Quantity> {
    match v {
        Value::String(s) => parse(s),
        Value::Number(Number::Int(i)) => parse(&i.to_string()),
        Value::Number(Number::Float(f)) if f.is_finite() => parse(&format!("{f}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn cpu_spellings_compare_by_value() {
        assert!(equal_by_value(&s("500m"), &Value::from(0.5)));
        assert!(equal_by_value(&s("1"), &s("1000m")));
        assert!(equal_by_value(&Value::from(2i64), &s("2000m")));
        assert!(!equal_by_value(&s("500m"), &s("501m")));
    }

    #[test]
    fn memory_binary_and_decimal_suffixes() {
        assert!(equal_by_value(&s("1Gi"), &s("1024Mi")));
        assert!(equal_by_value(&s("1G"), &s("1000M")));
        assert!(!equal_by_value(&s("1Gi"), &s("1G")));
        assert!(equal_by_value(&s("1e3"), &s("1k")));
        assert!(equal_by_value(&s("0.5Gi"), &s("512Mi")));
    }

    #[test]
    fn non_quantities_never_compare_equal() {
        assert!(!equal_by_value(&s("abc"), &s("abc")));
        assert!(!equal_by_value(&s("1Xi"), &s("1Xi")));
        assert!(!equal_by_value(&Value::Null, &Value::Null));
    }

    #[test]
    fn quantities_order_by_value() {
        use std::cmp::Ordering::*;
        assert_eq!(cmp_by_value(&s("1Gi"), &s("2G")), Some(Less));
        assert_eq!(cmp_by_value(&s("10Gi"), &s("5Gi")), Some(Greater));
        assert_eq!(cmp_by_value(&s("1Gi"), &s("1024Mi")), Some(Equal));
        assert_eq!(cmp_by_value(&s("-1"), &s("1m")), Some(Less));
        assert_eq!(cmp_by_value(&s("abc"), &s("1")), None);
    }

    #[test]
    fn signs_and_zero() {
        assert!(equal_by_value(&s("-1"), &s("-1000m")));
        assert!(!equal_by_value(&s("-1"), &s("1")));
        assert!(equal_by_value(&s("0"), &s("-0")));
    }
}
