//! A sharded run: shard processes started together with `--shard I/N` and a common
//! `--start-at`, merged exactly by `tierbench merge` (histograms added, not percentiles
//! averaged), and the merges it must refuse.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::all_output;
use tierbench::metrics::result::decode_histogram;

fn scenario(dir: &Path, name: &str, tier: &str, prefix: &str, duration: &str) -> PathBuf {
    support::write_scenario(
        dir,
        name,
        &format!(
            "name: sharded\nseed: 9\ntiers: [{tier}]\n\
             data: {{ keys: {{ count: 6000, prefix: \"{prefix}\" }}, values: {{ size: 64 }} }}\n\
             workloads:\n  - {{ name: mixed, target: l1, preload: true, duration: {duration}, warmup: 0, concurrency: 3, \
             mix: {{ get: 8, set: 2 }}, thresholds: [\"get.p99 < 1s\", \"errors == 0\"] }}\n"
        ),
    )
}

fn start_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Starts `n` shards of `path` at once (shard `i` through JOB_COMPLETION_INDEX when `env`),
/// waits for all, and returns their result files.
fn run_shards(dir: &Path, path: &Path, n: usize, env: bool) -> Vec<PathBuf> {
    let start = start_in(4);
    let children: Vec<_> = (0..n)
        .map(|i| {
            let json = dir.join(format!("shard-{i}.json"));
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tierbench"));
            cmd.args(["run", path.to_str().unwrap(), "-q", "--start-at", &start])
                .arg("--report")
                .arg(format!("json={}", json.display()))
                .args(["--report", "text"]);
            if env {
                cmd.env("JOB_COMPLETION_INDEX", i.to_string())
                    .env("TIERBENCH_SHARDS", n.to_string());
            } else {
                cmd.args(["--shard", &format!("{i}/{n}")]);
            }
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            (json, cmd.spawn().unwrap())
        })
        .collect();
    children
        .into_iter()
        .map(|(json, child)| {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
            json
        })
        .collect()
}

