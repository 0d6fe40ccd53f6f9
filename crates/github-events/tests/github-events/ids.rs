//! Identifier validation and round trips.

use github_events::{CommitSha, DeliveryId, IdError, RepoName};

#[test]
fn repo_name_round_trips() {
    for s in [
        "Codertocat/Hello-World",
        "fork-owner/Hello-World",
        "a/b",
        "o/.github",
        "o/x.y_z-1",
        "0/...",
    ] {
        let repo: RepoName = s.parse().unwrap();
        assert_eq!(repo.to_string(), s);
        assert_eq!(format!("{}/{}", repo.owner(), repo.name()), s);
        assert_eq!(RepoName::new(repo.owner(), repo.name()).unwrap(), repo);
    }
}

#[test]
fn repo_name_refuses_what_github_refuses() {
    let cases = [
        "",
        "owner",
        "/name",
        "owner/",
        "../x",
        "x/..",
        "x/.",
        "a/b/c",
        "a/../b",
        "-owner/name",
        "own_er/name",
        "owner/na me",
        "owner/name\n",
        "owner/ná",
        "owner/name?x",
        "owner\\name",
    ];
    for s in cases {
        let err = s.parse::<RepoName>().unwrap_err();
        assert!(matches!(err, IdError::RepoName { .. }), "{s:?}");
        assert!(
            err.to_string().starts_with("invalid repository name"),
            "{err}"
        );
    }
    assert!(RepoName::new(&"o".repeat(39), &"n".repeat(100)).is_ok());
    assert!(RepoName::new(&"o".repeat(40), "n").is_err());
    assert!(RepoName::new("o", &"n".repeat(101)).is_err());
    assert!(RepoName::new("o/x", "n").is_err());
}

#[test]
fn repo_name_error_says_why() {
    let err = "a/b/c".parse::<RepoName>().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid repository name "a/b/c": expected owner/name with exactly one '/'"#
    );
    let err = "x/..".parse::<RepoName>().unwrap_err();
    assert!(err.to_string().contains(r#"may not be "..""#), "{err}");
}

#[test]
fn commit_sha() {
    let sha: CommitSha = "6113728F27AE82C7B1A177C8D03F9E96E0ADF246".parse().unwrap();
    assert_eq!(sha.to_string(), "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert!(!sha.is_zero());
    let zero: CommitSha = "0000000000000000000000000000000000000000".parse().unwrap();
    assert!(zero.is_zero());
    assert_eq!(zero, CommitSha::zero());
    for bad in [
        "",
        "6113728",
        "6113728f27ae82c7b1a177c8d03f9e96e0adf24g",
        " 6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    ] {
        assert!(
            matches!(bad.parse::<CommitSha>(), Err(IdError::CommitSha { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn delivery_id() {
    for ok in [
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "00000000-0000-4000-8000-000000000001",
        "abc",
    ] {
        assert_eq!(ok.parse::<DeliveryId>().unwrap().to_string(), ok);
    }
    let long = "a".repeat(101);
    for bad in [
        "",
        " ",
        "72d3162e cc78",
        "id\r\nX-Injected: 1",
        "../x",
        "ü",
        long.as_str(),
    ] {
        assert!(
            matches!(bad.parse::<DeliveryId>(), Err(IdError::DeliveryId { .. })),
            "{bad:?}"
        );
    }
    assert!("a".repeat(100).parse::<DeliveryId>().is_ok());
}

#[test]
fn ids_serialize_as_strings() {
    let repo: RepoName = "o/r".parse().unwrap();
    assert_eq!(serde_json::to_value(&repo).unwrap(), "o/r");
    let back: RepoName = serde_json::from_value(serde_json::json!("o/r")).unwrap();
    assert_eq!(back, repo);
    assert!(serde_json::from_value::<DeliveryId>(serde_json::json!("a b")).is_err());
    assert!(serde_json::from_value::<CommitSha>(serde_json::json!("abc")).is_err());
}
