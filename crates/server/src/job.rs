//! What a webhook job carries: the payload stored with it in the queue, as the intake
//! writes it and the workers and publishers read it.

use github_events::{CommitSha, DeliveryId, RepoName};
use serde::{Deserialize, Serialize};

/// A job's stored payload: `payload` with the delivery that queued it (`deliveryId`), so
/// every log line of the job can name the delivery.
pub(crate) fn stored_payload(payload: &JobPayload, delivery: &str) -> serde_json::Result<Vec<u8>> {
    let mut value = serde_json::to_value(payload)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("deliveryId".into(), delivery.into());
    }
    serde_json::to_vec(&value)
}

/// The same with a stored payload (a rerun's: the new delivery replaces the old one).
pub(crate) fn restamp_payload(stored: &[u8], delivery: &str) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(stored) {
        Ok(mut value) => {
            if let Some(map) = value.as_object_mut() {
                map.insert("deliveryId".into(), delivery.into());
            }
            serde_json::to_vec(&value).unwrap_or_else(|_| stored.to_vec())
        }
        Err(_) => stored.to_vec(),
    }
}

/// The delivery that queued a job, from its stored payload, when it is a valid delivery id.
pub(crate) fn delivery_id_of(stored: &[u8]) -> Option<DeliveryId> {
    delivery_of(stored)?.parse().ok()
}

/// The delivery that queued a job, from its stored payload.
pub(crate) fn delivery_of(stored: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Stamp {
        #[serde(rename = "deliveryId")]
        delivery_id: Option<String>,
    }
    serde_json::from_slice::<Stamp>(stored).ok()?.delivery_id
}

/// What a queued job analyses (stored as the job's payload).
///
/// Its identifiers are typed and validated when the payload is read: repositories and commits
/// serialize as the strings they always were (`"owner/name"`, 40 hex digits), so payloads
/// stored by earlier versions still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// A pull request: base and head commits.
    PullRequest {
        /// The base repository.
        repo: RepoName,
        /// PR number.
        number: u64,
        /// Base commit.
        base_sha: CommitSha,
        /// Head commit.
        head_sha: CommitSha,
        /// Base branch.
        base_ref: String,
        /// Head branch.
        head_ref: String,
        /// The head lives in another repository (fetched as `refs/pull/N/head`).
        fork: bool,
        /// The base repository's default branch, where `.chartimpact.yaml` is read (absent in
        /// payloads stored before it was recorded: then the base commit is used).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_branch: Option<String>,
        /// GitHub App installation, when the delivery came from one.
        installation_id: Option<u64>,
    },
    /// A push to a branch: before and after commits.
    Push {
        /// The repository.
        repo: RepoName,
        /// Branch name.
        branch: String,
        /// Commit before the push (all zeros for a new branch).
        before: CommitSha,
        /// Commit after the push.
        after: CommitSha,
        /// GitHub App installation.
        installation_id: Option<u64>,
    },
    /// A published release: its tag against the previous release tag.
    Release {
        /// The repository.
        repo: RepoName,
        /// The release's tag.
        tag: String,
        /// GitHub App installation.
        installation_id: Option<u64>,
    },
}

impl JobPayload {
    /// The payload of a routed webhook target.
    pub fn from_target(t: &github_events::Target) -> Self {
        use github_events::Target as T;
        match t {
            T::PullRequest {
                repo,
                repo_id: _,
                number,
                base_sha,
                head_sha,
                base_ref,
                head_ref,
                fork,
                default_branch,
                installation_id,
            } => JobPayload::PullRequest {
                repo: repo.clone(),
                number: *number,
                base_sha: base_sha.clone(),
                head_sha: head_sha.clone(),
                base_ref: base_ref.clone(),
                head_ref: head_ref.clone(),
                fork: *fork,
                default_branch: default_branch.clone(),
                installation_id: *installation_id,
            },
            T::Push {
                repo,
                repo_id: _,
                branch,
                before,
                after,
                installation_id,
            } => JobPayload::Push {
                repo: repo.clone(),
                branch: branch.clone(),
                before: before.clone(),
                after: after.clone(),
                installation_id: *installation_id,
            },
            T::Release {
                repo,
                repo_id: _,
                tag,
                installation_id,
            } => JobPayload::Release {
                repo: repo.clone(),
                tag: tag.clone(),
                installation_id: *installation_id,
            },
        }
    }

