//! Baselines: a run compared with itself is "no change" or "within noise"; a run whose origin
//! was slowed is "regressed" and exits 5. Also profiles, overrides and timeouts end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::{all_output, tierbench, write_scenario};

/// Reads that miss a one-entry L1 and load from a 1 ms origin: timing dominated by the origin.
const SCENARIO: &str = "name: origin-bound\nseed: 5\nrepeat: 5\n\
    tiers: [{ name: l1, kind: memory, max_entries: 1 }]\n\
    data: { keys: { count: 100000 }, values: { size: 32 } }\n\
    origin: { latency: 1ms }\n\
    workloads:\n  - { name: reads, target: stack, ops: 300, concurrency: 4, mix: { get: 1 }, thresholds: [\"get.p99 < 1s\"] }\n";

fn json(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn same_runs_do_not_regress_and_a_slower_origin_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "s.yaml", SCENARIO);
    let p = path.to_str().unwrap();
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    for out in [&a, &b] {
        let r = tierbench(&["run", p, "--report", &format!("json={}", out.display())]);
        assert_eq!(r.status.code(), Some(0), "{}", all_output(&r));
    }
    let doc = json(&a);
    let w = &doc["workloads"][0];
    assert_eq!(w["repetitions"].as_array().unwrap().len(), 5);
    let st = &w["statistics"]["all.mean_ns"];
    assert!(st["ci_low"].as_f64().unwrap() <= st["mean"].as_f64().unwrap());
    assert_eq!(w["grade"], "A", "{}", w["score"]);

    let same = tierbench(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    let text = all_output(&same);
    assert_eq!(same.status.code(), Some(0), "{text}");
    assert!(!text.contains("  regressed"), "{text}");
    assert!(
        text.contains("summary: ") && text.contains("0 regressed"),
        "{text}"
    );

    let slow = tierbench(&[
        "run",
        p,
        "--set",
        "origin.latency=5ms",
        "--baseline",
        a.to_str().unwrap(),
        "--report",
        &format!("json={}", c.display()),
    ]);
    assert_eq!(slow.status.code(), Some(5), "{}", all_output(&slow));
    let doc = json(&c);
    let cmp = &doc["comparison"];
    assert!(cmp["regressions"].as_u64().unwrap() > 0);
    let mean = cmp["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "all.mean_ns")
        .unwrap();
    assert_eq!(mean["verdict"], "regressed", "{mean}");
    assert!(mean["change"]["ci_low"].as_f64().unwrap() > 0.02);
    assert_eq!(doc["overrides"][0], "--set origin.latency=5ms");
    let allowed = tierbench(&[
        "compare",
        a.to_str().unwrap(),
        c.to_str().unwrap(),
        "--no-fail-on-regression",
        // A p99 of 5 repetitions of 300 operations may be likely worse and not shown beyond the
        // band (inconclusive): accepted too.
        "--allow-inconclusive",
    ]);
    assert_eq!(allowed.status.code(), Some(0));
}

#[test]
fn overrides_are_validated_like_the_file_and_profiles_resize_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "s.yaml", SCENARIO);
    let p = path.to_str().unwrap();
    let bad = tierbench(&["validate", p, "--set", "workloads.reads.opz=5"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        all_output(&bad).contains("unknown field `opz`"),
        "{}",
        all_output(&bad)
    );
    let wrong = tierbench(&["validate", p, "--set", "workloads.reads.ops=lots"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        all_output(&wrong).contains("workloads[0].ops"),
        "{}",
        all_output(&wrong)
    );
    let printed = tierbench(&["validate", "--print", p, "--profile", "production"]);
    let effective: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(effective["workloads"][0]["ops"], 1500);
    assert_eq!(effective["repeat"], 5);
    let unknown = tierbench(&["validate", p, "--profile", "turbo"]);
    assert!(all_output(&unknown).contains("unknown profile `turbo`"));
}

#[test]
fn a_timeout_stops_the_run_keeps_the_results_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "long.yaml",
        "name: long\ntiers: [{ name: l1, kind: memory, max_entries: 10 }]\ndata: { keys: { count: 10 }, values: { size: 8 } }\n\
         workloads: [{ name: forever, target: l1, duration: 1h, mix: { get: 1 } }]\n",
    );
    let out = dir.path().join("r.json");
    let started = std::time::Instant::now();
    let r = tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--timeout",
        "500ms",
        "--report",
        &format!("json={}", out.display()),
    ]);
    assert_eq!(r.status.code(), Some(4), "{}", all_output(&r));
    assert!(started.elapsed().as_secs() < 30);
    let doc = json(&out);
    assert_eq!(doc["summary"]["timed_out"], true);
    assert!(
        doc["workloads"][0]["ops"].as_u64().unwrap() > 0,
        "results so far are kept"
    );
}
