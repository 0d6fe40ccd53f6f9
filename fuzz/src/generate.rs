//! Inputs built from the grammars of the formats: YAML with anchors, tags and every scalar
//! style; templates with every action, control structure and function; JSON schemas with
//! references and combinators; `--set` expressions; webhook payloads.

use crate::rng::Rng;

const SCALARS: &[&str] = &[
    "a",
    "yes",
    "No",
    "on",
    "~",
    "null",
    "0755",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    "-.inf",
    ".NaN",
    "2001-12-14t21:59:43.10-05:00",
    "1:20",
    "\"q\\u00e9\\x41\"",
    "'it''s'",
    "9223372036854775808",
    "-9223372036854775809",
    "\"\"",
    "''",
    "=",
    "<<",
    "é",
    "a b",
    "a: b",
    "- x",
    "#c",
    "x #c",
];

/// A YAML document of depth at most `depth`.
pub fn yaml(rng: &mut Rng, depth: usize) -> String {
    let mut out = String::new();
    let mut anchors = Vec::new();
    if rng.one_in(8) {
        out.push_str(rng.s(&[
            "%YAML 1.1\n---\n",
            "---\n",
            "--- !!map\n",
            "%TAG !e! tag:e:\n---\n",
        ]));
    }
    yaml_node(rng, depth, 0, &mut anchors, &mut out, true);
    out.push('\n');
    if rng.one_in(6) {
        out.push_str("---\n");
        yaml_node(rng, depth, 0, &mut anchors, &mut out, true);
        out.push('\n');
    }
    out
}

fn props(rng: &mut Rng, anchors: &mut Vec<String>, out: &mut String) {
    if rng.one_in(5) {
        let name = format!("a{}", rng.below(6));
        out.push_str(&format!("&{name} "));
        anchors.push(name);
    }
    if rng.one_in(10) {
        out.push_str(rng.s(&[
            "!!str ",
            "!!int ",
            "!!float ",
            "!!bool ",
            "!!null ",
            "!!binary ",
            "!x ",
            "!!map ",
            "!!seq ",
        ]));
    }
}

