//! Masterminds/semver v3: `semver` and `semverCompare`.

use std::cmp::Ordering;

use super::{FuncError, FuncMap, Sig, Ty, err, s};
use crate::value::{MethodResult, Object, Value};

/// A parsed semantic version (Masterminds `semver.NewVersion`: an optional `v`, one to three
/// numbers with the missing ones zero, then `-prerelease` and `+metadata`).
///
/// Ordering is Masterminds' `Compare`: numbers, then pre-releases (a release sorts after its
/// pre-releases); build metadata is ignored, so `1.0.0+a == 1.0.0+b`.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    meta: String,
    original: String,
}

impl Version {
    /// Parses `v`, `None` when Masterminds would refuse it.
    pub fn parse(v: &str) -> Option<Version> {
        let t = v.strip_prefix('v').unwrap_or(v);
        // A `-` or `+` must be followed by identifiers: `1.2.3-` and `1.2.3+` are refused.
        let (t, meta) = match t.split_once('+') {
            Some((_, "")) => return None,
            Some((a, b)) => (a, b.to_string()),
            None => (t, String::new()),
        };
        let (nums, pre) = match t.split_once('-') {
            Some((_, "")) => return None,
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

    fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }

    /// `(major, minor, patch)`.
    pub fn numbers(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    /// The pre-release part (after `-`), empty for a release.
    pub fn prerelease(&self) -> &str {
        &self.pre
    }

    /// The text it was parsed from.
    pub fn original(&self) -> &str {
        &self.original
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

/// `Version.String()`: the canonical form (`v1.2` → `1.2.0`).
impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.string())
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.compare(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(Ord::cmp(self, other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.compare(other)
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
            "Compare" => Value::Int(match self.compare(&other()?) {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            }),
            "Equal" => Value::Bool(self.compare(&other()?) == Ordering::Equal),
            "LessThan" => Value::Bool(self.compare(&other()?) == Ordering::Less),
            "GreaterThan" => Value::Bool(self.compare(&other()?) == Ordering::Greater),
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
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    // Masterminds marks the first wildcard or missing part: a major one makes the constraint
    // only "dirty" (`*`, `~0.0.0`: any version), a minor one `minorDirty`, a patch one
    // `patchDirty`; the parts after it are zero.
    let mut loose = parts.len();
    for (i, x) in parts.iter().enumerate() {
        if wild(x) {
            loose = i;
            break;
        }
        nums[i] = x.parse().ok()?;
    }
    let (dirty, minor_dirty, patch_dirty) = match loose {
        0 => (true, false, false),
        1 => (true, true, false),
        2 => (true, false, true),
        _ => (false, false, false),
    };
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
    let cmp = v.compare(&c.con);
    let in_tilde = |v: &Version| {
        if v.compare(&c.con) == Ordering::Less {
            return false;
        }
        // `~0.0.0` (and `*`) admits every version.
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
            if v.major > c.con.major {
                return false;
            }
            !(v.major == c.con.major && v.minor > c.con.minor && !c.minor_dirty)
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

/// A parsed Masterminds constraint (`semver.NewConstraint`): `||` alternatives of comma or
/// space separated conditions (`>=1.2 <2`, `~1.2.3`, `^0.4`, `1.x`, `1.2 - 1.4`).
///
/// As in Masterminds, a pre-release version satisfies a condition only when that condition
/// names a pre-release itself (`>=1.0.0-0` admits `1.2.0-rc.1`, `>=1.0.0` does not).
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
    original: String,
}

impl std::fmt::Debug for Constraints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Constraints({:?})", self.original)
    }
}

impl Constraints {
    /// Parses `constraint`; the error is Masterminds' text (`improper constraint: …`).
    pub fn parse(constraint: &str) -> Result<Constraints, String> {
        Ok(Constraints {
            groups: parse_groups(constraint)?,
            original: constraint.to_owned(),
        })
    }

    /// `Constraints.Check`.
    pub fn check(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| g.iter().all(|c| check(v, c)))
    }
}

fn parse_groups(constraint: &str) -> Result<Vec<Vec<Constraint>>, String> {
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
    Ok(groups)
}

/// Masterminds `Constraints.Check`: `||` alternatives of comma/space separated conditions.
pub(crate) fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraints::parse(constraint)?;
    let v = Version::parse(version).ok_or_else(|| "Invalid Semantic Version".to_string())?;
    Ok(c.check(&v))
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
        // Wildcards as Masterminds marks them.
        assert!(c("*", "7.3.1"));
        assert!(c("x", "0.0.1"));
        assert!(!c("*", "1.0.0-rc.1"));
        assert!(c("<=1.2", "1.2.9"));
        assert!(!c("<=1.2", "1.3.0"));
        assert!(c("<=1", "1.9.0"));
        assert!(c(">1.2", "1.3.0"));
        assert!(!c(">1.2", "1.2.9"));
        assert!(!c(">1", "1.9.0"));
    }

    #[test]
    fn versions_order_and_parse() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert!(v("1.0.0-alpha.2") < v("1.0.0-alpha.10"));
        assert_eq!(v("v1.2"), v("1.2.0"));
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
        assert_eq!(v("v1.2").to_string(), "1.2.0");
        assert_eq!(v("1.2.3-rc.1").prerelease(), "rc.1");
        let c = Constraints::parse(">=1.0.0-0").unwrap();
        assert!(c.check(&v("2.0.0-rc.1")));
        assert!(Constraints::parse("").is_err());
        // Masterminds requires identifiers after `-` and `+` (helm-render shares this parser).
        for bad in ["1.2.3-", "1.2.3+", "1.2.3-+b", "1.2.3-rc..1", "1.2.x"] {
            assert!(Version::parse(bad).is_none(), "{bad:?} parsed");
        }
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
