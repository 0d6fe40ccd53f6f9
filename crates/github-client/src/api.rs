//! One method per GitHub operation the service performs (reference §3).

use github_ids::RepoName;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Call, Retry};
use crate::models::{
    MAX_ANNOTATIONS_PER_REQUEST, MAX_CHECK_OUTPUT_CHARS, MAX_PR_FILES, MAX_STATUS_CONTEXT_CHARS,
    MAX_STATUS_DESCRIPTION_CHARS, RawApp, RawComment, RawId, RawPull, RawUser, truncate_chars,
};
use crate::{
    Annotation, CheckRunOutput, CheckRunRequest, Comment, Error, GitToken, GithubClient, PullFile,
    PullRequest, SecretString, StatusRequest, User,
};

/// Page size for every list call (the API maximum, reference §3.1, §3.4, R23).
const PER_PAGE: u32 = 100;

fn output_json(output: &CheckRunOutput, annotations: &[Annotation]) -> Value {
    let mut o = json!({
        "title": output.title,
        "summary": truncate_chars(&output.summary, MAX_CHECK_OUTPUT_CHARS, true),
    });
    if let Some(text) = &output.text {
        o["text"] = json!(truncate_chars(text, MAX_CHECK_OUTPUT_CHARS, true));
    }
    if !annotations.is_empty() {
        o["annotations"] = json!(annotations);
    }
    o
}

/// The body of a create (`with_head_sha`) or update, with the first chunk of annotations.
fn check_run_json(req: &CheckRunRequest, with_head_sha: bool) -> Value {
    let mut b = serde_json::Map::new();
    if !req.name.is_empty() || with_head_sha {
        b.insert("name".into(), json!(req.name));
    }
    if with_head_sha {
        b.insert("head_sha".into(), json!(req.head_sha));
    }
    if let Some(s) = req.status {
        b.insert("status".into(), json!(s));
    }
    if let Some(c) = req.conclusion {
        b.insert("conclusion".into(), json!(c));
    }
    if let Some(u) = &req.details_url {
        b.insert("details_url".into(), json!(u));
    }
    if let Some(id) = &req.external_id {
        b.insert("external_id".into(), json!(id));
    }
    if let Some(t) = req.started_at {
        b.insert("started_at".into(), json!(t.to_string()));
    }
    if let Some(t) = req.completed_at {
        b.insert("completed_at".into(), json!(t.to_string()));
    }
    if let Some(out) = &req.output {
        let first = &out.annotations[..out.annotations.len().min(MAX_ANNOTATIONS_PER_REQUEST)];
        b.insert("output".into(), output_json(out, first));
    }
    Value::Object(b)
}

impl GithubClient {
    /// A token git can read `repo` with over HTTPS (as user `x-access-token`): with token auth
    /// the token itself; with App auth a new installation token scoped to this one repository
    /// (`repositories: [name]` in the request), minted for each call and never cached or
    /// shared with other repositories' work. Its expiry comes with it (`None` for a token).
    #[tracing::instrument(skip_all, fields(repo = %repo, installation_id = installation))]
    pub async fn git_token(
        &self,
        repo: &RepoName,
        installation: Option<u64>,
    ) -> Result<GitToken, Error> {
        if let Some(token) = self.personal_token() {
            return Ok(GitToken {
                token,
                expires_at: None,
            });
        }
        let Some(installation) = installation else {
            return Err(Error::Auth {
                reason: format!(
                    "github app auth needs the installation id to read {repo} with git (the \
                     delivery carried none)"
                ),
            });
        };
        let body = json!({"repositories": [repo.name()]});
        let call = Call {
            as_app: true,
            // Minting a token twice is harmless, so this POST may be retried.
            ..Call::write(
                Method::POST,
                format!("/app/installations/{installation}/access_tokens"),
                Some(&body),
                None,
                Retry::Idempotent,
            )
        };
        let raw: crate::models::RawInstallationToken = self.execute(call).await?.json()?;
        let expires_at = raw.expires_at.parse().map_err(|_| Error::Auth {
            reason: "installation token has an unreadable expires_at".into(),
        })?;
        Ok(GitToken {
            token: SecretString::new(raw.token),
            expires_at: Some(expires_at),
        })
    }

    /// Who we are, to recognise our own comments (reference R26): `GET /user` with a token;
    /// with App auth `GET /app` (JWT) and the login `<slug>[bot]`. `installation` is unused
    /// (identity does not depend on it) and kept for call-site symmetry.
    pub async fn current_user(&self, installation: Option<u64>) -> Result<User, Error> {
        let _ = installation;
        match self.is_app() {
            false => {
                let u: RawUser = self.get_json("/user", None).await?;
                Ok(User {
                    login: u.login,
                    user_type: u.user_type.unwrap_or_else(|| "User".into()),
                    id: u.id,
                    app_id: None,
                })
            }
            true => {
                let call = Call {
                    as_app: true,
                    ..Call::get("/app", None)
                };
                let app: RawApp = self.execute(call).await?.json()?;
                Ok(User {
                    login: format!("{}[bot]", app.slug),
                    user_type: "Bot".into(),
                    id: app.id,
                    app_id: Some(app.id),
                })
            }
        }
    }

