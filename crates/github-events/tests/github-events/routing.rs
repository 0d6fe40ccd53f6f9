//! Routing with own payloads: repository globs, push branches, drafts, labels, reruns.

use github_events::{Decision, Event, RoutingPolicy, Target, parse, route};
use serde_json::json;

use crate::support;

fn pr_event(repo: &str, action: &str) -> Event {
    parse(
        "pull_request",
        &support::bytes(&support::pull_request(repo, action)),
    )
    .unwrap()
}

fn push_event(git_ref: &str, after: &str) -> Event {
    parse(
        "push",
        &support::bytes(&support::push("o/r", git_ref, after)),
    )
    .unwrap()
}

fn repos(patterns: &[&str]) -> RoutingPolicy {
    RoutingPolicy {
        repos: patterns.iter().map(|p| (*p).to_owned()).collect(),
        ..RoutingPolicy::default()
    }
}

#[test]
fn default_policy() {
    let policy = RoutingPolicy::default();
    assert!(
        policy.trigger_labels.is_empty()
            && policy.push_branches.is_empty()
            && policy.repos.is_empty()
    );
    assert!(!policy.run_drafts && !policy.allow_forks);
    assert_eq!(
        route(&pr_event("any-org/any-repo", "opened"), &policy).kind(),
        "run"
    );
}

#[test]
fn repository_globs() {
    let event = pr_event("my-org/charts", "opened");
    let not_enabled = Decision::Ignore {
        reason: "repository not enabled for webhooks".into(),
    };
    for enabled in [
        &["my-org/charts"][..],
        &["my-org/*"],
        &["*/charts"],
        &["*/*"],
        &["*"],
        &["MY-ORG/Charts"],
        &["other/x", "my-org/ch*"],
        &["my-org/*s"],
    ] {
        assert_eq!(route(&event, &repos(enabled)).kind(), "run", "{enabled:?}");
    }
    for disabled in [
        &["my-org/other"][..],
        &["other-org/*"],
        &["my-org"],
        &["my-*/x*"],
        &["my-org/charts-*"],
        &["*/charts/*"],
    ] {
        assert_eq!(route(&event, &repos(disabled)), not_enabled, "{disabled:?}");
    }
    // '*' stays within a segment: an owner glob cannot reach into the name.
    assert_eq!(
        route(&pr_event("my-org/charts", "opened"), &repos(&["my-org*"])),
        not_enabled
    );
    // Closing a pull request in a disabled repository is ignored too.
    assert_eq!(
        route(&pr_event("my-org/charts", "closed"), &repos(&["x/y"])),
        not_enabled
    );
}

#[test]
fn push_branches() {
    let policy = RoutingPolicy {
        push_branches: vec!["main".into(), "release/*".into()],
        ..RoutingPolicy::default()
    };
    let run = |git_ref: &str| route(&push_event(git_ref, support::HEAD), &policy);
    let Decision::Run(Target::Push {
        branch,
        before,
        after,
        ..
    }) = run("refs/heads/main")
    else {
        panic!()
    };
    assert_eq!(branch, "main");
    assert_eq!(before.as_str(), support::BASE);
    assert_eq!(after.as_str(), support::HEAD);
    assert_eq!(run("refs/heads/release/1.x").kind(), "run");
    assert_eq!(run("refs/heads/release/").kind(), "run");
    assert_eq!(
        run("refs/heads/develop"),
        Decision::Ignore {
            reason: "ignored: push to branch develop is not enabled".into()
        }
    );
    assert_eq!(run("refs/heads/mainline").kind(), "ignore");
    assert_eq!(run("refs/heads/Main").kind(), "ignore");
    assert_eq!(
        run("refs/tags/main"),
        Decision::Ignore {
            reason: "ignored: tag push".into()
        }
    );
    assert_eq!(run("refs/notes/x").kind(), "ignore");
    // A deleted branch: `after` all zeros (and `deleted: true`).
    let deleted = route(&push_event("refs/heads/main", &"0".repeat(40)), &policy);
    assert_eq!(
        deleted,
        Decision::Ignore {
            reason: "ignored: branch deleted".into()
        }
    );
    // `deleted: true` alone is enough.
    let mut payload = support::push("o/r", "refs/heads/main", support::HEAD);
    payload["deleted"] = json!(true);
    assert_eq!(
        route(&parse("push", &support::bytes(&payload)).unwrap(), &policy).kind(),
        "ignore"
    );
    // Every branch.
    let all = RoutingPolicy {
        push_branches: vec!["*".into()],
        ..RoutingPolicy::default()
    };
    assert_eq!(
        route(&push_event("refs/heads/feature/x", support::HEAD), &all).kind(),
        "run"
    );
}

