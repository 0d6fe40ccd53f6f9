//! Publication ids (table `publications`): what the server published on each pull request.
//!
//! The GitHub publisher keeps one sticky comment per pull request and, with GitHub App auth,
//! a check run per job. Their ids are stored here, keyed by repository and pull request
//! number, so whichever replica publishes next (or this one after a restart) updates the same
//! comment without listing the pull request's comments, and completes the check run that
//! another replica started instead of leaving it `in_progress`.

use crate::engine::{Engine, SqlStore};
use crate::{CommitSha, JobId, RepoName, StoreError};

/// The ids stored for one pull request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Publication {
    /// Our sticky comment on the pull request, once created or found.
    pub comment_id: Option<u64>,
    /// The latest check run started for the pull request.
    pub check_run: Option<CheckRunRef>,
}

/// A check run, and what it was started for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRunRef {
    /// The commit the run is on (a check run belongs to one head commit).
    pub head_sha: CommitSha,
    /// GitHub's id of the run.
    pub id: u64,
    /// The job that started it.
    pub job: JobId,
}

// ---- SQL ------------------------------------------------------------------------------------

/// `$1` repo, `$2` number.
const GET: &str = "SELECT comment_id, check_run_sha, check_run_id, check_run_job \
     FROM publications WHERE repo = $1 AND pr_number = $2";

/// `$1` repo, `$2` number, `$3` comment id.
const SET_COMMENT: &str = "INSERT INTO publications (repo, pr_number, comment_id) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (repo, pr_number) DO UPDATE SET comment_id = excluded.comment_id";

/// `$1` repo, `$2` number, `$3` head sha, `$4` check run id, `$5` job.
const SET_CHECK_RUN: &str = "INSERT INTO publications \
     (repo, pr_number, check_run_sha, check_run_id, check_run_job) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (repo, pr_number) DO UPDATE SET check_run_sha = excluded.check_run_sha, \
     check_run_id = excluded.check_run_id, check_run_job = excluded.check_run_job";

/// A pull request number or GitHub id as stored (a signed 64-bit column).
fn to_db(what: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { what, value })
}

/// A [`GET`] row.
#[derive(sqlx::FromRow)]
struct PublicationRow {
    comment_id: Option<i64>,
    check_run_sha: Option<CommitSha>,
    check_run_id: Option<i64>,
    check_run_job: Option<i64>,
}

impl PublicationRow {
    pub(crate) fn decode(self, repo: &RepoName, number: u64) -> Result<Publication, StoreError> {
        let corrupt = |reason: String| StoreError::CorruptPublication {
            repo: repo.clone(),
            number,
            reason,
        };
        let id = |what: &str, v: i64| {
            u64::try_from(v).map_err(|_| corrupt(format!("negative {what} {v}")))
        };
        let comment_id = self.comment_id.map(|v| id("comment id", v)).transpose()?;
        let check_run = match (self.check_run_sha, self.check_run_id, self.check_run_job) {
            (Some(head_sha), Some(run), Some(job)) => Some(CheckRunRef {
                head_sha,
                id: id("check run id", run)?,
                job: JobId::new(job).ok_or_else(|| corrupt(format!("invalid job id {job}")))?,
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("check run stored in part".to_owned())),
        };
        Ok(Publication {
            comment_id,
            check_run,
        })
    }
}

// ---- operations -----------------------------------------------------------------------------

impl<E: Engine> SqlStore<E> {
    pub(crate) async fn publication(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<Publication>, StoreError> {
        let op = "get publication";
        let number_db = to_db("pull request number", number)?;
        let mut conn = self.conn(op).await?;
        let row: Option<PublicationRow> = E::sql(GET)
            .bind(repo)
            .bind(number_db)
            .fetch_optional(&mut conn)
            .await
            .map_err(StoreError::query(op))?;
        row.map(|r| r.decode(repo, number)).transpose()
    }

    pub(crate) async fn set_comment(
        &self,
        repo: &RepoName,
        number: u64,
        id: u64,
    ) -> Result<(), StoreError> {
        let statement = E::sql(SET_COMMENT)
            .bind(repo)
            .bind(to_db("pull request number", number)?)
            .bind(to_db("comment id", id)?);
        self.write_one("set comment id", statement).await?;
        Ok(())
    }

    pub(crate) async fn set_run(
        &self,
        repo: &RepoName,
        number: u64,
        run: &CheckRunRef,
    ) -> Result<(), StoreError> {
        let statement = E::sql(SET_CHECK_RUN)
            .bind(repo)
            .bind(to_db("pull request number", number)?)
            .bind(&run.head_sha)
            .bind(to_db("check run id", run.id)?)
            .bind(run.job.get());
        self.write_one("set check run", statement).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_decode_and_bad_rows_are_errors_not_panics() {
        let repo: RepoName = "o/r".parse().unwrap();
        let row = |comment_id, sha: Option<&str>, run, job| PublicationRow {
            comment_id,
            check_run_sha: sha.map(|s| s.repeat(40).parse().unwrap()),
            check_run_id: run,
            check_run_job: job,
        };
        assert_eq!(
            row(Some(5), Some("a"), Some(9), Some(3))
                .decode(&repo, 1)
                .unwrap(),
            Publication {
                comment_id: Some(5),
                check_run: Some(CheckRunRef {
                    head_sha: "a".repeat(40).parse().unwrap(),
                    id: 9,
                    job: JobId::new(3).unwrap(),
                }),
            }
        );
        assert_eq!(
            row(None, None, None, None).decode(&repo, 1).unwrap(),
            Publication::default()
        );
        for bad in [
            row(Some(-1), None, None, None),
            row(None, Some("a"), None, Some(3)),
            row(None, Some("a"), Some(9), Some(0)),
        ] {
            let err = bad.decode(&repo, 7).unwrap_err();
            assert!(
                matches!(err, StoreError::CorruptPublication { number: 7, .. }),
                "{err}"
            );
        }
        assert!(matches!(
            to_db("comment id", u64::MAX),
            Err(StoreError::OutOfRange { .. })
        ));
    }
}
