use serde_json::Value;
use testkit::schema::validate;

fn schemas() -> Vec<(String, Value)> {
    let dir = testkit::github_data_dir().join("rest/schemas");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), v));
        }
    }
    assert!(out.len() >= 6, "only {} request schemas", out.len());
    out
}

#[test]
fn the_specs_own_examples_validate() {
    let schemas = schemas();
    let mut checked = 0;
    for (name, schema) in &schemas {
        for example in schema["examples"].as_array().into_iter().flatten() {
            let errors = validate(schema, example);
            assert!(errors.is_empty(), "{name}: {errors:#?}");
            checked += 1;
        }
    }
    assert!(checked >= 6, "checked {checked} examples");
}

#[test]
fn the_limits_of_the_specs_are_enforced() {
    let schemas = schemas();
    let get = |n: &str| {
        schemas
            .iter()
            .find(|(name, _)| name == n)
            .unwrap()
            .1
            .clone()
    };
    let status = get("repos.create-commit-status.request.json");
    assert!(!validate(&status, &serde_json::json!({"state": "done"})).is_empty());
    assert!(!validate(&status, &serde_json::json!({"context": "x"})).is_empty());
    let create = get("checks.create.request.json");
    let ann = serde_json::json!({"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"});
    let body = |n: usize| serde_json::json!({"name": "c", "head_sha": "s", "output": {"title": "t", "summary": "s", "annotations": vec![ann.clone(); n]}});
    assert!(validate(&create, &body(50)).is_empty());
    assert!(!validate(&create, &body(51)).is_empty());
    let long = serde_json::json!({"name": "c", "head_sha": "s", "output": {"title": "t", "summary": "x".repeat(65_536)}});
    assert!(!validate(&create, &long).is_empty());
    let update = get("checks.update.request.json");
    assert!(!validate(&update, &serde_json::json!({"status": "completed"})).is_empty());
    assert!(
        validate(
            &update,
            &serde_json::json!({"status": "completed", "conclusion": "success"})
        )
        .is_empty()
    );
    let files = get("pulls.list-files.response-200.json");
    let example: Value = serde_json::from_slice(
        &std::fs::read(testkit::github_data_dir().join("rest/diff-entry-items.json")).unwrap(),
    )
    .unwrap();
    assert!(validate(&files, &example).is_empty());
}
