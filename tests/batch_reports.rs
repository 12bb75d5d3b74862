//! Every built-in report format that shows latencies or tiers shows the batch figures of a
//! workload with batch operations: `mget` latency, per-key latency and the share of batches a
//! tier served whole (`tests/fixtures/results/batch.json`). `badge` (one pass/fail line),
//! `csv-timeseries` (per second) and `comparison` (baseline deltas) have no batch figures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;

use tierbench::report::Reporter;

#[test]
fn every_format_shows_batch_figures() {
    let doc = tierbench::app::read_results(Path::new("tests/fixtures/results/batch.json")).unwrap();
    let b = doc.workloads[0].batches.as_ref().unwrap();
    let per_key_p99 = b.per_key["mget"].latency.p99_ns;
    let reporter = Reporter::new(None).unwrap();
    // What each format must contain: the words, and where the format has numbers in its own
    // unit, the per-key p99.
    let cases: [(&str, &[&str]); 10] = [
        (
            "text",
            &["mget", "per key", "served whole", "tiers visited"],
        ),
        ("github", &["mget", "per key", "served whole"]),
        ("markdown", &["| mget |", "per key", "served whole"]),
        (
            "html",
            &["<h3>Batches</h3>", "served whole", "mget batches"],
        ),
        ("junit", &["mget.per_key.p99", "l1.batch_full_hit_rate"]),
        (
            "gitlab",
            &[
                "tierbench_batch_key_latency_seconds",
                "tierbench_batch_full_hit_ratio",
            ],
        ),
        (
            "benchmark-action-smaller",
            &["/mget.per_key.p99", "/mget.p99"],
        ),
        ("benchmark-action-bigger", &["l2.batch_full_hit_rate"]),
        ("csv", &[",per_key,stack,mget,", ",workload,stack,mget,"]),
        ("json", &["\"per_key\"", "\"full_hit_rate\""]),
    ];
    for (format, wanted) in cases {
        let out = reporter
            .render_format(format, &doc)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        for w in wanted {
            assert!(out.contains(w), "{format} lacks {w:?}:\n{out}");
        }
        // An mget-only workload's reads are batches: no "reads served by" heading over nothing.
        if matches!(format, "text" | "markdown") {
            assert!(!out.contains("reads served by"), "{format}:\n{out}");
        }
        if matches!(format, "csv" | "benchmark-action-smaller") {
            assert!(
                out.contains(&per_key_p99.to_string()),
                "{format} lacks the per-key p99 {per_key_p99}"
            );
        }
    }
}
