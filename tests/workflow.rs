//! The everyday workflow around a run: `tierbench new` writes a starter that validates and runs,
//! a log gets plain status lines during a run (none with `--quiet`), and named baselines are
//! saved and found again by name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::process::Command;

use support::all_output;

fn tierbench_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .current_dir(dir)
        .args(args)
        .env("CI", "1")
        .env_remove("TIERBENCH_BASELINE_DIR")
        .output()
        .unwrap()
}

#[test]
fn new_writes_a_starter_that_validates_and_runs_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = tierbench_in(d, &["new", "cache.yaml", "--tiers", "sql,memory"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let text = std::fs::read_to_string(d.join("cache.yaml")).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=scenario.schema.json\n"),
        "{text}"
    );
    assert!(
        text.contains("kind: memory") && text.contains("kind: sql"),
        "{text}"
    );
    assert!(!text.contains("kind: redis"), "{text}");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("scenario.schema.json")).unwrap())
            .unwrap();
    assert!(schema["properties"]["tiers"].is_object(), "{schema}");

    let out = tierbench_in(d, &["validate", "cache.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = tierbench_in(
        d,
        &[
            "run",
            "cache.yaml",
            "-q",
            "--set",
            "workloads.reads.duration=1s",
            "--report",
            "json=r.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(all_output(&out).contains("PASSED"), "{}", all_output(&out));
    // The starter shows each tier doing work: the stack's reads are served by every tier.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    let reads = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "reads")
        .unwrap();
    for tier in ["l1", "l3"] {
        let served = reads["served_by"][tier]["count"].as_u64().unwrap();
        assert!(served > 0, "{tier} served no reads: {}", reads["served_by"]);
    }

    let again = tierbench_in(d, &["new", "cache.yaml"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        all_output(&again).contains("--force"),
        "{}",
        all_output(&again)
    );
    assert_eq!(std::fs::read_to_string(d.join("cache.yaml")).unwrap(), text);
    let bad = tierbench_in(d, &["new", "x.yaml", "--tiers", "hazelcast"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(all_output(&bad).contains("choose from: memory, redis, memcached, sql"));
}

const SHORT: &str = "name: lines\nseed: 1\n\
    tiers: [{ name: l1, kind: memory, max_entries: 2000 }]\n\
    data: { keys: { count: 5000 }, values: { size: 32 } }\n\
    workloads:\n  - { name: reads, target: l1, duration: 2500ms, warmup: 0, concurrency: 1, mix: { get: 9, set: 1 } }\n";

#[test]
fn a_log_gets_plain_status_lines_and_quiet_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(dir.path(), "s.yaml", SHORT);
    let p = path.to_str().unwrap();
    let out = tierbench_in(dir.path(), &["run", p, "--progress-interval", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("tierbench: reads measure"))
        .collect();
    assert!(lines.len() >= 2, "{stderr}");
    for line in &lines {
        assert!(line.contains("/2.50s") && line.contains("ops/s"), "{line}");
        assert!(line.contains("l1 hit "), "{line}");
    }
    assert!(
        !stderr.contains('\x1b'),
        "escape codes in a log: {stderr:?}"
    );

    let quiet = tierbench_in(dir.path(), &["run", p, "-q", "--progress-interval", "1s"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("tierbench: reads"),
        "{}",
        all_output(&quiet)
    );
    let bad = tierbench_in(dir.path(), &["run", p, "--progress-interval", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "{}", all_output(&bad));
}

#[test]
fn named_baselines_are_saved_and_found_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = support::write_scenario(d, "s.yaml", &SHORT.replace("2500ms", "1s"));
    let p = path.to_str().unwrap();
    let missing = tierbench_in(d, &["run", p, "-q", "--baseline", "main"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        all_output(&missing).contains("--save-baseline main"),
        "{}",
        all_output(&missing)
    );

    let save = tierbench_in(d, &["run", p, "-q", "--save-baseline", "main"]);
    assert_eq!(save.status.code(), Some(0), "{}", all_output(&save));
    let saved = d.join(".tierbench/baselines/main.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(doc["scenario"]["name"], "lines");

    let json = d.join("now.json");
    let against = tierbench_in(
        d,
        &[
            "run",
            p,
            "-q",
            "--baseline",
            "main",
            "--allow-inconclusive",
            "--no-fail-on-regression",
            "--report",
            &format!("json={}", json.display()),
        ],
    );
    assert_eq!(against.status.code(), Some(0), "{}", all_output(&against));
    let now: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(
        now["comparison"]["metrics"].as_array().unwrap().len() >= 4,
        "{now}"
    );
    let cmp = tierbench_in(
        d,
        &[
            "compare",
            "main",
            json.to_str().unwrap(),
            "--no-fail-on-regression",
            "--allow-inconclusive",
        ],
    );
    assert_eq!(cmp.status.code(), Some(0), "{}", all_output(&cmp));
    let unknown = tierbench_in(d, &["compare", "mian", "main"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        all_output(&unknown).contains("saved in"),
        "{}",
        all_output(&unknown)
    );
    assert!(
        all_output(&unknown).contains("main"),
        "{}",
        all_output(&unknown)
    );
    let bad = tierbench_in(d, &["run", p, "-q", "--save-baseline", "a b"]);
    assert_eq!(bad.status.code(), Some(2), "{}", all_output(&bad));
}
