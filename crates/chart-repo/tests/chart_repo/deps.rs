//! Dependencies fetched as `helm dependency build` / `update` would, proven by rendering: the
//! argo-cd corpus cases without their vendored `charts/redis-ha`, resolved through a mirror to
//! the loopback repository, render byte for byte as helm rendered the vendored cases.

use std::path::Path;
use std::time::Duration;

use chart_repo::{Call, DependencySource, Error, LocalCharts, Mirror};
use helm_render::{
    ChartFiles, FileLimits, HelmCliRenderer, NativeRenderer, Options, Renderer, ValuesFile,
};

use crate::server::{Resp, Server, static_file};
use crate::{builder, corpus, dandy};

const ORIGINAL: &str = "https://dandydeveloper.github.io/charts/";

fn repo_server() -> Server {
    let root = dandy();
    Server::start(move |req| static_file(&root, req, "/dandy"))
}

fn mirror(srv: &Server) -> Mirror {
    Mirror::parse(&format!("{ORIGINAL}={}/dandy", srv.url)).unwrap()
}

fn call() -> Call {
    Call::with_timeout(Duration::from_secs(60))
}

fn argo_case() -> std::path::PathBuf {
    corpus().join("cases/argo-cd__7.8.13__8.0.7")
}

/// A side of the argo-cd case as upstream keeps it in git: no `charts/redis-ha`.
fn without_vendored(side: &str) -> ChartFiles {
    let files = ChartFiles::from_dir(&argo_case().join(side), FileLimits::default()).unwrap();
    let kept: ChartFiles = files
        .iter()
        .filter(|(p, _)| !p.starts_with("charts/"))
        .map(|(p, d)| (p.to_owned(), d.to_vec()))
        .collect();
    assert!(kept.len() < files.len());
    kept
}

fn case_options(case: &Path) -> Options {
    let values = std::fs::read_dir(case.join("values"))
        .map(|rd| {
            let mut v: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            v.sort();
            v
        })
        .unwrap_or_default()
        .into_iter()
        .map(|p| ValuesFile {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            content: std::fs::read(&p).unwrap(),
        })
        .collect();
    Options {
        values,
        ..Options::default()
    }
}

#[test]
fn argo_cd_without_charts_renders_as_the_vendored_case() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let mut b = builder(data.path());
    b.mirror(mirror(&srv));
    let repos = b.build().unwrap();
    let case = argo_case();
    let opts = case_options(&case);
    let helm = HelmCliRenderer::locate();
    for (side, version) in [("before", "4.29.4"), ("after", "4.33.2")] {
        let files = without_vendored(side);
        // Unresolved, the chart fails as upstream users see it fail.
        let e = NativeRenderer::new().render(&files, &opts).unwrap_err();
        assert!(e.to_string().contains("missing in charts/"), "{e}");

        let r = repos.resolve_dependencies(&files, None, &call()).unwrap();
        assert_eq!(r.dependencies.len(), 1);
        let d = &r.dependencies[0];
        assert_eq!((d.name.as_str(), d.version.as_str()), ("redis-ha", version));
        assert_eq!(d.source, DependencySource::Locked);
        assert_eq!(d.repository, ORIGINAL);
        assert_eq!(d.parent, "argo-cd");
        assert!(r.fetched());
        assert!(
            r.files
                .get(&format!("charts/redis-ha-{version}.tgz"))
                .is_some()
        );

        let want = std::fs::read_to_string(case.join(format!("rendered/{side}.yaml"))).unwrap();
        let native = NativeRenderer::new().render(&r.files, &opts).unwrap();
        assert!(
            native.manifest == want,
            "native render of {side} differs from helm's"
        );
        if let Some(helm) = &helm {
            let out = helm.render(&r.files, &opts).unwrap();
            assert!(out.manifest == want, "helm render of {side} differs");
        } else {
            eprintln!("helm not on PATH: the helm renderer half of this test did not run");
        }
    }
    assert_eq!(srv.count(".tgz"), 2);
    // Compared again in a new process: nothing is downloaded, not even the index.
    let before = srv.requests().len();
    let mut b = builder(data.path());
    b.mirror(mirror(&srv));
    let again = b.build().unwrap();
    for side in ["before", "after"] {
        let r = again
            .resolve_dependencies(&without_vendored(side), None, &call())
            .unwrap();
        assert!(r.fetched());
    }
    assert_eq!(
        srv.requests().len(),
        before,
        "{:?}",
        &srv.requests()[before..]
    );
    assert_eq!(again.stats().archive_downloads, 0);
    assert_eq!(again.stats().archive_cache_hits, 2);
}

