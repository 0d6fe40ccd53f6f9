//! `chartimpact pr`: every chart a change affects, in one report (the PR comment's markdown),
//! and with `--post` the same comment and status the server leaves, posted from a CI run.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use github_publish::actions::CiEnvironment;
use github_publish::{
    Change, CheckRunResult, CommentResult, CommitSha, PostRequest, PostTarget, Published, RepoName,
    TOKEN_VARIABLE, outcome,
};
use service::CompareService;

use crate::diff::write_stdout;
use crate::engine::{EngineArgs, RendererChoice, progress};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    Markdown,
    Json,
    Text,
}

/// Arguments of `chartimpact pr`.
#[derive(Debug, Args)]
pub struct PrArgs {
    /// Repository URL or local path.
    #[arg(long, default_value = ".")]
    repo: String,
    /// Base revision (in a GitHub Actions pull_request run: the event's base commit).
    #[arg(long)]
    base: Option<String>,
    /// Head revision (in a GitHub Actions pull_request run: the event's head commit).
    #[arg(long)]
    head: Option<String>,
    /// Post the report on the pull request: the sticky comment (edited in place), the
    /// `chartimpact/analysis` status on the head commit and, when the token may, a check run.
    /// The token comes from `GITHUB_TOKEN`.
    #[arg(long)]
    post: bool,
    /// The repository to post to (default: `GITHUB_REPOSITORY`).
    #[arg(long, value_name = "OWNER/REPO", requires = "post")]
    github_repository: Option<String>,
    /// The pull request to post to (default: the GitHub Actions event's).
    #[arg(long, value_name = "N", requires = "post")]
    pull_request: Option<u64>,
    /// GitHub's REST API (default: `GITHUB_API_URL`, else `https://api.github.com`).
    #[arg(long, value_name = "URL", requires = "post")]
    github_api_url: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "markdown")]
    output: Output,
    /// Renderer.
    #[arg(long, value_enum, default_value = "auto")]
    renderer: RendererChoice,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: PrArgs) -> anyhow::Result<ExitCode> {
    // The CI environment is only consulted when it is needed: a stray GITHUB_EVENT_PATH must
    // not break a local run that names both revisions.
    let ci = if args.post || args.base.is_none() || args.head.is_none() {
        CiEnvironment::read(|k| std::env::var(k).ok())?
    } else {
        CiEnvironment::default()
    };
    let event = ci.pull_request.as_ref();
    let base = revision(
        args.base.as_deref(),
        event.and_then(|e| e.base_sha.as_ref()),
        "--base",
    )?;
    let head = revision(
        args.head.as_deref(),
        event.and_then(|e| e.head_sha.as_ref()),
        "--head",
    )?;
    // Resolved before the analysis, so a missing token fails in a second, not after it.
    let target = if args.post {
        let repository = match &args.github_repository {
            Some(r) => Some(
                r.parse::<RepoName>()
                    .map_err(|e| anyhow::anyhow!("--github-repository {r:?}: {e}"))?,
            ),
            None => None,
        };
        let given = PostRequest::new(repository, args.pull_request, args.github_api_url.clone());
        Some(PostTarget::resolve(
            &given,
            &ci,
            std::env::var(TOKEN_VARIABLE).ok(),
        )?)
    } else {
        None
    };

    let engine = args.engine.engine()?;
    let (mut ctx, bar) = progress();
    ctx.set_timeout(Duration::from_secs(args.timeout));
    let req = service::pr::PrRequest {
        repository: args.repo.clone(),
        base,
        head: head.clone(),
        // As on GitHub, the policy is never the head's own: read at the base revision.
        config_revision: None,
        template: service::CompareRequest {
            renderer: Some(args.renderer.into()),
            ..service::CompareRequest::default()
        },
        ..service::pr::PrRequest::default()
    };
    let report = engine.analyze_pr(&req, &ctx);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = match (report, &target) {
        (Ok(r), _) => r,
        (Err(e), None) => return Err(e.into()),
        // The pull request learns why there is no report, when we know which commit it is.
        (Err(e), Some(target)) => {
            let sha = head
                .parse::<CommitSha>()
                .ok()
                .or_else(|| event.and_then(|e| e.head_sha.clone()));
            if let Some(sha) = sha {
                let published = block_on(async {
                    target
                        .publisher()
                        .await?
                        .publish_failure(
                            &target.pr,
                            &sha,
                            e.code(),
                            &e.to_string(),
                            FAILURE_NEXT_STEP,
                        )
                        .await
                })?;
                match published {
                    Ok(p) => print_published(target, &p),
                    Err(post) => eprintln!("chartimpact: error: {}", post.full_message()),
                }
            }
            return Err(e.into());
        }
    };
    // Posted before anything is printed: a failed post is an error without partial output.
    if let Some(target) = &target {
        let published = block_on(async {
            target
                .publisher()
                .await?
                .publish_report(&target.pr, &report)
                .await
        })?
        .map_err(|e| anyhow::anyhow!(e.full_message()))?;
        print_published(target, &published);
    }
    let out = match args.output {
        Output::Markdown => report.markdown(None),
        Output::Json => report.to_json(),
        Output::Text => {
            let mut s = String::new();
            if let Some(e) = &report.config_error {
                s.push_str(&format!("warning: {e} (the defaults apply)\n\n"));
            }
            for c in &report.charts {
                let scen = c
                    .scenario
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                s.push_str(&format!(
                    "== {}{scen} [{}]\n",
                    c.chart_path,
                    c.status.as_str()
                ));
                match &c.outcome {
                    Ok(r) => {
                        s.push_str(&diff_core::report::text(&r.comparison, &Default::default()))
                    }
                    Err(e) => s.push_str(&format!("error: {e}\n")),
                }
                s.push('\n');
            }
            s
        }
    };
    write_stdout(&out)?;
    // The repository's failOn policy gates CI the way `diff --fail-on` does.
    if report.fails_policy() {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the pull request's reader can do when the analysis could not run in CI.
const FAILURE_NEXT_STEP: &str =
    "Fix the cause and push again: the workflow analyses every new commit (or re-run the job).";

/// The revision given on the command line, else the GitHub Actions event's commit.
fn revision(
    given: Option<&str>,
    from_event: Option<&CommitSha>,
    flag: &str,
) -> anyhow::Result<String> {
    match (given, from_event) {
        (Some(r), _) => Ok(r.to_owned()),
        (None, Some(sha)) => Ok(sha.to_string()),
        (None, None) => anyhow::bail!(
            "{flag} is required (only a GitHub Actions pull_request event provides it through GITHUB_EVENT_PATH)"
        ),
    }
}

/// Runs the GitHub calls of a post (one thread: they are a handful of requests in a row).
fn block_on<T>(f: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the runtime for GitHub's API: {e}"))?;
    Ok(rt.block_on(f))
}

/// One line per thing posted, on stderr (stdout carries the report).
fn print_published(target: &PostTarget, p: &Published) {
    let pr = format!("{}#{}", target.pr.repo, target.pr.number);
    match &p.comment {
        CommentResult::Posted(u) => {
            let what = match u.change {
                Change::Created => "created",
                Change::Updated => "updated",
                Change::Unchanged => "unchanged",
                _ => "not created (this repository's commentOn withholds the report)",
            };
            eprintln!("chartimpact: comment on {pr}: {what}");
        }
        CommentResult::Stale { reason } => {
            eprintln!("chartimpact: comment on {pr}: not written: {reason}")
        }
        _ => {}
    }
    eprintln!(
        "chartimpact: status {} on {}: {} ({})",
        github_publish::STATUS_CONTEXT,
        p.head.short(),
        outcome::state_name(p.outcome.state),
        p.outcome.description
    );
    match &p.check_run {
        CheckRunResult::Created(id) => eprintln!("chartimpact: check run {id} created"),
        CheckRunResult::Skipped { reason } => eprintln!("chartimpact: check run skipped: {reason}"),
        CheckRunResult::Failed { error } => {
            eprintln!("chartimpact: warning: check run failed: {error}")
        }
        _ => {}
    }
}
