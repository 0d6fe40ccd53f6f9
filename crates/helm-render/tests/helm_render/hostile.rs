//! Hostile charts and requests through the native renderer: each stops with a
//! [`RenderError::Limit`] that names the limit and the file, within the render's one memory
//! budget, instead of exhausting memory or time. Renders run on a 2 MiB thread, the stack a
//! server's blocking pool gives them.

use std::time::Duration;

use helm_render::{ChartFiles, NativeRenderer, Options, RenderError, Renderer, ValuesFile};

const CHART_YAML: &str = "apiVersion: v2\nname: demo\nversion: 0.1.0\n";

fn chart(files: &[(&str, &[u8])]) -> ChartFiles {
    let mut c = ChartFiles::new();
    c.insert("Chart.yaml", CHART_YAML);
    for (path, data) in files {
        c.insert(*path, data.to_vec());
    }
    c
}

fn render(c: ChartFiles, o: Options) -> Result<String, RenderError> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || NativeRenderer::new().render(&c, &o).map(|out| out.manifest))
        .unwrap()
        .join()
        .unwrap()
}

#[track_caller]
fn assert_limit(r: Result<String, RenderError>, want: &str, file: &str) -> String {
    match r {
        Err(e @ RenderError::Limit { .. }) => {
            let RenderError::Limit {
                limit, template, ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*limit, want, "{e}");
            assert_eq!(template.as_deref(), Some(file), "{e}");
            let msg = e.to_string();
            assert!(msg.contains(file), "{msg}");
            msg
        }
        other => panic!("expected the {want} limit, got {other:?}"),
    }
}