#[test]
fn vendored_dependencies_need_no_network() {
    let data = tempfile::tempdir().unwrap();
    let mut b = builder(data.path());
    b.mirror(Mirror::parse(&format!("{ORIGINAL}=http://127.0.0.1:9/nothing")).unwrap());
    let repos = b.build().unwrap();
    let files = ChartFiles::from_dir(&argo_case().join("before"), FileLimits::default()).unwrap();
    let r = repos.resolve_dependencies(&files, None, &call()).unwrap();
    assert!(!r.fetched());
    assert_eq!(r.dependencies[0].source, DependencySource::Vendored);
    assert_eq!(r.dependencies[0].version, "4.29.4");
    assert_eq!(r.files, files);
    assert_eq!(repos.stats().requests, 0);
}

fn with_file(files: &ChartFiles, path: &str, edit: impl Fn(&str) -> String) -> ChartFiles {
    let mut out = files.clone();
    let text = String::from_utf8(files.get(path).unwrap().to_vec()).unwrap();
    out.insert(path, edit(&text).into_bytes());
    out
}

#[test]
fn an_out_of_sync_lock_is_named() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let mut b = builder(data.path());
    b.mirror(mirror(&srv));
    let repos = b.build().unwrap();
    let files = with_file(&without_vendored("before"), "Chart.yaml", |t| {
        t.replace("version: 4.29.4", "version: 4.26.1")
    });
    let e = repos
        .resolve_dependencies(&files, None, &call())
        .unwrap_err();
    assert!(matches!(e, Error::LockOutOfSync { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("Chart.lock")
            && msg.contains("argo-cd")
            && msg.contains("helm dependency update"),
        "{msg}"
    );
    assert_eq!(srv.requests().len(), 0);
}

#[test]
fn ranges_without_a_lock_pick_the_newest_match() {
    let srv = repo_server();
    let data = tempfile::tempdir().unwrap();
    let mut b = builder(data.path());
    b.mirror(mirror(&srv));
    let repos = b.build().unwrap();
    let mut files = without_vendored("before");
    files = files
        .iter()
        .filter(|(p, _)| *p != "Chart.lock")
        .map(|(p, d)| (p.to_owned(), d.to_vec()))
        .collect();
    for (range, want) in [
        (">=4.26.0 <4.33.0", "4.29.4"),
        ("~4.33", "4.33.2"),
        ("4.x", "4.33.2"),
    ] {
        let f = with_file(&files, "Chart.yaml", |t| {
            t.replace("version: 4.29.4", &format!("version: \"{range}\""))
        });
        let r = repos.resolve_dependencies(&f, None, &call()).unwrap();
        let d = &r.dependencies[0];
        assert_eq!(
            (d.version.as_str(), &d.source),
            (want, &DependencySource::Range),
            "{range}"
        );
        assert_eq!(d.constraint, range);
    }
    let f = with_file(&files, "Chart.yaml", |t| {
        t.replace("version: 4.29.4", "version: \"^5\"")
    });
    let e = repos.resolve_dependencies(&f, None, &call()).unwrap_err();
    let msg = e.to_string();
    assert!(e.is_not_found(), "{e:?}");
    assert!(
        msg.contains("dependency \"redis-ha\"") && msg.contains("^5") && msg.contains("4.33.2"),
        "{msg}"
    );
}

/// A `.tgz` of `files` under `name/`, as `helm package` lays it out.
fn tgz(name: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (p, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("{name}/{p}"), body.as_bytes())
            .unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

struct Dirs(Vec<(&'static str, ChartFiles)>);

impl LocalCharts for Dirs {
    fn read(&self, chart_path: &str, path: &str) -> Result<ChartFiles, String> {
        self.0
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| format!("{path} not found from {chart_path:?}"))
    }
}

#[test]
fn nested_local_aliased_and_disabled_dependencies() {
    // "outer" is published without its own dependency (redis-ha) vendored.
    let outer = tgz(
        "outer",
        &[
            (
                "Chart.yaml",
                &format!(
                    "apiVersion: v2\nname: outer\nversion: 1.0.0\ndependencies:\n- name: redis-ha\n  version: 4.26.1\n  repository: {ORIGINAL}\n"
                ),
            ),
            (
                "values.yaml",
                "redis-ha:\n  fullnameOverride: nested-redis\n",
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outer\n",
            ),
        ],
    );
    let digest = {
        let d = ring::digest::digest(&ring::digest::SHA256, &outer);
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let index = format!(
        "apiVersion: v1\nentries:\n  outer:\n  - name: outer\n    version: 1.0.0\n    digest: {digest}\n    urls: [outer-1.0.0.tgz]\n"
    );
    let root = dandy();
    let srv = Server::start(move |req| {
        if req.path == "/own/index.yaml" {
            Resp::new(200, index.clone())
        } else if req.path == "/own/outer-1.0.0.tgz" {
            Resp::new(200, outer.clone())
        } else {
            static_file(&root, req, "/dandy")
        }
    });
    let data = tempfile::tempdir().unwrap();
    let mut b = builder(data.path());
    b.mirror(mirror(&srv));
    let repos = b.build().unwrap();
    let chart_yaml = format!(
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: outer\n  version: ^1\n  repository: {}/own\n- name: lib\n  version: 0.2.x\n  repository: file://../lib\n- name: redis-ha\n  alias: cache\n  version: 4.26.1\n  repository: {ORIGINAL}\n  condition: cache.enabled\n",
        srv.url
    );
    let app: ChartFiles = [
        ("Chart.yaml", chart_yaml.as_str()),
        ("values.yaml", "cache:\n  enabled: false\n"),
        ("templates/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  lib: {{ include \"lib.hello\" . }}\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
    .collect();
    let lib: ChartFiles = [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: lib\nversion: 0.2.3\ntype: library\n",
        ),
        (
            "templates/_h.tpl",
            "{{- define \"lib.hello\" -}}hello from lib{{- end -}}",
        ),
        (".helmignore", "*.bak\n"),
        ("notes.bak", "ignored"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
    .collect();
    let local = Dirs(vec![("../lib", lib)]);

    // Without a way to read file:// charts, the error says to vendor it.
    let e = repos.resolve_dependencies(&app, None, &call()).unwrap_err();
    assert!(e.to_string().contains("vendor it into charts/"), "{e}");

    let r = repos
        .resolve_dependencies(&app, Some(&local), &call())
        .unwrap();
    let summary: Vec<(String, String, String, Option<String>, &str)> = r
        .dependencies
        .iter()
        .map(|d| {
            (
                d.parent.clone(),
                d.name.clone(),
                d.version.clone(),
                d.alias.clone(),
                d.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "app/outer".into(),
                "redis-ha".into(),
                "4.26.1".into(),
                None,
                "range"
            ),
            ("app".into(), "outer".into(), "1.0.0".into(), None, "range"),
            ("app".into(), "lib".into(), "0.2.3".into(), None, "local"),
            (
                "app".into(),
                "redis-ha".into(),
                "4.26.1".into(),
                Some("cache".into()),
                "range"
            ),
        ]
    );
    let out = NativeRenderer::new()
        .render(&r.files, &Options::default())
        .unwrap();
    let m = &out.manifest;
    assert!(m.contains("lib: hello from lib"), "{m}");
    assert!(
        m.contains("# Source: app/charts/outer/templates/cm.yaml"),
        "outer rendered"
    );
    assert!(
        m.contains("# Source: app/charts/outer/charts/redis-ha/templates/"),
        "the nested dependency rendered"
    );
    assert!(
        m.contains("nested-redis"),
        "outer's values reach its dependency"
    );
    assert!(
        !m.contains("# Source: app/charts/cache/"),
        "the aliased dependency is disabled by its condition"
    );
    // The local chart was packaged with its own .helmignore applied.
    let packaged = r.files.get("charts/lib-0.2.3.tgz").unwrap();
    let lib_files = ChartFiles::from_tgz(packaged, FileLimits::default()).unwrap();
    assert!(lib_files.get("notes.bak").is_none());
}
