//! The contract: `docs/openapi.json` is the document the code generates,
//! and the document describes every route the gateway serves. After an
//! intended change of the API: `HERALD_WRITE_OPENAPI=1 cargo test -p herald
//! openapi` rewrites the file; review its diff.
use std::path::PathBuf;

use herald::http::openapi;
use serde_json::Value;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn committed_document_is_the_generated_one() {
    let generated = openapi::document_json();
    if std::env::var_os("HERALD_WRITE_OPENAPI").is_some() {
        std::fs::write(committed_path(), format!("{generated}\n")).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(committed_path()).expect("docs/openapi.json exists");
    assert!(
        committed.trim_end() == generated,
        "docs/openapi.json differs from the generated document: run HERALD_WRITE_OPENAPI=1 cargo test -p herald openapi"
    );
}

#[test]
fn document_is_openapi_3_1_with_every_route_and_resolvable_references() {
    let document: Value = serde_json::from_str(&openapi::document_json()).expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    let operations: usize = paths.values().map(|item| item.as_object().map_or(0, |ops| ops.len())).sum();
    // Every route of the routers (http/*.rs), each with its methods.
    assert_eq!(paths.len(), 26, "{:?}", paths.keys().collect::<Vec<_>>());
    assert_eq!(operations, 38);
    let schemas = document["components"]["schemas"].as_object().expect("schemas");
    let text = document.to_string();
    for (kind, defined) in [("schemas", schemas), ("responses", document["components"]["responses"].as_object().expect("responses"))] {
        for reference in text.split(&format!("\"$ref\":\"#/components/{kind}/")).skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(defined.contains_key(name), "unresolved $ref {kind}/{name}");
        }
    }
    let mut ids: Vec<&str> = paths.values().flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values())).filter_map(|op| op["operationId"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 38, "operation ids are unique");
    let mut limited = document.clone();
    assert_eq!(openapi::constrain(&mut limited), Vec::<String>::new(), "every field limit names a property of the document");
    let days = &document["components"]["schemas"]["PostponeBody"]["properties"]["days"];
    assert_eq!(days["maximum"].as_u64(), Some(u64::from(herald::inbox::service::MAX_POSTPONE_DAYS)), "{days}");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("operation") {
            let responses = operation["responses"].as_object().expect("responses");
            for status in ["400", "401", "403", "414", "431", "503"] {
                assert!(responses.contains_key(status), "{method} {path} documents no {status}");
            }
            assert!(path.starts_with("/{db}/"), "{path}");
        }
    }
}

/// Every operation of the contract is a route of `template.yaml` (an
/// `HttpApi` event's `Path` and `Method`, or a path of the API's
/// `DefinitionBody`), and every route there is one of
/// the contract's: a route added to a router but not to the template would
/// answer in `herald-local` and be missing on AWS.
#[test]
fn every_operation_is_deployed_and_every_deployed_route_is_one() {
    let document: Value = serde_json::from_str(&openapi::document_json()).expect("JSON");
    let mut contract: Vec<String> = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            contract.push(format!("{} {path}", method.to_ascii_uppercase()));
        }
    }
    let template = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).expect("template.yaml");
    let mut deployed: Vec<String> = Vec::new();
    let (mut path, mut defined_path): (Option<&str>, Option<&str>) = (None, None);
    for line in template.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("Path: ") {
            path = Some(p);
        } else if let (Some(method), Some(p)) = (line.strip_prefix("Method: "), path.take()) {
            deployed.push(format!("{} {p}", method.to_ascii_uppercase()));
        } else if let Some(p) = line.strip_prefix("/{db}").and_then(|_| line.strip_suffix(':')) {
            // A route of the API's `DefinitionBody` (the bus's, behind the
            // HTTP API front door): its path, then its method.
            defined_path = Some(p);
        } else if let Some(p) = defined_path.take() {
            let method = line.split(':').next().unwrap_or_default();
            assert!(["get", "post", "put", "delete"].contains(&method), "a method under {p} in the DefinitionBody: {line}");
            deployed.push(format!("{} {p}", method.to_ascii_uppercase()));
        }
    }
    contract.sort();
    deployed.sort();
    assert_eq!(deployed, contract, "template.yaml's routes and docs/openapi.json's operations differ");
}
