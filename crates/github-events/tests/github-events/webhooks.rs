//! Every real and synthesized payload in `tests/data/github/webhooks` parses with the event
//! name of its file name and routes to the decision the rules give, under the default policy
//! and under a permissive one.

use github_events::{CommitSha, Decision, Event, RoutingPolicy, Target, parse, route, summary};

use crate::shared::{github_dir, webhook_files};

/// The decision expected for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    RunPr { fork: bool },
    RunPush,
    RunRelease,
    Cancel,
    Pong,
    Ignore,
}

use Expect::*;

const SAME: Expect = RunPr { fork: false };
const FORK: Expect = RunPr { fork: true };

/// `(file pattern, default policy, permissive policy)`. A pattern ending in `.*` is a prefix
/// (`pull_request.assigned.*` is every `assigned` example); any other is a file name.
/// The permissive policy is [`permissive`].
const TABLE: &[(&str, Expect, Expect)] = &[
    // Events ChartImpact does not handle: ignored, never an error.
    ("check_run.*", Ignore, Ignore),
    ("check_suite.*", Ignore, Ignore),
    ("installation.*", Ignore, Ignore),
    ("installation_repositories.*", Ignore, Ignore),
    // Every issue_comment example is on an issue (no `issue.pull_request`) and none is a
    // rerun command.
    ("issue_comment.*", Ignore, Ignore),
    ("ping.*", Pong, Pong),
    // pull_request, action by action.
    ("pull_request.assigned.*", Ignore, Ignore),
    ("pull_request.closed.1.json", Cancel, Cancel),
    (
        "pull_request.closed.synth-deleted-fork.json",
        Cancel,
        Cancel,
    ),
    ("pull_request.converted_to_draft.*", Ignore, Ignore),
    ("pull_request.edited.synth-base-changed.json", SAME, SAME),
    (
        "pull_request.edited.synth-title-changed.json",
        Ignore,
        Ignore,
    ),
    // `label.name` is `bug`: a trigger label only in the permissive policy.
    ("pull_request.labeled.1.json", Ignore, SAME),
    ("pull_request.labeled.synth-deleted-fork.json", Ignore, FORK),
    ("pull_request.locked.*", Ignore, Ignore),
    ("pull_request.opened.1.json", SAME, SAME),
    ("pull_request.opened.3.json", SAME, SAME),
    ("pull_request.opened.synth-draft.json", Ignore, SAME),
    // A fork by a CONTRIBUTOR (no write access) without a trigger label: never analysed.
    ("pull_request.opened.synth-fork.json", Ignore, Ignore),
    ("pull_request.opened.synth-null-body.json", SAME, SAME),
    ("pull_request.opened.synth-unknown-field.json", SAME, SAME),
    ("pull_request.ready_for_review.*", SAME, SAME),
    ("pull_request.reopened.*", SAME, SAME),
    ("pull_request.review_request_removed.*", Ignore, Ignore),
    ("pull_request.review_requested.*", Ignore, Ignore),
    ("pull_request.synchronize.1.json", SAME, SAME),
    // The same author's fork with the trigger label `bug` a maintainer added: analysed.
    ("pull_request.synchronize.synth-fork.json", Ignore, FORK),
    // `head.repo.fork` is true but head and base are the same repository: not a fork PR.
    (
        "pull_request.synchronize.synth-same-repo-fork-flag.json",
        SAME,
        SAME,
    ),
    (
        "pull_request.teleported.synth-unknown-action.json",
        Ignore,
        Ignore,
    ),
    ("pull_request.unassigned.*", Ignore, Ignore),
    ("pull_request.unlabeled.*", Ignore, Ignore),
    ("pull_request.unlocked.*", Ignore, Ignore),
    // push.1: tag created; push.2–4: tag deleted; push.5: branch master created.
    ("push.1.json", Ignore, Ignore),
    ("push.2.json", Ignore, Ignore),
    ("push.3.json", Ignore, Ignore),
    ("push.4.json", Ignore, Ignore),
    ("push.5.json", Ignore, RunPush),
    // release: only `published` runs.
    ("release.published.*", RunRelease, RunRelease),
    ("release.created.*", Ignore, Ignore),
    ("release.deleted.*", Ignore, Ignore),
    ("release.edited.*", Ignore, Ignore),
    ("release.prereleased.*", Ignore, Ignore),
    ("release.released.*", Ignore, Ignore),
];

