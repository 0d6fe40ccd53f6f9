//! Sprig's integer and float math.

use super::conv::{to_float64, to_int64};
use super::{FuncMap, Sig, Ty, err, i};
use crate::value::{ElemType, List, Value};

/// An exact decimal `mant × 10^exp`, as shopspring/decimal computes Sprig's float math.
#[derive(Clone, Copy, Debug)]
struct Dec {
    mant: i128,
    exp: i32,
}

impl Dec {
    fn from_f64(f: f64) -> Dec {
        if f == 0.0 || !f.is_finite() {
            return Dec { mant: 0, exp: 0 };
        }
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let neg = m.starts_with('-');
        let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
        let frac = digits.len() as i32 - 1;
        let mant: i128 = digits.parse().unwrap_or(0);
        Dec {
            mant: if neg { -mant } else { mant },
            exp: e - frac,
        }
    }
    fn align(a: Dec, b: Dec) -> (i128, i128, i32) {
        let e = a.exp.min(b.exp);
        let scale = |d: Dec| {
            d.mant
                .saturating_mul(10i128.saturating_pow((d.exp - e) as u32))
        };
        (scale(a), scale(b), e)
    }
    fn add(self, o: Dec) -> Dec {
        let (x, y, e) = Dec::align(self, o);
        Dec {
            mant: x.saturating_add(y),
            exp: e,
        }
    }
    fn sub(self, o: Dec) -> Dec {
        let (x, y, e) = Dec::align(self, o);
        Dec {
            mant: x.saturating_sub(y),
            exp: e,
        }
    }
    fn mul(self, o: Dec) -> Dec {
        Dec {
            mant: self.mant.saturating_mul(o.mant),
            exp: self.exp + o.exp,
        }
    }
    fn div(self, o: Dec) -> Option<Dec> {
        if o.mant == 0 {
            return None;
        }
        // shopspring: DivRound(d2, 16): 16 digits after the point, rounded half away from zero.
        let target = -16;
        let shift = self.exp - o.exp - target;
        let (num, den) = if shift >= 0 {
            (
                self.mant
                    .saturating_mul(10i128.saturating_pow(shift as u32 + 1)),
                o.mant,
            )
        } else {
            (
                self.mant * 10,
                o.mant
                    .saturating_mul(10i128.saturating_pow((-shift) as u32)),
            )
        };
        let q = num / den;
        let r = if q >= 0 { (q + 5) / 10 } else { (q - 5) / 10 };
        Some(Dec {
            mant: r,
            exp: target,
        })
    }
    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp).parse().unwrap_or(0.0)
    }
}

fn decimal_op(
    first: &Value,
    rest: &[Value],
    op: fn(Dec, Dec) -> Option<Dec>,
) -> Result<Value, super::FuncError> {
    let mut acc = Dec::from_f64(to_float64(first));
    for v in rest {
        match op(acc, Dec::from_f64(to_float64(v))) {
            Some(d) => acc = d,
            None => return err("decimal division by 0"),
        }
    }
    Ok(Value::Float(acc.to_f64()))
}

fn round(v: f64, places: i64, on: f64) -> f64 {
    let pow = 10f64.powf(places as f64);
    let digit = pow * v;
    let div = digit.fract();
    let r = if div >= on {
        digit.ceil()
    } else {
        digit.floor()
    };
    r / pow
}

fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            i += step;
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        i += step;
    }
    v
}

fn int_list(v: Vec<i64>) -> Value {
    Value::List(List::typed(
        v.into_iter().map(Value::Int).collect(),
        ElemType::Int,
    ))
}