    /// `GET /repos/{o}/{r}/pulls/{n}` (ETag-cached, reference R22).
    #[tracing::instrument(skip_all, fields(repo = %repo, pr = number))]
    pub async fn pull_request(
        &self,
        repo: &RepoName,
        number: u64,
        installation: Option<u64>,
    ) -> Result<PullRequest, Error> {
        let raw: RawPull = self
            .get_json(&format!("/repos/{repo}/pulls/{number}"), installation)
            .await?;
        Ok(raw.into())
    }

    /// Every changed file of a PR, `per_page=100`, following `Link` (reference §3.4, R23).
    /// At 3,000 files the API list is truncated: [`Error::TooManyFiles`] tells the caller to
    /// fall back to `git diff --name-only`.
    #[tracing::instrument(skip_all, fields(repo = %repo, pr = number))]
    pub async fn pull_request_files(
        &self,
        repo: &RepoName,
        number: u64,
        installation: Option<u64>,
    ) -> Result<Vec<PullFile>, Error> {
        self.get_pages(
            format!("/repos/{repo}/pulls/{number}/files?per_page={PER_PAGE}"),
            installation,
            Some(MAX_PR_FILES),
        )
        .await
    }

    /// Every comment of an issue or PR, oldest first, all pages (reference §3.1, R26).
    #[tracing::instrument(skip_all, fields(repo = %repo, pr = number))]
    pub async fn issue_comments(
        &self,
        repo: &RepoName,
        number: u64,
        installation: Option<u64>,
    ) -> Result<Vec<Comment>, Error> {
        let raw: Vec<RawComment> = self
            .get_pages(
                format!("/repos/{repo}/issues/{number}/comments?per_page={PER_PAGE}"),
                installation,
                None,
            )
            .await?;
        Ok(raw.into_iter().map(Comment::from).collect())
    }

