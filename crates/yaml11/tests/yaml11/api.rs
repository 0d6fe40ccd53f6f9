//! The public API's contract, with no corpus needed.

use yaml11::{Document, Error, Limits, Mapping, Number, Value, parse_stream, parse_value};

#[test]
fn parse_value_reads_one_document() {
    let limits = Limits::default();
    assert_eq!(parse_value("", &limits), Ok(Value::Null));
    assert_eq!(parse_value("# only a comment\n", &limits), Ok(Value::Null));
    assert_eq!(parse_value("~\n", &limits), Ok(Value::Null));
    let v = parse_value("replicas: 3\nimage:\n  tag: 0755\n", &limits).unwrap();
    assert_eq!(v.pointer(&["image", "tag"]), Some(&Value::from(493i64)));
    assert_eq!(
        parse_value("a: 1\n---\nb: 2\n", &limits),
        Err(Error::MultipleDocuments { line: 3 })
    );
}

#[test]
fn a_helm_render_stream() {
    let text = "---\n# Source: app/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: release-app\n  labels:\n    helm.sh/chart: app-1.0.0\n---\n# Source: app/templates/empty.yaml\n---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\ndata:\n  enabled: \"true\"\n  config.yaml: |\n    port: 8080\n    debug: off\n";
    let docs = parse_stream(text, &Limits::default()).unwrap();
    let summary: Vec<(usize, usize, &str)> = docs
        .iter()
        .map(|d: &Document| {
            (
                d.index,
                d.line,
                d.value.get("kind").and_then(Value::as_str).unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [(1, 3, "ServiceAccount"), (3, 13, "ConfigMap")]);
    let data = docs[1].value.get("data").unwrap();
    assert_eq!(data.get("enabled"), Some(&Value::from("true")));
    assert_eq!(
        data.get("config.yaml").and_then(Value::as_str),
        Some("port: 8080\ndebug: off\n")
    );
}

#[test]
fn values_file_semantics() {
    let text = "defaults: &d\n  pullPolicy: IfNotPresent\n  debug: no\nimage:\n  <<: *d\n  repository: nginx\n  tag: \"1.25\"\nreplicas: 2\nratio: .5\nports: [80, 443]\nempty:\n";
    let v = parse_value(text, &Limits::default()).unwrap();
    let image = v.get("image").and_then(Value::as_mapping).unwrap();
    let keys: Vec<&String> = image.keys().collect();
    assert_eq!(keys, ["pullPolicy", "debug", "repository", "tag"]);
    assert_eq!(image.get("debug"), Some(&Value::Bool(false)));
    assert_eq!(image.get("tag"), Some(&Value::from("1.25")));
    assert_eq!(v.get("replicas"), Some(&Value::Number(Number::Int(2))));
    assert_eq!(v.get("ratio"), Some(&Value::Number(Number::Float(0.5))));
    assert_eq!(
        v.get("ports"),
        Some(&Value::Sequence(vec![
            Value::from(80i64),
            Value::from(443i64)
        ]))
    );
    assert_eq!(v.get("empty"), Some(&Value::Null));
}

#[test]
fn syntax_errors_point_into_the_whole_input() {
    let text = "a: 1\n---\nkind: ConfigMap\ndata:\n  x: \"unterminated\n";
    match parse_stream(text, &Limits::default()) {
        Err(e @ Error::Syntax { .. }) => {
            assert_eq!(
                e.to_string(),
                "document 2: line 5 column 6: unterminated double-quoted string"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_are_named_errors() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        parse_stream("a: 1234567890\n", &limits),
        Err(Error::TooLarge {
            size: 14,
            limit: 10
        })
    );
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(parse_stream("a: {b: [1]}\n", &limits).is_ok());
    assert!(matches!(
        parse_stream("a: {b: [[1]]}\n", &limits),
        Err(Error::TooDeep {
            document: 1,
            line: 1,
            limit: 3
        })
    ));
    let limits = Limits {
        max_nodes: 5,
        ..Limits::default()
    };
    assert!(matches!(
        parse_stream("a: &a [1, 2, 3]\nb: *a\n", &limits),
        Err(Error::TooManyNodes {
            document: 1,
            limit: 5
        })
    ));
}

#[test]
fn alias_expansion_is_counted_in_bytes() {
    // Ten aliases of a 100 KB string: few nodes, a megabyte of copies.
    let big = "x".repeat(100_000);
    let mut text = format!("a: &a {big}\nl:\n");
    for _ in 0..10 {
        text.push_str("- *a\n");
    }
    let limits = Limits {
        max_value_bytes: 500_000,
        ..Limits::default()
    };
    let err = parse_stream(&text, &limits).unwrap_err();
    assert_eq!(
        err,
        Error::TooManyBytes {
            document: 1,
            limit: 500_000
        }
    );
    assert!(
        err.to_string().contains("values over 500000 bytes"),
        "{err}"
    );
    assert!(parse_stream(&text, &Limits::default()).is_ok());
}

#[test]
fn mapping_keeps_document_order() {
    let v = parse_value("z: 1\na: 2\nm: 3\n", &Limits::default()).unwrap();
    let m: &Mapping = v.as_mapping().unwrap();
    assert_eq!(
        m.keys().map(String::as_str).collect::<Vec<_>>(),
        ["z", "a", "m"]
    );
    assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"z":1,"a":2,"m":3}"#);
}
