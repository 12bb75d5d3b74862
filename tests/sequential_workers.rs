//! `distribution: sequential` with several workers: each worker walks its own stride, so a run
//! of one lap touches every key exactly once (through the engine, not only the sampler).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::HashMap;

use support::{record_trace, write_scenario};

fn keys_touched(concurrency: usize, rate: &str) -> HashMap<String, usize> {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: seq\nseed: 5\ntiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 10000 }}]\n\
         data: {{ keys: {{ count: 1000, prefix: \"seq:\", distribution: sequential }}, values: {{ size: 16 }} }}\n\
         workloads:\n  - {{ name: w, target: l1, warmup: 0, preload: false, ops: 1000, \
         concurrency: {concurrency}, mix: {{ get: 1 }}{rate} }}\n"
    );
    let path = write_scenario(dir.path(), "seq.yaml", &yaml);
    let text = record_trace(&path);
    let mut seen = HashMap::new();
    for line in text.lines().skip(1) {
        let key = line.split(',').next().unwrap().to_string();
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

#[test]
fn four_workers_cover_every_key_once_in_the_closed_loop() {
    let seen = keys_touched(4, "");
    assert_eq!(
        seen.len(),
        1000,
        "distinct keys touched by 1,000 operations"
    );
    assert!(seen.values().all(|&n| n == 1));
}

#[test]
fn four_workers_cover_every_key_once_in_the_open_loop() {
    let seen = keys_touched(4, ", rate: 20000/s");
    assert_eq!(
        seen.len(),
        1000,
        "distinct keys touched by 1,000 operations"
    );
    assert!(seen.values().all(|&n| n == 1));
}