fn seq(params: &[i64]) -> String {
    let j = |v: Vec<i64>| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match params.len() {
        0 => String::new(),
        1 => {
            let end = params[0];
            if end == 0 {
                String::new()
            } else if end > 0 {
                j(until_step(1, end + 1, 1))
            } else {
                j(until_step(1, end - 1, -1))
            }
        }
        2 => {
            let (start, end) = (params[0], params[1]);
            if end > start {
                j(until_step(start, end + 1, 1))
            } else {
                j(until_step(start, end - 1, -1))
            }
        }
        3 => {
            let (start, step, end) = (params[0], params[1], params[2]);
            if end > start {
                j(until_step(start, end + 1, step))
            } else {
                j(until_step(start, end - 1, step))
            }
        }
        _ => String::new(),
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    let any = Ty::Any;
    let int = Ty::Int;
    m.add("add1", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))
    });
    m.add("add", Sig::variadic(&[], any), |_, a| {
        Ok(Value::Int64(
            a.iter().fold(0i64, |s, v| s.wrapping_add(to_int64(v))),
        ))
    });
    m.add("sub", Sig::fixed(&[any, any]), |_, a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    m.add("div", Sig::fixed(&[any, any]), |_, a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return err("runtime error: integer divide by zero");
        }
        Ok(Value::Int64(to_int64(&a[0]).wrapping_div(d)))
    });
    m.add("mod", Sig::fixed(&[any, any]), |_, a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return err("runtime error: integer divide by zero");
        }
        Ok(Value::Int64(to_int64(&a[0]).wrapping_rem(d)))
    });
    m.add("mul", Sig::variadic(&[any], any), |_, a| {
        Ok(Value::Int64(
            a[1..]
                .iter()
                .fold(to_int64(&a[0]), |s, v| s.wrapping_mul(to_int64(v))),
        ))
    });
    m.add("randInt", Sig::fixed(&[int, int]), |cx, a| {
        let (lo, hi) = (i(&a[0]), i(&a[1]));
        if hi - lo <= 0 {
            return err("invalid argument to Intn");
        }
        Ok(Value::Int(
            lo + cx.context().rand_below((hi - lo) as u64) as i64,
        ))
    });
    m.add("add1f", Sig::fixed(&[any]), |_, a| {
        decimal_op(&a[0], &[Value::Int(1)], |x, y| Some(x.add(y)))
    });
    m.add("addf", Sig::variadic(&[], any), |_, a| {
        decimal_op(&Value::Float(0.0), &a, |x, y| Some(x.add(y)))
    });
    m.add("subf", Sig::variadic(&[any], any), |_, a| {
        decimal_op(&a[0], &a[1..], |x, y| Some(x.sub(y)))
    });
    m.add("divf", Sig::variadic(&[any], any), |_, a| {
        decimal_op(&a[0], &a[1..], |x, y| x.div(y))
    });
    m.add("mulf", Sig::variadic(&[any], any), |_, a| {
        decimal_op(&a[0], &a[1..], |x, y| Some(x.mul(y)))
    });
    m.add("biggest", Sig::variadic(&[any], any), |_, a| {
        Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
    });
    m.add("max", Sig::variadic(&[any], any), |_, a| {
        Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
    });
    m.add("min", Sig::variadic(&[any], any), |_, a| {
        Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    m.add("maxf", Sig::variadic(&[any], any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(to_float64(&a[0]), f64::max),
        ))
    });
    m.add("minf", Sig::variadic(&[any], any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(to_float64(&a[0]), f64::min),
        ))
    });
    m.add("ceil", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    m.add("floor", Sig::fixed(&[any]), |_, a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    m.add("round", Sig::variadic(&[any, int], Ty::Float64), |_, a| {
        let on = a.get(2).map(super::f).unwrap_or(0.5);
        Ok(Value::Float(round(to_float64(&a[0]), i(&a[1]), on)))
    });
    m.add("seq", Sig::variadic(&[], int), |_, a| {
        Ok(Value::str(seq(&a.iter().map(i).collect::<Vec<_>>())))
    });
    m.add("until", Sig::fixed(&[int]), |cx, a| {
        let n = i(&a[0]);
        cx.check_output(n.unsigned_abs() as usize)?;
        Ok(int_list(until_step(0, n, if n < 0 { -1 } else { 1 })))
    });
    m.add("untilStep", Sig::fixed(&[int, int, int]), |cx, a| {
        let (start, stop, step) = (i(&a[0]), i(&a[1]), i(&a[2]));
        if step != 0 {
            cx.check_output(((stop - start) / step).unsigned_abs() as usize)?;
        }
        Ok(int_list(until_step(start, stop, step)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_math() {
        let r = decimal_op(&Value::Float(0.1), &[Value::Float(0.2)], |x, y| {
            Some(x.add(y))
        })
        .unwrap();
        assert!(matches!(r, Value::Float(f) if f == 0.3));
        let r = decimal_op(&Value::Float(1.0), &[Value::Float(3.0)], |x, y| x.div(y)).unwrap();
        assert!(matches!(r, Value::Float(f) if f == 0.3333333333333333));
    }

    #[test]
    fn seqs() {
        assert_eq!(seq(&[3]), "1 2 3");
        assert_eq!(seq(&[2, -1]), "2 1 0 -1");
        assert_eq!(seq(&[0, 2, 6]), "0 2 4 6");
    }
}
