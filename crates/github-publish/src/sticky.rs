//! The sticky PR comment: one comment of ours per pull request, edited in place.
//!
//! Ours means written by the account the client acts as and carrying [`COMMENT_MARKER`]: a
//! person quoting the marker, or another bot's comment, is never touched. (Every body we write
//! starts with the marker; an older copy is recognised wherever it has it.) Older copies of ours (from races or earlier versions) are removed, the oldest
//! one is kept, and an unchanged body is not sent again (no edit noise, no notification).

use github_client::{Comment, GithubClient, RepoName};
use service::pr::COMMENT_MARKER;

use crate::Error;

/// Whether a missing comment is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    /// Create it.
    Create,
    /// Leave the pull request without one (only an existing comment is updated): for notes
    /// that exist to replace an earlier report, not to start a conversation.
    Leave,
}

/// What [`StickyComment::upsert`] did to the comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A new comment.
    Created,
    /// The existing comment got the new body.
    Updated,
    /// The existing comment already had this body: nothing was sent.
    Unchanged,
    /// There was none and [`IfMissing::Leave`] asked not to create one.
    NotCreated,
}

/// The result of [`StickyComment::upsert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upserted {
    /// Our comment's id now (`None` only with [`Change::NotCreated`]).
    pub id: Option<u64>,
    /// What happened to it.
    pub change: Change,
    /// Older copies of ours that were deleted.
    pub duplicates_removed: usize,
}

/// Our comment on one pull request: where it is and whose it is.
#[derive(Debug, Clone, Copy)]
pub struct StickyComment<'a> {
    /// The repository.
    pub repo: &'a RepoName,
    /// The pull request (issue) number.
    pub number: u64,
    /// The login the client writes as (`comment.user.login`); only its comments are ours.
    /// See [`crate::author_login`].
    pub author: &'a str,
    /// The App installation to act for (`None` with token auth).
    pub installation: Option<u64>,
}

impl StickyComment<'_> {
    /// Whether `comment` is ours: our login wrote it and it carries the marker.
    pub fn is_ours(&self, comment: &Comment) -> bool {
        comment.user_login == self.author && comment.body.contains(COMMENT_MARKER)
    }

    /// Makes our comment say `body` (which should start with [`COMMENT_MARKER`], or the next
    /// run will not find it).
    ///
    /// `known` is the comment's id when the caller remembered it: it is read and edited
    /// without listing the conversation. A remembered comment that is gone (404) or not ours
    /// (the credentials changed since) is looked for by marker instead. Without a usable id
    /// the pull request's comments are listed: the oldest of ours is kept and updated, the
    /// others deleted, and with [`IfMissing::Create`] a missing one is created.
    pub async fn upsert(
        &self,
        client: &GithubClient,
        body: &str,
        if_missing: IfMissing,
        known: Option<u64>,
    ) -> Result<Upserted, Error> {
        let (repo, installation) = (self.repo, self.installation);
        if let Some(id) = known {
            match client.issue_comment(repo, id, installation).await {
                Ok(c) if !self.is_ours(&c) => {
                    tracing::info!(repo = %repo, pr = self.number, comment = id, "remembered comment is not ours; looking for ours by marker");
                }
                Ok(c) if c.body == body => return Ok(self.done(id, Change::Unchanged, 0)),
                Ok(_) => {
                    client
                        .update_issue_comment(repo, id, body, installation)
                        .await
                        .map_err(|e| self.failed("update our comment", e))?;
                    return Ok(self.done(id, Change::Updated, 0));
                }
                // Someone deleted it: look for another copy by marker, or create it again.
                Err(e) if e.status() == Some(404) => {
                    tracing::info!(repo = %repo, pr = self.number, comment = id, "remembered comment is gone; looking for ours by marker");
                }
                Err(e) => return Err(self.failed("read our comment", e)),
            }
        }
        let comments = client
            .issue_comments(repo, self.number, installation)
            .await
            .map_err(|e| self.failed("list the comments", e))?;
        let mut ours: Vec<Comment> = comments.into_iter().filter(|c| self.is_ours(c)).collect();
        ours.sort_by_key(|c| c.id);
        let Some((keep, extra)) = ours.split_first() else {
            if if_missing == IfMissing::Leave {
                return Ok(Upserted {
                    id: None,
                    change: Change::NotCreated,
                    duplicates_removed: 0,
                });
            }
            let created = client
                .create_issue_comment(repo, self.number, body, installation)
                .await
                .map_err(|e| self.failed("create our comment", e))?;
            return Ok(self.done(created.id, Change::Created, 0));
        };
        let change = if keep.body == body {
            Change::Unchanged
        } else {
            client
                .update_issue_comment(repo, keep.id, body, installation)
                .await
                .map_err(|e| self.failed("update our comment", e))?;
            Change::Updated
        };
        for c in extra {
            client
                .delete_issue_comment(repo, c.id, installation)
                .await
                .map_err(|e| self.failed("delete an older copy of our comment", e))?;
        }
        Ok(self.done(keep.id, change, extra.len()))
    }

    fn done(&self, id: u64, change: Change, duplicates_removed: usize) -> Upserted {
        Upserted {
            id: Some(id),
            change,
            duplicates_removed,
        }
    }

    fn failed(&self, action: &'static str, source: github_client::Error) -> Error {
        Error::Comment {
            action,
            repo: self.repo.clone(),
            number: self.number,
            source: Box::new(source),
        }
    }
}
