//! A chart's files in memory, read the way Helm's loader reads them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use text_template::helm_objects::FileContent;

use crate::LoadError;
use crate::ignore::Rules;

/// Bounds on what a chart may hold, so an untrusted chart cannot exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// Most files.
    pub max_files: usize,
    /// Most bytes over all files (after decompression).
    pub max_total_bytes: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_files: 20_000,
            max_total_bytes: 256 << 20,
        }
    }
}

/// A chart's files by `/`-separated path relative to the chart root, in byte order.
#[derive(Debug, Clone, Default)]
pub struct ChartFiles {
    /// Contents are shared: a chart's loader, its `.Files` and its template trees take
    /// references, not copies (megabytes for charts with CRDs). Files of a directory are read
    /// when first asked for ([`ChartFiles::from_dir`]).
    files: BTreeMap<String, Arc<FileContent>>,
    /// `.helmignore` and byte-order marks are already dealt with (a directory or archive read
    /// by this module, or [`ChartFiles::filtered`]): rendering takes the files as they are.
    filtered: bool,
}

/// Two sets are equal when they hold the same files, however they were read.
impl PartialEq for ChartFiles {
    fn eq(&self, other: &Self) -> bool {
        self.files.len() == other.files.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for ChartFiles {}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl ChartFiles {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file. The set counts as unfiltered again: rendering applies
    /// `.helmignore` to it.
    pub fn insert(&mut self, path: impl Into<String>, data: impl Into<Vec<u8>>) {
        self.files
            .insert(path.into(), Arc::new(FileContent::new(data.into())));
        self.filtered = false;
    }

    /// The file at `path`, read now if it was not yet. A file that cannot be read reads as
    /// empty and [`ChartFiles::unreadable`] says why.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|d| d.bytes())
    }

    /// Files in path order, each read now if it was not yet (see [`ChartFiles::get`]).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.bytes()))
    }

    /// The bytes every render of the chart reads, whatever its templates do: templates,
    /// values, schemas, chart metadata and packaged subcharts, its subcharts' included, counted
    /// without reading them. A directory's other files (changelogs, CRDs, docs) are read only
    /// if a template asks `.Files` for them.
    pub fn render_bytes(&self) -> u64 {
        self.files
            .iter()
            .filter(|(path, _)| {
                let name = path.rsplit('/').next().unwrap_or(path);
                in_templates(path)
                    || matches!(name, "values.yaml" | "values.schema.json" | "Chart.yaml")
                    || name.ends_with(".tgz")
            })
            .map(|(_, content)| content.len())
            .sum()
    }

