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

/// A run with phases, repetitions and a baseline: the Markdown report carries a mermaid chart of
/// the throughput per second and keeps per-tier detail folded in `<details>`.
#[test]
fn markdown_report_with_a_time_series_and_a_comparison() {
    let doc = tierbench::app::read_results(Path::new(
        "tests/fixtures/results/html-repeat-baseline.json",
    ))
    .unwrap();
    let out = Reporter::new(None)
        .unwrap()
        .render_format("markdown", &doc)
        .unwrap();
    assert!(out.contains("```mermaid\nxychart-beta"), "{out}");
    assert!(out.contains("<details><summary>Tiers"), "{out}");
    assert!(out.len() < 65_536, "too long for a pull-request comment");
    insta::assert_snapshot!(out);
}

/// The built-in human formats against fixed documents with repetitions and with a comparison.
#[test]
fn human_formats_render_repetitions_and_comparisons() {
    let reporter = Reporter::new(None).unwrap();
    for fixture in ["ci-repeated", "ci-compared"] {
        let doc = tierbench::app::read_results(Path::new(&format!(
            "tests/fixtures/results/{fixture}.json"
        )))
        .unwrap();
        for format in ["text", "markdown", "comparison"] {
            if format == "comparison" && doc.comparison.is_none() {
                continue;
            }
            let out = reporter.render_format(format, &doc).unwrap();
            insta::assert_snapshot!(format!("{format}@{fixture}"), out);
        }
    }
}
