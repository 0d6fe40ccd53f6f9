//! A handle to one repository's mirror: resolve revisions, read charts and files, detect charts.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, MutexGuard, atomic::AtomicBool},
};

use gix::{ObjectId, objs::tree::EntryKind};

use crate::TreeId;
use tracing::{debug, instrument};

use crate::{
    AffectedChart, AffectedOptions, ChangedPath, ChartFiles, ChartInfo, CommitId, Error, GitAuth,
    RepoUrl, Resolved, Result, RevisionKind,
    cache::{Entry, EntryState, Inner},
    charts,
    net::{self, History},
    revision::{HEAD_REF, RevSpec, kind_of_ref},
    suggest,
    tree::{self, Flat},
};

/// All branches and tags: the fallback when a commit id cannot be fetched by itself.
const ALL_REFS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// A repository's mirror, from [`MirrorCache::repository`](crate::MirrorCache::repository).
///
/// Cheap to clone; `Send + Sync`. Methods block and may fetch from the remote when a revision
/// is missing or a branch is stale; concurrent calls on one repository share fetches.
#[derive(Clone)]
pub struct Repository {
    pub(crate) cache: Arc<Inner>,
    pub(crate) entry: Arc<Entry>,
    pub(crate) interrupt: Arc<AtomicBool>,
    /// How this handle's fetches authenticate (the mirror is this identity's).
    pub(crate) auth: GitAuth,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("url", &self.entry.url)
            .field("dir", &self.entry.dir)
            .field("auth", &self.auth)
            .finish()
    }
}

impl Repository {
    /// The repository's normalized URL.
    pub fn url(&self) -> &RepoUrl {
        &self.entry.url
    }

    /// A handle whose fetches stop when `flag` is set (they end with [`Error::Cancelled`]).
    /// Use one flag per request to cancel its work, for example on a timeout.
    pub fn with_interrupt(&self, flag: Arc<AtomicBool>) -> Repository {
        Repository {
            interrupt: flag,
            ..self.clone()
        }
    }

    /// The mirror's directory.
    pub fn mirror_dir(&self) -> &std::path::Path {
        &self.entry.dir
    }

    /// Resolves a revision to a commit: a tag (annotated or lightweight), a branch, a full or
    /// abbreviated commit id, `HEAD`, `refs/pull/N/head` or another full ref name.
    ///
    /// Tags and commits already in the mirror are used without network; branches, `HEAD` and
    /// pull request refs are re-fetched when their last fetch is older than the branch TTL.
    /// A missing revision is fetched by itself (one ref), falling back to all branches and tags
    /// for abbreviated ids. An unknown revision is [`Error::RevisionNotFound`] with the nearest
    /// tag and branch names.
    #[instrument(skip_all, fields(repo = %self.entry.url, revision = %revision))]
    pub fn resolve(&self, revision: &str) -> Result<Resolved> {
        let spec = RevSpec::parse(revision)?;
        self.recovering(|| self.resolve_once(revision, &spec))
    }

    /// Fetches, in one round trip, the tags and branches named by `revisions` that
    /// [`Repository::resolve`] would otherwise fetch one by one (a compare's two versions: on a
    /// cold mirror, one connection and one pack instead of two). Only what resolving needs is
    /// fetched (each name's tip, shallow); revisions already known, full ids, `HEAD` and full
    /// ref names are left to `resolve`. Best effort: a failure here is logged and left for
    /// `resolve`, which reports it with its revision.
    #[instrument(skip_all, fields(repo = %self.entry.url))]
    pub fn prefetch(&self, revisions: &[&str]) {
        let mut state = self.lock();
        if let Err(e) = self.cache.ensure_open(&self.entry, &mut state) {
            debug!(error = %e, "prefetch skipped");
            return;
        }
        let repo = thread_local(&state);
        let mut refspecs = Vec::new();
        let mut names = 0;
        for revision in revisions {
            let Ok(RevSpec::Name { name, hex }) = RevSpec::parse(revision) else {
                continue;
            };
            let known = matches!(
                self.name_held(&state, &repo, revision, &name, hex),
                Ok(Some(_))
            );
            let tag_spec = format!("+refs/tags/{name}:refs/tags/{name}");
            if !known && !refspecs.contains(&tag_spec) {
                names += 1;
                refspecs.push(tag_spec);
                refspecs.push(format!("+refs/heads/{name}:refs/heads/{name}"));
            }
        }
        // One name is fetched as fast by `resolve` itself.
        if names < 2 {
            return;
        }
        let fetched = self
            .cache
            .lock_process(&self.entry)
            .and_then(|_lock| self.fetch_into(&mut state, &repo, &refspecs, History::Tips));
        if let Err(e) = fetched {
            debug!(error = %e, "prefetch failed; each revision is fetched by itself");
        }
    }

