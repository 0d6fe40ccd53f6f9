//! Helm's built-in objects that have methods: `.Capabilities` (with `APIVersions.Has`) and
//! `.Files` (`Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig`, `AsSecrets`).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::funcs::{FuncError, Sig, Ty};
use crate::value::{ElemType, List, MethodResult, Object, Value};

/// The group/versions Helm 3.17.1 reports by default (client-go's scheme), in its order.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1alpha1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// `chartutil.VersionSet`: a `[]string` with a `Has` method.
#[derive(Debug, Clone)]
pub struct VersionSet(pub Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> String {
        "chartutil.VersionSet".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Sig> {
        (name == "Has").then(|| Sig::fixed(&[Ty::String]))
    }
    fn call_method(&self, _name: &str, args: Vec<Value>) -> MethodResult {
        let want = args[0].as_str().unwrap_or("");
        Ok(Value::Bool(self.0.iter().any(|v| v == want)))
    }
    fn format(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn to_data(&self) -> Value {
        Value::string_list(&self.0)
    }
    fn kind(&self) -> &'static str {
        "slice"
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn items(&self) -> Option<Vec<Value>> {
        Some(self.0.iter().map(Value::str).collect())
    }
}

/// `chartutil.KubeVersion`.
#[derive(Debug, Clone)]
pub struct KubeVersion {
    /// `v1.32.0`.
    pub version: String,
    /// `1`.
    pub major: String,
    /// `32`.
    pub minor: String,
}

impl KubeVersion {
    /// Parses `v1.32.0`/`1.32.0` the way Helm's `--kube-version` does (adding the `v`).
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let t = s.strip_prefix('v').unwrap_or(s);
        let mut it = t.split(['.', '-', '+']);
        let major: u64 = it.next()?.parse().ok()?;
        let minor: u64 = it.next().unwrap_or("0").parse().ok()?;
        Some(KubeVersion {
            version: format!("v{t}"),
            major: major.to_string(),
            minor: minor.to_string(),
        })
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion {
            version: "v1.32.0".into(),
            major: "1".into(),
            minor: "32".into(),
        }
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "chartutil.KubeVersion".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(&self.version)),
            "Major" => Some(Value::str(&self.major)),
            "Minor" => Some(Value::str(&self.minor)),
            _ => None,
        }
    }
    fn method(&self, name: &str) -> Option<Sig> {
        matches!(name, "String" | "GitVersion").then(|| Sig::fixed(&[]))
    }
    fn call_method(&self, _name: &str, _args: Vec<Value>) -> MethodResult {
        Ok(Value::str(&self.version))
    }
    fn format(&self) -> String {
        format!("{{{} {} {}}}", self.version, self.major, self.minor)
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("Version", Value::str(&self.version)),
            ("Major", Value::str(&self.major)),
            ("Minor", Value::str(&self.minor)),
        ])
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

/// `*chartutil.Capabilities`.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `.Capabilities.KubeVersion`.
    pub kube_version: KubeVersion,
    /// `.Capabilities.APIVersions`.
    pub api_versions: Vec<String>,
    /// `.Capabilities.HelmVersion` fields: version, git commit, tree state, Go version.
    pub helm_version: [String; 4],
}

impl Default for Capabilities {
    /// Helm 3.17.1's defaults: Kubernetes v1.32.0 and its 56 group/versions.
    fn default() -> Self {
        Capabilities {
            kube_version: KubeVersion::default(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
            helm_version: [
                "v3.17.1".into(),
                "980d8ac1939e39138101364400756af2bdee1da5".into(),
                "clean".into(),
                "go1.23.5".into(),
            ],
        }
    }
}

impl Capabilities {
    fn helm_version_value(&self) -> Value {
        Value::map([
            ("version", Value::str(&self.helm_version[0])),
            ("git_commit", Value::str(&self.helm_version[1])),
            ("git_tree_state", Value::str(&self.helm_version[2])),
            ("go_version", Value::str(&self.helm_version[3])),
        ])
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*chartutil.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::object(self.kube_version.clone())),
            "APIVersions" => Some(Value::object(VersionSet(self.api_versions.clone()))),
            "HelmVersion" => Some(Value::object(HelmVersion(self.helm_version.clone()))),
            _ => None,
        }
    }
    fn format(&self) -> String {
        format!(
            "&{{{} [{}] {{{} {} {} {}}}}}",
            self.kube_version.format(),
            self.api_versions.join(" "),
            self.helm_version[0],
            self.helm_version[1],
            self.helm_version[2],
            self.helm_version[3]
        )
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("KubeVersion", self.kube_version.to_data()),
            ("APIVersions", Value::string_list(&self.api_versions)),
            ("HelmVersion", self.helm_version_value()),
        ])
    }
}