fn yaml_node(
    rng: &mut Rng,
    depth: usize,
    indent: usize,
    anchors: &mut Vec<String>,
    out: &mut String,
    block_ok: bool,
) {
    if !anchors.is_empty() && rng.one_in(6) {
        out.push_str(&format!("*{}", rng.pick(anchors)));
        return;
    }
    let pad = " ".repeat(indent);
    let choice = if depth == 0 { 0 } else { rng.below(6) };
    match choice {
        0 | 1 => {
            props(rng, anchors, out);
            match rng.below(6) {
                0 => out.push_str(&format!(
                    "|{}\n{pad}  line\n{pad}   more\n",
                    rng.pick(&["", "-", "+", "2"])
                )),
                1 => out.push_str(&format!(">\n{pad}  folded\n{pad}  text\n")),
                _ => out.push_str(rng.s(SCALARS)),
            }
        }
        2 if block_ok => {
            props(rng, anchors, out);
            out.push('\n');
            for i in 0..=rng.below(4) {
                out.push_str(&pad);
                if rng.one_in(8) {
                    out.push_str("<<: ");
                } else if rng.one_in(10) {
                    out.push_str("? ");
                    out.push_str(rng.s(SCALARS));
                    out.push('\n');
                    out.push_str(&pad);
                    out.push_str(": ");
                } else {
                    out.push_str(&format!("k{i}: "));
                }
                yaml_node(rng, depth - 1, indent + 2, anchors, out, true);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        3 if block_ok => {
            props(rng, anchors, out);
            out.push('\n');
            for _ in 0..=rng.below(4) {
                out.push_str(&pad);
                out.push_str("- ");
                let block = rng.one_in(2);
                yaml_node(rng, depth - 1, indent + 2, anchors, out, block);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        4 => {
            props(rng, anchors, out);
            out.push('{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&format!("f{i}: "));
                yaml_node(rng, depth - 1, indent, anchors, out, false);
            }
            out.push('}');
        }
        _ => {
            props(rng, anchors, out);
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push_str(", ");
                }
                yaml_node(rng, depth - 1, indent, anchors, out, false);
            }
            out.push(']');
        }
    }
}

/// Template text: text and actions, control structures nested up to `depth`.
pub fn template(rng: &mut Rng, funcs: &[&str], depth: usize) -> String {
    let mut out = String::new();
    let mut vars = vec!["$".to_string()];
    if rng.one_in(3) {
        out.push_str(r#"{{ define "h" }}"#);
        list(rng, funcs, depth, &mut vars, &mut out, false);
        out.push_str("{{ end }}");
    }
    list(rng, funcs, depth, &mut vars, &mut out, false);
    out
}

fn list(
    rng: &mut Rng,
    funcs: &[&str],
    depth: usize,
    vars: &mut Vec<String>,
    out: &mut String,
    in_range: bool,
) {
    for _ in 0..=rng.below(4) {
        item(rng, funcs, depth, vars, out, in_range);
    }
}

fn item(
    rng: &mut Rng,
    funcs: &[&str],
    depth: usize,
    vars: &mut Vec<String>,
    out: &mut String,
    in_range: bool,
) {
    let (l, r) = if rng.one_in(4) {
        ("{{- ", " -}}")
    } else {
        ("{{ ", " }}")
    };
    match if depth == 0 {
        rng.below(3)
    } else {
        rng.below(12)
    } {
        0 => out.push_str(rng.s(&["text\n", "a: ", " ", "\n  - ", "<no value>", "é"])),
        1 | 2 => {
            out.push_str(l);
            pipeline(rng, funcs, 2, vars, out);
            out.push_str(r);
        }
        3 => {
            let name = format!("$v{}", vars.len());
            out.push_str(&format!("{l}{name} := "));
            pipeline(rng, funcs, 2, vars, out);
            out.push_str(r);
            vars.push(name);
        }
        4 if vars.len() > 1 => {
            let name = rng.pick(&vars[1..]).clone();
            out.push_str(&format!("{l}{name} = "));
            pipeline(rng, funcs, 2, vars, out);
            out.push_str(r);
        }
        5 | 6 => {
            let kw = rng.pick(&["if", "with", "range"]);
            let mark = vars.len();
            out.push_str(&format!("{l}{kw} "));
            if *kw == "range" && rng.one_in(2) {
                out.push_str(&format!("$i{mark}, $e{mark} := "));
                vars.push(format!("$i{mark}"));
                vars.push(format!("$e{mark}"));
            }
            pipeline(rng, funcs, 2, vars, out);
            out.push_str(r);
            list(rng, funcs, depth - 1, vars, out, in_range || *kw == "range");
            if rng.one_in(3) {
                out.push_str(if rng.one_in(2) {
                    "{{ else }}"
                } else {
                    "{{ else if true }}"
                });
                list(rng, funcs, depth - 1, vars, out, in_range);
            }
            out.push_str("{{ end }}");
            vars.truncate(mark);
        }
        7 => out.push_str(rng.s(&[
            r#"{{ include "h" . }}"#,
            r#"{{ template "h" . }}"#,
            r#"{{ include "h" $ | nindent 2 }}"#,
            r#"{{ tpl "{{ .Values.a }}{{ include \"h\" . }}" $ }}"#,
            r#"{{ block "b" . }}x{{ end }}"#,
        ])),
        8 if in_range => out.push_str(rng.s(&["{{ break }}", "{{ continue }}"])),
        9 => out.push_str("{{/* c */}}"),
        _ => {
            out.push_str(l);
            pipeline(rng, funcs, 3, vars, out);
            out.push_str(r);
        }
    }
}

const LITERALS: &[&str] = &[
    "1",
    "0",
    "-1",
    "3.5",
    "1e6",
    "0x10",
    "'a'",
    "\"s\"",
    "\"\"",
    "`raw`",
    "true",
    "false",
    "nil",
    "9223372036854775807",
    "-9223372036854775808",
    "1000000000000",
    "\"%v %s %d %*d %[2]v\"",
    "\"a,b,c\"",
    "\"{{ . }}\"",
    "\"a\\nb\"",
    "\"^a+$\"",
    "\"$1\"",
    "\"rsa\"",
    "\"ecdsa\"",
];

const FIELDS: &[&str] = &[
    ".",
    "$",
    ".Values",
    ".Values.a",
    ".Values.list",
    ".Values.map",
    ".Values.map.k",
    ".Values.missing.deep",
    ".Release.Name",
    ".Chart.Name",
    ".Capabilities.KubeVersion.Version",
    ".Capabilities.APIVersions",
    ".Files",
    ".Template.Name",
    "$.Values.a",
];

fn pipeline(rng: &mut Rng, funcs: &[&str], depth: usize, vars: &[String], out: &mut String) {
    command(rng, funcs, depth, vars, out);
    for _ in 0..rng.below(3) {
        out.push_str(" | ");
        command(rng, funcs, depth.saturating_sub(1), vars, out);
    }
}

fn command(rng: &mut Rng, funcs: &[&str], depth: usize, vars: &[String], out: &mut String) {
    match rng.below(4) {
        0 | 1 => {
            out.push_str(rng.s(funcs));
            for _ in 0..rng.below(4) {
                out.push(' ');
                operand(rng, funcs, depth, vars, out);
            }
        }
        _ => operand(rng, funcs, depth, vars, out),
    }
}

fn operand(rng: &mut Rng, funcs: &[&str], depth: usize, vars: &[String], out: &mut String) {
    match rng.below(if depth == 0 { 3 } else { 5 }) {
        0 => out.push_str(rng.s(LITERALS)),
        1 => out.push_str(rng.s(FIELDS)),
        2 => out.push_str(rng.pick(vars).as_str()),
        _ => {
            out.push('(');
            pipeline(rng, funcs, depth - 1, vars, out);
            out.push(')');
        }
    }
}

/// A JSON schema with references and combinators.
pub fn schema(rng: &mut Rng, depth: usize) -> String {
    let mut defs = String::new();
    for i in 0..rng.below(3) {
        defs.push_str(&format!(
            "{}\"d{i}\":{}",
            if i > 0 { "," } else { "" },
            subschema(rng, depth)
        ));
    }
    let body = subschema(rng, depth);
    let body = body.trim_start_matches('{').trim_end_matches('}');
    format!(
        "{{\"definitions\":{{{defs}}}{}{body}}}",
        if body.is_empty() { "" } else { "," }
    )
}

fn subschema(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 {
        return rng
            .pick(&[
                r#"{"type":"string"}"#,
                r#"{"type":["integer","null"],"minimum":0}"#,
                r##"{"$ref":"#"}"##,
                r##"{"$ref":"#/definitions/d0"}"##,
                r#"{"enum":["a",1,null]}"#,
                r#"{"pattern":"^a+$"}"#,
                r#"true"#,
                r#"false"#,
                r#"{}"#,
            ])
            .to_string();
    }
    let mut parts = Vec::new();
    for _ in 0..=rng.below(3) {
        let kw = *rng.pick(&[
            "allOf",
            "anyOf",
            "oneOf",
            "not",
            "properties",
            "items",
            "additionalProperties",
            "patternProperties",
            "if",
            "required",
            "type",
        ]);
        parts.push(match kw {
            "allOf" | "anyOf" | "oneOf" => {
                let items: Vec<String> = (0..=rng.below(4))
                    .map(|_| subschema(rng, depth - 1))
                    .collect();
                format!("\"{kw}\":[{}]", items.join(","))
            }
            "properties" | "patternProperties" => {
                let k = if kw == "properties" { "a" } else { "^[a-z]+$" };
                format!(
                    "\"{kw}\":{{\"{k}\":{},\"list\":{}}}",
                    subschema(rng, depth - 1),
                    subschema(rng, depth - 1)
                )
            }
            "required" => "\"required\":[\"a\"]".to_string(),
            "type" => "\"type\":\"object\"".to_string(),
            "if" => format!(
                "\"if\":{},\"then\":{}",
                subschema(rng, depth - 1),
                subschema(rng, depth - 1)
            ),
            _ => format!("\"{kw}\":{}", subschema(rng, depth - 1)),
        });
    }
    format!("{{{}}}", parts.join(","))
}

/// A `--set` expression.
pub fn set_expression(rng: &mut Rng) -> String {
    let mut s = String::new();
    for i in 0..=rng.below(3) {
        if i > 0 {
            s.push(',');
        }
        s.push_str(rng.s(&[
            "a",
            "a.b",
            "list[0]",
            "list[3].x",
            "m\\.k",
            "a[1][2]",
            "x.y.z",
            "big[65536]",
        ]));
        s.push('=');
        s.push_str(rng.s(&[
            "1", "true", "null", "{x,y}", "a\\,b", "", "0x10", "\"q\"", "[1]",
        ]));
    }
    s
}

/// A webhook delivery: event name, content type and body.
pub fn webhook(rng: &mut Rng) -> (String, String, Vec<u8>) {
    let event = rng
        .pick(&[
            "pull_request",
            "push",
            "release",
            "ping",
            "issue_comment",
            "installation",
            "",
            "Push",
        ])
        .to_string();
    let repo = rng.pick(&["o/r", "o/r.git", "", "a/b/c", "o/ r", "../x", "o/r\u{0}"]);
    let sha = rng.pick(&[
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "0000000000000000000000000000000000000000",
        "xyz",
        "",
    ]);
    let action = rng.pick(&[
        "opened",
        "synchronize",
        "closed",
        "reopened",
        "created",
        "labeled",
        "edited",
        "",
    ]);
    let mut body = match event.as_str() {
        "push" => format!(
            r#"{{"ref":"{}","before":"{sha}","after":"{sha}","deleted":{},"commits":[],"repository":{{"id":1,"full_name":"{repo}","default_branch":"main"}}}}"#,
            rng.pick(&["refs/heads/main", "refs/tags/v1", "main", "", "refs/heads/"]),
            rng.one_in(2),
        ),
        "issue_comment" => format!(
            r#"{{"action":"{action}","issue":{{"number":{},"pull_request":{{"url":"u"}}}},"comment":{{"id":5,"body":"{}","user":{{"login":"x"}},"author_association":"{}"}},"repository":{{"id":1,"full_name":"{repo}"}}}}"#,
            rng.pick(&["7", "-1", "0", "1e3", "18446744073709551616"]),
            rng.pick(&["/chartimpact rerun", "", "/chartimpact", "\\u0000"]),
            rng.pick(&["OWNER", "NONE", "MEMBER", ""]),
        ),
        "ping" => r#"{"zen":"z","hook_id":1,"hook":{"events":["push","*"]}}"#.to_string(),
        _ => format!(
            r#"{{"action":"{action}","number":7,"pull_request":{{"number":7,"state":"open","draft":{},"labels":[{{"name":"x"}}],"head":{{"sha":"{sha}","ref":"f","repo":{{"full_name":"{repo}","fork":{}}}}},"base":{{"sha":"{sha}","ref":"main","repo":{{"full_name":"{repo}"}}}}}},"repository":{{"id":1,"full_name":"{repo}","default_branch":"main"}},"installation":{{"id":9}}}}"#,
            rng.one_in(2),
            rng.one_in(2),
        ),
    };
    let content_type = rng
        .pick(&[
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/json; charset=utf-8",
            "",
        ])
        .to_string();
    if content_type.starts_with("application/x-www") {
        body = format!("payload={}", percent(&body));
    }
    (event, content_type, body.into_bytes())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
