//! Charts whose dependencies are not in git, and charts straight from a Helm repository or an
//! OCI registry, against real servers on loopback: the corpus's `chart-repos/` (made by `helm
//! package` + `helm repo index`) served over HTTP, and Debian's `docker-registry` filled by
//! `helm push`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use service::{
    CompareError, CompareRequest, CompareResponse, CompareService, Context, RendererMode,
};
use testkit::chart_repos::{Registry, Server, static_file};

use super::corpus::corpus;
use super::{RepoBuilder, tree};

const ORIGINAL: &str = "https://dandydeveloper.github.io/charts/";
const ARGO: &str = "argo-cd__7.8.13__8.0.7";

fn helm() -> Option<Arc<dyn helm_render::Renderer>> {
    helm_render::HelmCliRenderer::locate().map(|h| Arc::new(h) as Arc<dyn helm_render::Renderer>)
}

fn require_helm() -> bool {
    if helm().is_some() {
        return true;
    }
    let why = "no helm binary (scripts/install-helm.sh)";
    assert!(
        std::env::var_os("CHARTIMPACT_REQUIRE_HELM").is_none_or(|v| v != "1"),
        "{why}"
    );
    eprintln!("skipping: {why}");
    false
}

/// The corpus's Helm repositories over loopback HTTP.
fn repos_server() -> Server {
    let root = corpus().join("chart-repos");
    Server::start(move |req| static_file(&root, req, ""))
}

fn engine(data: &Path, mirror: Option<&Server>) -> service::Engine {
    let mut b = service::Engine::builder(data);
    b.policy(chart_source::UrlPolicy {
        allow_local: true,
        ..Default::default()
    })
    .chart_repo_policy(chart_source::UrlPolicy {
        allowed_hosts: vec!["*".into()],
        allow_local: false,
        allow_private_addresses: true,
        ..Default::default()
    })
    .plain_http(true)
    .renderers(service::Renderers {
        native: Some(Arc::new(helm_render::NativeRenderer::new())),
        helm: helm(),
        ..Default::default()
    });
    if let Some(s) = mirror {
        b.helm_repo_mirrors([chart_repo::Mirror::new(
            ORIGINAL,
            &format!("{}/dandydeveloper", s.url),
        )
        .unwrap()]);
    }
    b.build().unwrap()
}

/// The argo-cd case as a git repository, `charts/redis-ha` committed or (as argo-helm keeps
/// it) not; the case's values file at `ci-values.yaml`.
fn argo_repo(dir: PathBuf, vendored: bool) -> RepoBuilder {
    let case = corpus().join("cases").join(ARGO);
    let repo = RepoBuilder::new(dir);
    for side in ["before", "after"] {
        let mut files: Vec<_> = tree(&case.join(side), "chart/")
            .into_iter()
            .filter(|(p, _)| vendored || !p.starts_with("chart/charts/redis-ha/"))
            .collect();
        files.push((
            "ci-values.yaml".into(),
            std::fs::read(case.join("values/ha-autoscaling-values.yaml")).unwrap(),
        ));
        repo.commit(&files, side);
    }
    repo
}

fn git_request(repo: &RepoBuilder, mode: RendererMode) -> CompareRequest {
    CompareRequest {
        repository: repo.dir.to_string_lossy().into_owned(),
        chart_path: "chart".into(),
        version1: "before".into(),
        version2: "after".into(),
        values_file: Some("ci-values.yaml".into()),
        renderer: Some(mode),
        ..CompareRequest::default()
    }
}

fn norm(r: &CompareResponse) -> String {
    let c = &r.comparison;
    serde_json::to_string(&(
        &c.structured_diff.resources,
        &c.structured_diff.stats,
        &c.impact,
    ))
    .unwrap()
}

fn versions(r: &CompareResponse) -> Vec<(String, String, String)> {
    r.dependencies
        .version1
        .iter()
        .chain(&r.dependencies.version2)
        .map(|d| (d.name.clone(), d.version.clone(), d.source.clone()))
        .collect()
}

