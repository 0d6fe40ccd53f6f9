use std::time::Duration;

use github_client::{Auth, GithubClient, RepoName};
use testkit::FakeGithub;

pub const TOKEN: &str = "ghp_integrationtesttoken0123456789";
pub const APP_ID: u64 = 4242;
pub const KEY: &str = include_str!("../fixtures/test-app-key.pem");

pub fn repo() -> RepoName {
    RepoName::new("octo", "charts").unwrap()
}

/// A fake with PR octo/charts#7 (3 files) and the App key registered.
pub async fn fake() -> FakeGithub {
    let gh = FakeGithub::start().await;
    gh.add_pull_request(
        "octo",
        "charts",
        7,
        "1111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222",
        ["charts/a/values.yaml", "charts/b/Chart.yaml", "README.md"],
    );
    gh.set_app(APP_ID, "chartimpact", Some(KEY));
    gh
}

pub fn token_client(gh: &FakeGithub) -> GithubClient {
    GithubClient::builder(&gh.url())
        .auth(Auth::Token(TOKEN.into()))
        .min_write_spacing(Duration::ZERO)
        .retry_backoff(Duration::from_millis(10))
        .secondary_rate_limit_wait(Duration::from_millis(200))
        .build()
        .unwrap()
}

pub fn app_client(gh: &FakeGithub) -> GithubClient {
    GithubClient::builder(&gh.url())
        .auth(Auth::App {
            app_id: APP_ID,
            private_key_pem: KEY.into(),
        })
        .min_write_spacing(Duration::ZERO)
        .retry_backoff(Duration::from_millis(10))
        .secondary_rate_limit_wait(Duration::from_millis(200))
        .build()
        .unwrap()
}
