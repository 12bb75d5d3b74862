//! Explicit Redis pipelining issues the same operation stream as the unpipelined loop: the
//! `latest` distribution follows the writes, and an error inside a batch fails only its own
//! operation, counted once, as it would be unpipelined. Against the real Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::path::Path;

/// Runs a lone-Redis scenario and returns its result document.
fn run(dir: &Path, name: &str, yaml: &str) -> serde_json::Value {
    run_with(dir, name, yaml, &[])
}

fn run_with(dir: &Path, name: &str, yaml: &str, extra: &[&str]) -> serde_json::Value {
    let path = support::write_scenario(dir, &format!("{name}.yaml"), yaml);
    let results = dir.join(format!("{name}.json"));
    let report = format!("json={}", results.display());
    let mut args = vec!["run", path.to_str().unwrap(), "--report", &report];
    args.extend_from_slice(extra);
    let out = support::tierbench(&args);
    assert!(
        results.is_file(),
        "no results: {}",
        support::all_output(&out)
    );
    serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap()
}

fn keys(conn: &mut redis::Connection, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS").arg(pattern).query(conn).unwrap()
}

fn unlink(conn: &mut redis::Connection, pattern: &str) {
    for key in keys(conn, pattern) {
        let _: () = redis::cmd("UNLINK").arg(key).query(conn).unwrap();
    }
}

#[test]
fn an_error_inside_a_batch_counts_once_per_failed_operation() {
    let mut conn = support::redis();
    let dir = tempfile::tempdir().unwrap();
    let prefix = "tbtest:pipe-errors:";
    let mut counts = Vec::new();
    for pipeline in [1, 8] {
        unlink(&mut conn, &format!("{prefix}*"));
        // Key 3 holds a hash once the run has claimed its keys: every GET of it gets a
        // WRONGTYPE error reply, and only it.
        let start = support::after_the_claim(support::redis_url(), prefix, move |conn| {
            let _: () = redis::cmd("HSET")
                .arg(format!("{prefix}3"))
                .arg("f")
                .arg("v")
                .query(conn)
                .unwrap();
        });
        let doc = run_with(
            dir.path(),
            &format!("p{pipeline}"),
            &format!(
                "name: pipe-errors\nseed: 11\nkeep: true\n\
                 tiers: [{{ name: l2, kind: redis, url: \"{}\", pipeline: {pipeline} }}]\n\
                 data: {{ keys: {{ count: 20, prefix: \"{prefix}\", distribution: uniform }}, values: {{ size: 16 }} }}\n\
                 workloads:\n  - {{ name: reads, target: l2, ops: 2000, warmup: 0, concurrency: 1, mix: {{ get: 1 }} }}\n",
                support::redis_url()
            ),
            &[&start[0], &start[1]],
        );
        let w = &doc["workloads"][0];
        let errors = w["operations"]["get"]["errors"].as_u64().unwrap();
        let count = w["operations"]["get"]["count"].as_u64().unwrap();
        let tier_errors = w["tiers"][0]["errors"].as_u64().unwrap();
        assert_eq!(errors + count, 2000, "pipeline {pipeline}: {w}");
        assert_eq!(
            tier_errors, errors,
            "pipeline {pipeline}: tier errors per operation"
        );
        counts.push((errors, count));
    }
    unlink(&mut conn, &format!("{prefix}*"));
    // Uniform over 20 keys, 2000 reads: about 100 of them read key 3.
    assert!(counts[0].0 > 40 && counts[0].0 < 200, "{counts:?}");
    // The same seed gives the same keys: exactly the same failures, pipelined or not.
    assert_eq!(counts[0], counts[1]);
}

#[test]
fn latest_follows_the_writes_when_pipelined() {
    let mut conn = support::redis();
    let dir = tempfile::tempdir().unwrap();
    let prefix = "tbtest:pipe-latest:";
    let count = 100_000u64;
    let mut near_the_end = Vec::new();
    for pipeline in [1, 10] {
        unlink(&mut conn, &format!("{prefix}*"));
        run(
            dir.path(),
            &format!("latest{pipeline}"),
            &format!(
                "name: pipe-latest\nseed: 5\nkeep: true\n\
                 tiers: [{{ name: l2, kind: redis, url: \"{}\", pipeline: {pipeline} }}]\n\
                 data: {{ keys: {{ count: {count}, prefix: \"{prefix}\", distribution: latest }}, values: {{ size: 16 }} }}\n\
                 workloads:\n  - {{ name: rw, target: l2, ops: 20000, warmup: 0, concurrency: 2, mix: {{ get: 1, set: 1 }} }}\n",
                support::redis_url()
            ),
        );
        let written = keys(&mut conn, &format!("{prefix}*"));
        assert!(
            written.len() > 100,
            "pipeline {pipeline}: {} keys",
            written.len()
        );
        // Reads and writes follow the latest write, which wanders through the key space; without
        // write notes they would stay on the last keys of the space.
        let top = written
            .iter()
            .filter_map(|k| k.strip_prefix(prefix)?.parse::<u64>().ok())
            .filter(|&i| i >= count - count / 100)
            .count();
        near_the_end.push(top as f64 / written.len() as f64);
    }
    unlink(&mut conn, &format!("{prefix}*"));
    // Measured: about 1% both ways; without write notes the pipelined run kept 17% there.
    assert!(
        near_the_end.iter().all(|&share| share < 0.08),
        "pipelined and unpipelined `latest` differ: {near_the_end:?}"
    );
}
