//! Sprig's date functions over an injected clock. Times are shown in UTC (the "Local" zone of
//! a reproducible render).

use super::{FuncMap, Sig, Ty, err, s};
use crate::value::{MethodResult, Object, Value};

/// A Go `time.Time` in UTC.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Time {
    secs: i64,
    nanos: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub(crate) use yaml11::civil::{civil_from_days as civil, days_from_civil};

/// A time zone's offset and abbreviation at one instant (Go's `Location` applied to a time).
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    offset: i32,
    abbr: String,
}

impl Zone {
    fn utc() -> Zone {
        Zone {
            offset: 0,
            abbr: "UTC".into(),
        }
    }

    /// Go's `time.LoadLocation(name)` applied at `t`, from the bundled tz database; Sprig
    /// falls back to UTC for names it cannot load. "Local" is UTC in a reproducible render.
    fn at(name: &str, t: &Time) -> Zone {
        if matches!(name, "" | "UTC" | "Local") {
            return Zone::utc();
        }
        let Ok(tz) = jiff::tz::TimeZone::get(name) else {
            return Zone::utc();
        };
        let Ok(ts) = jiff::Timestamp::from_second(t.secs) else {
            return Zone::utc();
        };
        let info = tz.to_offset_info(ts);
        Zone {
            offset: info.offset().seconds(),
            abbr: info.abbreviation().to_string(),
        }
    }

    fn numeric(&self, colon: bool, seconds: bool, short: bool) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let a = self.offset.unsigned_abs();
        let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
        let sep = if colon { ":" } else { "" };
        let mut out = format!("{sign}{h:02}");
        if !short {
            out.push_str(&format!("{sep}{m:02}"));
        }
        if seconds {
            out.push_str(&format!("{sep}{s:02}"));
        }
        out
    }
}

impl Time {
    fn parts(&self, zone: &Zone) -> (i64, u32, u32, u32, u32, u32, usize) {
        let local = self.secs + zone.offset as i64;
        let days = local.div_euclid(86400);
        let sod = local.rem_euclid(86400) as u32;
        let (y, mo, d) = civil(days);
        let wd = (days + 4).rem_euclid(7) as usize;
        (y, mo, d, sod / 3600, sod / 60 % 60, sod % 60, wd)
    }

    /// Go's `Time.Format` for the common layout elements.
    pub(crate) fn format(&self, layout: &str) -> String {
        self.format_in(layout, &Zone::utc())
    }

