//! The committed JSON Schemas, and the scenario reference written from the scenario schema
//! (docs/reference/scenario.md), are exactly what the code generates.
//! `UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites them after a model change.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;

use tierbench::scenario::reference::reference_markdown;
use tierbench::scenario::schema::{results_schema, scenario_schema};

fn check(file: &str, schema: serde_json::Value) {
    let generated = serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n";
    check_file(&Path::new("schemas").join(file), &generated);
}

/// The committed file at `relative` is `generated` (rewritten instead with UPDATE_SCHEMAS=1).
fn check_file(relative: &Path, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).expect("schema written");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the code; run `UPDATE_SCHEMAS=1 cargo test --test schemas` and commit it",
        path.display()
    );
}

#[test]
fn scenario_schema_is_in_sync() {
    check("scenario.schema.json", scenario_schema());
}

#[test]
fn results_schema_is_in_sync() {
    check("results.schema.json", results_schema());
}

#[test]
fn scenario_reference_is_in_sync() {
    let schema = scenario_schema();
    let reference = reference_markdown(&schema);
    check_file(Path::new("docs/reference/scenario.md"), &reference);
    // Every field of every object in the schema has its row.
    let mut missing = Vec::new();
    let defs = schema["$defs"].as_object().unwrap();
    for object in std::iter::once(&schema).chain(defs.values()) {
        let forms = object["anyOf"].as_array().into_iter().flatten();
        for form in std::iter::once(object).chain(forms) {
            for field in form["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|p| p.0)
            {
                if !reference.contains(&format!("| `{field}` |")) {
                    missing.push(field.clone());
                }
            }
        }
    }
    assert!(missing.is_empty(), "fields without a row: {missing:?}");
}