#[test]
fn drafts_and_ready_for_review() {
    let mut draft = support::pull_request("o/r", "opened");
    draft["pull_request"]["draft"] = json!(true);
    let draft = parse("pull_request", &support::bytes(&draft)).unwrap();
    assert_eq!(route(&draft, &RoutingPolicy::default()).kind(), "ignore");
    let drafts = RoutingPolicy {
        run_drafts: true,
        ..RoutingPolicy::default()
    };
    assert_eq!(route(&draft, &drafts).kind(), "run");
    // A draft marked ready arrives with `draft: false` and runs.
    assert_eq!(
        route(
            &pr_event("o/r", "ready_for_review"),
            &RoutingPolicy::default()
        )
        .kind(),
        "run"
    );
    // Closing a draft still cancels.
    let mut closed = support::pull_request("o/r", "closed");
    closed["pull_request"]["draft"] = json!(true);
    closed["pull_request"]["state"] = json!("closed");
    let closed = parse("pull_request", &support::bytes(&closed)).unwrap();
    assert_eq!(
        route(&closed, &RoutingPolicy::default()),
        Decision::Cancel {
            repo: "o/r".parse().unwrap(),
            repo_id: 10,
            number: 7,
            reason: "pull request closed".into()
        }
    );
}

#[test]
fn trigger_labels() {
    let mut labeled = support::pull_request("o/r", "labeled");
    labeled["label"] = json!({"name": "chartimpact"});
    let labeled = parse("pull_request", &support::bytes(&labeled)).unwrap();
    assert_eq!(
        route(&labeled, &RoutingPolicy::default()),
        Decision::Ignore {
            reason: r#"ignored: label "chartimpact" is not a trigger label"#.into()
        }
    );
    let policy = RoutingPolicy {
        trigger_labels: vec!["chartimpact".into()],
        ..RoutingPolicy::default()
    };
    assert_eq!(route(&labeled, &policy).kind(), "run");
    // Unlabeling never runs.
    let mut unlabeled = support::pull_request("o/r", "unlabeled");
    unlabeled["label"] = json!({"name": "chartimpact"});
    let unlabeled = parse("pull_request", &support::bytes(&unlabeled)).unwrap();
    assert_eq!(route(&unlabeled, &policy).kind(), "ignore");
}

#[test]
fn edited_runs_only_when_the_base_changed() {
    let mut edited = support::pull_request("o/r", "edited");
    edited["changes"] = json!({"title": {"from": "old"}});
    let title = parse("pull_request", &support::bytes(&edited)).unwrap();
    assert_eq!(route(&title, &RoutingPolicy::default()).kind(), "ignore");
    edited["changes"] =
        json!({"base": {"ref": {"from": "develop"}, "sha": {"from": support::BASE}}});
    let base = parse("pull_request", &support::bytes(&edited)).unwrap();
    assert_eq!(route(&base, &RoutingPolicy::default()).kind(), "run");
}

#[test]
fn fork_pull_requests() {
    let fork_by = |association: &str| {
        let mut fork = support::pull_request("o/r", "synchronize");
        fork["pull_request"]["head"]["repo"] =
            json!({"id": 11, "full_name": "someone/r", "fork": true});
        fork["pull_request"]["author_association"] = json!(association);
        parse("pull_request", &support::bytes(&fork)).unwrap()
    };
    let fork = fork_by("MEMBER");
    assert_eq!(route(&fork, &RoutingPolicy::default()).kind(), "ignore");
    let allow = RoutingPolicy {
        allow_forks: true,
        ..RoutingPolicy::default()
    };
    // Someone without write access: never on their own say, whatever else is set.
    for association in ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", "MANNEQUIN"] {
        let Decision::Ignore { reason } = route(&fork_by(association), &allow) else {
            panic!("{association}: a fork by an outsider must not run")
        };
        assert!(reason.contains("without write access"), "{reason}");
    }
    // … until a maintainer adds a trigger label (the payload's PR carries `chartimpact`).
    let labelled = RoutingPolicy {
        trigger_labels: vec!["ChartImpact".into()],
        ..allow.clone()
    };
    assert_eq!(route(&fork_by("NONE"), &labelled).kind(), "run");
    for association in ["OWNER", "MEMBER", "COLLABORATOR"] {
        assert_eq!(
            route(&fork_by(association), &allow).kind(),
            "run",
            "{association}"
        );
    }
    let Decision::Run(target) = route(&fork, &allow) else {
        panic!()
    };
    assert!(matches!(target, Target::PullRequest { fork: true, .. }));
    assert_eq!(target.repo().to_string(), "o/r");
    assert_eq!(target.job_key().to_string(), "o/r#pr/7");
    assert_eq!(target.installation_id(), Some(99));

    // Same repository whose `fork` flag is set: not a fork PR.
    let mut same = support::pull_request("o/r", "synchronize");
    same["pull_request"]["head"]["repo"]["fork"] = json!(true);
    let same = parse("pull_request", &support::bytes(&same)).unwrap();
    assert!(matches!(
        route(&same, &RoutingPolicy::default()),
        Decision::Run(Target::PullRequest { fork: false, .. })
    ));
}

