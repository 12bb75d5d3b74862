//! Many workers in little memory: a user modelling 10,000 application threads runs
//! `concurrency: 10000`, and the run's peak RSS stays under 512 MiB (about 52 KB a worker), on
//! Redis, on SQLite and on an in-process stack, with every operation still in the figures (the
//! workers spool their latencies into shared histograms: `metrics/recorder/spool.rs`). A memory
//! bound, not a timing: the workers' own histograms took about half a megabyte each.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::path::Path;

const WORKERS: usize = 10_000;
const BOUND: u64 = 512 << 20;

fn scenario(dir: &Path, tier: &str, prefix: &str) -> std::path::PathBuf {
    support::write_scenario(
        dir,
        "many.yaml",
        &format!(
            "name: many-workers\nseed: 5\ntiers: [{tier}]\n\
             data: {{ keys: {{ count: 20000, prefix: \"{prefix}\" }}, values: {{ size: 64 }} }}\n\
             workloads:\n  - {{ name: crowd, target: t, preload: true, duration: 2s, warmup: 0, \
             concurrency: {WORKERS}, mix: {{ get: 9, set: 1 }}, thresholds: [\"errors == 0\"] }}\n"
        ),
    )
}

/// One run at a time: 10,000 workers of one test would starve another's server of the cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the scenario, checks every operation is in the figures, and returns the peak RSS.
fn peak_rss(tier: &str, prefix: &str) -> (u64, u64) {
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), tier, prefix);
    let (out, doc) = support::run_for_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let w = &doc["workloads"][0];
    let ops = w["ops"].as_u64().unwrap();
    assert!(ops >= WORKERS as u64, "every worker ran: {ops} ops");
    assert_eq!(w["errors"].as_u64(), Some(0), "{}", w["error_messages"]);
    // The histograms hold every operation: the gets' and sets' counts add up to the total.
    let counted: u64 = ["get", "set"]
        .iter()
        .map(|op| w["operations"][op]["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, ops, "{}", w["operations"]);
    (doc["process"]["peak_rss_bytes"].as_u64().unwrap(), ops)
}

#[test]
fn ten_thousand_workers_on_redis_fit_in_512_mib() {
    let tier = format!(
        "{{ name: t, kind: redis, url: \"{}\", connections: 50 }}",
        support::redis_url()
    );
    let (rss, ops) = peak_rss(&tier, "tbtest:many:");
    assert!(rss <= BOUND, "peak RSS {} MiB for {ops} ops", rss >> 20);
}

#[test]
fn ten_thousand_workers_on_sqlite_fit_in_512_mib() {
    let (rss, ops) = peak_rss(
        "{ name: t, kind: sql, url: \"sqlite::memory:\", table: tbmany, pool: 4 }",
        "many:",
    );
    assert!(rss <= BOUND, "peak RSS {} MiB for {ops} ops", rss >> 20);
}

#[test]
fn ten_thousand_workers_on_an_in_process_tier_fit_in_512_mib() {
    let (rss, ops) = peak_rss("{ name: t, kind: memory, max_entries: 50000 }", "many:");
    assert!(rss <= BOUND, "peak RSS {} MiB for {ops} ops", rss >> 20);
}