    /// Reads the chart directory `path` (repository-relative; `""` or `"."` for the root) at
    /// `commit` into memory, straight from the object database.
    ///
    /// The directory must hold a `Chart.yaml`, otherwise [`Error::ChartNotFound`] lists the
    /// charts that exist. Symlinks are resolved inside the chart; one that leaves the chart or
    /// is absolute is [`Error::PathEscapesChart`]. [`ChartLimits`](crate::ChartLimits) apply.
    #[instrument(skip_all, fields(repo = %self.entry.url, sha = %commit, path = %path))]
    pub fn read_chart(&self, commit: &CommitId, path: &str) -> Result<ChartFiles> {
        let chart_path = tree::normalize_repo_path(path)?;
        self.recovering(|| {
            let repo = self.repo_with_commit(*commit)?;
            let sub = self.chart_subtree(&repo, commit, &chart_path, path)?;
            tree::read_chart_tree(&repo, *commit, &chart_path, sub, &self.cache.config.limits)
        })
    }

    /// The tree id of the chart directory at `commit`, without reading its files: the same id
    /// [`ChartFiles::tree_id`] reports, so a cached render can be found before any blob is read.
    /// Errors as [`Repository::read_chart`] when there is no chart at `path`.
    #[instrument(skip_all, fields(repo = %self.entry.url, sha = %commit, path = %path))]
    pub fn chart_tree_id(&self, commit: &CommitId, path: &str) -> Result<TreeId> {
        let chart_path = tree::normalize_repo_path(path)?;
        self.recovering(|| {
            let repo = self.repo_with_commit(*commit)?;
            let sub = self.chart_subtree(&repo, commit, &chart_path, path)?;
            Ok(TreeId::from_gix(sub))
        })
    }

    /// The chart directory's tree, or [`Error::ChartNotFound`] listing the charts that exist.
    fn chart_subtree(
        &self,
        repo: &gix::Repository,
        commit: &CommitId,
        chart_path: &str,
        path: &str,
    ) -> Result<gix::ObjectId> {
        let root = root_tree(repo, *commit)?;
        let sub = if chart_path.is_empty() {
            Some(root)
        } else {
            lookup(repo, root, chart_path)?
                .and_then(|(kind, oid)| (kind == EntryKind::Tree).then_some(oid))
        };
        let has_chart_yaml = match sub {
            Some(id) => tree::tree_entries(repo, id)?
                .iter()
                .any(|(name, kind, _)| name == "Chart.yaml" && *kind != EntryKind::Tree),
            None => false,
        };
        match sub.filter(|_| has_chart_yaml) {
            Some(sub) => Ok(sub),
            None => {
                let charts_found = self
                    .charts_in(repo, *commit)?
                    .into_iter()
                    .filter(|c| !c.vendored)
                    .map(|c| c.path)
                    .collect();
                Err(Error::ChartNotFound {
                    path: path.to_owned(),
                    commit: *commit,
                    charts_found,
                })
            }
        }
    }

    /// Reads one file (repository-relative path) at `commit`; `None` if it does not exist or is
    /// not a file. Symlinks are followed inside the repository.
    pub fn read_file(&self, commit: &CommitId, path: &str) -> Result<Option<Vec<u8>>> {
        let norm = tree::normalize_repo_path(path)?;
        self.recovering(|| {
            let repo = self.repo_with_commit(*commit)?;
            let root = root_tree(&repo, *commit)?;
            let resolved = tree::resolve_path(
                path,
                norm.split('/').map(str::to_owned).collect::<VecDeque<_>>(),
                |p| match lookup(&repo, root, p)? {
                    Some((EntryKind::Link, oid)) => {
                        let data = tree::read_blob(&repo, oid, p, 4096)?;
                        Ok(Some(String::from_utf8_lossy(&data).into_owned()))
                    }
                    _ => Ok(None),
                },
            )?
            .join("/");
            match lookup(&repo, root, &resolved)? {
                Some((EntryKind::Blob | EntryKind::BlobExecutable, oid)) => Ok(Some(
                    tree::read_blob(&repo, oid, path, self.cache.config.limits.max_file_bytes)?,
                )),
                _ => Ok(None),
            }
        })
    }