    /// `GET …/issues/comments/{id}` (ETag-cached): one comment, e.g. a sticky comment whose id
    /// was remembered, without listing the whole conversation. A deleted comment is
    /// [`Error::NotFound`].
    #[tracing::instrument(skip_all, fields(repo = %repo, comment = comment_id))]
    pub async fn issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
        installation: Option<u64>,
    ) -> Result<Comment, Error> {
        let raw: RawComment = self
            .get_json(
                &format!("/repos/{repo}/issues/comments/{comment_id}"),
                installation,
            )
            .await?;
        Ok(raw.into())
    }

    /// `POST …/issues/{n}/comments`. Never blindly retried: after an ambiguous failure
    /// re-list and look for the marker (reference R20).
    #[tracing::instrument(skip_all, fields(repo = %repo, pr = number))]
    pub async fn create_issue_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
        installation: Option<u64>,
    ) -> Result<Comment, Error> {
        let raw: RawComment = self
            .execute(Call::write(
                Method::POST,
                format!("/repos/{repo}/issues/{number}/comments"),
                Some(&json!({ "body": body })),
                installation,
                Retry::NoBlindRetry,
            ))
            .await?
            .json()?;
        Ok(raw.into())
    }

    /// `PATCH …/issues/comments/{id}` (idempotent: retried on 5xx).
    #[tracing::instrument(skip_all, fields(repo = %repo, comment = comment_id))]
    pub async fn update_issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
        body: &str,
        installation: Option<u64>,
    ) -> Result<Comment, Error> {
        let raw: RawComment = self
            .execute(Call::write(
                Method::PATCH,
                format!("/repos/{repo}/issues/comments/{comment_id}"),
                Some(&json!({ "body": body })),
                installation,
                Retry::Idempotent,
            ))
            .await?
            .json()?;
        Ok(raw.into())
    }

    /// `DELETE …/issues/comments/{id}`.
    #[tracing::instrument(skip_all, fields(repo = %repo, comment = comment_id))]
    pub async fn delete_issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
        installation: Option<u64>,
    ) -> Result<(), Error> {
        self.execute(Call::write(
            Method::DELETE,
            format!("/repos/{repo}/issues/comments/{comment_id}"),
            None,
            installation,
            Retry::Idempotent,
        ))
        .await?;
        Ok(())
    }

    /// `POST /repos/{o}/{r}/statuses/{sha}`; the description is cut to 140 chars with `…`
    /// and the context to 255 (reference §3.2, R28).
    #[tracing::instrument(skip_all, fields(repo = %repo, sha = sha))]
    pub async fn create_status(
        &self,
        repo: &RepoName,
        sha: &str,
        status: &StatusRequest,
        installation: Option<u64>,
    ) -> Result<(), Error> {
        let mut body = json!({
            "state": status.state,
            "context": truncate_chars(&status.context, MAX_STATUS_CONTEXT_CHARS, false),
        });
        if let Some(d) = &status.description {
            body["description"] = json!(truncate_chars(d, MAX_STATUS_DESCRIPTION_CHARS, true));
        }
        if let Some(u) = &status.target_url {
            body["target_url"] = json!(u);
        }
        self.execute(Call::write(
            Method::POST,
            format!("/repos/{repo}/statuses/{sha}"),
            Some(&body),
            installation,
            Retry::NoBlindRetry,
        ))
        .await?;
        Ok(())
    }

    /// `POST /repos/{o}/{r}/check-runs` (App auth only, reference §3.3, R29, R30, unless
    /// [`crate::ClientBuilder::check_runs_with_token`] lets an installation token try). More than
    /// 50 annotations are sent in follow-up updates of ≤ 50 each. Returns the check run id.
    #[tracing::instrument(skip_all, fields(repo = %repo, sha = %req.head_sha))]
    pub async fn create_check_run(
        &self,
        repo: &RepoName,
        req: &CheckRunRequest,
        installation: Option<u64>,
    ) -> Result<u64, Error> {
        if matches!(self.auth_kind(), AuthKind::Token) && !self.check_runs_with_token() {
            return Err(Error::ChecksNeedApp);
        }
        let created: RawId = self
            .execute(Call::write(
                Method::POST,
                format!("/repos/{repo}/check-runs"),
                Some(&check_run_json(req, true)),
                installation,
                Retry::NoBlindRetry,
            ))
            .await?
            .json()?;
        self.send_remaining_annotations(repo, created.id, req, installation)
            .await?;
        Ok(created.id)
    }

    /// `PATCH /repos/{o}/{r}/check-runs/{id}`; annotations in chunks of ≤ 50 (R29).
    #[tracing::instrument(skip_all, fields(repo = %repo, check_run = id))]
    pub async fn update_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        req: &CheckRunRequest,
        installation: Option<u64>,
    ) -> Result<(), Error> {
        if matches!(self.auth_kind(), AuthKind::Token) && !self.check_runs_with_token() {
            return Err(Error::ChecksNeedApp);
        }
        self.patch_check_run(repo, id, &check_run_json(req, false), installation)
            .await?;
        self.send_remaining_annotations(repo, id, req, installation)
            .await
    }

    async fn patch_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        body: &Value,
        installation: Option<u64>,
    ) -> Result<(), Error> {
        self.execute(Call::write(
            Method::PATCH,
            format!("/repos/{repo}/check-runs/{id}"),
            Some(body),
            installation,
            Retry::Idempotent,
        ))
        .await?;
        Ok(())
    }

    async fn send_remaining_annotations(
        &self,
        repo: &RepoName,
        id: u64,
        req: &CheckRunRequest,
        installation: Option<u64>,
    ) -> Result<(), Error> {
        let Some(out) = &req.output else {
            return Ok(());
        };
        for chunk in out.annotations.chunks(MAX_ANNOTATIONS_PER_REQUEST).skip(1) {
            let body = json!({ "output": {
                "title": out.title,
                "summary": truncate_chars(&out.summary, MAX_CHECK_OUTPUT_CHARS, true),
                "annotations": chunk,
            }});
            self.patch_check_run(repo, id, &body, installation).await?;
        }
        Ok(())
    }

    /// `POST …/issues/comments/{id}/reactions` with `content` (`+1`, `eyes`, `rocket`, …).
    #[tracing::instrument(skip_all, fields(repo = %repo, comment = comment_id))]
    pub async fn add_reaction(
        &self,
        repo: &RepoName,
        comment_id: u64,
        content: &str,
        installation: Option<u64>,
    ) -> Result<(), Error> {
        self.execute(Call::write(
            Method::POST,
            format!("/repos/{repo}/issues/comments/{comment_id}/reactions"),
            Some(&json!({ "content": content })),
            installation,
            // Adding the same reaction twice is a no-op on GitHub's side.
            Retry::Idempotent,
        ))
        .await?;
        Ok(())
    }

    fn auth_kind(&self) -> AuthKind {
        if self.is_app() {
            AuthKind::App
        } else {
            AuthKind::Token
        }
    }
}

enum AuthKind {
    Token,
    App,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnnotationLevel, CheckConclusion};

    #[test]
    fn check_run_body_carries_first_fifty_annotations() {
        let ann = Annotation {
            path: "a.yaml".into(),
            start_line: 1,
            end_line: 1,
            annotation_level: AnnotationLevel::Warning,
            message: "m".into(),
            title: None,
        };
        let req = CheckRunRequest {
            name: "chartimpact".into(),
            head_sha: "abc".into(),
            conclusion: Some(CheckConclusion::Success),
            output: Some(CheckRunOutput {
                title: "t".into(),
                summary: "s".into(),
                text: None,
                annotations: vec![ann; 120],
            }),
            ..Default::default()
        };
        let create = check_run_json(&req, true);
        assert_eq!(
            create["output"]["annotations"].as_array().unwrap().len(),
            50
        );
        assert_eq!(create["head_sha"], "abc");
        assert_eq!(create["conclusion"], "success");
        let update = check_run_json(&req, false);
        assert!(update.get("head_sha").is_none());
    }
}