    /// Go's `Time.In(zone).Format(layout)`.
    pub(crate) fn format_in(&self, layout: &str, zone: &Zone) -> String {
        let (y, mo, d, h, mi, se, wd) = self.parts(zone);
        let mut out = String::new();
        let mut rest = layout;
        let tokens: &[&str] = &[
            "January",
            "Jan",
            "Monday",
            "Mon",
            "2006",
            "-07:00:00",
            "-07:00",
            "-0700",
            "-07",
            "Z07:00",
            "Z0700",
            "Z07",
            "MST",
            "01",
            "02",
            "_2",
            "06",
            "15",
            "03",
            "04",
            "05",
            "PM",
            "pm",
            ".000000000",
            ".000000",
            ".000",
            ".999999999",
            ".999999",
            ".999",
            "1",
            "2",
            "3",
            "4",
            "5",
        ];
        'outer: while !rest.is_empty() {
            for t in tokens {
                if rest.starts_with(t) {
                    let v = match *t {
                        "January" => MONTHS[mo as usize - 1].to_string(),
                        "Jan" => MONTHS[mo as usize - 1][..3].to_string(),
                        "Monday" => DAYS[wd].to_string(),
                        "Mon" => DAYS[wd][..3].to_string(),
                        "2006" => format!("{y:04}"),
                        "06" => format!("{:02}", y.rem_euclid(100)),
                        "-07:00:00" => zone.numeric(true, true, false),
                        "-07:00" => zone.numeric(true, false, false),
                        "-0700" => zone.numeric(false, false, false),
                        "-07" => zone.numeric(false, false, true),
                        "Z07:00" | "Z0700" | "Z07" if zone.offset == 0 => "Z".into(),
                        "Z07:00" => zone.numeric(true, false, false),
                        "Z0700" => zone.numeric(false, false, false),
                        "Z07" => zone.numeric(false, false, true),
                        "MST" => zone.abbr.clone(),
                        "01" => format!("{mo:02}"),
                        "02" => format!("{d:02}"),
                        "_2" => format!("{d:>2}"),
                        "15" => format!("{h:02}"),
                        "03" => format!("{:02}", if h % 12 == 0 { 12 } else { h % 12 }),
                        "04" => format!("{mi:02}"),
                        "05" => format!("{se:02}"),
                        "PM" => (if h >= 12 { "PM" } else { "AM" }).into(),
                        "pm" => (if h >= 12 { "pm" } else { "am" }).into(),
                        "1" => mo.to_string(),
                        "2" => d.to_string(),
                        "3" => (if h % 12 == 0 { 12 } else { h % 12 }).to_string(),
                        "4" => mi.to_string(),
                        "5" => se.to_string(),
                        t if t.starts_with(".0") => {
                            let n = t.len() - 1;
                            format!(".{:09}", self.nanos)[..n + 1].to_string()
                        }
                        t => {
                            let n = t.len() - 1;
                            let f = format!("{:09}", self.nanos);
                            let f = f[..n].trim_end_matches('0');
                            if f.is_empty() {
                                String::new()
                            } else {
                                format!(".{f}")
                            }
                        }
                    };
                    out.push_str(&v);
                    rest = &rest[t.len()..];
                    continue 'outer;
                }
            }
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// Go's `time.ParseInLocation` for numeric layouts (UTC).
    fn parse(layout: &str, value: &str) -> Option<Time> {
        let (mut y, mut mo, mut d, mut h, mut mi, mut se, mut nanos) =
            (1i64, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
        let mut offset: i64 = 0;
        let (mut l, mut v) = (layout, value);
        let num = |v: &mut &str, min: usize, max: usize| -> Option<i64> {
            let n = v
                .chars()
                .take(max)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n < min {
                return None;
            }
            let r = v[..n].parse().ok();
            *v = &v[n..];
            r
        };
        while !l.is_empty() {
            if let Some(r) = l.strip_prefix("2006") {
                y = num(&mut v, 4, 4)?;
                l = r;
            } else if let Some(r) = l.strip_prefix("01") {
                mo = num(&mut v, 2, 2)? as u32;
                l = r;
            } else if let Some(r) = l.strip_prefix("02") {
                d = num(&mut v, 2, 2)? as u32;
                l = r;
            } else if let Some(r) = l.strip_prefix("15") {
                h = num(&mut v, 1, 2)? as u32;
                l = r;
            } else if let Some(r) = l.strip_prefix("04") {
                mi = num(&mut v, 2, 2)? as u32;
                l = r;
            } else if let Some(r) = l.strip_prefix("05") {
                se = num(&mut v, 2, 2)? as u32;
                l = r;
                if let Some(fr) = v.strip_prefix('.') {
                    let n = fr.chars().take_while(|c| c.is_ascii_digit()).count();
                    let digits = format!("{:0<9}", &fr[..n.min(9)]);
                    nanos = digits.parse().ok()?;
                    v = &fr[n..];
                }
            } else if let Some(r) = l
                .strip_prefix("Z07:00")
                .or_else(|| l.strip_prefix("-07:00"))
            {
                l = r;
                if let Some(rv) = v.strip_prefix('Z') {
                    v = rv;
                } else {
                    let sign = if v.starts_with('-') { -1 } else { 1 };
                    v = v.get(1..)?;
                    let oh = num(&mut v, 2, 2)?;
                    v = v.strip_prefix(':')?;
                    let om = num(&mut v, 2, 2)?;
                    offset = sign * (oh * 3600 + om * 60);
                }
            } else {
                let c = l.chars().next()?;
                if !v.starts_with(c) {
                    return None;
                }
                l = &l[c.len_utf8()..];
                v = &v[c.len_utf8()..];
            }
        }
        if !v.is_empty()
            || !(1..=12).contains(&mo)
            || !(1..=31).contains(&d)
            || h > 23
            || mi > 59
            || se > 59
        {
            return None;
        }
        let secs = days_from_civil(y, mo, d) * 86400 + (h * 3600 + mi * 60 + se) as i64 - offset;
        Some(Time { secs, nanos })
    }
}

impl Object for Time {
    fn type_name(&self) -> String {
        "time.Time".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Sig> {
        match name {
            "Unix" | "UnixNano" | "Year" | "Day" | "Hour" | "Minute" | "Second" | "UTC"
            | "Local" | "String" => Some(Sig::fixed(&[])),
            "Format" => Some(Sig::fixed(&[Ty::String])),
            _ => None,
        }
    }
    fn call_method(&self, name: &str, args: Vec<Value>) -> MethodResult {
        let (y, _mo, d, h, mi, se, _) = self.parts(&Zone::utc());
        Ok(match name {
            "Unix" => Value::Int64(self.secs),
            "UnixNano" => Value::Int64(
                self.secs
                    .saturating_mul(1_000_000_000)
                    .saturating_add(self.nanos as i64),
            ),
            "Year" => Value::Int(y),
            "Day" => Value::Int(d as i64),
            "Hour" => Value::Int(h as i64),
            "Minute" => Value::Int(mi as i64),
            "Second" => Value::Int(se as i64),
            "UTC" | "Local" => Value::object(*self),
            "Format" => Value::str(self.format(args[0].as_str().unwrap_or(""))),
            _ => Value::str(self.format(GO_TIME_STRING)),
        })
    }
    fn format(&self) -> String {
        self.format(GO_TIME_STRING)
    }
    fn to_data(&self) -> Value {
        Value::str(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

const GO_TIME_STRING: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

fn to_time(v: &Value, now: Time) -> Time {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => {
            let secs = match o.call_method("Unix", vec![]) {
                Ok(Value::Int64(s)) => s,
                _ => 0,
            };
            let nanos = match o.call_method("UnixNano", vec![]) {
                Ok(Value::Int64(n)) => n.rem_euclid(1_000_000_000) as u32,
                _ => 0,
            };
            Time { secs, nanos }
        }
        Value::Int(i) | Value::Int64(i) => Time { secs: *i, nanos: 0 },
        _ => now,
    }
}

/// Go's `time.Duration.String`.
pub(crate) fn duration_string(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1u128)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac(u, div));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let h = secs / 3600;
        let m = secs / 60 % 60;
        let s_part = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac(s_part, 1_000_000_000));
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

fn frac(v: u128, div: u128) -> String {
    let int = v / div;
    let rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{rem:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

fn parse_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .count();
        if n == 0 {
            return None;
        }
        let v: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .chars()
            .take_while(|c| !c.is_ascii_digit() && *c != '.')
            .collect::<String>();
        let mult = match u.as_str() {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[u.len()..];
        total += v * mult;
    }
    Some(if neg { -(total as i128) } else { total as i128 })
}

pub(crate) fn register(m: &mut FuncMap) {
    let any = Ty::Any;
    let st = Ty::String;
    fn now(cx: &mut crate::exec::CallCtx<'_>) -> Time {
        let i = cx.context().now();
        Time {
            secs: i.unix_seconds,
            nanos: i.nanos,
        }
    }
    m.add("now", Sig::fixed(&[]), |cx, _| Ok(Value::object(now(cx))));
    m.add("date", Sig::fixed(&[st, any]), |cx, a| {
        let n = now(cx);
        Ok(Value::str(to_time(&a[1], n).format(s(&a[0]))))
    });
    for name in ["dateInZone", "date_in_zone"] {
        m.add(name, Sig::fixed(&[st, any, st]), |cx, a| {
            let n = now(cx);
            let t = to_time(&a[1], n);
            Ok(Value::str(t.format_in(s(&a[0]), &Zone::at(s(&a[2]), &t))))
        });
    }
    m.add("htmlDate", Sig::fixed(&[any]), |cx, a| {
        let n = now(cx);
        Ok(Value::str(to_time(&a[0], n).format("2006-01-02")))
    });
    m.add("htmlDateInZone", Sig::fixed(&[any, st]), |cx, a| {
        let n = now(cx);
        let t = to_time(&a[0], n);
        Ok(Value::str(
            t.format_in("2006-01-02", &Zone::at(s(&a[1]), &t)),
        ))
    });
    m.add("unixEpoch", Sig::fixed(&[any]), |cx, a| {
        let n = now(cx);
        Ok(Value::str(to_time(&a[0], n).secs.to_string()))
    });
    m.add("toDate", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::object(Time::parse(s(&a[0]), s(&a[1])).unwrap_or(
            Time {
                secs: -62135596800,
                nanos: 0,
            },
        )))
    });
    m.add(
        "mustToDate",
        Sig::fixed(&[st, st]),
        |_, a| match Time::parse(s(&a[0]), s(&a[1])) {
            Some(t) => Ok(Value::object(t)),
            None => err(format!(
                "parsing time {}: cannot parse as {}",
                crate::gofmt::quote_go(s(&a[1])),
                crate::gofmt::quote_go(s(&a[0]))
            )),
        },
    );
    for (name, must) in [
        ("dateModify", false),
        ("date_modify", false),
        ("mustDateModify", true),
        ("must_date_modify", true),
    ] {
        m.add(name, Sig::fixed(&[st, any]), move |cx, a| {
            let n = now(cx);
            let t = to_time(&a[1], n);
            match parse_duration(s(&a[0])) {
                Some(d) => {
                    let total = t.secs as i128 * 1_000_000_000 + t.nanos as i128 + d;
                    Ok(Value::object(Time {
                        secs: total.div_euclid(1_000_000_000) as i64,
                        nanos: total.rem_euclid(1_000_000_000) as u32,
                    }))
                }
                None if must => err(format!(
                    "time: invalid duration {}",
                    crate::gofmt::quote_go(s(&a[0]))
                )),
                None => Ok(Value::object(t)),
            }
        });
    }
    m.add("ago", Sig::fixed(&[any]), |cx, a| {
        let n = now(cx);
        let t = to_time(&a[0], n);
        Ok(Value::str(duration_string(
            (n.secs - t.secs) as i128 * 1_000_000_000,
        )))
    });
    m.add("duration", Sig::fixed(&[any]), |_, a| {
        let n: i64 = match &a[0] {
            Value::String(x) => x.parse().unwrap_or(0),
            Value::Int64(i) => *i,
            _ => 0,
        };
        Ok(Value::str(duration_string(n as i128 * 1_000_000_000)))
    });
    m.add("durationRound", Sig::fixed(&[any]), |_, a| {
        let nanos: i128 = match &a[0] {
            Value::String(x) => parse_duration(x).unwrap_or(0),
            Value::Int64(n) => *n as i128,
            _ => 0,
        };
        let u = nanos.unsigned_abs();
        let (year, month, day, hour, minute, second) = (
            365 * 24 * 3600 * 1_000_000_000u128,
            30 * 24 * 3600 * 1_000_000_000u128,
            24 * 3600 * 1_000_000_000u128,
            3600 * 1_000_000_000u128,
            60 * 1_000_000_000u128,
            1_000_000_000u128,
        );
        let r = if u > year {
            format!("{}y", u / year)
        } else if u > month {
            format!("{}mo", u / month)
        } else if u > day {
            format!("{}d", u / day)
        } else if u > hour {
            format!("{}h", u / hour)
        } else if u > minute {
            format!("{}m", u / minute)
        } else if u > second {
            format!("{}s", u / second)
        } else {
            "0s".to_string()
        };
        Ok(Value::str(r))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = Time {
            secs: 1_700_000_000,
            nanos: 0,
        };
        assert_eq!(
            t.format("2006-01-02T15:04:05Z07:00"),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(t.format("Mon Jan _2 2006"), "Tue Nov 14 2023");
        assert_eq!(
            Time::parse("2006-01-02", "2023-11-14").map(|t| t.secs),
            Some(1_699_920_000)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration_string(3_723_000_000_000), "1h2m3s");
        assert_eq!(duration_string(60_000_000_000), "1m0s");
        assert_eq!(duration_string(1_500_000_000), "1.5s");
    }
}
