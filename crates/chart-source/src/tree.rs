//! Reading trees straight from the object database: chart subtrees with symlinks resolved
//! inside the chart, single files, and changed paths between two trees.

use std::collections::{BTreeMap, VecDeque};

use gix::{ObjectId, objs::tree::EntryKind};

use crate::{CommitId, Error, Result, TreeId};

/// Limits applied while reading a chart or a file from a commit.
///
/// The defaults follow Helm's chart loader: 5 MiB per file, 100 MiB per chart; and at most
/// 10,000 files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLimits {
    /// Maximum number of files in one chart (after expanding symlinked directories).
    pub max_files: usize,
    /// Maximum size of one file in bytes.
    pub max_file_bytes: u64,
    /// Maximum total size of a chart in bytes.
    pub max_total_bytes: u64,
}

impl Default for ChartLimits {
    fn default() -> Self {
        ChartLimits {
            max_files: 10_000,
            max_file_bytes: 5 * 1024 * 1024,
            max_total_bytes: 100 * 1024 * 1024,
        }
    }
}

/// The mode of a file read from git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileMode {
    /// A regular file (`100644`).
    Regular,
    /// An executable file (`100755`).
    Executable,
}

/// One file of a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    /// The file's bytes.
    pub data: Vec<u8>,
    /// Its mode (for a symlink, the mode of the file it resolves to).
    pub mode: FileMode,
    /// For a file reached through a symlink, the chart-relative path it resolved to.
    pub resolved_from: Option<String>,
}

/// A chart directory read from a commit into memory.
///
/// Paths are relative to the chart directory and use `/`. Symlinks that stay inside the chart
/// are resolved (a link to a file yields that file's content, a link to a directory yields its
/// files under the link's path); submodules are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFiles {
    pub(crate) commit: CommitId,
    pub(crate) path: String,
    pub(crate) tree_id: TreeId,
    pub(crate) files: BTreeMap<String, ChartFile>,
    pub(crate) skipped: Vec<String>,
}

impl ChartFiles {
    /// The commit the chart was read from.
    pub fn commit(&self) -> CommitId {
        self.commit
    }

    /// The chart's directory in the repository (`""` for the repository root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The id of the chart directory's tree: identical content ⇔ identical id, so this is the
    /// cache key for renders.
    pub fn tree_id(&self) -> TreeId {
        self.tree_id
    }

    /// The files, by chart-relative path.
    pub fn files(&self) -> &BTreeMap<String, ChartFile> {
        &self.files
    }

    /// Consumes the chart and returns its files.
    pub fn into_files(self) -> BTreeMap<String, ChartFile> {
        self.files
    }

    /// One file's bytes.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.data.as_slice())
    }

    /// Total size of all files in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.values().map(|f| f.data.len() as u64).sum()
    }

    /// Entries that were not read: submodules (gitlinks).
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

/// A tree entry flattened into a path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flat {
    pub(crate) kind: EntryKind,
    pub(crate) oid: ObjectId,
}

/// Normalizes a repository-relative path given by a caller: `/`-separated, no `..`, no leading
/// or trailing slashes; `"."` and `""` mean the root.
pub(crate) fn normalize_repo_path(path: &str) -> Result<String> {
    let escape = || Error::PathEscapesChart {
        path: path.to_owned(),
        target: path.to_owned(),
    };
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err(escape());
    }
    let mut parts = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(escape()),
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The entries of tree `id`, owned.
pub(crate) fn tree_entries(
    repo: &gix::Repository,
    id: ObjectId,
) -> Result<Vec<(String, EntryKind, ObjectId)>> {
    // Larger trees (a million entries) are left to the object database.
    if let Some(data) = loose_object(repo, id, "tree", 64 << 20).ok().flatten()
        && let Ok(decoded) = gix::objs::TreeRef::from_bytes(&data, id.kind())
    {
        return Ok(decoded
            .entries
            .iter()
            .map(|e| (e.filename.to_string(), e.mode.kind(), e.oid.to_owned()))
            .collect());
    }
    let tree = repo
        .find_tree(id)
        .map_err(|e| corrupt_or_git("read tree", &e))?;
    let decoded = tree
        .decode()
        .map_err(|e| corrupt_or_git("decode tree", &e))?;
    Ok(decoded
        .entries
        .iter()
        .map(|e| (e.filename.to_string(), e.mode.kind(), e.oid.to_owned()))
        .collect())
}