#[test]
fn a_git_chart_without_its_dependencies_compares_as_the_vendored_chart_and_names_the_subchart_change()
 {
    let tmp = tempfile::tempdir().unwrap();
    let server = repos_server();
    let vendored = argo_repo(tmp.path().join("vendored"), true);
    let fetched = argo_repo(tmp.path().join("fetched"), false);
    let mut modes = vec![RendererMode::Native];
    if require_helm() {
        modes.push(RendererMode::Helm);
    }
    for mode in modes {
        let data = tmp.path().join("data");
        let want = engine(&data, None)
            .compare(&git_request(&vendored, mode), &Context::default())
            .unwrap();
        let got = engine(&data, Some(&server))
            .compare(&git_request(&fetched, mode), &Context::default())
            .unwrap_or_else(|e| panic!("{mode}: {}", e.message()));
        assert_eq!(
            norm(&got),
            norm(&want),
            "{mode}: fetched differs from vendored"
        );
        assert_eq!(
            versions(&want),
            [
                ("redis-ha".into(), "4.29.4".into(), "vendored".into()),
                ("redis-ha".into(), "4.33.2".into(), "vendored".into())
            ]
        );
        assert_eq!(
            versions(&got),
            [
                ("redis-ha".into(), "4.29.4".into(), "locked".into()),
                ("redis-ha".into(), "4.33.2".into(), "locked".into())
            ]
        );
        let signal = got
            .comparison
            .impact
            .signals
            .iter()
            .find(|s| s.rule == diff_core::impact::SUBCHART_RULE)
            .expect("a subchart signal");
        assert_eq!(signal.title, "subchart redis-ha 4.29.4 → 4.33.2");
        assert!(
            signal
                .description
                .contains("StatefulSet default/release-redis-ha-server"),
            "{}",
            signal.description
        );
        let json = serde_json::to_value(&got).unwrap();
        assert_eq!(json["dependencies"]["version2"][0]["source"], "locked");
        assert!(json["dependencies"]["version2"][0]["digest"].is_string());
    }
    let archives = server.count(".tgz");
    assert_eq!(archives, 2, "each dependency archive downloaded once");

    // A new engine (a new process) on the same data directory resolves the dependencies
    // again (to key its render cache) from the archives it cached: no download.
    let again = engine(&tmp.path().join("data"), Some(&server));
    let r = again
        .compare(
            &git_request(&fetched, RendererMode::Native),
            &Context::default(),
        )
        .unwrap();
    assert_eq!(versions(&r)[1].1, "4.33.2");
    assert_eq!(
        server.count(".tgz"),
        archives,
        "no archive downloaded again"
    );
    assert_eq!(again.chart_repos().unwrap().stats().archive_downloads, 0);
}

#[test]
fn a_git_chart_without_its_dependency_and_no_way_to_fetch_it_names_the_dependency() {
    let tmp = tempfile::tempdir().unwrap();
    let fetched = argo_repo(tmp.path().join("fetched"), false);
    // The original host is not on loopback and the policy allows no host: refused before
    // any request leaves the machine.
    let mut b = service::Engine::builder(tmp.path().join("data"));
    b.policy(chart_source::UrlPolicy {
        allow_local: true,
        ..Default::default()
    })
    .chart_repo_policy(chart_source::UrlPolicy {
        allowed_hosts: vec!["charts.example.com".into()],
        allow_local: false,
        allow_private_addresses: false,
        ..Default::default()
    })
    .renderers(service::Renderers {
        native: Some(Arc::new(helm_render::NativeRenderer::new())),
        ..Default::default()
    });
    let e = b
        .build()
        .unwrap()
        .compare(
            &git_request(&fetched, RendererMode::Native),
            &Context::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "repository_not_allowed", "{}", e.message());
    let m = e.message();
    assert!(
        m.contains("redis-ha") && m.contains("dandydeveloper.github.io"),
        "{m}"
    );
    assert!(!e.is_transient());
}

