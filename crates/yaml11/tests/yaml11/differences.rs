//! Where go-yaml v2 (what Helm and Kubernetes use) and serde-saphyr read the same text
//! differently. go-yaml v2 wins; each case says why. If serde-saphyr ever agrees, the
//! `differs` check fails and the entry can go.

use serde_json::json;

use crate::saphyr;

/// Asserts our reading and that serde-saphyr reads it some other way.
fn differs(text: &str, go_yaml: Result<serde_json::Value, &str>) {
    let ours = saphyr::ours(text).map(|mut d| d.remove(0));
    match (&ours, &go_yaml) {
        (Ok(v), Ok(want)) => assert_eq!(v, want, "{text:?}"),
        (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text:?}: {e}"),
        _ => panic!("{text:?}: ours {ours:?}, go-yaml {go_yaml:?}"),
    }
    let theirs = saphyr::read(text).map(|mut d| d.remove(0));
    let same = match (&ours, &theirs) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), Err(_)) => true,
        _ => false,
    };
    assert!(!same, "{text:?}: serde-saphyr now agrees ({theirs:?})");
}

#[test]
fn yaml11_booleans_as_keys() {
    // go-yaml resolves the key `on` to true; sigs.k8s.io/yaml then writes it as "true".
    differs("on: push\ny: 1\n", Ok(json!({"true": 1})));
    differs("on: push\n", Ok(json!({"true": "push"})));
}

#[test]
fn numeric_keys_take_their_resolved_form() {
    // The key 0x10 is the integer 16 to go-yaml, and sigs.k8s.io/yaml writes "16".
    differs("0x10: a\n", Ok(json!({"16": "a"})));
}

#[test]
fn merge_overrides_keys_set_before_it() {
    // go-yaml v2 applies a merge in document order, over the keys already set.
    differs("a: 1\n<<: {a: 2}\n", Ok(json!({"a": 2})));
}

#[test]
fn merge_of_an_alias_to_a_sequence_is_refused() {
    // go-yaml v2 wants an alias in a merge to name a mapping.
    differs("s: &s [{a: 1}]\nm:\n  <<: *s\n", Err("merge key"));
}

#[test]
fn question_mark_ends_plain_scalars_in_flow() {
    // go-yaml v2's scanner ends a plain scalar at '?' inside flow collections.
    differs("{url: http://x?y=1}\n", Err("expected ','"));
}

#[test]
fn slash_escape_is_yaml_1_2_only() {
    // `\/` was added in YAML 1.2; go-yaml v2 rejects it.
    differs("a: \"\\/\"\n", Err("unknown escape"));
}

#[test]
fn surrogate_escapes_are_refused() {
    // go-yaml v2 checks each \u escape alone and refuses surrogates.
    differs("a: \"\\uD83D\\uDE00\"\n", Err("not a Unicode character"));
}

#[test]
fn block_scalar_at_end_of_input_has_no_final_newline() {
    // libyaml only adds the clipped line break when there is one in the input.
    differs("a: |\n  x", Ok(json!({"a": "x"})));
}

#[test]
fn only_yaml_1_1_documents() {
    // go-yaml v2 refuses `%YAML 1.2` ("found incompatible YAML document").
    differs("%YAML 1.2\n---\na: 1\n", Err("only 1.1"));
}

#[test]
fn overflowing_floats_stay_strings() {
    // strconv.ParseFloat fails with ErrRange, and go-yaml keeps the text.
    differs("a: 1e400\n", Ok(json!({"a": "1e400"})));
}

#[test]
fn infinities_are_floats() {
    // go-yaml reads .inf as +Inf (our JSON form of it is the string ".inf").
    differs("a: +.inf\n", Ok(json!({"a": ".inf"})));
}

#[test]
fn underscores_in_dot_floats() {
    // go-yaml hands `.5_5` to strconv.ParseFloat, which accepts digit separators.
    differs("a: .5_5\n", Ok(json!({"a": 0.55})));
}

#[test]
fn anchor_names_are_word_characters() {
    // libyaml anchors are [0-9A-Za-z_-]; YAML 1.2 allows '.' and more.
    differs("a: &a.b x\n", Err("anchor names"));
}

#[test]
fn comment_right_after_a_quoted_scalar() {
    // libyaml accepts a '#' right after a closing quote as a comment.
    differs("a: 'x'#c\n", Ok(json!({"a": "x"})));
}
