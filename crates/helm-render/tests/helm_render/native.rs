//! The native renderer against helm's reference renders of the shared corpus, and on fixtures
//! whose expected output was produced by helm v3.17.1 (`fixtures/generate.sh`).

use std::path::Path;

use helm_render::{
    ChartFiles, FileLimits, NativeRenderer, Options, RenderError, Renderer, ValuesFile,
};

/// Sides the native renderer does not reproduce yet (`case side`), with the cause.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn case_values(case: &Path) -> Vec<ValuesFile> {
    let mut files: Vec<_> = std::fs::read_dir(case.join("values"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|p| ValuesFile {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            content: std::fs::read(&p).unwrap(),
        })
        .collect()
}

#[test]
fn renders_every_corpus_case_byte_for_byte() {
    let dir = super::corpus();
    let mut cases: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let native = NativeRenderer::new();
    let mut differ: Vec<(String, String)> = Vec::new();
    let mut total = 0;
    for case in &cases {
        let values = case_values(case);
        for side in ["before", "after"] {
            total += 1;
            let id = format!("{} {side}", case.file_name().unwrap().to_string_lossy());
            let files = ChartFiles::from_dir(&case.join(side), FileLimits::default()).unwrap();
            let opts = Options {
                values: values.clone(),
                ..Options::default()
            };
            let want = std::fs::read_to_string(case.join(format!("rendered/{side}.yaml"))).unwrap();
            match native.render(&files, &opts) {
                Ok(out) => {
                    assert_eq!(out.renderer.name, "native");
                    if out.manifest != want {
                        differ.push((id, first_difference(&want, &out.manifest)));
                    }
                }
                Err(e) => differ.push((id, format!("error: {e}"))),
            }
        }
    }
    if !differ.is_empty() {
        println!("{:<52} | cause", "case side");
        for (id, why) in &differ {
            println!("{id:<52} | {why}");
        }
    }
    let unexpected: Vec<&(String, String)> = differ
        .iter()
        .filter(|(id, _)| !KNOWN_DIFFERENCES.iter().any(|(k, _)| k == id))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} of {total} sides differ from helm's reference: {unexpected:#?}",
        differ.len()
    );
    println!("{} of {total} sides identical", total - differ.len());
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}: want {w:?} got {g:?}", i + 1);
        }
    }
    format!(
        "lengths differ: want {} lines, got {}",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn required_failure_is_a_chart_error() {
    let mut c = ChartFiles::new();
    c.insert("Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
    c.insert(
        "templates/a.yaml",
        "x: {{ required \"need img\" .Values.img }}\n",
    );
    match NativeRenderer::new().render(&c, &Options::default()) {
        Err(RenderError::Chart { message }) => assert_eq!(
            message,
            "execution error at (demo/templates/a.yaml:1:6): need img\n\nUse --debug flag to render out invalid YAML"
        ),
        other => panic!("{other:?}"),
    }
}

/// A chart large enough that its schemas are checked on a second thread while its templates
/// parse (a long schema, long templates), with a template that does not parse.
fn schema_and_parse_error_chart(kube_version: &str) -> ChartFiles {
    let mut c = ChartFiles::new();
    c.insert(
        "Chart.yaml",
        format!("apiVersion: v2\nname: demo\nversion: 0.1.0\nkubeVersion: \"{kube_version}\"\n"),
    );
    c.insert("values.yaml", "replicas: 1\n");
    let padding = "x".repeat(8 << 10);
    c.insert(
        "values.schema.json",
        format!(
            r#"{{"description": "{padding}", "type": "object", "properties": {{"replicas": {{"type": "integer", "minimum": 1}}}}}}"#
        ),
    );
    c.insert("templates/a.yaml", format!("# {}\n", "y".repeat(64 << 10)));
    c.insert("templates/b.yaml", "{{ if }}\n");
    c
}

#[test]
fn schema_then_kube_version_then_parse_errors_come_in_helms_order() {
    let chart_err =
        |chart: &ChartFiles, opts: &Options| match NativeRenderer::new().render(chart, opts) {
            Err(RenderError::Chart { message }) => message,
            other => panic!("{other:?}"),
        };
    let bad_values = Options {
        set: vec!["replicas=0".into()],
        ..Options::default()
    };
    let any_kube = schema_and_parse_error_chart(">=1.0.0-0");
    let old_kube = schema_and_parse_error_chart("<1.0.0-0");
    let schema = chart_err(&any_kube, &bad_values);
    assert!(
        schema.starts_with("values don't meet the specifications of the schema(s)"),
        "{schema}"
    );
    assert_eq!(chart_err(&old_kube, &bad_values), schema);
    let kube = chart_err(&old_kube, &Options::default());
    assert!(
        kube.starts_with("chart requires kubeVersion: <1.0.0-0"),
        "{kube}"
    );
    let parse = chart_err(&any_kube, &Options::default());
    assert!(
        parse.starts_with("parse error at (demo/templates/b.yaml:1)"),
        "{parse}"
    );
}

/// Splits `cases.txt` flags the way the generator's unquoted `$flags` does (on spaces).
fn options_from_flags(dir: &Path, flags: &str) -> Options {
    let mut o = Options::default();
    let mut it = flags.split_whitespace();
    while let Some(f) = it.next() {
        let mut val = || it.next().unwrap().to_string();
        match f {
            "-f" => {
                let name = val();
                o.values.push(ValuesFile {
                    content: std::fs::read(dir.join(&name)).unwrap(),
                    name,
                });
            }
            "--set" => o.set.push(val()),
            "--set-string" => o.set_string.push(val()),
            "--set-json" => o.set_json.push(val()),
            "--set-file" => {
                for (key, path) in helm_render::split_set_file(&val()).unwrap() {
                    o.set_file
                        .push((key, std::fs::read(dir.join(path)).unwrap()));
                }
            }
            "--kube-version" => o.kube_version = Some(val()),
            "--api-versions" => o.api_versions.push(val()),
            "--include-crds" => o.include_crds = true,
            "--no-hooks" => o.no_hooks = true,
            "--skip-tests" => o.skip_tests = true,
            other => panic!("unknown flag {other}"),
        }
    }
    o
}

#[test]
fn fixtures_match_helm() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases = std::fs::read_to_string(dir.join("cases.txt")).unwrap();
    let native = NativeRenderer::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in cases.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        n += 1;
        let mut parts = line.splitn(3, '|');
        let (id, chart, flags) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap_or(""),
        );
        let files =
            ChartFiles::from_dir(&dir.join("charts").join(chart), FileLimits::default()).unwrap();
        let opts = options_from_flags(&dir, flags);
        let want_out = std::fs::read_to_string(dir.join(format!("expected/{id}.out"))).unwrap();
        let want_err = std::fs::read_to_string(dir.join(format!("expected/{id}.err"))).ok();
        match (native.render(&files, &opts), want_err) {
            (Ok(out), None) => {
                if out.manifest != want_out {
                    failures.push(format!(
                        "{id}: {}",
                        first_difference(&want_out, &out.manifest)
                    ));
                }
            }
            (Err(RenderError::Chart { message }), Some(err)) => {
                let want = err.trim_end().trim_start_matches("Error: ");
                if message.trim_end() != want {
                    failures.push(format!("{id}: error\n want {want:?}\n got  {message:?}"));
                }
            }
            (got, want) => failures.push(format!("{id}: got {got:?}, helm said {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{n} fixture cases identical to helm");
}

#[test]
fn unsupported_functions_are_found_as_names_in_templates_only() {
    let chart = |files: &[(&str, &[u8])]| {
        let mut set = ChartFiles::new();
        set.insert("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n");
        for (path, data) in files {
            set.insert(*path, data.to_vec());
        }
        helm_render::unsupported_features(&set)
    };
    let found = vec!["function fromToml".to_owned()];
    // A call, after bytes that are not UTF-8, and in a helper file.
    assert_eq!(
        chart(&[("templates/a.yaml", b"x: {{ fromToml .Values.t }}\n")]),
        found
    );
    assert_eq!(
        chart(&[(
            "templates/_h.tpl",
            b"\xff\xfe{{- define \"h\" }}{{ .x | fromToml }}{{ end }}"
        )]),
        found
    );
    // Not a call of it: a field, a longer name, a variable; nor outside templates/.
    for text in [
        &b"x: {{ .Values.fromToml }}"[..],
        b"x: {{ fromTomlish . }}",
        b"{{ $fromToml := 1 }}",
        b"x: {{ printf \"%s\" \"fromTomlX\" }}\xff",
    ] {
        assert_eq!(
            chart(&[("templates/a.yaml", text)]),
            Vec::<String>::new(),
            "{text:?}"
        );
    }
    assert_eq!(
        chart(&[
            ("values.yaml", b"t: '{{ fromToml . }}'"),
            ("README.md", b"fromToml")
        ]),
        Vec::<String>::new()
    );
    // In a packaged subchart's templates.
    let sub = super::tgz(&[
        ("b/Chart.yaml", b"apiVersion: v2\nname: b\nversion: 1.0.0\n"),
        ("b/templates/b.yaml", b"{{ fromToml \"a = 1\" | toYaml }}"),
    ]);
    assert_eq!(chart(&[("charts/b-1.0.0.tgz", &sub)]), found);
}
