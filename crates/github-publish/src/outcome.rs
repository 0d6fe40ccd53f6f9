//! What a pull-request report means on GitHub: the commit status (state and a description
//! of at most 140 characters), the check run's conclusion, and the comment's content.
//!
//! The repository's `.chartimpact.yaml` decides two things here: `failOn` makes the status
//! `failure` (never by default: ChartImpact informs rather than blocks), and `commentOn`
//! withholds the full report ([`PrReport::wants_comment`]): a withheld report creates no
//! comment, and an existing one is replaced by a short note, so a report of an earlier head
//! never stays up looking current.

use github_client::{CheckConclusion, MAX_STATUS_DESCRIPTION_CHARS, StatusState};
use service::pr::{COMMENT_MARKER, FailOn, PrReport, verdict_words};

use crate::sticky::IfMissing;

/// The status description while an analysis runs.
pub const PENDING_DESCRIPTION: &str = "Analysing the Helm charts this change affects…";

/// What an analysis (or its failure) shows on the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The `chartimpact/analysis` status: `error` when a comparison could not run, `failure`
    /// when the repository's `failOn` policy fails, `success` otherwise.
    pub state: StatusState,
    /// The status description (≤ 140 characters), also the check run's title.
    pub description: String,
    /// The check run's conclusion: `failure` as the status; `success` when a policy was set
    /// and passed; `neutral` without a policy (nothing was judged).
    pub conclusion: CheckConclusion,
}

/// The outcome of a finished analysis.
pub fn report_outcome(report: &PrReport) -> Outcome {
    let verdict = report.verdict();
    let failed = report.charts.iter().filter(|c| c.outcome.is_err()).count();
    let fails_policy = report.fails_policy();
    let description = if failed > 0 {
        format!(
            "{failed} of {} chart comparisons failed; see the comment",
            report.charts.len()
        )
    } else if fails_policy {
        format!(
            "{}: fails this repository's policy (failOn: {})",
            verdict_words(verdict),
            report.fail_on.as_str()
        )
    } else if report.charts.is_empty() {
        "No Helm chart is affected".to_owned()
    } else {
        format!(
            "{}: {} chart comparison(s)",
            verdict_words(verdict),
            report.charts.len()
        )
    };
    let state = if failed > 0 {
        StatusState::Error
    } else if fails_policy {
        StatusState::Failure
    } else {
        StatusState::Success
    };
    let conclusion = if failed > 0 || fails_policy {
        CheckConclusion::Failure
    } else if report.fail_on != FailOn::Never {
        CheckConclusion::Success
    } else {
        CheckConclusion::Neutral
    };
    Outcome {
        state,
        description: status_description(&description),
        conclusion,
    }
}

/// The outcome of an analysis that could not run: an `error` status saying why.
pub fn failure_outcome(message: &str) -> Outcome {
    Outcome {
        state: StatusState::Error,
        description: status_description(&format!("Analysis failed: {message}")),
        conclusion: CheckConclusion::Failure,
    }
}

/// The comment a report asks for: the full report (created when missing) when the
/// repository's `commentOn` wants it, else the short note that only replaces an existing one.
/// `full_result_url` links the full result, when there is a place that shows it.
pub fn report_comment(report: &PrReport, full_result_url: Option<&str>) -> (String, IfMissing) {
    if report.wants_comment() {
        (report.markdown(full_result_url), IfMissing::Create)
    } else {
        (report.summary_markdown(), IfMissing::Leave)
    }
}

/// The comment of an analysis that could not run: the error's stable `code`, its `message`,
/// and `next_step` (what the reader can do, which depends on where ChartImpact runs).
pub fn failure_comment(code: &str, message: &str, next_step: &str) -> String {
    format!(
        "{COMMENT_MARKER}\n## ChartImpact: the analysis could not run\n\n`{code}`: {message}\n\n{next_step}\n"
    )
}

/// A status state as GitHub names it (`pending`, `success`, `failure`, `error`).
pub fn state_name(state: StatusState) -> &'static str {
    match state {
        StatusState::Pending => "pending",
        StatusState::Success => "success",
        StatusState::Failure => "failure",
        _ => "error",
    }
}

/// `text` cut to GitHub's 140 characters, ending with `…` when cut (at a char boundary).
pub fn status_description(text: &str) -> String {
    if text.chars().count() <= MAX_STATUS_DESCRIPTION_CHARS {
        return text.to_owned();
    }
    let mut out: String = text
        .chars()
        .take(MAX_STATUS_DESCRIPTION_CHARS - 1)
        .collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(fail_on: FailOn) -> PrReport {
        PrReport {
            repository: "/tmp/r".into(),
            base: "main".into(),
            head: "feature".into(),
            base_commit: "a".repeat(40),
            head_commit: "b".repeat(40),
            config_revision: "main".into(),
            config_error: None,
            fail_on,
            comment_on: service::pr::CommentOn::Always,
            charts: Vec::new(),
        }
    }

    #[test]
    fn no_affected_chart_is_a_success_judged_only_with_a_policy() {
        let o = report_outcome(&report(FailOn::Never));
        assert_eq!(o.state, StatusState::Success);
        assert_eq!(o.description, "No Helm chart is affected");
        assert_eq!(o.conclusion, CheckConclusion::Neutral);
        // failOn: low fails any change; there is none, so the policy passes.
        let o = report_outcome(&report(FailOn::Low));
        assert_eq!(o.state, StatusState::Success);
        assert_eq!(o.conclusion, CheckConclusion::Success);
    }

    #[test]
    fn a_failure_names_the_message_within_140_characters() {
        let o = failure_outcome(&"x".repeat(300));
        assert_eq!(o.state, StatusState::Error);
        assert_eq!(o.conclusion, CheckConclusion::Failure);
        assert_eq!(o.description.chars().count(), 140);
        assert!(o.description.starts_with("Analysis failed: xxx"));
        assert!(o.description.ends_with('…'));
        assert_eq!(
            status_description("é".repeat(140).as_str()).chars().count(),
            140
        );
        assert!(!status_description("é".repeat(140).as_str()).ends_with('…'));
    }

    #[test]
    fn the_failure_comment_is_found_again_by_its_marker() {
        let body = failure_comment("git_failed", "no such revision", "Push a fix.");
        assert!(body.starts_with(COMMENT_MARKER));
        assert!(body.contains("`git_failed`: no such revision\n\nPush a fix.\n"));
    }

    #[test]
    fn a_withheld_report_only_replaces_an_earlier_comment() {
        let mut r = report(FailOn::Never);
        r.comment_on = service::pr::CommentOn::Risk;
        let (body, if_missing) = report_comment(&r, None);
        assert_eq!(if_missing, IfMissing::Leave);
        assert_eq!(body, r.summary_markdown());
        r.comment_on = service::pr::CommentOn::Always;
        let (body, if_missing) = report_comment(&r, Some("http://x/a/1"));
        assert_eq!(if_missing, IfMissing::Create);
        assert_eq!(body, r.markdown(Some("http://x/a/1")));
    }
}