#[derive(Debug, Clone)]
struct HelmVersion([String; 4]);

impl Object for HelmVersion {
    fn type_name(&self) -> String {
        "version.BuildInfo".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        let i = ["Version", "GitCommit", "GitTreeState", "GoVersion"]
            .iter()
            .position(|n| *n == name)?;
        Some(Value::str(&self.0[i]))
    }
    fn format(&self) -> String {
        format!(
            "{{{} {} {} {}}}",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
    fn to_data(&self) -> Value {
        Value::map([
            ("version", Value::str(&self.0[0])),
            ("git_commit", Value::str(&self.0[1])),
            ("git_tree_state", Value::str(&self.0[2])),
            ("go_version", Value::str(&self.0[3])),
        ])
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
}

/// The contents of one chart file: bytes in memory, or a file on disk that is read the first
/// time something asks for it.
///
/// A render needs a chart's templates, values and schema; most of its other files (changelogs,
/// CRDs, docs, tests) are there for `.Files` and few templates ask for them. Reading them only
/// when asked saves the reads and the memory they fill (a chart's CRDs and changelog are often
/// most of its bytes). A file that cannot be read when it is first asked for reads as empty
/// and keeps its error ([`FileContent::error`]), so that whoever loaded the chart can fail the
/// render afterwards, naming the file, instead of every reader handling I/O errors.
pub struct FileContent {
    bytes: std::sync::OnceLock<Result<Vec<u8>, String>>,
    read: Option<ReadContent>,
    /// The size given for contents not read yet.
    size: u64,
}

/// Reads a file's contents, or says why it cannot.
type ReadContent = Box<dyn Fn() -> Result<Vec<u8>, String> + Send + Sync>;

impl FileContent {
    /// Contents already in memory.
    pub fn new(bytes: Vec<u8>) -> Self {
        FileContent {
            size: bytes.len() as u64,
            bytes: std::sync::OnceLock::from(Ok(bytes)),
            read: None,
        }
    }

    /// Contents of about `size` bytes that `read` produces the first time they are asked for
    /// (once, whichever thread asks first); an `Err` is the reason they could not be read.
    pub fn on_demand(
        size: u64,
        read: impl Fn() -> Result<Vec<u8>, String> + Send + Sync + 'static,
    ) -> Self {
        FileContent {
            bytes: std::sync::OnceLock::new(),
            read: Some(Box::new(read)),
            size,
        }
    }

    /// The length in bytes: of the contents once read, else the size they were given with.
    pub fn len(&self) -> u64 {
        match self.bytes.get() {
            Some(Ok(b)) => b.len() as u64,
            _ => self.size,
        }
    }

    /// Whether [`FileContent::len`] is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn state(&self) -> &Result<Vec<u8>, String> {
        self.bytes.get_or_init(|| match &self.read {
            Some(read) => read(),
            None => Ok(Vec::new()),
        })
    }

    /// The bytes, read now if they were not yet; empty when they cannot be read.
    pub fn bytes(&self) -> &[u8] {
        self.state().as_deref().unwrap_or(&[])
    }

    /// The bytes, or why they could not be read.
    pub fn read(&self) -> Result<&[u8], &str> {
        self.state().as_deref().map_err(String::as_str)
    }

    /// Why the bytes could not be read, if they were asked for and could not be.
    pub fn error(&self) -> Option<&str> {
        self.bytes.get()?.as_ref().err().map(String::as_str)
    }

    /// Whether the bytes are in memory (given, or read already).
    pub fn is_loaded(&self) -> bool {
        self.bytes.get().is_some()
    }
}

impl From<Vec<u8>> for FileContent {
    fn from(bytes: Vec<u8>) -> Self {
        FileContent::new(bytes)
    }
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.bytes.get() {
            Some(Ok(b)) => write!(f, "FileContent({} bytes)", b.len()),
            Some(Err(e)) => write!(f, "FileContent(unreadable: {e})"),
            None => f.write_str("FileContent(not read yet)"),
        }
    }
}

/// `engine.files`: a chart's non-template files by path.
#[derive(Debug, Clone, Default)]
pub struct Files(pub Arc<BTreeMap<String, Arc<FileContent>>>);

impl Files {
    /// Files from `(path, contents)` pairs; the contents are shared with whoever else holds
    /// them.
    pub fn new(files: impl IntoIterator<Item = (String, Arc<FileContent>)>) -> Self {
        Files(Arc::new(files.into_iter().collect()))
    }

