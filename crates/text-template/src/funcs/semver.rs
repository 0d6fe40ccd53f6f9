//! Masterminds/semver v3: `semver` and `semverCompare`.

use std::cmp::Ordering;

use super::{FuncError, FuncMap, Sig, Ty, err, s};
use crate::value::{MethodResult, Object, Value};

/// A parsed semantic version.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    meta: String,
    original: String,
}

impl Version {
    pub(crate) fn parse(v: &str) -> Option<Version> {
        let t = v.strip_prefix('v').unwrap_or(v);
        let (t, meta) = match t.split_once('+') {
            Some((a, b)) => (a, b.to_string()),
            None => (t, String::new()),
        };
        let (nums, pre) = match t.split_once('-') {
            Some((a, b)) => (a, b.to_string()),
            None => (t, String::new()),
        };
        let parts: Vec<&str> = nums.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut n = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            n[i] = p.parse().ok()?;
        }
        let ok_ident = |x: &str| {
            x.split('.').all(|id| {
                !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        };
        if (!pre.is_empty() && !ok_ident(&pre)) || (!meta.is_empty() && !ok_ident(&meta)) {
            return None;
        }
        Some(Version {
            major: n[0],
            minor: n[1],
            patch: n[2],
            pre,
            meta,
            original: v.to_string(),
        })
    }

    fn cmp(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }

    fn string(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.meta.is_empty() {
            s.push('+');
            s.push_str(&self.meta);
        }
        s
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

impl Object for Version {
    fn type_name(&self) -> String {
        "*semver.Version".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<super::Sig> {
        match name {
            "Major" | "Minor" | "Patch" | "Prerelease" | "Metadata" | "Original" | "String"
            | "IncMajor" | "IncMinor" | "IncPatch" => Some(Sig::fixed(&[])),
            "Compare" | "Equal" | "LessThan" | "GreaterThan" => Some(Sig::fixed(&[super::Ty::Any])),
            _ => None,
        }
    }
    fn call_method(&self, name: &str, args: Vec<Value>) -> MethodResult {
        let other = || match args.first() {
            Some(Value::Object(o)) if o.type_name() == "*semver.Version" => {
                Version::parse(&o.format()).ok_or_else(|| FuncError::new("invalid version"))
            }
            _ => Err(FuncError::new(
                "runtime error: invalid memory address or nil pointer dereference",
            )),
        };
        let bump = |major: u64, minor: u64, patch: u64| Version {
            major,
            minor,
            patch,
            pre: String::new(),
            meta: String::new(),
            original: format!("{major}.{minor}.{patch}"),
        };
        Ok(match name {
            "Compare" => Value::Int(match self.cmp(&other()?) {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            }),
            "Equal" => Value::Bool(self.cmp(&other()?) == Ordering::Equal),
            "LessThan" => Value::Bool(self.cmp(&other()?) == Ordering::Less),
            "GreaterThan" => Value::Bool(self.cmp(&other()?) == Ordering::Greater),
            "IncMajor" => Value::object(bump(self.major + 1, 0, 0)),
            "IncMinor" => Value::object(bump(self.major, self.minor + 1, 0)),
            "IncPatch" => Value::object(if self.pre.is_empty() {
                bump(self.major, self.minor, self.patch + 1)
            } else {
                bump(self.major, self.minor, self.patch)
            }),
            "Major" => Value::Int64(self.major as i64),
            "Minor" => Value::Int64(self.minor as i64),
            "Patch" => Value::Int64(self.patch as i64),
            "Prerelease" => Value::str(&self.pre),
            "Metadata" => Value::str(&self.meta),
            "Original" => Value::str(&self.original),
            _ => Value::str(self.string()),
        })
    }
    fn format(&self) -> String {
        self.string()
    }
    fn to_data(&self) -> Value {
        Value::str(self.string())
    }
}

struct Constraint {
    op: String,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn parse_constraint_part(p: &str) -> Option<Constraint> {
    let p = p.trim();
    let ops = ["!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"];
    let (op, rest) = ops
        .iter()
        .find_map(|o| p.strip_prefix(o).map(|r| (o.to_string(), r.trim())))
        .unwrap_or((String::new(), p));
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    let (core, suffix) = match rest.find(['-', '+']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let wild = |x: &str| matches!(x, "x" | "X" | "*");
    let mut nums = [0u64; 3];
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    for (i, x) in parts.iter().enumerate() {
        if wild(x) {
            dirty = true;
            // A wildcard major (`*`, `x`) is Masterminds' "0.0.0, dirty": neither the minor
            // nor the patch is marked, which is what makes `*` accept every version.
            if i == 0 {
                nums = [0, 0, 0];
                break;
            }
            if i == 1 {
                minor_dirty = true;
            }
            patch_dirty = true;
            break;
        }
        nums[i] = x.parse().ok()?;
    }
    if parts.len() < 3 && !dirty {
        dirty = true;
        patch_dirty = true;
        if parts.len() < 2 {
            minor_dirty = true;
        }
    }
    let v = Version::parse(&format!("{}.{}.{}{}", nums[0], nums[1], nums[2], suffix))?;
    let op = match op.as_str() {
        "=>" => ">=".into(),
        "=<" => "<=".into(),
        "~>" => "~".into(),
        _ => op,
    };
    Some(Constraint {
        op,
        con: v,
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

fn check(v: &Version, c: &Constraint) -> bool {
    // A prerelease satisfies only constraints that name one, except an exact `!=`
    // (Masterminds checks this in every comparison but there).
    if !v.pre.is_empty() && c.con.pre.is_empty() && (c.op != "!=" || c.dirty) {
        return false;
    }
    let cmp = v.cmp(&c.con);
    let in_tilde = |v: &Version| {
        if v.cmp(&c.con) == Ordering::Less {
            return false;
        }
        // ~0.0.0 (and `*`) accepts everything at or above it.
        if (c.con.major, c.con.minor, c.con.patch) == (0, 0, 0) && !c.minor_dirty && !c.patch_dirty
        {
            return true;
        }
        if c.con.major != v.major {
            return false;
        }
        if c.con.minor != v.minor && !c.minor_dirty {
            return false;
        }
        true
    };
    match c.op.as_str() {
        "" | "=" => {
            if c.dirty {
                in_tilde(v)
            } else {
                cmp == Ordering::Equal
            }
        }
        "!=" => {
            if c.dirty {
                if c.con.major != v.major {
                    return true;
                }
                if c.con.minor != v.minor && !c.minor_dirty {
                    return true;
                }
                if c.minor_dirty {
                    return false;
                }
                if c.con.patch != v.patch && !c.patch_dirty {
                    return true;
                }
                if c.patch_dirty {
                    return (!v.pre.is_empty() || !c.con.pre.is_empty())
                        && cmp_pre(&v.pre, &c.con.pre) != Ordering::Equal;
                }
            }
            cmp != Ordering::Equal
        }
        ">" => {
            if !c.dirty {
                return cmp == Ordering::Greater;
            }
            if v.major != c.con.major {
                return v.major > c.con.major;
            }
            if c.minor_dirty {
                return false;
            }
            if c.patch_dirty {
                return v.minor > c.con.minor;
            }
            cmp == Ordering::Greater
        }
        ">=" => cmp != Ordering::Less,
        "<" => cmp == Ordering::Less,
        "<=" => {
            if !c.dirty {
                return cmp != Ordering::Greater;
            }
            if v.major != c.con.major {
                return v.major < c.con.major;
            }
            if c.minor_dirty {
                return true;
            }
            v.minor <= c.con.minor
        }
        "~" => in_tilde(v),
        "^" => {
            if cmp == Ordering::Less {
                return false;
            }
            if c.con.major > 0 || c.minor_dirty {
                return v.major == c.con.major;
            }
            if v.major > 0 {
                return false;
            }
            if c.con.minor > 0 || c.patch_dirty {
                return v.minor == c.con.minor;
            }
            if v.minor > 0 {
                return false;
            }
            c.con.patch == v.patch
        }
        _ => false,
    }
}

/// Masterminds `Constraints.Check`: `||` alternatives of comma/space separated conditions.
pub(crate) fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let mut groups: Vec<Vec<Constraint>> = Vec::new();
    for alt in constraint.split("||") {
        let mut cs = Vec::new();
        let alt = alt.trim();
        // Hyphen ranges "a - b".
        let normalized = if let Some((a, b)) = alt.split_once(" - ") {
            format!(">= {}, <= {}", a.trim(), b.trim())
        } else {
            alt.to_string()
        };
        let mut tokens: Vec<String> = Vec::new();
        for part in normalized.split(',') {
            let mut pending = String::new();
            for w in part.split_whitespace() {
                if w.chars().all(|c| "<>=!~^".contains(c)) {
                    pending.push_str(w);
                    continue;
                }
                tokens.push(format!("{pending}{w}"));
                pending.clear();
            }
        }
        for t in tokens {
            cs.push(
                parse_constraint_part(&t)
                    .ok_or_else(|| format!("improper constraint: {constraint}"))?,
            );
        }
        if cs.is_empty() {
            return Err(format!("improper constraint: {constraint}"));
        }
        groups.push(cs);
    }
    let v = Version::parse(version).ok_or_else(|| "Invalid Semantic Version".to_string())?;
    Ok(groups.iter().any(|g| g.iter().all(|c| check(&v, c))))
}

pub(crate) fn register(m: &mut FuncMap) {
    m.add(
        "semver",
        Sig::fixed(&[Ty::String]),
        |_, a| match Version::parse(s(&a[0])) {
            Some(v) => Ok(Value::object(v)),
            None => err("Invalid Semantic Version"),
        },
    );
    m.add(
        "semverCompare",
        Sig::fixed(&[Ty::String, Ty::String]),
        |_, a| {
            semver_compare(s(&a[0]), s(&a[1]))
                .map(Value::Bool)
                .or_else(err)
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        let c = |con: &str, v: &str| semver_compare(con, v).unwrap();
        assert!(c(">=1.19-0", "v1.32.0"));
        assert!(c(">=1.16.0-0 <1.33.0-0", "1.32.0"));
        assert!(!c("<1.19", "v1.32.0"));
        assert!(c("~1.2.3", "1.2.9"));
        assert!(!c("~1.2.3", "1.3.0"));
        assert!(c("^1.2", "1.9.0"));
        assert!(c("1.2.x", "1.2.7"));
        assert!(c(">1.0 || <0.5", "2.0.0"));
        assert!(!c(">=1.19", "1.20.0-beta.1"));
        assert!(c("1.2 - 1.4", "1.3.0"));
    }

    /// Wildcards, partial versions and prereleases against every operator, as helm v3.17.1
    /// answered `semverCompare` for each pair (`t`/`f` per version, in order). A wildcard major
    /// accepts every release version, which a dependency's `version: "*"` relies on.
    #[test]
    fn matches_helm_on_wildcards_and_partial_versions() {
        const VERSIONS: [&str; 10] = [
            "1.0.8",
            "0.0.0",
            "0.5.0",
            "0.0.5",
            "23.4.5",
            "1.0.0-rc.1",
            "1.2.3",
            "1.3.0",
            "2.0.0",
            "0.0.1-alpha",
        ];
        const HELM: &[(&str, &str)] = &[
            ("*", "tttttftttf"),
            ("x", "tttttftttf"),
            ("X", "tttttftttf"),
            ("=*", "tttttftttf"),
            ("~*", "tttttftttf"),
            (">*", "tftttftttf"),
            ("<=*", "ftftffffff"),
            ("!=*", "tftttftttf"),
            ("1.x", "tfffffttff"),
            ("^*", "ftffffffff"),
            ("<*", "ffffffffff"),
            (">=*", "tttttftttf"),
            ("1", "tfffffttff"),
            ("~1", "tfffffttff"),
            ("^0", "ftttffffff"),
            ("!=1.x", "fttttffftf"),
            ("!=1.2.x", "tttttffttf"),
            ("<=1", "ttttffttff"),
            ("<=1.2", "ttttfftfff"),
            (">1", "fffftffftf"),
            (">1.2", "fffftffttf"),
            ("~0", "ftttffffff"),
            ("=0", "ftttffffff"),
            ("~0.0", "ftftffffff"),
            ("!=0.0.0", "tftttttttt"),
            (">0.0", "tftftftttf"),
            ("2.x.x", "fffffffftf"),
            ("*.*.*", "tttttftttf"),
        ];
        for (constraint, want) in HELM {
            for (v, w) in VERSIONS.iter().zip(want.chars()) {
                assert_eq!(
                    semver_compare(constraint, v),
                    Ok(w == 't'),
                    "semverCompare {constraint:?} {v:?}"
                );
            }
        }
    }
}
