//! The OpenAPI document describes exactly the routes served, and the request schema exactly
//! the fields the server accepts.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Setup, TestServer};

fn resolve<'a>(doc: &'a Value, pointer: &str) -> Option<&'a Value> {
    doc.pointer(pointer.strip_prefix('#')?)
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_matches_the_router() {
    let srv = TestServer::start(Setup::default()).await;
    let (status, _, doc) = srv.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = server::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);

    // Every listed route is really served (not a 404/405 from the fallbacks).
    for (method, path) in &served {
        let path = path.replace("{id}", &"0".repeat(64));
        let url = format!("{}{path}", srv.url);
        let r = match method.as_str() {
            "GET" => srv.client.get(url).send().await.unwrap(),
            _ => srv.client.post(url).body("{}").send().await.unwrap(),
        };
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        // Not the fallbacks: a route answers, even if with its own 404 (unknown id, webhooks off).
        assert!(
            status != 405 && !body.contains("no route for"),
            "{method} {path}: {status} {body}"
        );
    }

    // Each operation has an id and a 200 (or 202); every $ref resolves.
    for ops in doc["paths"].as_object().unwrap().values() {
        for op in ops.as_object().unwrap().values() {
            assert!(op["operationId"].is_string(), "{op}");
            // 202 for the routes that only enqueue work.
            assert!(
                op["responses"]["200"].is_object() || op["responses"]["202"].is_object(),
                "{op}"
            );
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        assert!(resolve(&doc, &r).is_some(), "unresolved {r}");
    }
}

#[test]
fn the_request_schema_lists_exactly_the_accepted_fields() {
    let doc: Value = serde_json::from_str(server::OPENAPI_JSON).unwrap();
    let props: BTreeSet<String> = doc["components"]["schemas"]["CompareRequest"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    // A request with every field set serializes every name the server accepts.
    let full = service::CompareRequest {
        repository: "r".into(),
        chart_path: "c".into(),
        helm_repository: Some("h".into()),
        chart: Some("n".into()),
        version1: "a".into(),
        version2: "b".into(),
        values_file: Some("v".into()),
        values_files: vec!["w".into()],
        values_content: Some("x: 1".into()),
        set: vec!["a=b".into()],
        ignore_labels: true,
        secret_handling: Some(diff_core::SecretHandling::Show),
        context_lines: Some(1),
        suppress_kinds: vec!["Secret".into()],
        suppress_regex: Some("x".into()),
        release_name: Some("r".into()),
        namespace: Some("n".into()),
        kube_version: Some("1.30".into()),
        api_versions: vec!["v1".into()],
        renderer: Some(service::RendererMode::Native),
        ..service::CompareRequest::default()
    };
    let accepted: BTreeSet<String> = serde_json::to_value(&full)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(props, accepted);
    let required: BTreeSet<&str> = doc["components"]["schemas"]["CompareRequest"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, BTreeSet::from(["version1", "version2"]));
    // One of the two forms: a chart in git, or a chart in a Helm repository.
    let forms: Vec<BTreeSet<&str>> = doc["components"]["schemas"]["CompareRequest"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        forms,
        [
            BTreeSet::from(["repository", "chartPath"]),
            BTreeSet::from(["helmRepository", "chart"])
        ]
    );
}