fn merge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .arg("merge")
        .args(args)
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn three_shards_merge_into_exact_totals_and_percentiles() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "s.yaml",
        "{ name: l1, kind: memory, max_entries: 4000 }",
        "shard:",
        "1s",
    );
    let files = run_shards(dir.path(), &path, 3, true);
    let docs: Vec<_> = files.iter().map(|f| json(f)).collect();
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d["shard"]["indices"][0], i);
        assert_eq!(d["shard"]["count"], 3);
        assert_eq!(
            d["workloads"][0]["concurrency"], 1,
            "3 workers over 3 shards"
        );
    }
    let total = dir.path().join("total.json");
    let names: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let mut args = names.clone();
    args.extend(["-o", total.to_str().unwrap(), "--report", "text"]);
    let out = merge(&args);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let merged = json(&total);
    let w = &merged["workloads"][0];
    let sum = |key: &str| -> u64 {
        docs.iter()
            .map(|d| d["workloads"][0][key].as_u64().unwrap())
            .sum()
    };
    assert_eq!(w["ops"].as_u64().unwrap(), sum("ops"));
    assert_eq!(w["errors"].as_u64().unwrap(), sum("errors"));
    assert_eq!(merged["shard"]["indices"], serde_json::json!([0, 1, 2]));
    // The scenario's seed, not shard 0's derived one; each shard's in-process L1 counted.
    assert_eq!(merged["scenario"]["seed"], 9);
    assert_ne!(docs[0]["scenario"]["seed"], 9);
    let entries =
        |d: &serde_json::Value| d["workloads"][0]["tiers"][0]["entries"].as_u64().unwrap();
    assert_eq!(entries(&merged), docs.iter().map(entries).sum::<u64>());
    // Every shard preloaded and warmed up before the common start, then measured from it:
    // the measured windows begin within 20 ms of each other, at the start or just after.
    let start_ms =
        chrono::DateTime::parse_from_rfc3339(docs[0]["shard"]["start_at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis() as u64;
    let began: Vec<u64> = docs
        .iter()
        .map(|d| d["workloads"][0]["started_ms"].as_u64().unwrap())
        .collect();
    let (first, last) = (*began.iter().min().unwrap(), *began.iter().max().unwrap());
    assert!(
        first >= start_ms && last - first <= 20,
        "windows began at {began:?}, start {start_ms}"
    );

    // One histogram holding every shard's gets, recorded apart: the merge reads the same.
    let mut all = tierbench::metrics::recorder::new_histogram();
    for d in &docs {
        let h = decode_histogram(
            d["workloads"][0]["operations"]["get"]["latency"]["histogram"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        all.add(&h).unwrap();
    }
    let get = &w["operations"]["get"];
    assert_eq!(get["count"].as_u64().unwrap(), all.len());
    for (field, q) in [("p50_ns", 0.5), ("p99_ns", 0.99), ("p999_ns", 0.999)] {
        assert_eq!(
            get["latency"][field].as_u64().unwrap(),
            all.value_at_quantile(q),
            "{field}"
        );
    }
    assert_eq!(get["latency"]["max_ns"].as_u64().unwrap(), all.max());
    // Thresholds judged on the whole.
    let p99 = &w["thresholds"][0];
    assert_eq!(p99["text"], "get.p99 < 1s");
    assert_eq!(
        p99["observed"].as_f64().unwrap(),
        all.value_at_quantile(0.99) as f64
    );
    assert_eq!(merged["summary"]["passed"], true);
    assert!(all_output(&out).contains("PASSED"), "{}", all_output(&out));
    // Throughput over the union of the windows.
    let secs = w["duration_s"].as_f64().unwrap();
    assert!((w["throughput"].as_f64().unwrap() - sum("ops") as f64 / secs).abs() < 1e-6);

    // Refusals: a shard missing, a shard twice, another scenario's shard.
    let out = merge(&[names[0], names[1], "-o", total.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("shard 2 of 3 missing"),
        "{}",
        all_output(&out)
    );
    let out = merge(&[names[0], names[1], names[1], "-o", total.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("shard 1 is given twice"),
        "{}",
        all_output(&out)
    );
    let mut other = docs[2].clone();
    other["scenario"]["sha256"] = serde_json::json!("0123456789abcdef");
    let other_path = dir.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let out = merge(&[
        names[0],
        names[1],
        other_path.to_str().unwrap(),
        "-o",
        total.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("different scenarios"),
        "{}",
        all_output(&out)
    );
}

#[test]
fn shards_whose_windows_do_not_overlap_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "s.yaml",
        "{ name: l1, kind: memory, max_entries: 1000 }",
        "apart:",
        "300ms",
    );
    let mut files = Vec::new();
    for i in 0..2 {
        // One after the other: the second starts after the first has ended.
        let json = dir.path().join(format!("apart-{i}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_tierbench"))
            .args([
                "run",
                path.to_str().unwrap(),
                "-q",
                "--shard",
                &format!("{i}/2"),
            ])
            .args(["--start-at", &start_in(1)])
            .arg("--report")
            .arg(format!("json={}", json.display()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        files.push(json);
    }
    let total = dir.path().join("t.json");
    let out = merge(&[
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "-o",
        total.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("do not overlap"),
        "{}",
        all_output(&out)
    );
    assert!(!total.exists());
}

#[test]
fn a_sharded_run_needs_a_common_start_and_a_real_shard() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "s.yaml",
        "{ name: l1, kind: memory, max_entries: 1000 }",
        "x:",
        "100ms",
    );
    let p = path.to_str().unwrap();
    let out = support::tierbench(&["run", p, "-q", "--shard", "1/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("--start-at"),
        "{}",
        all_output(&out)
    );
    let out = support::tierbench(&["run", p, "-q", "--shard", "2/2", "--start-at", &start_in(1)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("numbered 0 to 1"),
        "{}",
        all_output(&out)
    );
    let out = support::tierbench(&["run", p, "-q", "--start-at", "tomorrow"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("RFC 3339"),
        "{}",
        all_output(&out)
    );
}

/// Shards on the shared Redis: none removes another's keys, they leave them for each other,
/// and `merge --cleanup` removes them once.
#[test]
fn redis_shards_keep_each_others_keys_and_merge_cleans_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = "tbtest:shards:";
    let tier = format!(
        "{{ name: l1, kind: redis, url: \"{}\" }}",
        support::redis_url()
    );
    let path = scenario(dir.path(), "r.yaml", &tier, prefix, "1s");
    let files = run_shards(dir.path(), &path, 2, false);
    let mut conn = support::redis();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap();
    assert!(
        keys.len() > 5000,
        "the shards' keys stay until the merge: {}",
        keys.len()
    );
    let docs: Vec<_> = files.iter().map(|f| json(f)).collect();
    for d in &docs {
        // Neither shard took the other's keys for an interrupted run's leftovers.
        assert!(
            d["notes"].to_string().contains("left for the other shards"),
            "{}",
            d["notes"]
        );
        assert!(
            !d["notes"].to_string().contains("removed"),
            "{}",
            d["notes"]
        );
        assert_eq!(d["workloads"][0]["errors"], 0);
    }
    let total = dir.path().join("t.json");
    let out = merge(&[
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "-o",
        total.to_str().unwrap(),
        "--cleanup",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    // The cleanup is the sharded run's own: its keys are not an interrupted run's leftovers.
    assert!(
        !all_output(&out).contains("interrupted"),
        "{}",
        all_output(&out)
    );
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap();
    assert!(
        keys.is_empty(),
        "{} keys left after merge --cleanup",
        keys.len()
    );
    // The merged document says what is left: nothing.
    let notes = json(&total)["notes"].to_string();
    assert!(!notes.contains("left for the other shards"), "{notes}");
    assert!(
        notes.contains("removed by `tierbench merge --cleanup"),
        "{notes}"
    );
}

#[test]
fn a_shard_leaves_the_verdict_to_the_merge() {
    // A threshold nothing can meet: each shard records it missed on its share and still exits 0
    // (a share is not the whole); the merge judges the whole and exits 1. A duration, not a
    // count: a few thousand in-process gets take well under a millisecond, and the shards'
    // windows must overlap for the merge (their starts differ by the processes' own jitter).
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "strict.yaml",
        "name: strict\nseed: 9\ntiers: [{ name: l1, kind: memory, max_entries: 1000 }]\n\
         data: { keys: { count: 500, prefix: \"verdict:\" }, values: { size: 16 } }\n\
         workloads:\n  - { name: reads, target: l1, duration: 1s, warmup: 0, concurrency: 2, \
         mix: { get: 1 }, thresholds: [\"get.p99 < 1ns\"] }\n",
    );
    let parts = run_shards(dir.path(), &path, 2, false);
    for part in &parts {
        assert_eq!(json(part)["summary"]["passed"], false);
    }
    let total = dir.path().join("total.json");
    let out = merge(&[
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        "-o",
        total.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(json(&total)["summary"]["passed"], false);
}

/// On a cluster without a shared volume each shard prints its document to its log
/// (`--report json`), and `tierbench merge` reads the saved logs (stdout and stderr together,
/// as `kubectl logs` gives them).
#[test]
fn merge_reads_the_shards_saved_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "logs.yaml",
        "{ name: l1, kind: memory, max_entries: 4000 }",
        "logs:",
        "1s",
    );
    let start = start_in(3);
    let children: Vec<_> = (0..2)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_tierbench"))
                .args(["run", path.to_str().unwrap(), "--start-at", &start])
                .args(["--shard", &format!("{i}/2"), "--report", "json"])
                .env("CI", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut logs = Vec::new();
    let mut ops = 0;
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ops += doc["workloads"][0]["ops"].as_u64().unwrap();
        // The log: the shard's stderr lines, then its document, then a last line.
        let mut log = out.stderr.clone();
        log.extend_from_slice(&out.stdout);
        log.extend_from_slice(b"\nshard finished\n");
        let file = dir.path().join(format!("shard-{i}.log"));
        std::fs::write(&file, log).unwrap();
        logs.push(file);
    }
    let total = dir.path().join("total.json");
    let out = merge(&[
        logs[0].to_str().unwrap(),
        logs[1].to_str().unwrap(),
        "-o",
        total.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(json(&total)["workloads"][0]["ops"].as_u64().unwrap(), ops);
    // A log without a document says how to get one.
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "waiting until the start\n").unwrap();
    let out = merge(&[empty.to_str().unwrap(), "-o", total.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("--report json"),
        "{}",
        all_output(&out)
    );
}
