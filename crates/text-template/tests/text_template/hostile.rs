//! Hostile templates: each must stop with the limit it runs into, named, instead of exhausting
//! memory, time or the stack. Every case runs on a 2 MiB thread, the stack a server's blocking
//! pool gives a render; memory is checked by the limit being met at all (the figures for the
//! worst cases are measured by `scripts/hostile-memory.sh`, in docs/SECURITY.md).

use std::sync::Arc;
use std::time::Duration;

use text_template::helm_objects::{FileContent, Files};
use text_template::{Error, ExecContext, Limit, Limits, TemplateSet, Value};

/// Parses `text` as template `t` and executes it on a 2 MiB thread with these limits.
fn run_with(
    text: &str,
    data: Value,
    limits: Limits,
    deadline: Option<Duration>,
) -> Result<String, Error> {
    let text = text.to_owned();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut set = TemplateSet::helm();
            set.parse("t", &text)?;
            let mut ctx = ExecContext::new(1).with_limits(limits);
            if let Some(d) = deadline {
                ctx = ctx.with_deadline(d);
            }
            set.execute("t", &data, &mut ctx)
        })
        .expect("thread starts")
        .join()
        .expect("no panic")
}

fn run(text: &str) -> Result<String, Error> {
    run_with(text, Value::Nil, Limits::default(), None)
}

/// A budget small enough that loops reach it in a fraction of a second.
fn small_budget() -> Limits {
    Limits {
        max_memory_bytes: 16 << 20,
        ..Limits::default()
    }
}

#[track_caller]
fn assert_limit(r: Result<String, Error>, want: fn(&Limit) -> bool, name: &str) {
    match r {
        Err(Error::Limit { limit, template }) => {
            assert!(want(&limit), "wrong limit: {limit:?}");
            assert_eq!(limit.name(), name);
            assert!(!template.is_empty());
            let msg = Error::Limit { limit, template }.to_string();
            assert!(msg.contains("in template "), "{msg}");
        }
        other => panic!("expected the {name} limit, got {other:?}"),
    }
}

fn memory(l: &Limit) -> bool {
    matches!(l, Limit::MemoryBytes(_))
}

fn steps(l: &Limit) -> bool {
    matches!(l, Limit::Steps(_))
}

