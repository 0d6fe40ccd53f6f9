//! Git fixtures: the `git` binary with a fixed identity and date and no user or system
//! configuration, so repositories built by tests are the same on every machine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `git -C dir args…`; panics with git's stderr when it fails. Returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("the git binary runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository whose successive commits hold exactly the given trees. The index is rebuilt
/// from scratch for every commit, so git's stat cache can never keep a stale file.
pub struct RepoBuilder {
    /// The work tree (with `.git` inside).
    pub dir: PathBuf,
}

impl RepoBuilder {
    /// `git init` in `dir` (created when missing), default branch `main`.
    pub fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        RepoBuilder { dir }
    }

    /// Replaces the work tree with `files` (path → content), commits and tags it.
    pub fn commit(&self, files: &[(String, Vec<u8>)], tag: &str) {
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if entry.file_name() != ".git" {
                let p = entry.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(p).unwrap();
                } else {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }
        for (p, data) in files {
            let path = self.dir.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, data).unwrap();
        }
        let _ = std::fs::remove_file(self.dir.join(".git/index"));
        git(&self.dir, &["add", "-A", "-f", "."]);
        git(&self.dir, &["commit", "-q", "--allow-empty", "-m", tag]);
        git(&self.dir, &["tag", tag]);
    }
}

/// Every file under `dir`, as (prefix/relative path, bytes).
pub fn tree(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, prefix, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((format!("{prefix}{rel}"), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, prefix, &mut out);
    out
}

/// `(path, text)` pairs as the `(path, bytes)` trees [`RepoBuilder::commit`] takes.
pub fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect()
}