#[test]
fn merge_groups_run_like_a_push_of_their_head() {
    let group = |action: &str| {
        json!({
            "action": action,
            "merge_group": {
                "head_sha": support::HEAD,
                "head_ref": "refs/heads/gh-readonly-queue/main/pr-7-f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
                "base_sha": support::BASE,
                "base_ref": "refs/heads/main",
                "head_commit": {"id": support::HEAD, "message": "Bump chart"},
            },
            "repository": {"id": 10, "full_name": "o/r", "default_branch": "main"},
            "installation": {"id": 99},
            "sender": {"login": "octocat"},
        })
    };
    let event = parse("merge_group", &support::bytes(&group("checks_requested"))).unwrap();
    let Decision::Run(Target::Push {
        branch,
        before,
        after,
        installation_id,
        ..
    }) = route(&event, &RoutingPolicy::default())
    else {
        panic!("a merge group runs")
    };
    assert!(
        branch.starts_with("gh-readonly-queue/main/pr-7-"),
        "{branch}"
    );
    assert_eq!(before.to_string(), support::BASE);
    assert_eq!(after.to_string(), support::HEAD);
    assert_eq!(installation_id, Some(99));
    let destroyed = parse("merge_group", &support::bytes(&group("destroyed"))).unwrap();
    assert_eq!(
        route(&destroyed, &RoutingPolicy::default()).kind(),
        "ignore"
    );
}

#[test]
fn rerun_command() {
    let policy = RoutingPolicy::default();
    let event = |body: &str, who: &str| {
        parse(
            "issue_comment",
            &support::bytes(&support::comment("o/r", body, who)),
        )
        .unwrap()
    };
    for who in ["OWNER", "MEMBER", "COLLABORATOR"] {
        assert_eq!(
            route(&event("  /chartimpact rerun \r\n", who), &policy),
            Decision::Rerun {
                repo: "o/r".parse().unwrap(),
                repo_id: 10,
                number: 7,
                comment_id: support::COMMENT_ID,
                installation_id: None,
            }
        );
    }
    for who in ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", "owner"] {
        assert_eq!(
            route(&event("/chartimpact rerun", who), &policy).kind(),
            "ignore",
            "{who}"
        );
    }
    for body in [
        "/chartimpact rerun now",
        "please /chartimpact rerun",
        "/chartimpact",
        "/chartimpact  rerun",
    ] {
        assert_eq!(
            route(&event(body, "OWNER"), &policy).kind(),
            "ignore",
            "{body}"
        );
    }
    let mut edited = support::comment("o/r", "/chartimpact rerun", "OWNER");
    edited["action"] = json!("edited");
    assert_eq!(
        route(
            &parse("issue_comment", &support::bytes(&edited)).unwrap(),
            &policy
        )
        .kind(),
        "ignore"
    );
    let mut on_issue = support::comment("o/r", "/chartimpact rerun", "OWNER");
    on_issue["issue"]
        .as_object_mut()
        .unwrap()
        .remove("pull_request");
    assert_eq!(
        route(
            &parse("issue_comment", &support::bytes(&on_issue)).unwrap(),
            &policy
        )
        .kind(),
        "ignore"
    );
    assert_eq!(
        route(&event("/chartimpact rerun", "OWNER"), &repos(&["x/*"])).kind(),
        "ignore"
    );
}

#[test]
fn job_keys() {
    let release = Target::Release {
        repo: "owner/name".parse().unwrap(),
        repo_id: 5,
        tag: "v1.2.0".into(),
        installation_id: None,
    };
    assert_eq!(release.job_key().to_string(), "owner/name#release/v1.2.0");
    assert_eq!(release.sha_or_tag(), "v1.2.0");
    let push = Target::Push {
        repo: "owner/name".parse().unwrap(),
        repo_id: 5,
        branch: "main".into(),
        before: support::BASE.parse().unwrap(),
        after: support::HEAD.parse().unwrap(),
        installation_id: Some(1),
    };
    assert_eq!(push.job_key().to_string(), "owner/name#push/main");
    assert_eq!(push.job_key().identity(), "5#push/main");
    assert_eq!(release.job_key().identity(), "5#release/v1.2.0");
    assert_eq!(push.sha_or_tag(), support::HEAD);
}