    /// Files in path order, sharing their contents (not read by this).
    pub(crate) fn shared(&self) -> impl Iterator<Item = (&str, &Arc<FileContent>)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The first file, in path order, that was asked for and could not be read (a file
    /// removed or made unreadable after the chart directory was walked): a render that used
    /// it must fail with this error rather than go on with empty contents.
    pub fn unreadable(&self) -> Option<LoadError> {
        self.files
            .iter()
            .find_map(|(path, c)| c.error().map(|message| unreadable(path, message)))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Total bytes (of files not read yet: their size on disk).
    pub fn total_bytes(&self) -> u64 {
        self.files.values().map(|v| v.len()).sum()
    }

    /// Applies the chart's `.helmignore` (plus Helm's default `templates/.?*`) and strips UTF-8
    /// byte-order marks, exactly as `helm` does when it loads a chart directory. Use this for a
    /// tree read from git or a directory; archives were filtered when they were packaged.
    pub fn filtered(self) -> Result<ChartFiles, LoadError> {
        if self.filtered {
            return Ok(self);
        }
        let rules = ignore_rules(self.files.get(".helmignore").map(|d| d.bytes()))?;
        let mut out = ChartFiles::new();
        for (path, data) in self.files {
            if is_ignored(&rules, &path) {
                continue;
            }
            let data = match data.bytes().strip_prefix(BOM) {
                Some(rest) => Arc::new(FileContent::new(rest.to_vec())),
                None => data,
            };
            out.files.insert(path, data);
        }
        out.filtered = true;
        Ok(out)
    }

    /// Whether `.helmignore` was already applied (see [`ChartFiles::filtered`]).
    pub(crate) fn is_filtered(&self) -> bool {
        self.filtered
    }

    /// Reads a chart directory: every regular file, symlinks followed only when they stay
    /// inside the chart, then [`ChartFiles::filtered`]. Files are found and their sizes
    /// checked against the limits now; their contents are read when first asked for (a
    /// render reads its templates, values and schema, and `.Files` what templates ask for),
    /// each at most the size it had when the directory was walked.
    pub fn from_dir(dir: &Path, limits: FileLimits) -> Result<ChartFiles, LoadError> {
        let root = dir.canonicalize().map_err(|source| LoadError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        if !root.join("Chart.yaml").is_file() && !root.join("Chart.yml").exists() {
            return Err(LoadError::NotAChart {
                path: dir.display().to_string(),
            });
        }
        // Ignored files and directories are skipped while walking, never read, as Helm's
        // loader does; the root `.helmignore` comes first for that.
        let rules = ignore_rules(read_regular(&root, ".helmignore")?.as_deref())?;
        let mut walk = Walk {
            root: &root,
            rules: &rules,
            limits,
            found: Vec::new(),
            total: 0,
        };
        walk.dir(&root, "", 0)?;
        let files = walk
            .found
            .into_iter()
            .map(|(logical, real, size)| (logical, Arc::new(on_demand(real, size))))
            .collect();
        Ok(ChartFiles {
            files,
            filtered: true,
        })
    }

    /// Reads a packaged chart (`.tgz`) the way Helm's `LoadArchiveFiles` does: the top-level
    /// directory is dropped; absolute paths, `..` and a `Chart.yaml` outside the base directory
    /// are refused.
    pub fn from_tgz(bytes: &[u8], limits: FileLimits) -> Result<ChartFiles, LoadError> {
        if !bytes.starts_with(b"\x1f\x8b") {
            return Err(LoadError::Archive("not a gzipped archive".into()));
        }
        let gz = flate2::read::GzDecoder::new(bytes);
        // Guard the decompressed size, not just the compressed one.
        let mut archive = tar::Archive::new(gz.take(limits.max_total_bytes.saturating_add(1)));
        match Self::read_entries(&mut archive, limits) {
            // The archive looks cut short because the guard stopped reading it: it is too
            // large, not malformed.
            Err(LoadError::Archive(_)) if archive.into_inner().limit() == 0 => {
                Err(LoadError::Limit {
                    what: format!("more than {} bytes", limits.max_total_bytes),
                })
            }
            other => other,
        }
    }

    fn read_entries(
        archive: &mut tar::Archive<impl Read>,
        limits: FileLimits,
    ) -> Result<ChartFiles, LoadError> {
        let mut files = ChartFiles::new();
        let mut total = 0u64;
        let entries = archive
            .entries()
            .map_err(|e| LoadError::Archive(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| LoadError::Archive(e.to_string()))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            if !kind.is_file() {
                // Helm reads links as their (empty) content; we refuse them rather than guess.
                return Err(LoadError::Archive(format!(
                    "archive entry {:?} is not a regular file",
                    String::from_utf8_lossy(&entry.path_bytes())
                )));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let delimiter = if raw.contains('\\') { '\\' } else { '/' };
            let parts: Vec<&str> = raw.split(delimiter).collect();
            if parts.first() == Some(&"Chart.yaml") {
                return Err(LoadError::Archive(
                    "chart yaml not in base directory".into(),
                ));
            }
            let rel = parts[1..].join("/");
            if rel.starts_with('/') {
                return Err(LoadError::Archive(
                    "chart illegally contains absolute paths".into(),
                ));
            }
            let clean = clean_path(&rel);
            if clean == "." || clean.is_empty() {
                return Err(LoadError::Archive(format!(
                    "chart illegally contains content outside the base directory: {raw:?}"
                )));
            }
            if clean.starts_with("..") {
                return Err(LoadError::Archive(
                    "chart illegally references parent directory".into(),
                ));
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| LoadError::Archive(e.to_string()))?;
            total += data.len() as u64;
            check_limits(files.len() + 1, total, limits)?;
            files
                .files
                .insert(clean, Arc::new(FileContent::new(strip_bom(data))));
        }
        if files.is_empty() {
            return Err(LoadError::Archive("no files in chart archive".into()));
        }
        // Helm reads archives without `.helmignore`: that was applied when it was packaged.
        files.filtered = true;
        Ok(files)
    }

    /// Writes the files under `dir` (which must exist), for tools that need a directory.
    pub fn write_to(&self, dir: &Path) -> Result<(), LoadError> {
        for (path, data) in &self.files {
            let target = safe_join(dir, path)
                .ok_or_else(|| LoadError::PathEscapes { path: path.clone() })?;
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|source| LoadError::Io {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            std::fs::write(&target, contents(path, data)?).map_err(|source| LoadError::Io {
                path: target.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// The files under `prefix/` with the prefix removed (a subchart directory).
    pub fn subtree(&self, prefix: &str) -> ChartFiles {
        let p = format!("{}/", prefix.trim_end_matches('/'));
        ChartFiles {
            files: self
                .files
                .range(p.clone()..)
                .take_while(|(k, _)| k.starts_with(&p))
                .map(|(k, v)| (k[p.len()..].to_owned(), v.clone()))
                .collect(),
            filtered: false,
        }
    }
}

impl FromIterator<(String, Vec<u8>)> for ChartFiles {
    fn from_iter<T: IntoIterator<Item = (String, Vec<u8>)>>(iter: T) -> Self {
        ChartFiles {
            files: iter
                .into_iter()
                .map(|(k, v)| (k, Arc::new(FileContent::new(v))))
                .collect(),
            filtered: false,
        }
    }
}

/// A file is ignored when it or any directory above it is, as Helm's walk skips whole
/// ignored directories.
fn is_ignored(rules: &Rules, path: &str) -> bool {
    let mut end = 0;
    while let Some(i) = path[end..].find('/') {
        let dir = &path[..end + i];
        if rules.ignore(dir, true) {
            return true;
        }
        end += i + 1;
    }
    rules.ignore(path, false)
}

fn check_limits(count: usize, total: u64, limits: FileLimits) -> Result<(), LoadError> {
    if count > limits.max_files {
        return Err(LoadError::Limit {
            what: format!("more than {} files", limits.max_files),
        });
    }
    if total > limits.max_total_bytes {
        return Err(LoadError::Limit {
            what: format!("more than {} bytes", limits.max_total_bytes),
        });
    }
    Ok(())
}

/// The rules of a `.helmignore` (if any) plus Helm's defaults.
fn ignore_rules(helmignore: Option<&[u8]>) -> Result<Rules, LoadError> {
    let mut rules = match helmignore {
        Some(text) => Rules::parse(&String::from_utf8_lossy(text)).map_err(LoadError::Ignore)?,
        None => Rules::empty(),
    };
    rules.add_defaults();
    Ok(rules)
}

/// The file without a leading UTF-8 byte-order mark (Helm strips one).
fn strip_bom(data: Vec<u8>) -> Vec<u8> {
    match data.strip_prefix(BOM) {
        Some(rest) => rest.to_vec(),
        None => data,
    }
}

/// `name` in `root` when it is a regular file (not followed through a symlink).
fn read_regular(root: &Path, name: &str) -> Result<Option<Vec<u8>>, LoadError> {
    let path = root.join(name);
    let io = |source| LoadError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => std::fs::read(&path).map(Some).map_err(io),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// A directory walk in Go's `filepath.Walk` order, reading what `.helmignore` keeps.
struct Walk<'a> {
    root: &'a Path,
    rules: &'a Rules,
    limits: FileLimits,
    /// Files to read: logical path, real path and size, in walk order.
    found: Vec<(String, PathBuf, u64)>,
    /// Their sizes summed.
    total: u64,
}

impl Walk<'_> {
    /// Reads `dir` (a real path inside the root) under the logical prefix `logical`.
    /// Symlinks are followed only to targets inside the root; loops end at the depth limit.
    fn dir(&mut self, dir: &Path, logical: &str, depth: usize) -> Result<(), LoadError> {
        if depth > 64 {
            return Err(LoadError::Limit {
                what: "directories nested more than 64 deep (or a symlink loop)".into(),
            });
        }
        // The path is formatted only for an error: formatting it for every entry up front was
        // a tenth of reading a chart.
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
            move |source| LoadError::Io {
                path: path.display().to_string(),
                source,
            }
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        // Each name copied once, not twice per comparison.
        entries.sort_by_cached_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let logical_path = if logical.is_empty() {
                name
            } else {
                format!("{logical}/{name}")
            };
            let path = entry.path();
            // The directory entry's own type, without a stat call unless it is a symlink.
            let own = entry.file_type().map_err(io(&path))?;
            let (real, kind, meta) = if own.is_symlink() {
                let target = path.canonicalize().map_err(io(&path))?;
                if !target.starts_with(self.root) {
                    return Err(LoadError::PathEscapes { path: logical_path });
                }
                let meta = std::fs::metadata(&target).map_err(io(&target))?;
                (target, meta.file_type(), Some(meta))
            } else {
                (path, own, None)
            };
            if kind.is_dir() {
                // Every file below an ignored directory is ignored (`is_ignored`).
                if !self.rules.ignore(&logical_path, true) {
                    self.dir(&real, &logical_path, depth + 1)?;
                }
            } else if kind.is_file() {
                if self.rules.ignore(&logical_path, false) {
                    continue;
                }
                let size = match meta {
                    Some(meta) => meta.len(),
                    None => entry.metadata().map_err(io(&real))?.len(),
                };
                self.total = self.total.saturating_add(size);
                check_limits(self.found.len() + 1, self.total, self.limits)?;
                self.found.push((logical_path, real, size));
            } else {
                return Err(LoadError::Irregular { path: logical_path });
            }
        }
        Ok(())
    }
}

/// The contents of the file at `real`, read on first use: at most the `size` it had when the
/// chart was walked (the limits were checked against that), its byte-order mark stripped.
fn on_demand(real: PathBuf, size: u64) -> FileContent {
    FileContent::on_demand(size, move || {
        let mut file = std::fs::File::open(&real).map_err(|e| e.to_string())?;
        // One byte more than the walk saw, so that one read both fills the buffer and shows
        // growth; reading on to an empty read as `read_to_end` does costs a second system call
        // per file (a chart reads dozens).
        let want = usize::try_from(size)
            .ok()
            .and_then(|n| n.checked_add(1))
            .ok_or_else(|| format!("its size, {size} bytes, does not fit in memory"))?;
        let mut data = vec![0; want];
        let mut got = 0;
        loop {
            match file.read(&mut data[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.to_string()),
            }
            if got as u64 >= size {
                break;
            }
        }
        if got as u64 > size {
            return Err(format!(
                "it grew past the {size} bytes it had when the chart was read"
            ));
        }
        data.truncate(got);
        Ok(strip_bom(data))
    })
}

/// Whether a chart file is a template: under `templates/`, the chart's or a subchart's.
pub(crate) fn in_templates(path: &str) -> bool {
    path.starts_with("templates/") || path.contains("/templates/")
}

/// The bytes of the file at `path`, read now if they were not yet; [`LoadError::Io`] naming
/// the file when they cannot be.
pub(crate) fn contents<'a>(path: &str, data: &'a FileContent) -> Result<&'a [u8], LoadError> {
    data.read().map_err(|message| unreadable(path, message))
}

fn unreadable(path: &str, message: &str) -> LoadError {
    LoadError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(message.to_owned()),
    }
}

/// `path.Clean` for `/`-separated relative paths.
fn clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

/// Joins a relative `/` path under `dir`, refusing anything that would leave it.
fn safe_join(dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = dir.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmignore_and_defaults_apply_to_files_and_whole_directories() {
        let files: ChartFiles = [
            (".helmignore", "*.bak\nci/\n"),
            ("Chart.yaml", "name: x"),
            ("values.yaml.bak", ""),
            ("ci/values.yaml", ""),
            ("templates/.hidden", ""),
            ("templates/deploy.yaml", "\u{feff}kind: x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
        .collect();
        let kept: Vec<_> = files
            .filtered()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_owned(), String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        assert_eq!(
            kept,
            vec![
                (".helmignore".to_owned(), "*.bak\nci/\n".to_owned()),
                ("Chart.yaml".into(), "name: x".into()),
                ("templates/deploy.yaml".into(), "kind: x".into()),
            ]
        );
    }

    #[test]
    fn clean_path_matches_go() {
        assert_eq!(clean_path("a/./b/../c"), "a/c");
        assert_eq!(clean_path("../x"), "../x");
        assert_eq!(clean_path(""), ".");
    }

    #[test]
    fn safe_join_refuses_escapes() {
        assert!(safe_join(Path::new("/tmp/x"), "../etc/passwd").is_none());
        assert!(safe_join(Path::new("/tmp/x"), "/etc/passwd").is_none());
        assert_eq!(
            safe_join(Path::new("/tmp/x"), "a/b").unwrap(),
            Path::new("/tmp/x/a/b")
        );
    }

    #[test]
    fn subtree_strips_the_prefix() {
        let files: ChartFiles = [
            ("charts/sub/Chart.yaml", "a"),
            ("charts/subway/x", "b"),
            ("x", "c"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
        .collect();
        let sub = files.subtree("charts/sub");
        assert_eq!(
            sub.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["Chart.yaml"]
        );
    }
}