    /// Every chart (directory with a `Chart.yaml`) in the repository at `commit`, by path.
    #[instrument(skip_all, fields(repo = %self.entry.url, sha = %commit))]
    pub fn charts(&self, commit: &CommitId) -> Result<Vec<ChartInfo>> {
        self.recovering(|| {
            let repo = self.repo_with_commit(*commit)?;
            self.charts_in(&repo, *commit)
        })
    }

    /// Files that differ between two commits.
    pub fn changed_paths(&self, from: &CommitId, to: &CommitId) -> Result<Vec<ChangedPath>> {
        self.recovering(|| {
            self.repo_with_commit(*from)?;
            let repo = self.repo_with_commit(*to)?;
            let (a, b) = (root_tree(&repo, *from)?, root_tree(&repo, *to)?);
            let mut out = Vec::new();
            tree::diff_trees(&repo, Some(a), Some(b), "", &mut out)?;
            Ok(out)
        })
    }

    /// The best common ancestor of two commits (fetched when missing), or `None` when their
    /// histories never meet: what a new branch is compared against (`git merge-base`).
    pub fn merge_base(&self, one: &CommitId, two: &CommitId) -> Result<Option<CommitId>> {
        self.recovering(|| {
            self.repo_with_commit(*one)?;
            let mut repo = self.repo_with_commit(*two)?;
            if repo.is_shallow().unwrap_or(true) {
                // A shallow mirror's histories end at the commits fetched: where two of them
                // meet is only known with the history behind them, fetched once.
                repo = self.deepen()?;
            }
            let base = repo
                .merge_base(one.to_gix(), two.to_gix())
                .map_err(|e| tree::corrupt_or_git("find the merge base", &e))?;
            Ok(base.map(|id| CommitId::from_gix(id.detach())))
        })
    }

    /// Charts affected by the changes between two commits: files changed under the chart,
    /// values files named in `options`, and local `file://` dependencies (including library
    /// charts) that are affected themselves. Added and removed charts are included.
    #[instrument(skip_all, fields(repo = %self.entry.url, from = %from, to = %to))]
    pub fn affected_charts(
        &self,
        from: &CommitId,
        to: &CommitId,
        options: &AffectedOptions,
    ) -> Result<Vec<AffectedChart>> {
        let before = self.charts(from)?;
        let after = self.charts(to)?;
        let changed = self.changed_paths(from, to)?;
        Ok(charts::affected(&before, &after, &changed, options))
    }