    /// The file at `path`: `None` when there is none, an error when it cannot be read.
    fn read(&self, path: &str) -> Result<Option<&[u8]>, FuncError> {
        match self.0.get(path) {
            None => Ok(None),
            Some(c) => c
                .read()
                .map(Some)
                .map_err(|e| FuncError::new(format!("cannot read chart file {path}: {e}"))),
        }
    }
}

/// Glob matching as gobwas/glob does with `/` as separator: `*` and `?` stay within a path
/// segment, `**` crosses segments, `[...]` classes, `{a,b}` alternatives.
///
/// Runs in time proportional to the pattern's length times the path's: the pattern is read
/// into tokens once and matched by tracking every token position the path can be at, so
/// `**a**a**a…b` cannot backtrack exponentially. Alternatives are expanded first, each
/// expansion counted as work against the execution's steps.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    let mut found = false;
    expand_braces(&p, 0, &mut |alt| {
        found = found || matches_tokens(&glob_tokens(alt), &s);
        !found
    });
    found
}

#[derive(Debug, PartialEq)]
enum GlobToken {
    Char(char),
    /// `?`: one character other than `/`.
    Any,
    /// `*`: any run without `/`.
    Star,
    /// `**`: any run.
    SuperStar,
    /// `[...]`, `[!...]`: ranges `a-c` and single characters.
    Class {
        neg: bool,
        items: Vec<(char, char)>,
    },
}

/// Calls `each` with every pattern the first `{a,b}` at or after `from` expands to (each with
/// its own later alternatives expanded), as the matcher meets them left to right: a `\`
/// escapes the next character, a `[...]` class is passed over, a `{` without a later `}` is a
/// plain character. `each` returns whether to go on.
fn expand_braces(p: &[char], from: usize, each: &mut dyn FnMut(&[char]) -> bool) -> bool {
    let mut i = from;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => i += 2,
            '[' => match p[i..].iter().position(|&c| c == ']') {
                Some(end) => i += end + 1,
                None => i += 1,
            },
            '{' => {
                let Some(end) = p[i..].iter().position(|&c| c == '}') else {
                    i += 1;
                    continue;
                };
                let inner = &p[i + 1..i + end];
                for alt in inner.split(|&c| c == ',') {
                    // Exponentially many expansions (`{a,b}{a,b}…`) run into the step limit.
                    if !crate::budget::visit(0) {
                        return false;
                    }
                    let mut np = Vec::with_capacity(p.len());
                    np.extend_from_slice(&p[..i]);
                    np.extend_from_slice(alt);
                    np.extend_from_slice(&p[i + end + 1..]);
                    if !expand_braces(&np, i, each) {
                        return false;
                    }
                }
                return true;
            }
            _ => i += 1,
        }
    }
    each(p)
}

/// The tokens of a pattern without alternatives.
fn glob_tokens(p: &[char]) -> Vec<GlobToken> {
    let mut out = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' if p.get(i + 1) == Some(&'*') => {
                out.push(GlobToken::SuperStar);
                i += 2;
            }
            '*' => {
                out.push(GlobToken::Star);
                i += 1;
            }
            '?' => {
                out.push(GlobToken::Any);
                i += 1;
            }
            '[' => match p[i..].iter().position(|&c| c == ']') {
                Some(end) => {
                    let class = &p[i + 1..i + end];
                    let (neg, class) = match class.first() {
                        Some('!') => (true, &class[1..]),
                        _ => (false, class),
                    };
                    let mut items = Vec::new();
                    let mut k = 0;
                    while k < class.len() {
                        if k + 2 < class.len() && class[k + 1] == '-' {
                            items.push((class[k], class[k + 2]));
                            k += 3;
                        } else {
                            items.push((class[k], class[k]));
                            k += 1;
                        }
                    }
                    out.push(GlobToken::Class { neg, items });
                    i += end + 1;
                }
                None => {
                    out.push(GlobToken::Char('['));
                    i += 1;
                }
            },
            '\\' if i + 1 < p.len() => {
                out.push(GlobToken::Char(p[i + 1]));
                i += 2;
            }
            c => {
                out.push(GlobToken::Char(c));
                i += 1;
            }
        }
    }
    out
}

