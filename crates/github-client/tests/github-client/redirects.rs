use github_client::Error;

use crate::support::*;

#[tokio::test]
async fn redirects_to_another_host_are_refused() {
    let gh = fake().await;
    let elsewhere = testkit::FakeGithub::start().await;
    gh.redirect_next(
        "GET",
        "/repos/octo/charts/pulls/7",
        302,
        &format!("{}/steal", elsewhere.url()),
    );
    let err = token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap_err();
    match &err {
        Error::RedirectRefused { status, host, .. } => {
            assert_eq!(*status, 302);
            assert_eq!(host, "127.0.0.1");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        elsewhere.requests().is_empty(),
        "nothing reached the other host"
    );
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn redirects_on_the_api_host_are_followed() {
    let gh = fake().await;
    gh.redirect_next(
        "GET",
        "/repos/octo/old-name/pulls/7",
        301,
        &format!("{}/repos/octo/charts/pulls/7", gh.url()),
    );
    let pr = token_client(&gh)
        .pull_request(
            &github_client::RepoName::new("octo", "old-name").unwrap(),
            7,
            None,
        )
        .await
        .unwrap();
    assert_eq!(pr.number, 7);
    let reqs = gh.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
}

#[tokio::test]
async fn redirect_loops_stop_after_three_hops() {
    let gh = fake().await;
    for _ in 0..6 {
        gh.redirect_next(
            "GET",
            "/repos/octo/charts/pulls/7",
            302,
            &format!("{}/repos/octo/charts/pulls/7", gh.url()),
        );
    }
    let err = token_client(&gh)
        .pull_request(&repo(), 7, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RedirectRefused { .. }), "{err:?}");
    assert!(gh.requests().len() <= 5);
}
