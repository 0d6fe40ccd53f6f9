//! The helm CLI backend: byte-identical to the corpus's reference renders, and bounded.

use std::time::Duration;

use helm_render::{
    ChartFiles, FileLimits, HelmCliRenderer, Options, RenderError, Renderer, ValuesFile,
};

fn chart(files: &[(&str, &str)]) -> ChartFiles {
    let mut c = ChartFiles::new();
    for (p, t) in files {
        c.insert(*p, *t);
    }
    c
}

fn small_chart() -> ChartFiles {
    chart(&[
        ("Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n"),
        ("values.yaml", "replicas: 2\nimage: app:1\n"),
        (
            "templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n      - name: app\n        image: {{ required \"image is required\" .Values.image }}\n",
        ),
    ])
}

#[test]
fn renders_every_corpus_case_byte_for_byte() {
    let dir = super::corpus();
    let Some(helm) = super::helm() else {
        return;
    };
    let mut cases: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let mut differ = Vec::new();
    for case in &cases {
        let values: Vec<ValuesFile> = std::fs::read_dir(case.join("values"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| ValuesFile {
                        name: e.file_name().to_string_lossy().into_owned(),
                        content: std::fs::read(e.path()).unwrap(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        for side in ["before", "after"] {
            let files = ChartFiles::from_dir(&case.join(side), FileLimits::default()).unwrap();
            let opts = Options {
                values: values.clone(),
                ..Options::default()
            };
            let out = helm
                .render(&files, &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
            let want = std::fs::read_to_string(case.join(format!("rendered/{side}.yaml"))).unwrap();
            assert_eq!(out.renderer.name, "helm");
            if out.manifest != want {
                differ.push(format!(
                    "{} {side}",
                    case.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "renders differ from helm's reference: {differ:#?}"
    );
    println!("{} of {} sides identical", cases.len() * 2, cases.len() * 2);
}

#[test]
fn options_reach_helm() {
    let Some(helm) = super::helm() else { return };
    let opts = Options {
        release_name: "web".into(),
        namespace: "prod".into(),
        values: vec![ValuesFile {
            name: "v".into(),
            content: b"replicas: 5\n".to_vec(),
        }],
        set: vec!["image=app:2".into()],
        ..Options::default()
    };
    let out = helm.render(&small_chart(), &opts).unwrap();
    assert!(
        out.manifest.contains("name: web\n  namespace: prod"),
        "{}",
        out.manifest
    );
    assert!(out.manifest.contains("replicas: 5"));
    assert!(out.manifest.contains("image: app:2"));
    assert!(
        out.manifest
            .starts_with("---\n# Source: demo/templates/deploy.yaml\n")
    );
    assert!(
        out.renderer.version.starts_with("v3."),
        "{}",
        out.renderer.version
    );
}

#[test]
fn a_broken_chart_is_a_chart_error_with_helms_message() {
    let Some(helm) = super::helm() else { return };
    let opts = Options {
        set: vec!["image=null".into()],
        ..Options::default()
    };
    let err = helm.render(&small_chart(), &opts).unwrap_err();
    match err {
        RenderError::Chart { message } => {
            assert!(message.contains("image is required"), "{message}");
            assert!(message.contains("demo/templates/deploy.yaml"), "{message}");
        }
        other => panic!("expected a chart error, got {other:?}"),
    }
}

#[test]
fn a_schema_ref_to_the_network_is_never_fetched() {
    let Some(helm) = super::helm() else { return };
    let mut files = small_chart();
    files.insert(
        "values.schema.json",
        r#"{"$ref": "https://schemas.chartimpact-test.invalid/values.json"}"#,
    );
    let err = helm.render(&files, &Options::default()).unwrap_err();
    match err {
        // Refused by the loopback proxy: no connection to the host, not even a DNS lookup
        // (which would fail with "no such host").
        RenderError::Chart { message } => {
            assert!(message.contains("proxyconnect"), "{message}");
            assert!(!message.contains("no such host"), "{message}");
        }
        other => panic!("expected a chart error, got {other:?}"),
    }
    // The native renderer never follows a remote `$ref` and renders.
    let native = helm_render::NativeRenderer::default()
        .render(&files, &Options::default())
        .unwrap();
    assert!(native.manifest.contains("kind: Deployment"));
}

#[test]
fn a_render_that_overruns_its_timeout_is_stopped() {
    let Some(helm) = super::helm() else { return };
    let heavy = chart(&[
        (
            "Chart.yaml",
            "apiVersion: v2\nname: heavy\nversion: 0.1.0\n",
        ),
        (
            "templates/cm.yaml",
            "{{- range until 3000000 }}{{ . }}{{ end }}",
        ),
    ]);
    let opts = Options {
        timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let start = std::time::Instant::now();
    let err = helm.render(&heavy, &opts).unwrap_err();
    assert!(matches!(err, RenderError::Timeout { .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn output_over_the_cap_is_refused() {
    let Some(helm) = super::helm() else { return };
    let opts = Options {
        max_output_bytes: 100,
        ..Options::default()
    };
    let err = helm.render(&small_chart(), &opts).unwrap_err();
    assert!(
        matches!(err, RenderError::OutputTooLarge { limit: 100 }),
        "{err:?}"
    );
}

#[test]
fn a_missing_binary_is_unavailable_not_a_chart_error() {
    let helm = HelmCliRenderer::new("/nonexistent/helm");
    let err = helm
        .render(&small_chart(), &Options::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            RenderError::Unavailable {
                renderer: "helm",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn invalid_options_are_refused_before_running_anything() {
    let helm = HelmCliRenderer::new("/nonexistent/helm");
    for opts in [
        Options {
            release_name: "Bad_Name".into(),
            ..Options::default()
        },
        Options {
            set: vec!["--post-renderer=/bin/sh".into()],
            ..Options::default()
        },
        Options {
            kube_version: Some("--x".into()),
            ..Options::default()
        },
        Options {
            set_json: vec!["--post-renderer=/bin/sh".into()],
            ..Options::default()
        },
        // A set-file key that would make helm read a host path, or set more than one key.
        Options {
            set_file: vec![("a=/etc/passwd,b".into(), b"x".to_vec())],
            ..Options::default()
        },
        Options {
            set_file: vec![("a={/etc/passwd}".into(), b"x".to_vec())],
            ..Options::default()
        },
        Options {
            set_file: vec![(String::new(), b"x".to_vec())],
            ..Options::default()
        },
    ] {
        assert!(matches!(
            helm.render(&small_chart(), &opts),
            Err(RenderError::Option(_))
        ));
    }
}

#[test]
fn fingerprints_differ_by_option() {
    let a = Options::default().fingerprint();
    let b = Options {
        set: vec!["a=1".into()],
        ..Options::default()
    }
    .fingerprint();
    assert_ne!(a, b);
    assert_eq!(a, Options::default().fingerprint());
    let json = Options {
        set_json: vec!["a=1".into()],
        ..Options::default()
    }
    .fingerprint();
    let file = |content: &[u8]| {
        Options {
            set_file: vec![("a".into(), content.to_vec())],
            ..Options::default()
        }
        .fingerprint()
    };
    assert_ne!(json, b);
    assert_ne!(json, a);
    assert_ne!(file(b"1"), file(b"2"));
    assert_ne!(file(b"1"), a);
}

/// `--set-json` and `--set-file` through helm give the fixtures' helm-made expectations (the
/// file content travels in the request and is written to helm's temporary directory).
#[test]
fn set_json_and_set_file_match_the_fixtures() {
    let Some(helm) = super::helm() else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = ChartFiles::from_dir(&dir.join("charts/setvals"), FileLimits::default()).unwrap();
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let opts = Options {
        set_json: vec![
            r#"list=[1,2,{"a":true}]"#.into(),
            r#"obj={"x":1.5,"y":null},n=3,empty="#.into(),
            r#"deep.er[1]={"k":"v"}"#.into(),
        ],
        set: vec!["list[0]=over".into()],
        ..Options::default()
    };
    let want = std::fs::read_to_string(dir.join("expected/set-json.out")).unwrap();
    assert_eq!(helm.render(&files, &opts).unwrap().manifest, want);
    let opts = Options {
        set_file: vec![
            ("config".into(), read("setfile.txt")),
            (r"other\.key".into(), read("setfile-2.txt")),
            ("arr[1]".into(), read("setfile.txt")),
        ],
        set: vec!["config=fromset".into()],
        set_string: vec!["s=1".into()],
        ..Options::default()
    };
    let want = std::fs::read_to_string(dir.join("expected/set-file.out")).unwrap();
    assert_eq!(helm.render(&files, &opts).unwrap().manifest, want);
}

#[test]
fn schema_references_to_loopback_and_host_files_are_refused() {
    let Some(helm) = super::helm() else { return };
    // A real server on loopback: helm fetched from it before (Go never proxies loopback).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let targets = [
        format!("http://127.0.0.1:{port}/s.json"),
        format!("https://127.0.0.1:{port}/s.json"),
        format!("http://localhost:{port}/s.json"),
        "file:///etc/hostname".to_string(),
        "../../../../../../../etc/hostname".to_string(),
    ];
    let meta = "apiVersion: v2\nname: demo\nversion: 0.1.0\n";
    let sub_meta = "apiVersion: v2\nname: sub\nversion: 0.1.0\n";
    for target in &targets {
        let schema = format!(r#"{{"properties":{{"a":{{"$ref":"{target}"}}}}}}"#);
        let own = chart(&[
            ("Chart.yaml", meta),
            ("values.schema.json", &schema),
            ("templates/a.yaml", "a: 1\n"),
        ]);
        let in_subchart = chart(&[
            ("Chart.yaml", meta),
            ("charts/sub/Chart.yaml", sub_meta),
            ("charts/sub/values.schema.json", &schema),
        ]);
        let mut packaged = chart(&[("Chart.yaml", meta)]);
        packaged.insert(
            "charts/sub-0.1.0.tgz",
            super::tgz(&[
                ("sub/Chart.yaml", sub_meta.as_bytes()),
                ("sub/values.schema.json", schema.as_bytes()),
            ]),
        );
        for (how, c) in [
            ("own", own),
            ("subchart", in_subchart),
            ("packaged", packaged),
        ] {
            match helm.render(&c, &Options::default()) {
                Err(RenderError::Chart { message }) => {
                    assert!(message.contains("is refused"), "{how} {target}: {message}");
                    assert!(message.contains(target.as_str()), "{how}: {message}");
                }
                other => panic!("{how} {target}: {other:?}"),
            }
        }
    }
    let id = format!(r#"{{"$id":"http://127.0.0.1:{port}/","type":"object"}}"#);
    let c = chart(&[("Chart.yaml", meta), ("values.schema.json", &id)]);
    assert!(matches!(
        helm.render(&c, &Options::default()),
        Err(RenderError::Chart { .. })
    ));
    assert!(
        listener.accept().is_err(),
        "helm connected to the loopback server"
    );
    // References within the schema still work.
    let local = r##"{"definitions":{"n":{"type":"integer"}},"properties":{"a":{"$ref":"#/definitions/n"}}}"##;
    let ok = chart(&[
        ("Chart.yaml", meta),
        ("values.yaml", "a: 1\n"),
        ("values.schema.json", local),
        ("templates/a.yaml", "a: {{ .Values.a }}\n"),
    ]);
    let out = helm.render(&ok, &Options::default()).unwrap();
    assert!(out.manifest.contains("a: 1"), "{}", out.manifest);
    if !HelmCliRenderer::sandboxed() {
        eprintln!("note: no network namespace here; helm's requests go to the refusing proxy");
    }
}