/// Whether `s` matches the tokens: the set of token positions reachable after each character,
/// stars staying in place; `O(tokens × characters)`.
fn matches_tokens(tokens: &[GlobToken], s: &[char]) -> bool {
    let n = tokens.len();
    let mut cur = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    // Stars match the empty run: a reachable star makes the position after it reachable.
    let close = |set: &mut [bool]| {
        for i in 0..n {
            if set[i] && matches!(tokens[i], GlobToken::Star | GlobToken::SuperStar) {
                set[i + 1] = true;
            }
        }
    };
    cur[0] = true;
    close(&mut cur);
    for &c in s {
        if !crate::budget::visit(0) {
            return false;
        }
        next.iter_mut().for_each(|x| *x = false);
        let mut any = false;
        for i in 0..n {
            if !cur[i] {
                continue;
            }
            let to = match &tokens[i] {
                GlobToken::Char(x) => (*x == c).then_some(i + 1),
                GlobToken::Any => (c != '/').then_some(i + 1),
                GlobToken::Star => (c != '/').then_some(i),
                GlobToken::SuperStar => Some(i),
                GlobToken::Class { neg, items } => {
                    let hit = items.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                    (hit != *neg).then_some(i + 1)
                }
            };
            if let Some(j) = to {
                next[j] = true;
                any = true;
            }
        }
        if !any {
            return false;
        }
        close(&mut next);
        std::mem::swap(&mut cur, &mut next);
    }
    cur[n]
}