fn permissive() -> RoutingPolicy {
    RoutingPolicy {
        trigger_labels: vec!["bug".into()],
        run_drafts: true,
        allow_forks: true,
        push_branches: vec!["master".into()],
        repos: vec!["codertocat/*".into(), "Octocoders/Hello-World".into()],
    }
}

fn pattern_matches(pattern: &str, file: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => file.starts_with(prefix),
        None => file == pattern,
    }
}

fn expectation(file: &str) -> (Expect, Expect) {
    let hits: Vec<_> = TABLE
        .iter()
        .filter(|(pattern, ..)| pattern_matches(pattern, file))
        .collect();
    assert_eq!(hits.len(), 1, "{file} matches {} table entries", hits.len());
    (hits[0].1, hits[0].2)
}

fn check(file: &str, decision: &Decision, expect: Expect) {
    let ok = match (decision, expect) {
        (Decision::Run(Target::PullRequest { fork, .. }), RunPr { fork: f }) => *fork == f,
        (Decision::Run(Target::Push { .. }), RunPush)
        | (Decision::Run(Target::Release { .. }), RunRelease)
        | (Decision::Cancel { .. }, Cancel)
        | (Decision::Pong { .. }, Pong) => true,
        (Decision::Ignore { reason }, Ignore) => {
            assert!(!reason.is_empty(), "{file}: empty reason");
            true
        }
        _ => false,
    };
    assert!(ok, "{file}: expected {expect:?}, got {decision:?}");
}

#[test]
fn every_file_parses_and_routes() {
    let dir = github_dir("webhook routing table");
    let files = webhook_files(&dir);
    assert!(files.len() >= 89, "only {} webhook files", files.len());
    for (pattern, ..) in TABLE {
        assert!(
            files
                .iter()
                .any(|(name, ..)| pattern_matches(pattern, name)),
            "table entry {pattern} matches no file"
        );
    }
    let mut runs = 0;
    for (name, event_name, bytes) in &files {
        let event = parse(event_name, bytes)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", std::error::Error::source(&e).unwrap()));
        assert_eq!(event.name(), event_name, "{name}");
        let expected_action = name.split('.').nth(1).filter(|a| a.parse::<u32>().is_err());
        assert_eq!(event.action(), expected_action, "{name}: action");
        let (default, open) = expectation(name);
        let decision = route(&event, &RoutingPolicy::default());
        check(name, &decision, default);
        check(name, &route(&event, &permissive()), open);
        runs += usize::from(decision.kind() == "run");
    }
    // 10 pull_request files (opened ×4, edited base, ready_for_review ×2, reopened,
    // synchronize ×2) and 3 release.published files.
    assert_eq!(runs, 13, "runs under the default policy");
}

#[test]
fn unhandled_events_are_other() {
    let dir = github_dir("unhandled events");
    for (name, event_name, bytes) in webhook_files(&dir) {
        let event = parse(&event_name, &bytes).unwrap();
        let handled = ["pull_request", "push", "release", "ping", "issue_comment"];
        assert_eq!(
            matches!(event, Event::Other { .. }),
            !handled.contains(&event_name.as_str()),
            "{name}"
        );
        if let Event::Other { event, action } = &event {
            assert_eq!(event, &event_name);
            assert!(action.is_some(), "{name}: action");
            assert_eq!(
                route(
                    &Event::Other {
                        event: event.clone(),
                        action: action.clone()
                    },
                    &permissive()
                ),
                Decision::Ignore {
                    reason: format!("ignored: unsupported event {event_name}")
                }
            );
        }
    }
}

