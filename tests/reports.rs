//! The built-in report templates, rendered from a fixed result document, are snapshots: any
//! change to what a user sees shows up in review.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;

use tierbench::report::Reporter;

fn fixture() -> tierbench::metrics::result::ResultDocument {
    tierbench::app::read_results(Path::new("tests/fixtures/results/small.json")).unwrap()
}

#[test]
fn text_report() {
    let out = Reporter::new(None)
        .unwrap()
        .render_format("text", &fixture())
        .unwrap();
    insta::assert_snapshot!(out);
}

#[test]
fn markdown_report() {
    let out = Reporter::new(None)
        .unwrap()
        .render_format("markdown", &fixture())
        .unwrap();
    insta::assert_snapshot!(out);
}

#[test]
fn json_report_is_the_document_and_validates_against_the_committed_schema() {
    let out = Reporter::new(None)
        .unwrap()
        .render_format("json", &fixture())
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/results.schema.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_template_error_names_the_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.j2");
    std::fs::write(
        &file,
        "ok\n{% for w in workloads %}\n{{ w.nope | duration }}\n{% endfor %}\n",
    )
    .unwrap();
    let err = Reporter::new(None)
        .unwrap()
        .render_file(&file, &fixture())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.j2"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("undefined"), "{err}");
}