fn base_name(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Sig> {
        match name {
            "Get" | "GetBytes" | "Glob" | "Lines" => Some(Sig::fixed(&[Ty::String])),
            "AsConfig" | "AsSecrets" => Some(Sig::fixed(&[])),
            _ => None,
        }
    }
    fn call_method(&self, name: &str, args: Vec<Value>) -> MethodResult {
        let arg = args
            .first()
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_string();
        match name {
            "Get" => Ok(Value::str(
                self.read(&arg)?
                    .map(|b| crate::gostr::from_go_bytes(b).into_owned())
                    .unwrap_or_default(),
            )),
            "GetBytes" => Ok(Value::Bytes(Arc::from(
                self.read(&arg)?.unwrap_or_default(),
            ))),
            "Glob" => Ok(Value::object(Files(Arc::new(
                self.0
                    .iter()
                    .filter(|(k, _)| glob_match(&arg, k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )))),
            "Lines" => {
                let Some(b) = self.read(&arg)? else {
                    return Ok(Value::List(List::typed(vec![], ElemType::String)));
                };
                let mut s = crate::gostr::from_go_bytes(b).into_owned();
                if s.ends_with('\n') {
                    s.pop();
                }
                Ok(Value::string_list(s.split('\n')))
            }
            // An empty group (a Glob that matched nothing) is still a map in Go, not nil:
            // `{}`, as Helm prints it.
            "AsConfig" | "AsSecrets" => {
                let mut entries = Vec::with_capacity(self.0.len());
                for k in self.0.keys() {
                    let v = self.read(k)?.unwrap_or_default();
                    let text = if name == "AsConfig" {
                        crate::gostr::from_go_bytes(v).into_owned()
                    } else {
                        base64::engine::general_purpose::STANDARD.encode(v)
                    };
                    entries.push((base_name(k).to_string(), Value::str(text)));
                }
                Ok(Value::str(crate::to_yaml(&Value::map(entries))))
            }
            _ => Err(FuncError::new(format!("no method {name}"))),
        }
    }
    fn format(&self) -> String {
        // Go prints each byte as a decimal number: up to four bytes of text per byte.
        let size: u64 = self
            .0
            .values()
            .map(|v| v.bytes().len() as u64 * 4 + 8)
            .sum();
        if crate::budget::room(size).is_err() {
            return String::new();
        }
        // Written into one string: the files are copied once, as text.
        let mut out = String::with_capacity(size as usize + 5);
        out.push_str("map[");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(k);
            out.push(':');
            crate::gofmt::write_byte_numbers(&mut out, v.bytes());
        }
        out.push(']');
        out
    }
    fn to_data(&self) -> Value {
        Value::map(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(Arc::from(v.bytes())))),
        )
    }
    fn kind(&self) -> &'static str {
        "map"
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_print_as_go_prints_a_map_of_byte_slices() {
        let files = Files::new([
            (
                "b.txt".to_string(),
                Arc::new(FileContent::new(b"hi".to_vec())),
            ),
            (
                "a/empty".to_string(),
                Arc::new(FileContent::new(Vec::new())),
            ),
            (
                "c".to_string(),
                Arc::new(FileContent::new(vec![0, 255, 10])),
            ),
        ]);
        assert_eq!(
            files.format(),
            "map[a/empty:[] b.txt:[104 105] c:[0 255 10]]"
        );
    }

    #[test]
    fn files_are_read_once_when_first_asked_for_and_unreadable_ones_say_so() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = reads.clone();
        let notes = Arc::new(FileContent::on_demand(4, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(b"a\nb\n".to_vec())
        }));
        let locked = Arc::new(FileContent::on_demand(
            1,
            || Err("permission denied".into()),
        ));
        let files = Files::new([
            ("notes.txt".to_string(), notes.clone()),
            ("secret.txt".to_string(), locked.clone()),
        ]);
        assert!(!notes.is_loaded() && !locked.is_loaded());
        // Globbing names files without reading them.
        let g = files
            .call_method("Glob", vec![Value::str("*.txt")])
            .unwrap();
        let Value::Object(g) = g else {
            panic!("Glob gives files")
        };
        assert_eq!(g.len(), Some(2));
        assert_eq!(reads.load(Ordering::SeqCst), 0);
        let got = files
            .call_method("Get", vec![Value::str("notes.txt")])
            .unwrap();
        assert_eq!(got.as_str(), Some("a\nb\n"));
        let lines = files
            .call_method("Lines", vec![Value::str("notes.txt")])
            .unwrap();
        let Value::List(lines) = lines else {
            panic!("Lines gives a list")
        };
        assert_eq!(lines.len(), 2);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        for method in ["Get", "GetBytes", "Lines"] {
            let err = files
                .call_method(method, vec![Value::str("secret.txt")])
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "cannot read chart file secret.txt: permission denied"
            );
        }
        let err = files.call_method("AsConfig", vec![]).unwrap_err();
        assert!(err.to_string().contains("secret.txt"), "{err}");
        assert_eq!(locked.error(), Some("permission denied"));
        assert_eq!(locked.bytes(), b"");
        assert_eq!(notes.error(), None);
    }

    #[test]
    fn globs_take_linear_time() {
        let path = "a".repeat(60);
        let pattern = format!("{}b", "**a".repeat(30));
        assert!(!glob_match(&pattern, &path));
        assert!(glob_match(&format!("{}*", "**a".repeat(30)), &path));
        let star_runs = format!("{}x", "*a".repeat(30));
        assert!(!glob_match(&star_runs, &path));
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match("a[b", "a[b"));
        assert!(glob_match("a{b", "a{b"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("[!a]x", "bx"));
        assert!(!glob_match("[!a]x", "ax"));
        assert!(glob_match("{a,b}{c,d}", "bd"));
        assert!(glob_match("x/{a*,b}/y", "x/abc/y"));
        assert!(!glob_match("?", "/"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "a"));
        assert!(glob_match("**", ""));
    }

    #[test]
    fn globs() {
        assert!(glob_match("files/*.txt", "files/a.txt"));
        assert!(!glob_match("files/*.txt", "files/sub/a.txt"));
        assert!(glob_match("files/**.txt", "files/sub/a.txt"));
        assert!(glob_match("files/{a,b}.txt", "files/b.txt"));
        assert!(glob_match("f?les/[a-c].txt", "files/b.txt"));
    }

    #[test]
    fn kube_version_parse() {
        let k = KubeVersion::parse("1.28.3").unwrap();
        assert_eq!(
            (k.version.as_str(), k.major.as_str(), k.minor.as_str()),
            ("v1.28.3", "1", "28")
        );
    }
}