    /// The repository.
    pub fn repo(&self) -> &RepoName {
        match self {
            JobPayload::PullRequest { repo, .. }
            | JobPayload::Push { repo, .. }
            | JobPayload::Release { repo, .. } => repo,
        }
    }

    /// The same, for the repository under `name`: a job runs under the newest name its
    /// repository was seen with (the store renames a job whose repository was renamed, R14).
    pub fn with_repo(mut self, name: RepoName) -> Self {
        match &mut self {
            JobPayload::PullRequest { repo, .. }
            | JobPayload::Push { repo, .. }
            | JobPayload::Release { repo, .. } => *repo = name,
        }
        self
    }

    /// The GitHub App installation to act as, when the delivery came from one.
    pub fn installation_id(&self) -> Option<u64> {
        match self {
            JobPayload::PullRequest {
                installation_id, ..
            }
            | JobPayload::Push {
                installation_id, ..
            }
            | JobPayload::Release {
                installation_id, ..
            } => *installation_id,
        }
    }
}

/// A job as publishers see it.
#[derive(Debug, Clone)]
pub struct JobRef {
    /// The job's id in the store (logs, and the key of what a publisher remembers).
    pub id: store::JobId,
    /// The id the job has outside: in links, check runs and `/api/jobs/{id}` (see
    /// `public_id`: the store's numbers are sequential).
    pub public_id: String,
    /// What it analyses.
    pub payload: JobPayload,
    /// The webhook delivery that queued it (its latest, for a rerun), sent back to GitHub as
    /// `X-GitHub-Delivery` on the job's calls (reference R32).
    pub delivery: Option<DeliveryId>,
}

/// A `/chartimpact rerun` comment whose job was queued: acknowledged where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunRequest {
    /// The base repository.
    pub repo: RepoName,
    /// The pull request.
    pub number: u64,
    /// The comment holding the command.
    pub comment_id: u64,
    /// GitHub App installation, when the delivery came from one.
    pub installation_id: Option<u64>,
    /// The `issue_comment` delivery that carried the command (R32).
    pub delivery: Option<DeliveryId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads as earlier versions stored them, byte for byte.
    const STORED: [&str; 4] = [
        r#"{"kind":"pull_request","repo":"acme/charts","number":7,"base_sha":"1111111111111111111111111111111111111111","head_sha":"2222222222222222222222222222222222222222","base_ref":"main","head_ref":"feature","fork":false,"installation_id":null}"#,
        r#"{"kind":"pull_request","repo":"acme/charts","number":8,"base_sha":"1111111111111111111111111111111111111111","head_sha":"2222222222222222222222222222222222222222","base_ref":"main","head_ref":"feature","fork":true,"default_branch":"main","installation_id":42}"#,
        r#"{"kind":"push","repo":"acme/charts","branch":"main","before":"0000000000000000000000000000000000000000","after":"3333333333333333333333333333333333333333","installation_id":null}"#,
        r#"{"kind":"release","repo":"acme/charts","tag":"v1.2.0","installation_id":7}"#,
    ];

    #[test]
    fn payloads_stored_by_earlier_versions_still_read_and_write_back_the_same() {
        for stored in STORED {
            let payload: JobPayload = serde_json::from_str(stored).unwrap();
            assert_eq!(payload.repo().owner(), "acme");
            assert_eq!(serde_json::to_string(&payload).unwrap(), stored);
        }
        let payload: JobPayload = serde_json::from_str(STORED[0]).unwrap();
        let JobPayload::PullRequest { head_sha, .. } = payload else {
            panic!("a pull request");
        };
        assert_eq!(head_sha.short(), "2222222");
    }

    #[test]
    fn invalid_ids_in_a_payload_are_refused() {
        let bad_repo = STORED[3].replace("acme/charts", "acme/charts/x");
        let err = serde_json::from_str::<JobPayload>(&bad_repo).unwrap_err();
        assert!(err.to_string().contains("invalid repository name"), "{err}");
        let bad_sha = STORED[2].replace("3333333333", "zz");
        let err = serde_json::from_str::<JobPayload>(&bad_sha).unwrap_err();
        assert!(err.to_string().contains("invalid commit sha"), "{err}");
    }
}