    fn charts_in(&self, repo: &gix::Repository, commit: CommitId) -> Result<Vec<ChartInfo>> {
        let root = root_tree(repo, commit)?;
        let mut flat = BTreeMap::new();
        tree::flatten(repo, root, 2_000_000, &mut flat, "")?;
        let mut out = Vec::new();
        for (path, Flat { kind, oid }) in &flat {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if name != "Chart.yaml" || !matches!(kind, EntryKind::Blob | EntryKind::BlobExecutable)
            {
                continue;
            }
            let data = tree::read_blob(repo, *oid, path, 1024 * 1024)?;
            out.push(charts::chart_info(dir, &data));
        }
        charts::mark_vendored(&mut out);
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, EntryState> {
        self.entry.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `op`; if it finds the mirror damaged, rebuilds the mirror and runs it once more.
    fn recovering<T>(&self, op: impl Fn() -> Result<T>) -> Result<T> {
        let fill = |e: Error| match e {
            Error::Corrupt { reason, .. } => Error::Corrupt {
                path: self.entry.dir.clone(),
                reason,
            },
            other => other,
        };
        match op() {
            Err(Error::Corrupt { reason, .. }) => {
                {
                    let mut state = self.lock();
                    self.cache.discard(&self.entry, &mut state, &reason)?;
                    self.cache.ensure_open(&self.entry, &mut state)?;
                }
                op().map_err(fill)
            }
            other => other.map_err(fill),
        }
    }

    /// Fetches the remote's whole history into the mirror (it stops being shallow).
    fn deepen(&self) -> Result<gix::Repository> {
        let mut state = self.lock();
        self.cache.ensure_open(&self.entry, &mut state)?;
        let repo = thread_local(&state);
        let _lock = self.cache.lock_process(&self.entry)?;
        self.fetch_into(
            &mut state,
            &repo,
            &ALL_REFS.map(String::from),
            History::Complete,
        )?;
        // A fresh handle: the old one still knows the shallow boundary it was opened with.
        Ok(gix::open_opts(repo.path(), repo.open_options().clone()).map_or(repo, |fresh| fresh))
    }

    /// The mirror, after making sure `commit` is in it (fetching it if not).
    fn repo_with_commit(&self, commit: CommitId) -> Result<gix::Repository> {
        let mut state = self.lock();
        self.cache.ensure_open(&self.entry, &mut state)?;
        let repo = thread_local(&state);
        if local_commit(&repo, commit.to_gix())?.is_none() {
            self.fetch_commit(&mut state, &repo, commit.to_gix())?;
            if local_commit(&repo, commit.to_gix())?.is_none() {
                return Err(Error::RevisionNotFound {
                    revision: commit.to_string(),
                    suggestions: Vec::new(),
                });
            }
        }
        Ok(repo)
    }

    fn resolve_once(&self, revision: &str, spec: &RevSpec) -> Result<Resolved> {
        let mut state = self.lock();
        self.cache.ensure_open(&self.entry, &mut state)?;
        let repo = thread_local(&state);
        let found = |commit: ObjectId, kind: RevisionKind, ref_name: Option<&str>| Resolved {
            revision: revision.to_owned(),
            commit: CommitId::from_gix(commit),
            kind,
            ref_name: ref_name.map(str::to_owned),
        };
        match spec {
            RevSpec::FullId(id) => {
                if let Some(c) = local_commit(&repo, *id)? {
                    return Ok(found(c, RevisionKind::Commit, None));
                }
                self.fetch_commit(&mut state, &repo, *id)?;
                if let Some(c) = local_commit(&repo, *id)? {
                    return Ok(found(c, RevisionKind::Commit, None));
                }
            }
            RevSpec::Head => {
                if let Some(c) =
                    self.resolve_ref(&mut state, &repo, HEAD_REF, &format!("+HEAD:{HEAD_REF}"))?
                {
                    return Ok(found(c, RevisionKind::Head, Some("HEAD")));
                }
            }
            RevSpec::FullRef(name) => {
                if let Some(c) =
                    self.resolve_ref(&mut state, &repo, name, &format!("+{name}:{name}"))?
                {
                    return Ok(found(c, kind_of_ref(name), Some(name)));
                }
            }
            RevSpec::Name { name, hex } => {
                if let Some((c, kind, ref_name)) =
                    self.name_held(&state, &repo, revision, name, *hex)?
                {
                    return Ok(found(c, kind, ref_name.as_deref()));
                }
                let tag = format!("refs/tags/{name}");
                let branch = format!("refs/heads/{name}");
                let _lock = self.cache.lock_process(&self.entry)?;
                self.cache.reload_fetched(&self.entry, &mut state);
                if self.cache.is_fresh(&state, &branch)
                    && let Some(c) = peel_ref(&repo, &branch)?
                {
                    return Ok(found(c, RevisionKind::Branch, Some(&branch)));
                }
                let outcome = self.fetch_into(
                    &mut state,
                    &repo,
                    &[format!("+{tag}:{tag}"), format!("+{branch}:{branch}")],
                    History::Tips,
                )?;
                if let Some(c) = peel_ref(&repo, &tag)? {
                    return Ok(found(c, RevisionKind::Tag, Some(&tag)));
                }
                if outcome.updated.contains(&branch)
                    && let Some(c) = peel_ref(&repo, &branch)?
                {
                    return Ok(found(c, RevisionKind::Branch, Some(&branch)));
                }
                // An abbreviated id can only be matched against commits we hold.
                if *hex
                    && let Some(c) = self.fetch_all_refs_until(&mut state, &repo, || {
                        local_prefix(&repo, revision, name)
                    })?
                {
                    return Ok(found(c, RevisionKind::Commit, None));
                }
            }
        }
        drop(state);
        Err(Error::RevisionNotFound {
            revision: revision.to_owned(),
            suggestions: self.suggestions(revision, &repo),
        })
    }

    /// Resolves a full ref kept locally under the same name, fetching it when absent or stale.
    fn resolve_ref(
        &self,
        state: &mut EntryState,
        repo: &gix::Repository,
        local: &str,
        refspec: &str,
    ) -> Result<Option<ObjectId>> {
        let mutable = kind_of_ref(local).is_mutable();
        let usable = |state: &EntryState| !mutable || self.cache.is_fresh(state, local);
        if usable(state)
            && let Some(c) = peel_ref(repo, local)?
        {
            return Ok(Some(c));
        }
        let _lock = self.cache.lock_process(&self.entry)?;
        self.cache.reload_fetched(&self.entry, state);
        if usable(state)
            && let Some(c) = peel_ref(repo, local)?
        {
            return Ok(Some(c));
        }
        let outcome = self.fetch_into(state, repo, &[refspec.to_owned()], History::Tips)?;
        if outcome.updated.iter().any(|u| u == local) {
            peel_ref(repo, local)
        } else {
            Ok(None)
        }
    }

    /// Fetches one commit by id, or every branch and tag when the server refuses that.
    fn fetch_commit(
        &self,
        state: &mut EntryState,
        repo: &gix::Repository,
        id: ObjectId,
    ) -> Result<()> {
        let _lock = self.cache.lock_process(&self.entry)?;
        if repo.has_object(id) {
            return Ok(());
        }
        let by_id = format!("{id}:refs/chartimpact/commits/{id}");
        match net::fetch(
            &self.cache,
            repo,
            &self.entry.url,
            &self.auth,
            &[by_id],
            History::Tips,
            &self.interrupt,
        ) {
            Ok(_) if repo.has_object(id) => return Ok(()),
            Ok(_) => {}
            Err(Error::Git { source, .. }) => {
                debug!(repo = %self.entry.url, sha = %id, error = %source, "fetching a commit by id was refused; fetching all refs");
            }
            Err(e) => return Err(e),
        }
        // The server will not hand out this commit by id: look for it among the branches and
        // tags.
        self.fetch_all_refs_until(state, repo, || Ok(repo.has_object(id).then_some(())))?;
        Ok(())
    }

    /// What a short name resolves to without the network: a tag held, a branch fetched within
    /// its TTL, or (for `hex` names) the one commit held whose id starts with it.
    fn name_held(
        &self,
        state: &EntryState,
        repo: &gix::Repository,
        revision: &str,
        name: &str,
        hex: bool,
    ) -> Result<Option<(ObjectId, RevisionKind, Option<String>)>> {
        let tag = format!("refs/tags/{name}");
        if let Some(c) = peel_ref(repo, &tag)? {
            return Ok(Some((c, RevisionKind::Tag, Some(tag))));
        }
        let branch = format!("refs/heads/{name}");
        if self.cache.is_fresh(state, &branch)
            && let Some(c) = peel_ref(repo, &branch)?
        {
            return Ok(Some((c, RevisionKind::Branch, Some(branch))));
        }
        if hex && let Some(c) = local_prefix(repo, revision, name)? {
            return Ok(Some((c, RevisionKind::Commit, None)));
        }
        Ok(None)
    }

    /// Fetches `refspecs` into the mirror with as much `history` as asked and notes when each
    /// local ref was fetched (branches are fetched again after their TTL).
    fn fetch_into(
        &self,
        state: &mut EntryState,
        repo: &gix::Repository,
        refspecs: &[String],
        history: History,
    ) -> Result<net::FetchOutcome> {
        let outcome = net::fetch(
            &self.cache,
            repo,
            &self.entry.url,
            &self.auth,
            refspecs,
            history,
            &self.interrupt,
        )?;
        self.cache
            .record_fetched(&self.entry, state, &outcome.updated);
        Ok(outcome)
    }

    /// Fetches every branch and tag until `found` has what it looks for: the tips first, then
    /// (only if still missing) the whole history, once.
    fn fetch_all_refs_until<T>(
        &self,
        state: &mut EntryState,
        repo: &gix::Repository,
        mut found: impl FnMut() -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        for history in [History::Tips, History::Complete] {
            self.fetch_into(state, repo, &ALL_REFS.map(String::from), history)?;
            if let Some(t) = found()? {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }

    /// Nearest tag and branch names for an unknown revision (remote names when reachable).
    fn suggestions(&self, revision: &str, repo: &gix::Repository) -> Vec<String> {
        let mut names: Vec<String> = match self.cache_ls_remote(repo) {
            Ok(refs) => refs
                .into_iter()
                .filter_map(|r| {
                    r.name
                        .strip_prefix("refs/tags/")
                        .or_else(|| r.name.strip_prefix("refs/heads/"))
                        .map(str::to_owned)
                })
                .collect(),
            Err(_) => local_names(repo),
        };
        names.sort();
        names.dedup();
        suggest::nearest(revision, names.iter().map(String::as_str), 5)
    }

    fn cache_ls_remote(&self, repo: &gix::Repository) -> Result<Vec<net::RemoteRef>> {
        net::ls_remote(&self.cache, repo, &self.entry.url, &self.auth)
    }
}

fn thread_local(state: &EntryState) -> gix::Repository {
    state
        .repo
        .as_ref()
        .expect("ensure_open sets the repository")
        .to_thread_local()
}

fn root_tree(repo: &gix::Repository, commit: CommitId) -> Result<ObjectId> {
    let c = repo
        .find_commit(commit.to_gix())
        .map_err(|e| tree::corrupt_or_git("read commit", &e))?;
    c.tree_id()
        .map(|id| id.detach())
        .map_err(|e| tree::corrupt_or_git("read commit", &e))
}

/// The entry at `path` below tree `root` (no symlink resolution).
fn lookup(
    repo: &gix::Repository,
    root: ObjectId,
    path: &str,
) -> Result<Option<(EntryKind, ObjectId)>> {
    let mut current = root;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Ok(Some((EntryKind::Tree, root)));
    }
    for (i, part) in parts.iter().enumerate() {
        let entries = tree::tree_entries(repo, current)?;
        let Some((_, kind, oid)) = entries.into_iter().find(|(n, _, _)| n == part) else {
            return Ok(None);
        };
        if i + 1 == parts.len() {
            return Ok(Some((kind, oid)));
        }
        if kind != EntryKind::Tree {
            return Ok(None);
        }
        current = oid;
    }
    Ok(None)
}

/// The commit a local ref points to (peeling annotated tags), if the ref exists.
fn peel_ref(repo: &gix::Repository, name: &str) -> Result<Option<ObjectId>> {
    let Some(mut reference) = repo
        .try_find_reference(name)
        .map_err(|e| Error::git("read reference", &e))?
    else {
        return Ok(None);
    };
    let id = reference
        .peel_to_id()
        .map_err(|e| tree::corrupt_or_git("peel reference", &e))?
        .detach();
    local_commit(repo, id)?
        .map(Some)
        .ok_or_else(|| Error::InvalidRevision {
            revision: name.to_owned(),
            reason: "does not point at a commit",
        })
}

/// `id` peeled to a commit, if the object exists locally.
fn local_commit(repo: &gix::Repository, id: ObjectId) -> Result<Option<ObjectId>> {
    let Some(object) = repo
        .try_find_object(id)
        .map_err(|e| tree::corrupt_or_git("read object", &e))?
    else {
        return Ok(None);
    };
    match object.peel_to_kind(gix::object::Kind::Commit) {
        Ok(commit) => Ok(Some(commit.id)),
        Err(_) => Ok(None),
    }
}

/// The commit an abbreviated id names in the mirror, if exactly one object matches.
fn local_prefix(repo: &gix::Repository, revision: &str, hex: &str) -> Result<Option<ObjectId>> {
    let prefix = gix::hash::Prefix::from_hex(&hex.to_ascii_lowercase()).map_err(|_| {
        Error::InvalidRevision {
            revision: revision.to_owned(),
            reason: "malformed abbreviated commit id",
        }
    })?;
    match repo
        .objects
        .lookup_prefix(prefix, None)
        .map_err(|e| Error::git("look up abbreviated id", &e))?
    {
        None => Ok(None),
        Some(Ok(id)) => local_commit(repo, id),
        Some(Err(())) => Err(Error::InvalidRevision {
            revision: revision.to_owned(),
            reason: "abbreviated commit id is ambiguous",
        }),
    }
}

fn local_names(repo: &gix::Repository) -> Vec<String> {
    let Ok(refs) = repo.references() else {
        return Vec::new();
    };
    let Ok(all) = refs.all() else {
        return Vec::new();
    };
    all.flatten()
        .filter_map(|r| {
            let name = r.name().as_bstr().to_string();
            name.strip_prefix("refs/tags/")
                .or_else(|| name.strip_prefix("refs/heads/"))
                .map(str::to_owned)
        })
        .collect()
}
