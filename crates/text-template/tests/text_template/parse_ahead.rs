//! Templates parsed apart ([`TemplateSet::parse_detached`], on any thread, under any name) and
//! joined with [`TemplateSet::parse_all_with`] make the same set as [`TemplateSet::parse_all`].

use text_template::{ExecContext, ParsedTemplate, TemplateSet, Value};

/// Files of a chart-like set: shared definitions, a file using them, a copy of a file, a file
/// whose definition carries the file's own name.
const FILES: &[(&str, &str)] = &[
    (
        "app/templates/_helpers.tpl",
        r#"{{- define "app.name" -}}{{ .name | upper }}{{- end -}}"#,
    ),
    (
        "app/templates/cm.yaml",
        r#"name: {{ template "app.name" . }}{{ range $i, $x := .list }} {{ $i }}={{ $x }}{{ end }}{{ if .fail }}{{ index .list 5 }}{{ end }}"#,
    ),
    (
        "app/charts/a/templates/cm.yaml",
        r#"name: {{ template "app.name" . }}{{ range $i, $x := .list }} {{ $i }}={{ $x }}{{ end }}{{ if .fail }}{{ index .list 5 }}{{ end }}"#,
    ),
    (
        "app/templates/named.yaml",
        r#"{{- define "app/templates/named.yaml" -}}defined {{ .name }}{{- end -}}"#,
    ),
];

fn data(fail: bool) -> Value {
    Value::map([
        ("name", Value::str("web")),
        ("fail", Value::Bool(fail)),
        ("list", Value::list(vec![Value::str("x"), Value::Int(2)])),
    ])
}

/// Every file's output, and its error when it fails (which names the file and the position),
/// by name.
fn outputs(set: &TemplateSet) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = set
        .names()
        .into_iter()
        .flat_map(|name| [false, true].map(|fail| (name, fail)))
        .map(|(name, fail)| {
            let mut ctx = ExecContext::new(1);
            let text = set
                .execute(name, &data(fail), &mut ctx)
                .unwrap_or_else(|e| format!("error: {e}"));
            (name.to_owned(), text)
        })
        .collect();
    out.sort();
    out
}

/// `FILES` parsed ahead under other names (their paths without the `app/` prefix, as a
/// helper sees them before the chart's name is known), on another thread.
fn parsed_ahead(files: &[(&str, &str)]) -> Vec<ParsedTemplate> {
    let owned: Vec<(String, String)> = files
        .iter()
        .map(|(name, text)| (name.trim_start_matches("app/").to_owned(), text.to_string()))
        .collect();
    std::thread::spawn(move || {
        let set = TemplateSet::helm();
        owned
            .iter()
            .map(|(name, text)| set.parse_detached(name, text))
            .collect()
    })
    .join()
    .unwrap()
}

#[test]
fn templates_parsed_apart_under_other_names_join_as_if_parsed_together() {
    let mut together = TemplateSet::helm();
    together.parse_all(FILES).unwrap();

    let mut ahead: Vec<Option<ParsedTemplate>> =
        parsed_ahead(FILES).into_iter().map(Some).collect();
    let mut asked = Vec::new();
    let mut apart = TemplateSet::helm();
    apart
        .parse_all_with(FILES, &mut |i| {
            asked.push(i);
            ahead[i].take()
        })
        .unwrap();

    assert_eq!(outputs(&apart), outputs(&together));
    let names = outputs(&apart);
    assert!(
        names
            .iter()
            .any(|(n, out)| n == "app/charts/a/templates/cm.yaml" && out == "name: WEB 0=x 1=2"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|(n, out)| n == "app/charts/a/templates/cm.yaml"
                && out.starts_with("error: template: app/charts/a/templates/cm.yaml:1:")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|(n, out)| n == "app/templates/named.yaml" && out == "defined web"),
        "{names:?}"
    );
    // The copy's text was asked for once, under its first file.
    assert_eq!(asked, vec![0, 1, 3]);
}

#[test]
fn a_template_that_does_not_parse_is_reported_under_its_final_name() {
    let files: &[(&str, &str)] = &[
        ("app/templates/ok.yaml", "fine {{ .name }}"),
        ("app/templates/bad.yaml", "line\n{{ .name "),
        ("app/templates/later.yaml", "{{ end }}"),
    ];
    let mut together = TemplateSet::helm();
    let want = together.parse_all(files).unwrap_err();

    let mut ahead: Vec<Option<ParsedTemplate>> =
        parsed_ahead(files).into_iter().map(Some).collect();
    let mut apart = TemplateSet::helm();
    let got = apart
        .parse_all_with(files, &mut |i| ahead[i].take())
        .unwrap_err();
    assert_eq!(got.0, 1);
    assert_eq!(got.1.to_string(), want.1.to_string());
    assert!(
        got.1.to_string().contains("app/templates/bad.yaml"),
        "{}",
        got.1
    );
    // Nothing joined the set.
    assert!(apart.names().is_empty(), "{:?}", apart.names());
}

#[test]
fn templates_not_parsed_ahead_are_parsed_when_joined() {
    let mut together = TemplateSet::helm();
    together.parse_all(FILES).unwrap();
    let mut ahead: Vec<Option<ParsedTemplate>> = parsed_ahead(FILES)
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i % 2 == 0).then_some(p))
        .collect();
    let mut apart = TemplateSet::helm();
    apart
        .parse_all_with(FILES, &mut |i| ahead[i].take())
        .unwrap();
    assert_eq!(outputs(&apart), outputs(&together));
}
