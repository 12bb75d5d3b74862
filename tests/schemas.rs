//! The committed JSON Schemas are exactly what the code generates.
//! `UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites them after a model change.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;

use tierbench::scenario::schema::{results_schema, scenario_schema};

fn check(file: &str, schema: serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(file);
    let generated = serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).expect("schema written");
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