/// Every entry below tree `id` (directories included), keyed by path relative to it.
pub(crate) fn flatten(
    repo: &gix::Repository,
    id: ObjectId,
    max_entries: usize,
    out: &mut BTreeMap<String, Flat>,
    prefix: &str,
) -> Result<()> {
    for (name, kind, oid) in tree_entries(repo, id)? {
        let path = join(prefix, &name);
        out.insert(path.clone(), Flat { kind, oid });
        if out.len() > max_entries {
            return Err(Error::LimitExceeded {
                what: "entry count".into(),
                limit: max_entries as u64,
            });
        }
        if kind == EntryKind::Tree {
            flatten(repo, oid, max_entries, out, &path)?;
        }
    }
    Ok(())
}

/// Errors while reading objects we expected to exist mean the mirror is damaged.
pub(crate) fn corrupt_or_git(
    operation: &'static str,
    err: &(dyn std::error::Error + 'static),
) -> Error {
    let classes = gix::error::classify(err);
    if classes.is_not_found() || gix::error::classify(err).is_corrupted() {
        Error::Corrupt {
            path: Default::default(),
            reason: format!("{operation}: {}", crate::GitError::new(err, &[])),
        }
    } else {
        Error::git(operation, err)
    }
}

pub(crate) fn read_blob(
    repo: &gix::Repository,
    oid: ObjectId,
    what: &str,
    max: u64,
) -> Result<Vec<u8>> {
    let too_large = |_| Error::LimitExceeded {
        what: format!("file {what} size in bytes"),
        limit: max,
    };
    if let Some(data) = loose_object(repo, oid, "blob", max).map_err(too_large)? {
        return Ok(data);
    }
    let header = repo
        .find_header(oid)
        .map_err(|e| corrupt_or_git("read object header", &e))?;
    if header.size() > max {
        return Err(Error::LimitExceeded {
            what: format!("file {what} size in bytes"),
            limit: max,
        });
    }
    let mut blob = repo
        .find_blob(oid)
        .map_err(|e| corrupt_or_git("read blob", &e))?;
    Ok(blob.take_data())
}

/// An object of `kind` stored loose in the repository's object directories, read with one
/// `read` and inflated once; `Ok(None)` when it is not there as a well-formed loose object of
/// that kind (packed, damaged, of another kind), and the object database then answers, with
/// its errors; `Err(size)` when it is larger than `max` bytes (checked before inflating it).
///
/// Why not the object database alone: it maps each loose object into memory (a blob twice:
/// for the header and the size check, then for the data), and unmapping memory in a process
/// whose threads run on several cores interrupts each core to flush its TLB. A compare reads
/// both sides of a local repository's chart (a chart that declares dependencies is read whole,
/// even when both renders come from the cache): argo-cd's ~400 files made 800 mappings, and
/// unmapping them was a sixth of a warm compare's CPU time. Loose objects are what a local
/// repository's recent commits are, and a mirror of a local repository borrows them.
fn loose_object(
    repo: &gix::Repository,
    oid: ObjectId,
    kind: &str,
    max: u64,
) -> std::result::Result<Option<Vec<u8>>, u64> {
    use std::io::Read;
    let hex = oid.to_hex().to_string();
    // Deflate makes incompressible data a little larger, never much: a file beyond this holds
    // more than `max` bytes or is not what it should be, and is left to the object database.
    let most = max.saturating_add(max / 64).saturating_add(1024);
    let read = |dir: &std::path::PathBuf| {
        let mut file = std::fs::File::open(dir.join(&hex[..2]).join(&hex[2..])).ok()?;
        let len = file.metadata().ok()?.len();
        if len > most {
            return None;
        }
        let mut compressed = Vec::with_capacity(usize::try_from(len).ok()?);
        file.read_to_end(&mut compressed).ok()?;
        Some(compressed)
    };
    let Some(compressed) = loose_dirs(repo).iter().find_map(read) else {
        return Ok(None);
    };
    let mut inflate = flate2::read::ZlibDecoder::new(compressed.as_slice());
    // "<kind> <size>\0"
    let mut header = [0u8; 32];
    let mut len = 0;
    loop {
        let mut byte = [0u8; 1];
        match inflate.read(&mut byte) {
            Ok(1) if byte[0] == 0 => break,
            Ok(1) if len < header.len() => {
                header[len] = byte[0];
                len += 1;
            }
            _ => return Ok(None),
        }
    }
    let Some(size) = std::str::from_utf8(&header[..len])
        .ok()
        .and_then(|h| h.strip_prefix(kind)?.strip_prefix(' '))
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return Ok(None);
    };
    if size > max {
        return Err(size);
    }
    // The size is the object's word: memory is reserved for at most what zlib can inflate the
    // file to (1,032 to 1), and grows only as the data does.
    let reserve = size.min(compressed.len() as u64 * 1032);
    let mut data = Vec::with_capacity(usize::try_from(reserve).map_err(|_| size)?);
    match inflate.take(size + 1).read_to_end(&mut data) {
        Ok(n) if n as u64 == size => Ok(Some(data)),
        _ => Ok(None),
    }
}