#[test]
fn huge_indent_and_nindent_are_refused_before_allocating() {
    // Both aborted the process: the padding was allocated before any check.
    for f in ["indent", "nindent"] {
        let r = run(&format!(r#"{{{{ {f} 1000000000000000 "x" }}}}"#));
        assert_limit(r, memory, "max_memory_bytes");
    }
    // A modest padding of many lines is the size that counts.
    let r = run(r#"{{ indent 100000 (repeat 10000 "\n") }}"#);
    assert_limit(r, memory, "max_memory_bytes");
    assert_eq!(run(r#"{{ nindent 2 "a\nb" }}"#).unwrap(), "\n  a\n  b");
}

#[test]
fn printf_widths_are_capped_as_go_caps_them() {
    // Go takes widths and precisions up to 10^6 from arguments and ~10^7 from the format.
    assert_eq!(
        run(r#"{{ printf "%*d" 1000000000 1 }}"#).unwrap(),
        "%!(BADWIDTH)1"
    );
    assert_eq!(
        run(r#"{{ printf "%.*d" 1000000000 1 }}"#).unwrap(),
        "%!(BADPREC)1"
    );
    assert_eq!(
        run(r#"{{ printf "%99999999999d" 1 }}"#).unwrap(),
        "%!(NOVERB)%!(EXTRA int=1)"
    );
    assert_eq!(
        run(r#"{{ printf "%5d|%-3s|" 42 "a" }}"#).unwrap(),
        "   42|a  |"
    );
    // Within the caps, many widths add up: the budget is shared.
    let many = "%9000000d".repeat(20);
    let r = run_with(
        &format!(r#"{{{{ printf "{many}" 1 }}}}"#),
        Value::Nil,
        small_budget(),
        None,
    );
    assert_limit(r, memory, "max_memory_bytes");
}

#[test]
fn sequences_are_sized_before_they_are_built() {
    for t in [
        "{{ seq 1000000000000 }}",
        "{{ until 1000000000000 }}",
        "{{ untilStep 0 9223372036854775807 1 }}",
        "{{ range until 1000000000000 }}{{ end }}",
    ] {
        assert_limit(run(t), memory, "max_memory_bytes");
    }
    // A step that carries past the largest int wraps and loops forever in Go; here the
    // sequence ends.
    assert_eq!(
        run("{{ untilStep 9223372036854775800 9223372036854775807 5 }}").unwrap(),
        "[9223372036854775800 9223372036854775805]"
    );
    assert_eq!(run("{{ seq 9223372036854775807 | len }}").unwrap(), "0");
}

#[test]
fn growing_a_list_or_a_map_in_a_loop_is_counted_in_total() {
    // Each call was checked alone; the total is what grows.
    let append = r#"{{ $l := list }}{{ range until 100000 }}{{ $l = append $l "x" }}{{ end }}"#;
    assert_limit(
        run_with(append, Value::Nil, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
    let set = r#"{{ $m := dict }}{{ range $i := until 200000 }}{{ $_ := set $m (printf "key-%d-padding-padding" $i) $i }}{{ end }}"#;
    assert_limit(
        run_with(set, Value::Nil, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
    let merge = r#"{{ $m := dict }}{{ range $i := until 200000 }}{{ $_ := merge $m (dict (printf "k%d" $i) 1) }}{{ end }}"#;
    assert_limit(
        run_with(merge, Value::Nil, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
    let repeat = r#"{{ $s := "x" }}{{ range until 64 }}{{ $s = printf "%s%s" $s $s }}{{ end }}"#;
    assert_limit(run(repeat), memory, "max_memory_bytes");
}

#[test]
fn huge_repeat_replace_join_and_wrap_are_refused() {
    for t in [
        r#"{{ repeat 1000000000000 "abc" }}"#,
        r#"{{ replace "a" (repeat 100000 "b") (repeat 100000 "a") }}"#,
        r#"{{ replace "" (repeat 100000 "b") (repeat 100000 "a") }}"#,
        r#"{{ join (repeat 1000000 "-") (until 1000) }}"#,
        r#"{{ wrapWith 1 (repeat 100000 "\n") (repeat 100000 "x") }}"#,
        r#"{{ regexReplaceAll "a+" (repeat 1000 "a") (repeat 1000000 "$0") }}"#,
        r#"{{ regexReplaceAllLiteral "" (repeat 100000 "a") (repeat 100000 "x") }}"#,
        r#"{{ randAlphaNum 1000000000000 }}"#,
        r#"{{ randBytes 1000000000000 }}"#,
    ] {
        assert_limit(run(t), memory, "max_memory_bytes");
    }
    assert_eq!(
        run(r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}"#).unwrap(),
        "-W-xxW-"
    );
}

/// A list that holds the previous one twice, 60 times over: a few kilobytes that print,
/// copy, compare and serialise as 2^60 elements.
const DAG: &str = r#"{{ $a := list "leaf" }}{{ range until 60 }}{{ $a = list $a $a }}{{ end }}"#;

#[test]
fn values_that_share_parts_cannot_expand_without_bound() {
    for what in [
        "{{ toYaml $a }}",
        "{{ toYamlPretty $a }}",
        "{{ toJson $a }}",
        "{{ toPrettyJson $a }}",
        "{{ $a }}",
        r#"{{ printf "%v" $a }}"#,
        "{{ quote $a }}",
        "{{ deepCopy $a }}",
    ] {
        let r = run_with(&format!("{DAG}{what}"), Value::Nil, small_budget(), None);
        assert_limit(r, memory, "max_memory_bytes");
    }
    // Walks that hold nothing are bounded by steps.
    let limits = Limits {
        max_steps: 2_000_000,
        ..Limits::default()
    };
    for what in ["{{ has $a (list $a) }}", "{{ toToml (dict \"a\" $a) }}"] {
        let r = run_with(&format!("{DAG}{what}"), Value::Nil, limits, None);
        assert_limit(r, steps, "max_steps");
    }
}

#[test]
fn a_map_that_holds_itself_is_walked_within_the_budget() {
    let cyclic = r#"{{ $m := dict }}{{ $_ := set $m "a" $m }}{{ $_ := set $m "b" $m }}"#;
    let limits = Limits {
        max_steps: 2_000_000,
        ..small_budget()
    };
    for what in [
        "{{ toYaml $m }}",
        "{{ $m }}",
        "{{ toToml $m }}",
        "{{ deepCopy $m }}",
    ] {
        let r = run_with(&format!("{cyclic}{what}"), Value::Nil, limits, None);
        assert!(matches!(r, Err(Error::Limit { .. })), "{what}: {r:?}");
    }
    // Go's encoder reports the cycle at depth 1000 and Sprig prints nothing; a thousand levels
    // may be more than the stack budget allows a debug build.
    let r = run_with(
        &format!("{cyclic}{{{{ toJson $m }}}}"),
        Value::Nil,
        limits,
        None,
    );
    assert!(
        matches!(&r, Ok(s) if s.is_empty())
            || matches!(
                &r,
                Err(Error::Limit {
                    limit: Limit::Stack(_),
                    ..
                })
            ),
        "{r:?}"
    );
}

#[test]
fn recursion_through_include_template_and_tpl_stops_at_the_depth_limit() {
    for t in [
        r#"{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
        r#"{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}"#,
        r#"{{ define "r" }}{{ tpl "{{ include \"r\" . }}" . }}{{ end }}{{ include "r" . }}"#,
    ] {
        match run(t) {
            Err(Error::Limit { limit, template }) => {
                assert!(
                    matches!(limit, Limit::Depth(64) | Limit::Stack(_)),
                    "{limit:?}"
                );
                assert!(template == "r" || template == "gotpl", "{template}");
            }
            other => panic!("{t}: {other:?}"),
        }
    }
    // Control structures inside each level use stack too: the stack budget catches what the
    // template count alone would let through.
    let deep = format!(
        r#"{{{{ define "r" }}}}{}{{{{ include "r" . }}}}{}{{{{ end }}}}{{{{ include "r" . }}}}"#,
        "{{ if true }}".repeat(20),
        "{{ end }}".repeat(20)
    );
    assert_limit(
        run(&deep),
        |l| matches!(l, Limit::Stack(_) | Limit::Depth(_)),
        "max_stack_bytes",
    );
}

#[test]
fn deeply_nested_template_text_is_a_parse_error_not_a_crash() {
    for text in [
        format!(
            "{{{{ {}1{} }}}}",
            "(print ".repeat(100_000),
            ")".repeat(100_000)
        ),
        format!(
            "{}x{}",
            "{{ if true }}".repeat(100_000),
            "{{ end }}".repeat(100_000)
        ),
        format!(
            "{}x{}",
            "{{ with . }}".repeat(100_000),
            "{{ end }}".repeat(100_000)
        ),
    ] {
        match run(&text) {
            Err(Error::Parse { message, .. }) => {
                assert!(
                    message.contains("max expression depth exceeded"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    // Ordinary nesting parses and runs.
    let ok = format!("{}x{}", "{{ if true }}".repeat(30), "{{ end }}".repeat(30));
    assert_eq!(run(&ok).unwrap(), "x");
}

#[test]
fn deeply_nested_values_are_freed_without_exhausting_the_stack() {
    let t = r#"{{ $l := list }}{{ $m := dict }}{{ range until 200000 }}{{ $l = list $l }}{{ $m = dict "a" $m }}{{ end }}done"#;
    assert_eq!(run(t).unwrap(), "done");
}

#[test]
fn large_files_read_again_and_again_are_counted() {
    let big = Arc::new(FileContent::new(vec![b'x'; 10 << 20]));
    let data = Value::map([(
        "Files",
        Value::object(Files::new([("big.txt".to_string(), big)])),
    )]);
    let t = r#"{{ range until 1000 }}{{ $x := $.Files.Get "big.txt" }}{{ end }}"#;
    assert_limit(
        run_with(t, data.clone(), Limits::default(), None),
        memory,
        "max_memory_bytes",
    );
    let lines = r#"{{ range until 1000 }}{{ $x := $.Files.Lines "big.txt" }}{{ end }}"#;
    assert_limit(
        run_with(lines, data.clone(), Limits::default(), None),
        memory,
        "max_memory_bytes",
    );
    // Printing the files writes each byte as a number.
    assert_limit(
        run_with("{{ .Files }}", data, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
}

#[test]
fn globs_do_not_backtrack() {
    let name = format!("{}.txt", "a".repeat(100));
    let data = Value::map([(
        "Files",
        Value::object(Files::new([(
            name,
            Arc::new(FileContent::new(b"x".to_vec())),
        )])),
    )]);
    let pattern = format!("{}b", "**a".repeat(50));
    let t = format!(r#"{{{{ len (.Files.Glob "{pattern}") }}}}"#);
    assert_eq!(run_with(&t, data, Limits::default(), None).unwrap(), "0");
    // Alternatives expand, each expansion counted as a step.
    let alts = "{a,b}".repeat(40);
    let limits = Limits {
        max_steps: 100_000,
        ..Limits::default()
    };
    let t = format!(r#"{{{{ len (.Files.Glob "{alts}") }}}}"#);
    let files = Value::map([(
        "Files",
        Value::object(Files::new([(
            "x".to_string(),
            Arc::new(FileContent::new(vec![])),
        )])),
    )]);
    assert_limit(run_with(&t, files, limits, None), steps, "max_steps");
}

#[test]
fn yaml_and_json_read_in_templates_share_the_budget() {
    let mut laughs = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .windows(2)
        .map(|w| (w[0], w[1]))
    {
        laughs.push_str(&format!(
            "{name}: &{name} [{}]\\n",
            vec![format!("*{prev}"); 10].join(",")
        ));
    }
    let t = format!(r#"{{{{ fromYaml "{laughs}" | len }}}}"#);
    assert_limit(
        run_with(&t, Value::Nil, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
    let t = r#"{{ fromJson (printf "[%s]" (repeat 1000000 "[],")) }}"#;
    assert_limit(
        run_with(t, Value::Nil, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
    let t = r#"{{ b64dec (b64enc (repeat 10000000 "a")) | len }}"#;
    assert_limit(
        run_with(t, Value::Nil, small_budget(), None),
        memory,
        "max_memory_bytes",
    );
}

#[test]
fn key_generation_in_a_loop_stops_at_the_deadline() {
    // Each key takes most of a second in one step; the clock is read before each.
    let t = r#"{{ range until 1000 }}{{ genPrivateKey "rsa" }}{{ end }}"#;
    let r = run_with(t, Value::Nil, Limits::default(), Some(Duration::ZERO));
    assert_limit(r, |l| matches!(l, Limit::Time(_)), "deadline");
    let t = r#"{{ range until 1000 }}{{ genCA "x" 365 }}{{ end }}"#;
    let r = run_with(t, Value::Nil, Limits::default(), Some(Duration::ZERO));
    assert_limit(r, |l| matches!(l, Limit::Time(_)), "deadline");
    // And they count as many steps.
    let limits = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    let t = r#"{{ range until 1000 }}{{ bcrypt "x" }}{{ end }}"#;
    assert_limit(run_with(t, Value::Nil, limits, None), steps, "max_steps");
}

#[test]
fn reading_a_large_string_in_a_loop_counts_as_work() {
    let limits = Limits {
        max_steps: 1_000_000,
        ..Limits::default()
    };
    let t = r#"{{ $s := repeat 10000000 "a" }}{{ range until 100000 }}{{ if contains "b" $s }}{{ end }}{{ end }}"#;
    assert_limit(run_with(t, Value::Nil, limits, None), steps, "max_steps");
}

#[test]
fn uniq_of_a_long_list_is_bounded_by_steps() {
    let limits = Limits {
        max_steps: 1_000_000,
        ..Limits::default()
    };
    let t = r#"{{ until 100000 | uniq | len }}"#;
    assert_limit(run_with(t, Value::Nil, limits, None), steps, "max_steps");
}

#[test]
fn the_limit_names_the_template_that_was_running() {
    let t =
        r#"{{ define "helper" }}{{ indent 1000000000000 "x" }}{{ end }}{{ include "helper" . }}"#;
    match run(t) {
        Err(Error::Limit { limit, template }) => {
            assert!(matches!(limit, Limit::MemoryBytes(_)));
            assert_eq!(template, "helper");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_budget_is_shared_by_executions_that_share_the_context() {
    let mut set = TemplateSet::helm();
    set.parse("a", r#"{{ repeat 6000000 "x" | len }}"#).unwrap();
    let mut ctx = ExecContext::new(1).with_limits(small_budget());
    // The first execution fits; the counters carry over, so the third does not.
    assert_eq!(set.execute("a", &Value::Nil, &mut ctx).unwrap(), "6000000");
    assert!(ctx.memory_bytes() >= 6_000_000);
    assert!(set.execute("a", &Value::Nil, &mut ctx).is_ok());
    let err = set.execute("a", &Value::Nil, &mut ctx).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Limit {
                limit: Limit::MemoryBytes(16_777_216),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "template execution exceeded the memory budget (16777216 bytes) in template a"
    );
}

/// Inputs the fuzzer (scripts/fuzz.sh) found, kept as they were found.
#[test]
fn fuzz_findings_stay_fixed() {
    // An octal escape followed by a multi-byte character sliced the string inside it.
    let found = "[{{ printf \"%08.3f|%-8.\\2f\u{fffd}%+.1f|%+d|%x\" -3.14159 2.5 2.0 3 -255 }}]\n";
    match run(found) {
        Err(Error::Parse { message, .. }) => {
            assert!(message.contains("invalid syntax"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(run(r#"{{ "\101\x41\u00e9" }}"#).unwrap(), "AAé");
}
