//! What a webhook job carries: the payload stored with it in the queue, as the intake
//! writes it and the workers and publishers read it.

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// A pull request: base and head commits.
    PullRequest {
        /// `owner/name`.
        repo: String,
        /// PR number.
        number: u64,
        /// Base commit.
        base_sha: String,
        /// Head commit.
        head_sha: String,
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
        /// `owner/name`.
        repo: String,
        /// Branch name.
        branch: String,
        /// Commit before the push.
        before: String,
        /// Commit after the push.
        after: String,
        /// GitHub App installation.
        installation_id: Option<u64>,
    },
    /// A published release: its tag against the previous release tag.
    Release {
        /// `owner/name`.
        repo: String,
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
                number,
                base_sha,
                head_sha,
                base_ref,
                head_ref,
                fork,
                default_branch,
                installation_id,
            } => JobPayload::PullRequest {
                repo: repo.to_string(),
                number: *number,
                base_sha: base_sha.to_string(),
                head_sha: head_sha.to_string(),
                base_ref: base_ref.clone(),
                head_ref: head_ref.clone(),
                fork: *fork,
                default_branch: default_branch.clone(),
                installation_id: *installation_id,
            },
            T::Push {
                repo,
                branch,
                before,
                after,
                installation_id,
            } => JobPayload::Push {
                repo: repo.to_string(),
                branch: branch.clone(),
                before: before.to_string(),
                after: after.to_string(),
                installation_id: *installation_id,
            },
            T::Release {
                repo,
                tag,
                installation_id,
            } => JobPayload::Release {
                repo: repo.to_string(),
                tag: tag.clone(),
                installation_id: *installation_id,
            },
        }
    }

    /// `owner/name`.
    pub fn repo(&self) -> &str {
        match self {
            JobPayload::PullRequest { repo, .. }
            | JobPayload::Push { repo, .. }
            | JobPayload::Release { repo, .. } => repo,
        }
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

    /// `pull_request`, `push` or `release`.
    pub fn kind(&self) -> &'static str {
        match self {
            JobPayload::PullRequest { .. } => "pull_request",
            JobPayload::Push { .. } => "push",
            JobPayload::Release { .. } => "release",
        }
    }
}

/// A job as publishers see it.
#[derive(Debug, Clone)]
pub struct JobRef {
    /// The job's id.
    pub id: store::JobId,
    /// What it analyses.
    pub payload: JobPayload,
}

/// A `/chartimpact rerun` comment whose job was queued: acknowledged where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunRequest {
    /// `owner/name`.
    pub repo: String,
    /// The pull request.
    pub number: u64,
    /// The comment holding the command.
    pub comment_id: u64,
    /// GitHub App installation, when the delivery came from one.
    pub installation_id: Option<u64>,
}