/// The directories a repository's loose objects are in: its own, then those its
/// `objects/info/alternates` names (one level, plain paths: a mirror of a local repository
/// borrows that repository's objects this way; what else an alternates file can say is left to
/// the object database). Kept for the life of the process, by objects directory: a file that
/// changed since can only send a read to a directory without the object, and then the object
/// database looks, or to one with it, whose content its id fixes.
fn loose_dirs(repo: &gix::Repository) -> std::sync::Arc<[std::path::PathBuf]> {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex, OnceLock};
    const MAX_REPOSITORIES: usize = 1024;
    static DIRS: OnceLock<Mutex<HashMap<PathBuf, Arc<[PathBuf]>>>> = OnceLock::new();
    let own = repo.common_dir().join("objects");
    let dirs = DIRS.get_or_init(Default::default);
    if let Some(found) = dirs.lock().unwrap_or_else(|e| e.into_inner()).get(&own) {
        return found.clone();
    }
    let mut list = vec![own.clone()];
    if let Ok(text) = std::fs::read_to_string(own.join("info").join("alternates")) {
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with('"') {
                continue;
            }
            list.push(own.join(line));
        }
    }
    let list: Arc<[PathBuf]> = list.into();
    let mut map = dirs.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_REPOSITORIES {
        map.clear();
    }
    map.insert(own, list.clone());
    list
}

const MAX_LINK_DEPTH: usize = 16;

/// Resolves `path` component by component, following symlinks found via `link_target`.
/// Returns the resolved components, or an error naming `origin` (the link being followed).
pub(crate) fn resolve_path(
    origin: &str,
    components: VecDeque<String>,
    mut link_target: impl FnMut(&str) -> Result<Option<String>>,
) -> Result<Vec<String>> {
    let mut queue = components;
    let mut out: Vec<String> = Vec::new();
    let mut followed = 0usize;
    while let Some(c) = queue.pop_front() {
        match c.as_str() {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err(Error::PathEscapesChart {
                        path: origin.to_owned(),
                        target: c,
                    });
                }
            }
            _ => {
                out.push(c);
                let here = out.join("/");
                if let Some(target) = link_target(&here)? {
                    followed += 1;
                    if followed > MAX_LINK_DEPTH {
                        return Err(Error::BrokenSymlink {
                            path: origin.to_owned(),
                            target,
                            reason: "too many levels of symbolic links",
                        });
                    }
                    if target.starts_with('/') {
                        return Err(Error::PathEscapesChart {
                            path: origin.to_owned(),
                            target,
                        });
                    }
                    out.pop();
                    for part in target.split('/').rev() {
                        queue.push_front(part.to_owned());
                    }
                }
            }
        }
    }
    Ok(out)
}

