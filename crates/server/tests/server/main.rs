//! The HTTP API over loopback: a real server (the router the binary serves), real git
//! repositories, real SQLite and PostgreSQL stores, a real HTTP client, a fake GitHub.

mod api;
mod chart_repos;
mod compat;
mod limits;
mod openapi;
mod operations;
mod private;
mod publish;
mod security;
mod storage;
mod ui;
mod webhooks;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use helm_render::Renderer;
use server::{AppState, Clock, ServerConfig};
use service::CompareService;

pub use testkit::{FakeRenderer, RepoBuilder, files, git};

pub fn engine_with(dir: &Path, renderer: Arc<dyn Renderer>) -> service::Engine {
    service::Engine::builder(dir)
        .policy(chart_source::UrlPolicy {
            allow_local: true,
            ..Default::default()
        })
        .renderers(service::Renderers {
            native: Some(renderer),
            ..Default::default()
        })
        .build()
        .unwrap()
}

pub const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: ";

/// A repository with tags v1 and v2 of `charts/app` (a ConfigMap value and a Secret change).
pub fn repo(dir: &Path) -> RepoBuilder {
    let secret = |v: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData:\n  password: {v}\n"
        )
    };
    let r = RepoBuilder::new(dir.join("repo"));
    r.commit(
        &files(&[
            (
                "charts/app/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.0.0\n",
            ),
            ("charts/app/templates/cm.yaml", &format!("{CM}one\n")),
            ("charts/app/templates/secret.yaml", &secret("hunter2-old")),
            ("values/production.yaml", "replicaCount: 2\n"),
        ]),
        "v1",
    );
    r.commit(
        &files(&[
            (
                "charts/app/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 1.1.0\n",
            ),
            ("charts/app/templates/cm.yaml", &format!("{CM}two\n")),
            ("charts/app/templates/secret.yaml", &secret("hunter2-new")),
            ("values/production.yaml", "replicaCount: 2\n"),
        ]),
        "v2",
    );
    r
}

pub fn compare_body(repo: &RepoBuilder) -> serde_json::Value {
    serde_json::json!({
        "repository": repo.dir.to_string_lossy(),
        "chartPath": "charts/app",
        "version1": "v1",
        "version2": "v2",
    })
}

/// A settable clock for TTL tests.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<jiff::Timestamp>>);

impl Default for TestClock {
    /// Starts at 2026-11-01T00:00:00Z.
    fn default() -> Self {
        TestClock(Arc::new(Mutex::new(
            "2026-11-01T00:00:00Z".parse().unwrap(),
        )))
    }
}

impl TestClock {
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap();
        *t = t
            .checked_add(jiff::SignedDuration::try_from(d).unwrap())
            .unwrap();
    }
    pub fn clock(&self) -> Clock {
        let c = self.0.clone();
        Arc::new(move || *c.lock().unwrap())
    }
}

/// A server on a free loopback port, stopped (gracefully) on drop.
pub struct TestServer {
    pub url: String,
    pub state: AppState,
    pub store: Arc<dyn store::Store>,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The database the server's store is on (a second server given it shares the store).
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
}

/// Builds a publisher over the server's store (as the server binary builds GitHub's).
pub type PublisherOnStore =
    Box<dyn FnOnce(Arc<dyn store::Store>) -> Arc<dyn server::Publisher> + Send>;

pub struct Setup {
    pub config: ServerConfig,
    pub service: Option<Arc<dyn CompareService>>,
    pub database_url: Option<String>,
    pub clock: Option<TestClock>,
    pub renderer: Option<Arc<FakeRenderer>>,
    pub publisher: Option<Arc<dyn server::Publisher>>,
    /// Takes precedence over `publisher`.
    pub publisher_on_store: Option<PublisherOnStore>,
    /// The GitHub credentials job fetches authenticate with.
    pub git_client: Option<github_client::GithubClient>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            config: ServerConfig {
                rate_limit_per_minute: None,
                ..ServerConfig::default()
            },
            service: None,
            database_url: None,
            clock: None,
            renderer: None,
            publisher: None,
            publisher_on_store: None,
            git_client: None,
        }
    }
}

impl TestServer {
    pub async fn start(setup: Setup) -> TestServer {
        // reqwest is built without a default TLS provider (the project uses ring's).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let service = setup.service.unwrap_or_else(|| {
            let renderer = setup.renderer.unwrap_or_default();
            Arc::new(engine_with(&dir.path().join("data"), renderer)) as Arc<dyn CompareService>
        });
        let url = setup
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("results.db").display()));
        let store = store::open(&url, &store::OpenOptions::default())
            .await
            .unwrap();
        let mut builder = AppState::builder(service, store.clone(), setup.config)
            .git_version(Some("test".into()))
            .renderers(vec![server::RendererStatus {
                name: "native".into(),
                available: true,
                version: Some("fake".into()),
                reason: None,
            }]);
        if let Some(build) = setup.publisher_on_store {
            builder = builder.publisher(build(store.clone()));
        } else if let Some(p) = setup.publisher {
            builder = builder.publisher(p);
        }
        if let Some(clock) = setup.clock {
            builder = builder.clock(clock.clock());
        }
        if let Some(client) = setup.git_client {
            builder = builder.git_credentials(client);
        }
        let state = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        TestServer {
            url: format!("http://{addr}"),
            state,
            store,
            client: reqwest::Client::new(),
            database_url: url,
            shutdown: Some(tx),
            task: Some(task),
            _dir: Some(dir),
        }
    }

    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .unwrap();
        split(r).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        split(r).await
    }

    pub async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        split(r).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Stops accepting, lets in-flight requests finish, waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("graceful shutdown finishes")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn split(r: reqwest::Response) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text:?}"));
    (status, headers, json)
}

/// Asserts the error envelope: `{success:false, error, code}`.
#[track_caller]
pub fn assert_error(
    got: &(u16, reqwest::header::HeaderMap, serde_json::Value),
    status: u16,
    code: &str,
) {
    let (s, _, body) = got;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}
