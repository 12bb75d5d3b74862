//! Traces: a seeded run records the same operation sequence every time, and replaying a
//! recorded trace issues exactly its operations.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::{record_trace, write_scenario};

fn scenario(workload: &str) -> String {
    format!(
        "name: rec\nseed: 77\ntiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 300 }}]\n\
         data: {{ keys: {{ count: 1000, prefix: \"rec:\", distribution: zipf }}, values: {{ size: 16..64 }} }}\n\
         workloads:\n  - {{ name: w, target: l1, warmup: 100, {workload} }}\n"
    )
}

fn record(dir: &std::path::Path, name: &str, yaml: &str) -> String {
    record_trace(&write_scenario(dir, &format!("{name}.yaml"), yaml))
}

#[test]
fn the_same_seed_records_the_same_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario("ops: 3000, concurrency: 3, mix: { get: 7, set: 2, delete: 1 }");
    let first = record(dir.path(), "a", &yaml);
    let second = record(dir.path(), "b", &yaml);
    assert_eq!(
        first.lines().count(),
        1 + 100 + 3000,
        "header, warmup, measured"
    );
    assert_eq!(first, second);
    let other = record(dir.path(), "c", &yaml.replace("seed: 77", "seed: 78"));
    assert_ne!(first, other);
}

#[test]
fn a_replayed_trace_issues_exactly_its_operations() {
    let dir = tempfile::tempdir().unwrap();
    let original = record(
        dir.path(),
        "orig",
        &scenario("ops: 2000, concurrency: 1, mix: { get: 6, set: 3, delete: 1 }"),
    );
    std::fs::write(dir.path().join("orig-trace.csv"), &original).unwrap();
    // Replay it (warmup off: the replay's own warmup would consume records) and record again.
    let replay_yaml = scenario("ops: 5000, concurrency: 1, trace: { path: orig-trace.csv }")
        .replace("warmup: 100, ", "warmup: 0, ");
    let replayed = record(dir.path(), "replay", &replay_yaml);
    let key_op = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .skip(1)
            .map(|l| {
                let mut f = l.split(',');
                (f.next().unwrap().to_string(), f.next().unwrap().to_string())
            })
            .collect()
    };
    assert_eq!(
        key_op(&replayed),
        key_op(&original),
        "same keys and operations, in order"
    );
}