fn link_components(link_path: &str, target: &str) -> VecDeque<String> {
    let mut parts: VecDeque<String> = link_path.split('/').map(str::to_owned).collect();
    parts.pop_back();
    parts.extend(target.split('/').map(str::to_owned));
    parts
}

/// Reads the tree `tree_id` (a chart directory) into memory.
pub(crate) fn read_chart_tree(
    repo: &gix::Repository,
    commit: CommitId,
    chart_path: &str,
    tree_id: ObjectId,
    limits: &crate::ChartLimits,
) -> Result<ChartFiles> {
    let mut flat = BTreeMap::new();
    flatten(
        repo,
        tree_id,
        limits.max_files.saturating_mul(4).max(64),
        &mut flat,
        "",
    )?;
    let mut link_cache: BTreeMap<String, String> = BTreeMap::new();
    let mut link_target = |repo: &gix::Repository, path: &str| -> Result<Option<String>> {
        match flat.get(path) {
            Some(Flat {
                kind: EntryKind::Link,
                oid,
            }) => {
                if let Some(t) = link_cache.get(path) {
                    return Ok(Some(t.clone()));
                }
                let data = read_blob(repo, *oid, path, 4096)?;
                let target = String::from_utf8(data).map_err(|_| Error::BrokenSymlink {
                    path: path.to_owned(),
                    target: "<non-utf-8>".into(),
                    reason: "target is not utf-8",
                })?;
                link_cache.insert(path.to_owned(), target.clone());
                Ok(Some(target))
            }
            _ => Ok(None),
        }
    };

    let mut files = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut total = 0u64;
    let mut add =
        |files: &mut BTreeMap<String, ChartFile>, path: String, file: ChartFile| -> Result<()> {
            total += file.data.len() as u64;
            if total > limits.max_total_bytes {
                return Err(Error::LimitExceeded {
                    what: "chart size in bytes".into(),
                    limit: limits.max_total_bytes,
                });
            }
            files.insert(path, file);
            if files.len() > limits.max_files {
                return Err(Error::LimitExceeded {
                    what: "chart file count".into(),
                    limit: limits.max_files as u64,
                });
            }
            Ok(())
        };

    let entries: Vec<(String, Flat)> = flat.iter().map(|(p, f)| (p.clone(), *f)).collect();
    for (path, entry) in entries {
        match entry.kind {
            EntryKind::Tree => {}
            EntryKind::Commit => skipped.push(path),
            EntryKind::Blob | EntryKind::BlobExecutable => {
                let data = read_blob(repo, entry.oid, &path, limits.max_file_bytes)?;
                let mode = if entry.kind == EntryKind::Blob {
                    FileMode::Regular
                } else {
                    FileMode::Executable
                };
                add(
                    &mut files,
                    path,
                    ChartFile {
                        data,
                        mode,
                        resolved_from: None,
                    },
                )?;
            }
            EntryKind::Link => {
                let target = link_target(repo, &path)?.unwrap_or_default();
                if target.starts_with('/') {
                    return Err(Error::PathEscapesChart { path, target });
                }
                let resolved = resolve_path(&path, link_components(&path, &target), |p| {
                    link_target(repo, p)
                })
                .map_err(|e| match e {
                    Error::PathEscapesChart { .. } => Error::PathEscapesChart {
                        path: path.clone(),
                        target: target.clone(),
                    },
                    other => other,
                })?;
                let resolved = resolved.join("/");
                let broken = |reason| Error::BrokenSymlink {
                    path: path.clone(),
                    target: target.clone(),
                    reason,
                };
                if resolved.is_empty() {
                    return Err(broken("points at the chart directory itself"));
                }
                match flat.get(&resolved).copied() {
                    None => return Err(broken("no such file in the chart")),
                    Some(Flat {
                        kind: EntryKind::Commit,
                        ..
                    }) => return Err(broken("points into a submodule")),
                    Some(Flat {
                        kind: EntryKind::Link,
                        ..
                    }) => return Err(broken("unresolved link")),
                    Some(Flat {
                        kind: EntryKind::Tree,
                        ..
                    }) => {
                        if path.starts_with(&format!("{resolved}/")) {
                            return Err(broken("points at a directory containing itself"));
                        }
                        // Expand the directory: every file below `resolved`, resolving links there too.
                        let prefix = format!("{resolved}/");
                        let below: Vec<(String, Flat)> = flat
                            .range(prefix.clone()..)
                            .take_while(|(p, _)| p.starts_with(&prefix))
                            .map(|(p, f)| (p.clone(), *f))
                            .collect();
                        for (sub, f) in below {
                            let rel = &sub[prefix.len()..];
                            let dest = format!("{path}/{rel}");
                            let (oid, kind, from) = match f.kind {
                                EntryKind::Tree | EntryKind::Commit => continue,
                                EntryKind::Blob | EntryKind::BlobExecutable => {
                                    (f.oid, f.kind, sub.clone())
                                }
                                EntryKind::Link => {
                                    let t = link_target(repo, &sub)?.unwrap_or_default();
                                    if t.starts_with('/') {
                                        return Err(Error::PathEscapesChart {
                                            path: sub.clone(),
                                            target: t,
                                        });
                                    }
                                    let r = resolve_path(&sub, link_components(&sub, &t), |p| {
                                        link_target(repo, p)
                                    })?
                                    .join("/");
                                    match flat.get(&r) {
                                        Some(Flat {
                                            kind: k @ (EntryKind::Blob | EntryKind::BlobExecutable),
                                            oid,
                                        }) => (*oid, *k, r),
                                        _ => {
                                            return Err(Error::BrokenSymlink {
                                                path: sub.clone(),
                                                target: t,
                                                reason: "links to directories inside linked directories are not followed",
                                            });
                                        }
                                    }
                                }
                            };
                            let data = read_blob(repo, oid, &dest, limits.max_file_bytes)?;
                            let mode = if kind == EntryKind::Blob {
                                FileMode::Regular
                            } else {
                                FileMode::Executable
                            };
                            add(
                                &mut files,
                                dest,
                                ChartFile {
                                    data,
                                    mode,
                                    resolved_from: Some(from),
                                },
                            )?;
                        }
                    }
                    Some(Flat { kind, oid }) => {
                        let data = read_blob(repo, oid, &path, limits.max_file_bytes)?;
                        let mode = if kind == EntryKind::Blob {
                            FileMode::Regular
                        } else {
                            FileMode::Executable
                        };
                        add(
                            &mut files,
                            path.clone(),
                            ChartFile {
                                data,
                                mode,
                                resolved_from: Some(resolved),
                            },
                        )?;
                    }
                }
            }
        }
    }
    Ok(ChartFiles {
        commit,
        path: chart_path.to_owned(),
        tree_id: TreeId::from_gix(tree_id),
        files,
        skipped,
    })
}