/// `helm template release TGZ --namespace default`.
fn helm_template(tgz: &Path) -> String {
    let out = std::process::Command::new("helm")
        .args(["template", "release"])
        .arg(tgz)
        .args(["--namespace", "default"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn helm_request(repository: &str, from: &str, to: &str) -> CompareRequest {
    CompareRequest {
        helm_repository: Some(repository.into()),
        chart: Some("redis-ha".into()),
        version1: from.into(),
        version2: to.into(),
        renderer: Some(RendererMode::Native),
        ..CompareRequest::default()
    }
}

#[test]
fn two_versions_from_a_helm_repository_and_a_registry_compare_as_helm_template_of_the_archives() {
    if !require_helm() {
        return;
    }
    let dandy = corpus().join("chart-repos/dandydeveloper");
    let tgz = |v: &str| dandy.join(format!("redis-ha-{v}.tgz"));
    let opts = diff_core::ParseOptions::default();
    let want = diff_core::compare(
        &diff_core::parse_manifest("a", &helm_template(&tgz("4.29.4")), &opts).unwrap(),
        &diff_core::parse_manifest("b", &helm_template(&tgz("4.33.2")), &opts).unwrap(),
        &diff_core::DiffOptionsBuilder::new().build().unwrap(),
    );
    let want = serde_json::to_string(&(
        &want.structured_diff.resources,
        &want.structured_diff.stats,
        &want.impact,
    ))
    .unwrap();
    let sha = |v: &str| {
        let d = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(tgz(v)).unwrap());
        let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    };

    let tmp = tempfile::tempdir().unwrap();
    let server = repos_server();
    let repo = format!("{}/dandydeveloper", server.url);
    let got = engine(&tmp.path().join("a"), None)
        .compare(
            &helm_request(&repo, "4.29.4", "4.33.2"),
            &Context::default(),
        )
        .unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(norm(&got), want, "Helm repository");
    assert_eq!(
        (
            got.resolved.version1.as_str(),
            got.resolved.version2.as_str()
        ),
        (sha("4.29.4").as_str(), sha("4.33.2").as_str())
    );
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["helmRepository"], repo.as_str());
    assert_eq!(json["chart"], "redis-ha");
    // The id depends on the archives, not on where they came from or when.
    let again = engine(&tmp.path().join("b"), None)
        .compare(
            &helm_request(&repo, "4.29.4", "4.33.2"),
            &Context::default(),
        )
        .unwrap();
    assert_eq!(again.compare_id, got.compare_id);
    // A range picks as helm does.
    let ranged = engine(&tmp.path().join("b"), None)
        .compare(
            &helm_request(&repo, "~4.29.0", "^4.30"),
            &Context::default(),
        )
        .unwrap();
    assert_eq!(ranged.resolved, got.resolved);

    let Some(reg) = Registry::start() else {
        return;
    };
    for v in ["4.29.4", "4.33.2"] {
        reg.push(&tgz(v));
    }
    let oci = format!("oci://{}/charts", reg.host);
    let from_oci = engine(&tmp.path().join("c"), None)
        .compare(&helm_request(&oci, "4.29.4", "4.33.2"), &Context::default())
        .unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(norm(&from_oci), want, "OCI registry");
    assert_eq!(
        from_oci.resolved, got.resolved,
        "helm push keeps the archive"
    );
    let listed = engine(&tmp.path().join("c"), None)
        .chart_versions(&oci, "redis-ha", &Context::default())
        .unwrap();
    assert_eq!(listed.versions, ["4.33.2", "4.29.4"]);
}

#[test]
fn unknown_charts_and_versions_name_the_nearest_and_values_files_come_from_the_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let server = repos_server();
    let repo = format!("{}/dandydeveloper", server.url);
    let e = engine(tmp.path(), None);
    let err = e
        .compare(
            &helm_request(&repo, "4.29.4", "99.1.0"),
            &Context::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "version_not_found");
    match &err {
        CompareError::ChartVersionNotFound {
            version, nearest, ..
        } => {
            assert_eq!(version, "99.1.0");
            assert_eq!(nearest.first().map(String::as_str), Some("4.33.2"));
        }
        other => panic!("{other:?}"),
    }
    let mut req = helm_request(&repo, "4.29.4", "4.33.2");
    req.chart = Some("redis-h".into());
    let err = e.compare(&req, &Context::default()).unwrap_err();
    assert_eq!(err.code(), "chart_not_found");
    assert!(err.message().contains("redis-ha"), "{}", err.message());

    let listed = e
        .chart_versions(&repo, "redis-ha", &Context::default())
        .unwrap();
    assert_eq!(listed.versions, ["4.33.2", "4.29.4", "4.26.1"]);
    assert_eq!(listed.version_details[0].app_version, "7.2.7");

    // A values file inside the chart, read at each version; one that is not there is named.
    let mut req = helm_request(&repo, "4.29.4", "4.33.2");
    req.values_file = Some("values.yaml".into());
    e.compare(&req, &Context::default()).unwrap();
    req.values_file = Some("ci/missing.yaml".into());
    let err = e.compare(&req, &Context::default()).unwrap_err();
    assert_eq!(err.code(), "values_file_missing");
}

#[test]
fn an_unreachable_repository_is_retried_then_named() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(|_| testkit::chart_repos::Resp::new(503, "down"));
    let repo = format!("{}/charts", server.url);
    let err = engine(tmp.path(), None)
        .compare(
            &helm_request(&repo, "1.0.0", "2.0.0"),
            &Context::with_timeout(std::time::Duration::from_secs(3)),
        )
        .unwrap_err();
    assert!(server.requests().len() > 1, "retried");
    assert!(err.is_transient(), "{err:?}");
    let m = err.message();
    eprintln!("{}: {m}", err.code());
    assert_eq!(err.code(), "repository_unreachable", "{m}");
    assert!(m.contains(&repo) && m.contains("503"), "{m}");
}

#[test]
fn an_archive_that_does_not_match_its_digest_is_a_clear_final_error() {
    let root = corpus().join("chart-repos");
    let index = std::fs::read_to_string(root.join("dandydeveloper/index.yaml")).unwrap();
    let good = digest_of(&root.join("dandydeveloper/redis-ha-4.29.4.tgz"));
    assert!(
        index.contains(&good),
        "the index names the archive's digest"
    );
    let forged = index.replace(&good, &"0".repeat(64));
    let server = Server::start(move |req| {
        if req.path.ends_with("index.yaml") {
            testkit::chart_repos::Resp::new(200, forged.clone())
        } else {
            static_file(&root, req, "")
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let repo = format!("{}/dandydeveloper", server.url);
    let err = engine(tmp.path(), None)
        .compare(
            &helm_request(&repo, "4.29.4", "4.33.2"),
            &Context::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "chart_repository_error", "{}", err.message());
    assert!(
        err.message().contains("digest mismatch"),
        "{}",
        err.message()
    );
    assert!(!err.is_transient());
    // Nothing half-cached: no archive (nor a temporary file) was kept.
    let cached = tmp.path().join("charts/archives/sha256");
    let n = std::fs::read_dir(&cached).map(|d| d.count()).unwrap_or(0);
    assert_eq!(n, 0, "entries in {}", cached.display());
}

fn digest_of(p: &Path) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(p).unwrap());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