fn load(dir: &std::path::Path, file: &str) -> Event {
    let bytes = std::fs::read(dir.join("webhooks").join(file)).unwrap();
    parse(file.split('.').next().unwrap(), &bytes).unwrap()
}

#[test]
fn pull_request_fields() {
    let dir = github_dir("pull request fields");
    let Event::PullRequest(pr) = load(&dir, "pull_request.synchronize.1.json") else {
        panic!("not a pull request")
    };
    assert_eq!(pr.action, "synchronize");
    assert_eq!(pr.repo.to_string(), "Codertocat/Hello-World");
    assert_eq!(pr.repo_id, 186853002);
    assert_eq!(pr.number, 2);
    assert_eq!(pr.state, "open");
    assert!(!pr.draft);
    assert_eq!(
        pr.head_sha.as_str(),
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    assert_eq!(pr.head_ref, "changes");
    assert_eq!(
        pr.head_repo,
        Some("Codertocat/Hello-World".parse().unwrap())
    );
    assert_eq!(pr.head_repo_id, Some(186853002));
    assert_eq!(
        pr.base_sha.as_str(),
        "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    );
    assert_eq!(pr.base_ref, "master");
    assert_eq!(pr.base_repo_id, 186853002);
    assert_eq!(pr.default_branch.as_deref(), Some("master"));
    assert_eq!(pr.labels, ["bug"]);
    assert_eq!(pr.label, None);
    assert!(!pr.base_changed);
    assert_eq!(pr.installation_id, Some(1));
    assert_eq!(pr.sender.as_deref(), Some("Codertocat"));
    assert!(!pr.is_fork());

    let Decision::Run(target) = route(&Event::PullRequest(pr), &RoutingPolicy::default()) else {
        panic!("not run")
    };
    assert_eq!(
        target,
        Target::PullRequest {
            repo: "Codertocat/Hello-World".parse().unwrap(),
            repo_id: 186853002,
            number: 2,
            base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".parse().unwrap(),
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".parse().unwrap(),
            base_ref: "master".into(),
            head_ref: "changes".into(),
            fork: false,
            default_branch: Some("master".into()),
            installation_id: Some(1),
        }
    );
    assert_eq!(target.job_key().to_string(), "Codertocat/Hello-World#pr/2");
    assert_eq!(
        target.sha_or_tag(),
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    assert_eq!(target.repo().owner(), "Codertocat");
}

#[test]
fn forks_and_deleted_forks() {
    let dir = github_dir("fork payloads");
    let Event::PullRequest(fork) = load(&dir, "pull_request.opened.synth-fork.json") else {
        panic!()
    };
    assert_eq!(
        fork.head_repo,
        Some("fork-owner/Hello-World".parse().unwrap())
    );
    assert_eq!(fork.head_repo_id, Some(190000001));
    assert!(fork.is_fork());
    assert_eq!(
        route(&Event::PullRequest(fork.clone()), &RoutingPolicy::default()),
        Decision::Ignore {
            reason: "ignored: pull request from a fork".into()
        }
    );
    let allow = RoutingPolicy {
        allow_forks: true,
        ..RoutingPolicy::default()
    };
    // Its author is a CONTRIBUTOR: without write access and without a trigger label, the
    // fork is not analysed even with forks allowed.
    assert_eq!(fork.author_association, "CONTRIBUTOR");
    assert_eq!(
        route(&Event::PullRequest(fork.clone()), &allow).kind(),
        "ignore"
    );
    let by_collaborator = github_events::PullRequestEvent {
        author_association: "COLLABORATOR".into(),
        ..fork
    };
    let Decision::Run(Target::PullRequest {
        repo,
        fork: true,
        head_ref,
        ..
    }) = route(&Event::PullRequest(by_collaborator), &allow)
    else {
        panic!("fork not run with allow_forks")
    };
    // Results go to the base repository, never the fork.
    assert_eq!(repo.to_string(), "Codertocat/Hello-World");
    assert_eq!(head_ref, "changes");

    let Event::PullRequest(same) = load(
        &dir,
        "pull_request.synchronize.synth-same-repo-fork-flag.json",
    ) else {
        panic!()
    };
    assert!(!same.is_fork(), "the head.repo.fork flag must not decide");

    let Event::PullRequest(deleted) = load(&dir, "pull_request.closed.synth-deleted-fork.json")
    else {
        panic!()
    };
    assert_eq!(
        (deleted.head_repo.as_ref(), deleted.head_repo_id),
        (None, None)
    );
    assert!(deleted.is_fork());
    assert_eq!(
        route(&Event::PullRequest(deleted), &RoutingPolicy::default()),
        Decision::Cancel {
            repo: "Codertocat/Hello-World".parse().unwrap(),
            repo_id: 186853002,
            number: 2,
            reason: "pull request closed".into(),
        }
    );
}

#[test]
fn edited_drafts_labels_and_unknown_actions() {
    let dir = github_dir("pull request actions");
    let pr = |file| match load(&dir, file) {
        Event::PullRequest(pr) => pr,
        other => panic!("{other:?}"),
    };
    assert!(pr("pull_request.edited.synth-base-changed.json").base_changed);
    assert!(!pr("pull_request.edited.synth-title-changed.json").base_changed);
    assert!(pr("pull_request.opened.synth-draft.json").draft);
    assert_eq!(
        pr("pull_request.labeled.1.json").label.as_deref(),
        Some("bug")
    );
    let policy = RoutingPolicy::default();
    assert_eq!(
        route(
            &Event::PullRequest(pr("pull_request.opened.synth-draft.json")),
            &policy
        ),
        Decision::Ignore {
            reason: "ignored: draft pull request".into()
        }
    );
    assert_eq!(
        route(
            &Event::PullRequest(pr("pull_request.assigned.1.json")),
            &policy
        ),
        Decision::Ignore {
            reason: "ignored: pull_request action assigned".into()
        }
    );
    assert_eq!(
        route(
            &Event::PullRequest(pr("pull_request.teleported.synth-unknown-action.json")),
            &policy
        ),
        Decision::Ignore {
            reason: "ignored: pull_request action teleported".into()
        }
    );
    // A trigger label on a deleted fork still needs allow_forks.
    let labels = RoutingPolicy {
        trigger_labels: vec!["BUG".into()],
        ..RoutingPolicy::default()
    };
    let deleted = pr("pull_request.labeled.synth-deleted-fork.json");
    assert_eq!(
        route(&Event::PullRequest(deleted), &labels).kind(),
        "ignore"
    );
    assert_eq!(
        route(
            &Event::PullRequest(pr("pull_request.labeled.1.json")),
            &labels
        )
        .kind(),
        "run"
    );
}

#[test]
fn push_and_release_fields() {
    let dir = github_dir("push and release payloads");
    let Event::Push(created) = load(&dir, "push.5.json") else {
        panic!()
    };
    assert_eq!(created.branch(), Some("master"));
    assert!(created.created && !created.deleted);
    assert!(created.before.is_zero());
    assert_eq!(created.installation_id, Some(1));
    let policy = RoutingPolicy {
        push_branches: vec!["master".into()],
        ..RoutingPolicy::default()
    };
    let Decision::Run(target) = route(&Event::Push(created), &policy) else {
        panic!()
    };
    assert_eq!(
        target,
        Target::Push {
            repo: "Codertocat/Hello-World".parse().unwrap(),
            repo_id: 186853002,
            branch: "master".into(),
            before: CommitSha::zero(),
            after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246".parse().unwrap(),
            installation_id: Some(1),
        }
    );
    assert_eq!(
        target.job_key().to_string(),
        "Codertocat/Hello-World#push/master"
    );
    assert_eq!(
        target.sha_or_tag(),
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    );

    for file in ["push.2.json", "push.3.json", "push.4.json"] {
        let Event::Push(deleted) = load(&dir, file) else {
            panic!()
        };
        assert!(deleted.deleted && deleted.after.is_zero(), "{file}");
        assert_eq!(deleted.branch(), None, "{file}: a tag");
        let everything = RoutingPolicy {
            push_branches: vec!["*".into()],
            ..RoutingPolicy::default()
        };
        assert_eq!(
            route(&Event::Push(deleted), &everything).kind(),
            "ignore",
            "{file}"
        );
    }

    let Event::Release(release) = load(&dir, "release.published.1.json") else {
        panic!()
    };
    assert_eq!(release.tag, "0.0.1");
    assert_eq!(release.target_commitish.as_deref(), Some("master"));
    assert!(!release.prerelease && !release.draft);
    let Decision::Run(target) = route(&Event::Release(release), &RoutingPolicy::default()) else {
        panic!()
    };
    assert_eq!(
        target.job_key().to_string(),
        "Codertocat/Hello-World#release/0.0.1"
    );
    assert_eq!(target.sha_or_tag(), "0.0.1");
}

#[test]
fn ping_and_comments() {
    let dir = github_dir("ping and comment payloads");
    let Event::Ping(ping) = load(&dir, "ping.4.json") else {
        panic!()
    };
    assert_eq!(ping.hook_id, Some(109948940));
    assert_eq!(ping.events.len(), 14);
    assert!(ping.zen.is_some());
    let Event::IssueComment(c) = load(&dir, "issue_comment.created.4.json") else {
        panic!()
    };
    assert_eq!(c.number, 1);
    assert!(!c.is_pull_request);
    assert_eq!(c.author_association, "OWNER");
    assert_eq!(c.user, "Codertocat");
    assert_eq!(c.comment_id, 492700400);
    assert_eq!(c.installation_id, Some(1));
    assert_eq!(
        route(&Event::IssueComment(c), &RoutingPolicy::default()),
        Decision::Ignore {
            reason: "ignored: comment on an issue, not a pull request".into()
        }
    );
}

#[test]
fn repository_filter_applies_to_every_file() {
    let dir = github_dir("repository filter");
    let elsewhere = RoutingPolicy {
        repos: vec!["other-org/*".into()],
        ..permissive()
    };
    for (name, event_name, bytes) in webhook_files(&dir) {
        let event = parse(&event_name, &bytes).unwrap();
        let decision = route(&event, &elsewhere);
        match &event {
            Event::Ping(_) => assert_eq!(decision.kind(), "pong", "{name}"),
            Event::Other { .. } => assert_eq!(decision.kind(), "ignore", "{name}"),
            _ => assert_eq!(
                decision,
                Decision::Ignore {
                    reason: "repository not enabled for webhooks".into()
                },
                "{name}"
            ),
        }
    }
}

#[test]
fn summaries_hold_identifiers_only() {
    let dir = github_dir("summaries");
    let s = summary(&load(&dir, "pull_request.opened.synth-unknown-field.json"));
    assert_eq!(
        s.to_string(),
        "event=pull_request action=opened repo=Codertocat/Hello-World number=2 \
         sha=ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    let s = summary(&load(&dir, "push.5.json"));
    assert_eq!(
        s.sha.as_deref(),
        Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246")
    );
    assert_eq!(s.number, None);
    let s = summary(&load(&dir, "issue_comment.created.1.json"));
    assert!(!s.to_string().contains("totally right"));
    let s = summary(&load(&dir, "installation.created.1.json"));
    assert_eq!(s.to_string(), "event=installation action=created");
}