/// How a path changed between two commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The path exists only in the newer commit.
    Added,
    /// The path exists only in the older commit.
    Deleted,
    /// Content or mode differs.
    Modified,
}

/// A file that differs between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPath {
    /// Repository-relative path.
    pub path: String,
    /// How it changed.
    pub change: Change,
}

/// Files that differ between trees `a` and `b`, skipping identical subtrees.
pub(crate) fn diff_trees(
    repo: &gix::Repository,
    a: Option<ObjectId>,
    b: Option<ObjectId>,
    prefix: &str,
    out: &mut Vec<ChangedPath>,
) -> Result<()> {
    if a == b {
        return Ok(());
    }
    let load = |id: Option<ObjectId>| -> Result<BTreeMap<String, (EntryKind, ObjectId)>> {
        Ok(match id {
            Some(id) => tree_entries(repo, id)?
                .into_iter()
                .map(|(n, k, o)| (n, (k, o)))
                .collect(),
            None => BTreeMap::new(),
        })
    };
    let (left, right) = (load(a)?, load(b)?);
    let mut names: Vec<&String> = left.keys().chain(right.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let path = join(prefix, name);
        let l = left.get(name).copied();
        let r = right.get(name).copied();
        if l == r {
            continue;
        }
        let is_tree =
            |e: Option<(EntryKind, ObjectId)>| e.is_some_and(|(k, _)| k == EntryKind::Tree);
        let tree_of = |e: Option<(EntryKind, ObjectId)>| {
            e.filter(|(k, _)| *k == EntryKind::Tree).map(|(_, o)| o)
        };
        // Subtrees on either side recurse; a file on either side is reported directly.
        if is_tree(l) || is_tree(r) {
            diff_trees(repo, tree_of(l), tree_of(r), &path, out)?;
        }
        let file_l = l.filter(|(k, _)| *k != EntryKind::Tree);
        let file_r = r.filter(|(k, _)| *k != EntryKind::Tree);
        let change = match (file_l, file_r) {
            (None, None) => continue,
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Deleted,
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => Change::Modified,
        };
        out.push(ChangedPath { path, change });
    }
    Ok(())
}

