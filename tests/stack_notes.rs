//! A stack run says why a lower tier served no reads (docs/stack.md), and says nothing when
//! the tier above can lose keys.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

/// The run's result document and its Markdown report.
fn run(l2_entries: u64) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "s.yaml",
        &format!(
            "name: idle\nseed: 3\ntiers:\n  - {{ name: l1, kind: memory, engine: lru, max_entries: 50 }}\n\
             \x20 - {{ name: l2, kind: memory, engine: lru, max_entries: {l2_entries} }}\n\
             \x20 - {{ name: l3, kind: sql, url: \"sqlite::memory:\" }}\n\
             data: {{ keys: {{ count: 1000, distribution: uniform }}, values: {{ size: 32 }} }}\n\
             workloads:\n  - {{ name: reads, target: stack, ops: 5000, concurrency: 1, mix: {{ get: 1 }} }}\n"
        ),
    );
    let json = dir.path().join("r.json");
    let markdown = dir.path().join("r.md");
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("markdown={}", markdown.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let doc = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (doc, std::fs::read_to_string(&markdown).unwrap())
}

fn warnings(l2_entries: u64) -> Vec<String> {
    run(l2_entries).0["workloads"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_lower_tier_that_served_no_reads_is_explained() {
    let w = warnings(100_000);
    let note = w.iter().find(|w| w.contains("`l3` served no reads"));
    let note = note.unwrap_or_else(|| panic!("{w:?}"));
    assert!(note.contains("give `l2` a size or a `ttl`"), "{note}");
    // A bounded l2 loses keys that l3 still holds: l3 serves reads, nothing to explain.
    let w = warnings(100);
    assert!(!w.iter().any(|w| w.contains("served no reads")), "{w:?}");
}

#[test]
fn a_tier_that_served_no_reads_has_no_latency_rather_than_zero() {
    let (doc, markdown) = run(100_000);
    let l3 = &doc["workloads"][0]["served_by"]["l3"];
    assert_eq!(l3["count"], 0, "{l3}");
    for stat in ["min_ns", "mean_ns", "p50_ns", "p99_ns", "max_ns"] {
        assert!(l3["latency"][stat].is_null(), "{stat}: {l3}");
    }
    // A tier that served reads has its figures.
    assert!(
        doc["workloads"][0]["served_by"]["l1"]["latency"]["p99_ns"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        markdown.contains("| l3 | 0 | n/a | n/a | n/a |"),
        "{markdown}"
    );
}
