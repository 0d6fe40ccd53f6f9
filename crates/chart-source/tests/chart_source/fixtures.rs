//! Git fixtures built with the `git` binary in temporary directories, and test helpers.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use chart_source::{Clock, MirrorCache, MirrorCacheBuilder, UrlPolicy};
use tempfile::TempDir;

/// Runs git in `dir` with a fixed identity and no user or system configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "core.autocrlf=false",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An upstream repository (non-bare, branch `main`) that tests commit to.
pub struct Upstream {
    pub tmp: TempDir,
    pub dir: PathBuf,
}

impl Upstream {
    pub fn new() -> Upstream {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("upstream");
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        Upstream { tmp, dir }
    }

    /// A `file://` URL: fetched from like a remote (a plain path would be read in place).
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.to_str().unwrap())
    }

    /// The plain path, which mirrors read in place.
    pub fn path(&self) -> String {
        self.dir.to_str().unwrap().to_owned()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.dir, args)
    }

    pub fn write(&self, path: &str, content: &str) -> &Self {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    pub fn symlink(&self, path: &str, target: &str) -> &Self {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(target, p).unwrap();
        self
    }

    pub fn remove(&self, path: &str) -> &Self {
        self.git(&["rm", "-rq", path]);
        self
    }

    /// Commits everything and returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A minimal chart at `dir`.
    pub fn chart(&self, dir: &str, name: &str) -> &Self {
        self.write(
            &format!("{dir}/Chart.yaml"),
            &format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n"),
        )
        .write(&format!("{dir}/values.yaml"), "replicas: 1\n")
        .write(&format!("{dir}/templates/cm.yaml"), "kind: ConfigMap\n")
    }
}

/// A clock the tests move by hand.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock(Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// A cache builder for local repositories with a short network deadline.
pub fn builder(data: &Path) -> MirrorCacheBuilder {
    let mut b = MirrorCache::builder(data);
    b.policy(UrlPolicy {
        allow_local: true,
        ..UrlPolicy::default()
    })
    .network_deadline(Duration::from_secs(2))
    .retry_min_delay(Duration::from_millis(10));
    b
}

pub fn cache(data: &Path) -> MirrorCache {
    builder(data).build().unwrap()
}

pub fn cache_with_clock(data: &Path, clock: &ManualClock) -> MirrorCache {
    builder(data)
        .clock(Arc::new(clock.clone()))
        .branch_ttl(Duration::from_secs(60))
        .build()
        .unwrap()
}