#[cfg(test)]
mod loose_objects {
    use super::*;
    use std::io::Write;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@e",
                "-c",
                "gc.auto=0",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// A repository with one commit of loose objects: `a.txt` and `dir/b.txt`.
    fn repository(dir: &Path) -> (ObjectId, ObjectId) {
        git(dir, &["init", "-q"]);
        std::fs::create_dir_all(dir.join("dir")).unwrap();
        std::fs::write(dir.join("a.txt"), "alpha\n".repeat(100)).unwrap();
        std::fs::write(dir.join("dir/b.txt"), "beta").unwrap();
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-qm", "one"]);
        let id = |rev: &str| ObjectId::from_hex(git(dir, &["rev-parse", rev]).as_bytes()).unwrap();
        (id("HEAD:a.txt"), id("HEAD^{tree}"))
    }

    fn object_path(dir: &Path, id: ObjectId) -> std::path::PathBuf {
        let hex = id.to_hex().to_string();
        dir.join(".git/objects").join(&hex[..2]).join(&hex[2..])
    }

    #[test]
    fn loose_blobs_and_trees_read_as_the_object_database_reads_them() {
        let tmp = tempfile::tempdir().unwrap();
        let (blob, tree) = repository(tmp.path());
        assert!(object_path(tmp.path(), blob).is_file());
        let repo = gix::open(tmp.path()).unwrap();
        let want = repo.find_blob(blob).unwrap().data.clone();
        assert_eq!(read_blob(&repo, blob, "a.txt", 1 << 20).unwrap(), want);
        assert_eq!(loose_object(&repo, blob, "blob", 1 << 20), Ok(Some(want)));
        // Not a tree, and a tree not a blob: left to the object database.
        assert_eq!(loose_object(&repo, blob, "tree", 1 << 20), Ok(None));
        assert_eq!(loose_object(&repo, tree, "blob", 1 << 20), Ok(None));
        let names: Vec<_> = tree_entries(&repo, tree)
            .unwrap()
            .into_iter()
            .map(|(name, kind, _)| (name, kind))
            .collect();
        assert_eq!(
            names,
            [
                ("a.txt".into(), EntryKind::Blob),
                ("dir".into(), EntryKind::Tree)
            ]
        );
        // The limit holds before anything is inflated.
        assert_eq!(loose_object(&repo, blob, "blob", 10), Err(600));
        assert!(matches!(
            read_blob(&repo, blob, "a.txt", 10),
            Err(Error::LimitExceeded { limit: 10, .. })
        ));
    }

