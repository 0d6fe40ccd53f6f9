//! Sprig's integer and float math.

use super::conv::{to_float64, to_int64};
use super::{FuncMap, Sig, Ty, err, i};
use crate::budget::VALUE_BYTES;
use crate::exec::CallCtx;
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

/// How many numbers Sprig's `untilStep` yields, computed without overflow. Go's loop adds the
/// step in `int` and wraps, so a step that carries past the largest int loops forever; here
/// the sequence ends where the mathematical one does.
fn step_count(start: i64, stop: i64, step: i64) -> u64 {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let n = if stop < start {
        if step >= 0 {
            return 0;
        }
        (start - stop + (-step) - 1) / -step
    } else {
        if step <= 0 {
            return 0;
        }
        (stop - start + step - 1) / step
    };
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Sprig's `untilStep`, once the memory budget has room for `bytes_each` per number.
fn until_step_within(
    start: i64,
    stop: i64,
    step: i64,
    bytes_each: u64,
) -> Result<Vec<i64>, super::FuncError> {
    let n = step_count(start, stop, step);
    CallCtx::reserve(n.saturating_mul(bytes_each))?;
    Ok(until_step(start, stop, step))
}

fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let n = step_count(start, stop, step);
    let mut v = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut i = i128::from(start);
    for _ in 0..n {
        // Within [start, stop) by construction of `n`.
        v.push(i as i64);
        i += i128::from(step);
    }
    v
}

fn int_list(v: Vec<i64>) -> Value {
    Value::List(List::typed(
        v.into_iter().map(Value::Int).collect(),
        ElemType::Int,
    ))
}

/// Most bytes one number of `seq` prints: `-9223372036854775808` and a space.
const SEQ_BYTES_EACH: u64 = 21;

/// Sprig's `seq`: the end is inclusive, the direction follows the ends (Go's `int` arithmetic
/// wraps at the ends of its range, as here).
fn seq(params: &[i64]) -> Result<String, super::FuncError> {
    let (start, stop, step) = match *params {
        [] => return Ok(String::new()),
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            (1, end.wrapping_add(inc), inc)
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            (start, end.wrapping_add(step), step)
        }
        [start, step, end] => {
            let inc = if end < start { -1 } else { 1 };
            if end < start && step > 0 {
                return Ok(String::new());
            }
            (start, end.wrapping_add(inc), step)
        }
        _ => return Ok(String::new()),
    };
    Ok(until_step_within(start, stop, step, SEQ_BYTES_EACH)?
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" "))
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
        Ok(Value::str(seq(&a.iter().map(i).collect::<Vec<_>>())?))
    });
    m.add("until", Sig::fixed(&[int]), |_, a| {
        let n = i(&a[0]);
        let step = if n < 0 { -1 } else { 1 };
        Ok(int_list(until_step_within(0, n, step, VALUE_BYTES)?))
    });
    m.add("untilStep", Sig::fixed(&[int, int, int]), |_, a| {
        let (start, stop, step) = (i(&a[0]), i(&a[1]), i(&a[2]));
        Ok(int_list(until_step_within(start, stop, step, VALUE_BYTES)?))
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
        assert_eq!(seq(&[3]).unwrap(), "1 2 3");
        assert_eq!(seq(&[2, -1]).unwrap(), "2 1 0 -1");
        assert_eq!(seq(&[0, 2, 6]).unwrap(), "0 2 4 6");
        // What helm 3.17.1 prints for the edges.
        assert_eq!(seq(&[0]).unwrap(), "1 0");
        assert_eq!(seq(&[2, 5, 2]).unwrap(), "2");
        assert_eq!(seq(&[3, 3, 1]).unwrap(), "");
        assert_eq!(seq(&[5, -2, 1]).unwrap(), "5 3 1");
        // Go's int arithmetic would wrap and loop forever; the sequence ends instead.
        assert_eq!(
            until_step(i64::MAX - 7, i64::MAX, 5),
            [i64::MAX - 7, i64::MAX - 2]
        );
        assert_eq!(
            until_step(i64::MIN + 3, i64::MIN, -2),
            [i64::MIN + 3, i64::MIN + 1]
        );
        assert_eq!(step_count(0, i64::MAX, 1), i64::MAX as u64);
        assert_eq!(step_count(5, 0, -10), 1);
    }
}