/// "Billion laughs": nine levels of nine aliases, a few hundred bytes.
fn laughs() -> String {
    let mut text = String::from("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    text
}

#[test]
fn aliases_in_request_values_stop_at_the_memory_budget() {
    let o = Options {
        values: vec![ValuesFile {
            name: "request".into(),
            content: laughs().into_bytes(),
        }],
        ..Options::default()
    };
    let msg = assert_limit(render(chart(&[]), o), "max_memory_bytes", "request");
    assert!(msg.contains("268435456 bytes"), "{msg}");
}

#[test]
fn aliases_in_a_charts_values_yaml_stop_at_the_memory_budget() {
    let c = chart(&[("values.yaml", laughs().as_bytes())]);
    assert_limit(
        render(c, Options::default()),
        "max_memory_bytes",
        "values.yaml",
    );
}

#[test]
fn subchart_archives_share_one_decompression_budget() {
    // Each archive is a few hundred kilobytes that decompresses to 100 MB: alone within the
    // budget, three together over it.
    let sub = |name: &str| {
        let meta = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
        super::tgz(&[
            (&format!("{name}/Chart.yaml"), meta.as_bytes()),
            (&format!("{name}/files/zeros"), &vec![0u8; 100 << 20]),
        ])
    };
    let (a, b, c) = (sub("a"), sub("b"), sub("c"));
    let one = chart(&[("charts/a.tgz", &a)]);
    assert!(render(one, Options::default()).is_ok());
    let three = chart(&[
        ("charts/a.tgz", &a),
        ("charts/b.tgz", &b),
        ("charts/c.tgz", &c),
    ]);
    assert_limit(
        render(three, Options::default()),
        "max_memory_bytes",
        "charts/c.tgz",
    );
}

#[test]
fn archives_nested_in_archives_stop_at_the_depth_limit() {
    let meta = b"apiVersion: v2\nname: n\nversion: 0.1.0\n";
    let mut inner = super::tgz(&[("n/Chart.yaml", meta)]);
    for _ in 0..40 {
        inner = super::tgz(&[("n/Chart.yaml", meta), ("n/charts/n.tgz", &inner)]);
    }
    let c = chart(&[("charts/n.tgz", &inner)]);
    match render(c, Options::default()) {
        Err(RenderError::Limit { limit, value, .. }) => {
            assert_eq!(limit, "max_subchart_depth");
            assert_eq!(value, helm_render::MAX_SUBCHART_DEPTH as u64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_self_referencing_schema_is_evaluated_once_per_value() {
    // 4^32 evaluations without memoising: the compare API stayed jammed until a restart.
    let schema =
        br##"{"allOf":[{"$ref":"#"},{"$ref":"#"},{"$ref":"#"},{"$ref":"#"}],"type":"object"}"##;
    let c = chart(&[
        ("values.schema.json", schema),
        ("values.yaml", b"a: {b: [1, 2, 3]}\n"),
        ("templates/cm.yaml", b"a: {{ .Values.a.b | len }}\n"),
    ]);
    let out = render(c, Options::default()).unwrap();
    assert!(out.contains("a: 3"), "{out}");
}

#[test]
fn schema_errors_that_multiply_stop_at_the_evaluation_limit() {
    let mut defs = String::from(r#""l0":{"type":"string"}"#);
    for i in 1..20 {
        let r = format!(r##"{{"$ref":"#/definitions/l{}"}}"##, i - 1);
        defs.push_str(&format!(r#","l{i}":{{"allOf":[{r},{r},{r},{r}]}}"#));
    }
    let schema = format!(
        r##"{{"definitions":{{{defs}}},"properties":{{"x":{{"$ref":"#/definitions/l19"}}}}}}"##
    );
    let c = chart(&[
        ("values.schema.json", schema.as_bytes()),
        ("values.yaml", b"x: 1\n"),
    ]);
    assert_limit(
        render(c, Options::default()),
        "max_schema_evaluations",
        "demo/values.schema.json",
    );
}

#[test]
fn schema_validation_stops_at_the_deadline() {
    let items: String = (0..5000).map(|i| format!("- {i}\n")).collect();
    let c = chart(&[
        (
            "values.schema.json",
            br#"{"properties":{"l":{"items":{"type":"integer","minimum":0}}}}"#,
        ),
        ("values.yaml", format!("l:\n{items}").as_bytes()),
    ]);
    let o = Options {
        timeout: Duration::ZERO,
        ..Options::default()
    };
    assert!(matches!(render(c, o), Err(RenderError::Timeout { .. })));
}

#[test]
fn template_limits_name_the_template() {
    let c = chart(&[
        (
            "templates/_helpers.tpl",
            br#"{{ define "pad" }}{{ indent 1000000000000000 "x" }}{{ end }}"#,
        ),
        ("templates/cm.yaml", br#"a: {{ include "pad" . }}"#),
    ]);
    let msg = assert_limit(
        render(c, Options::default()),
        "max_memory_bytes",
        "demo/templates/cm.yaml",
    );
    assert_eq!(
        msg,
        "rendering stopped: template execution exceeded the memory budget (268435456 bytes) \
         in template pad (demo/templates/cm.yaml)"
    );
}

#[test]
fn the_budget_is_configured_per_render_and_shared_with_values() {
    // 1 MB of values (read, converted, coalesced) leave too little of a 4 MB budget for a
    // template that builds 2 MB.
    let values = format!("big: {}\n", "x".repeat(1 << 20));
    let c = chart(&[
        ("values.yaml", values.as_bytes()),
        ("templates/cm.yaml", br#"a: {{ repeat 2000000 "y" | len }}"#),
    ]);
    let small = Options {
        max_memory_bytes: 4 << 20,
        ..Options::default()
    };
    let msg = assert_limit(
        render(c.clone(), small),
        "max_memory_bytes",
        "demo/templates/cm.yaml",
    );
    assert!(msg.contains("4194304 bytes"), "{msg}");
    assert!(
        render(c, Options::default())
            .unwrap()
            .contains("a: 2000000")
    );
}

#[test]
fn large_files_read_in_a_loop_and_globs_are_bounded() {
    let big = vec![b'x'; 20 << 20];
    let template = br#"{{ range until 100 }}{{ $_ := $.Files.Get "big.txt" }}{{ end }}"#;
    let c = chart(&[("big.txt", &big), ("templates/cm.yaml", template)]);
    assert_limit(
        render(c, Options::default()),
        "max_memory_bytes",
        "demo/templates/cm.yaml",
    );
    let name = format!("{}.txt", "a".repeat(200));
    let glob = format!(r#"n: {{{{ len (.Files.Glob "{}b") }}}}"#, "**a".repeat(60));
    let c = chart(&[(&name, b"x"), ("templates/cm.yaml", glob.as_bytes())]);
    assert!(render(c, Options::default()).unwrap().contains("n: 0"));
}

#[test]
fn huge_set_indexes_are_refused_as_helm_refuses_them() {
    let o = Options {
        set: vec!["a[1000000000]=1".into()],
        ..Options::default()
    };
    match render(chart(&[]), o) {
        Err(RenderError::Chart { message }) => {
            assert!(
                message.contains("greater than maximum supported index"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}