    #[test]
    fn damaged_loose_objects_fail_as_the_object_database_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let (blob, _) = repository(tmp.path());
        let path = object_path(tmp.path(), blob);
        let repo = gix::open(tmp.path()).unwrap();
        // A header that claims more than the data holds, then bytes that are not zlib.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"blob 100\0short").unwrap();
        for damage in [z.finish().unwrap(), b"not zlib at all".to_vec()] {
            std::fs::remove_file(&path).unwrap();
            std::fs::write(&path, &damage).unwrap();
            assert_eq!(loose_object(&repo, blob, "blob", 1 << 20), Ok(None));
            assert!(read_blob(&repo, blob, "a.txt", 1 << 20).is_err());
        }
    }

    #[test]
    fn objects_borrowed_through_alternates_and_packed_objects_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("source");
        let borrower = tmp.path().join("borrower");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::create_dir_all(&borrower).unwrap();
        let (blob, tree) = repository(&source);
        git(&borrower, &["init", "-q"]);
        std::fs::write(
            borrower.join(".git/objects/info/alternates"),
            format!("{}\n", source.join(".git/objects").display()),
        )
        .unwrap();
        let repo = gix::open(&borrower).unwrap();
        let want = "alpha\n".repeat(100).into_bytes();
        assert_eq!(
            loose_object(&repo, blob, "blob", 1 << 20),
            Ok(Some(want.clone()))
        );
        assert_eq!(read_blob(&repo, blob, "a.txt", 1 << 20).unwrap(), want);
        assert_eq!(tree_entries(&repo, tree).unwrap().len(), 2);
        // Packed, nothing is loose: the object database reads them.
        git(&source, &["gc", "-q", "--prune=now"]);
        assert!(!object_path(&source, blob).exists());
        let repo = gix::open(&source).unwrap();
        assert_eq!(loose_object(&repo, blob, "blob", 1 << 20), Ok(None));
        assert_eq!(read_blob(&repo, blob, "a.txt", 1 << 20).unwrap(), want);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(origin: &str, path: &str, links: &[(&str, &str)]) -> Result<String> {
        resolve_path(origin, path.split('/').map(str::to_owned).collect(), |p| {
            Ok(links
                .iter()
                .find(|(l, _)| *l == p)
                .map(|(_, t)| (*t).to_owned()))
        })
        .map(|v| v.join("/"))
    }

    #[test]
    fn resolves_links_component_by_component() {
        let links = [("a", "b"), ("b", "c/d"), ("loop", "loop"), ("up", "../x")];
        assert_eq!(resolve("l", "a/file", &links).unwrap(), "c/d/file");
        assert_eq!(resolve("l", "x/../y/./z", &links).unwrap(), "y/z");
        assert!(matches!(
            resolve("l", "..", &links),
            Err(Error::PathEscapesChart { .. })
        ));
        assert!(matches!(
            resolve("l", "up", &links),
            Err(Error::PathEscapesChart { .. })
        ));
        assert!(matches!(
            resolve("l", "loop", &links),
            Err(Error::BrokenSymlink { .. })
        ));
        assert!(matches!(
            resolve("l", "abs", &[("abs", "/etc/passwd")]),
            Err(Error::PathEscapesChart { .. })
        ));
    }

    #[test]
    fn normalizes_caller_paths() {
        assert_eq!(normalize_repo_path("./charts//app/").unwrap(), "charts/app");
        assert_eq!(normalize_repo_path(".").unwrap(), "");
        assert!(normalize_repo_path("../x").is_err());
        assert!(normalize_repo_path("/etc").is_err());
    }
}
