//! The fake's state and the records tests inspect.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use serde_json::Value;

/// One request the fake received, as it arrived.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Method, upper case.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// Headers, names lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Raw body as UTF-8 (lossy).
    pub body: String,
    /// Status the fake answered.
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// Whether this request changed state (POST, PATCH, PUT, DELETE).
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE")
    }

    /// A write a test must look at: one that left something on GitHub (it succeeded).
    /// Minting an installation token is a write only in HTTP's sense; refused writes left
    /// nothing (tests see them through `validation_failures` and the client's errors).
    pub fn is_visible_write(&self) -> bool {
        self.is_write()
            && (200..300).contains(&self.status)
            && !(self.path.starts_with("/app/installations/")
                && self.path.contains("/access_tokens"))
    }
}

/// A request body the fake refused with 422: a JSON Schema violation or a documented limit.
#[derive(Debug, Clone)]
pub struct ValidationFailure {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// What was wrong.
    pub errors: Vec<String>,
}

/// A changed file of a seeded PR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSeed {
    /// Path after the change.
    pub filename: String,
    /// `added|removed|modified|renamed|…`.
    pub status: String,
    /// Path before a rename.
    pub previous_filename: Option<String>,
}

impl FileSeed {
    /// A modified file.
    pub fn modified(path: &str) -> Self {
        FileSeed {
            filename: path.into(),
            status: "modified".into(),
            previous_filename: None,
        }
    }

    /// A renamed file.
    pub fn renamed(from: &str, to: &str) -> Self {
        FileSeed {
            filename: to.into(),
            status: "renamed".into(),
            previous_filename: Some(from.into()),
        }
    }
}

impl From<&str> for FileSeed {
    fn from(path: &str) -> Self {
        FileSeed::modified(path)
    }
}

impl From<String> for FileSeed {
    fn from(path: String) -> Self {
        FileSeed::modified(&path)
    }
}

/// A seeded pull request.
#[derive(Debug, Clone)]
pub struct PullSeed {
    /// Number.
    pub number: u64,
    /// `open` / `closed`.
    pub state: String,
    /// Draft.
    pub draft: bool,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub head_ref: String,
    /// Base commit.
    pub base_sha: String,
    /// Base branch.
    pub base_ref: String,
    /// Changed files.
    pub files: Vec<FileSeed>,
}

/// A comment held by the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComment {
    /// Comment id.
    pub id: u64,
    /// Issue / PR number.
    pub issue: u64,
    /// Body.
    pub body: String,
    /// Author login.
    pub user_login: String,
    /// `User` or `Bot`.
    pub user_type: String,
    /// App that wrote it.
    pub app_id: Option<u64>,
    /// Reactions added (`content` values).
    pub reactions: Vec<String>,
    /// How many times it was PATCHed.
    pub edits: u32,
}

/// A commit status held by the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatus {
    /// Id.
    pub id: u64,
    /// `pending|success|failure|error`.
    pub state: String,
    /// Context.
    pub context: String,
    /// Description.
    pub description: Option<String>,
    /// Link.
    pub target_url: Option<String>,
}

/// A check run held by the fake.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckRun {
    /// Id.
    pub id: u64,
    /// Commit.
    pub head_sha: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Conclusion.
    pub conclusion: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// `output.title`.
    pub title: Option<String>,
    /// `output.summary`.
    pub summary: Option<String>,
    /// `output.text`.
    pub text: Option<String>,
    /// Every annotation received, over all requests.
    pub annotations: Vec<Value>,
    /// Requests that touched it (create + updates).
    pub requests: u32,
}

/// A fault to inject: matched against the next requests by method and path prefix.
#[derive(Debug, Clone)]
pub struct Fault {
    pub(crate) method: String,
    pub(crate) path_prefix: String,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    pub(crate) delay: Option<Duration>,
    pub(crate) then_handle: bool,
    pub(crate) times: u32,
}

impl Fault {
    /// A fault for requests with `method` (`"*"` for any) whose path starts with
    /// `path_prefix`; answers 500 once unless configured otherwise.
    pub fn new(method: &str, path_prefix: &str) -> Self {
        Fault {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.into(),
            status: 500,
            headers: Vec::new(),
            body: None,
            delay: None,
            then_handle: false,
            times: 1,
        }
    }
    /// Status to answer.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
    /// Adds a response header (overrides the fake's own of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
    /// JSON body to answer (default `{"message": …}` fitting the status).
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Waits this long before answering.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
    /// After the delay, handle the request normally instead of answering with the fault.
    pub fn then_handle(mut self) -> Self {
        self.then_handle = true;
        self
    }
    /// Applies to this many matching requests (default 1).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n.max(1);
        self
    }
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub id: u64,
    pub slug: String,
    pub public_key: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub installation: u64,
    pub expires_at: i64,
    pub revoked: bool,
    /// Repository names the token was scoped to (`repositories` in its request); `None`:
    /// every repository of the installation.
    pub repositories: Option<Vec<String>>,
}

/// Everything the fake knows, behind one mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub user_login: String,
    pub user_id: u64,
    pub app: App,
    pub token_lifetime_secs: i64,
    /// Longest comment body accepted (characters).
    pub comment_limit: usize,
    pub pulls: HashMap<(String, String, u64), PullSeed>,
    pub comments: BTreeMap<u64, (String, String, StoredComment)>,
    pub statuses: Vec<(String, String, String, StoredStatus)>,
    pub check_runs: BTreeMap<u64, (String, String, StoredCheckRun)>,
    pub tokens: HashMap<String, IssuedToken>,
    pub revoked_pats: HashSet<String>,
    pub next_id: u64,
    pub requests: Vec<RecordedRequest>,
    /// Per request: whether the test looked at what it wrote (see `FakeGithub`'s drop check).
    pub observed: Vec<bool>,
    pub validation_failures: Vec<ValidationFailure>,
    pub faults: VecDeque<Fault>,
    pub rate_limit: u64,
    pub rate_remaining: u64,
    pub rate_reset: u64,
    pub replay: Option<crate::replay::Replay>,
}

impl State {
    pub(crate) fn new(now: u64) -> Self {
        State {
            user_login: "chartimpact-test".into(),
            user_id: 1001,
            app: App {
                id: 4242,
                slug: "chartimpact".into(),
                public_key: None,
            },
            token_lifetime_secs: 3600,
            comment_limit: crate::MAX_COMMENT_CHARS,
            pulls: HashMap::new(),
            comments: BTreeMap::new(),
            statuses: Vec::new(),
            check_runs: BTreeMap::new(),
            tokens: HashMap::new(),
            revoked_pats: HashSet::new(),
            next_id: 1,
            requests: Vec::new(),
            observed: Vec::new(),
            validation_failures: Vec::new(),
            faults: VecDeque::new(),
            rate_limit: 5000,
            rate_remaining: 5000,
            rate_reset: now + 3600,
            replay: None,
        }
    }

    pub(crate) fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(crate) fn repo_known(&self, owner: &str, repo: &str) -> bool {
        self.pulls.keys().any(|(o, r, _)| o == owner && r == repo)
    }

    pub(crate) fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| {
            (f.method == "*" || f.method == method) && path.starts_with(&f.path_prefix)
        })?;
        let f = self.faults.get_mut(i)?;
        let out = f.clone();
        f.times -= 1;
        if f.times == 0 {
            self.faults.remove(i);
        }
        Some(out)
    }
}
