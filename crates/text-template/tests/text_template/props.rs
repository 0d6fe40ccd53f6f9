//! Property tests: random templates never panic and always terminate within the limits.

use proptest::prelude::*;
use text_template::{ExecContext, Limits, TemplateSet, Value};

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{{-".to_string()),
        Just("-}}".to_string()),
        Just(" ".to_string()),
        Just("|".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("$x := ".to_string()),
        Just("$x".to_string()),
        Just(".Values.a".to_string()),
        Just(".".to_string()),
        Just("\"s\"".to_string()),
        Just("1".to_string()),
        Just("1.5".to_string()),
        Just("if ".to_string()),
        Just("else".to_string()),
        Just("end".to_string()),
        Just("range ".to_string()),
        Just("with ".to_string()),
        Just("define \"d\"".to_string()),
        Just("template \"d\" .".to_string()),
        Just("include \"d\" .".to_string()),
        Just("printf \"%v %d\" ".to_string()),
        Just("toYaml ".to_string()),
        Just("list 1 2 ".to_string()),
        Just("dict \"a\" 1 ".to_string()),
        Just("default ".to_string()),
        Just("eq ".to_string()),
        Just("index ".to_string()),
        Just("/* c */".to_string()),
        "[a-z0-9 .$\"'`]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]
    #[test]
    fn random_templates_never_panic(parts in proptest::collection::vec(fragment(), 0..24)) {
        let text: String = parts.concat();
        let mut set = TemplateSet::helm();
        if set.parse("t", &text).is_ok() {
            let data = Value::map([("Values", Value::map([("a", Value::list(vec![Value::Float(1.0)]))]))]);
            let limits = Limits { max_steps: 100_000, max_output_bytes: 1 << 20, max_depth: 50, ..Limits::default() };
            let mut ctx = ExecContext::new(1).with_limits(limits);
            let _ = set.execute("t", &data, &mut ctx);
        }
    }
}

#[test]
fn recursive_template_hits_depth_limit() {
    let mut set = TemplateSet::helm();
    set.parse(
        "t",
        r#"{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
    )
    .unwrap();
    let mut ctx = ExecContext::new(1);
    let err = set.execute("t", &Value::Nil, &mut ctx).unwrap_err();
    assert!(
        matches!(
            err,
            text_template::Error::Limit {
                limit: text_template::Limit::Depth(_),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn exponential_include_hits_step_limit() {
    let mut set = TemplateSet::helm();
    let mut text = String::from(r#"{{ define "l0" }}x{{ end }}"#);
    for i in 1..40 {
        text.push_str(&format!(r#"{{{{ define "l{i}" }}}}{{{{ include "l{}" . }}}}{{{{ include "l{}" . }}}}{{{{ end }}}}"#, i - 1, i - 1));
    }
    text.push_str(r#"{{ include "l39" . }}"#);
    set.parse("t", &text).unwrap();
    let limits = Limits {
        max_steps: 1_000_000,
        ..Limits::default()
    };
    let mut ctx = ExecContext::new(1).with_limits(limits);
    let err = set.execute("t", &Value::Nil, &mut ctx).unwrap_err();
    assert!(
        matches!(
            err,
            text_template::Error::Limit {
                limit: text_template::Limit::Steps(_),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn huge_repeat_hits_the_memory_budget() {
    let mut set = TemplateSet::helm();
    set.parse("t", r#"{{ repeat 1000000000 "abcdefgh" }}"#)
        .unwrap();
    let mut ctx = ExecContext::new(1);
    let err = set.execute("t", &Value::Nil, &mut ctx).unwrap_err();
    assert!(
        matches!(
            err,
            text_template::Error::Limit {
                limit: text_template::Limit::MemoryBytes(_),
                ..
            }
        ),
        "{err}"
    );
}
