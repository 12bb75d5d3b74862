//! Verdicts that never fail open: one run per side is judged by its windows, a regression exits 5
//! with a last line that says FAILED, and `compare` of unrelated documents is an error (exit 2).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::{all_output, tierbench, write_scenario};

/// Reads that miss a one-entry L1 and load from the origin: throughput set by the origin. 10 s:
/// the 4 workers end each 600 µs wait yielding on 2 cores, so the slow side's throughput moves
/// with the machine (1.6k–3.3k ops/s seen); its tenths of a second must still group into at
/// least 10 windows of 1,000 operations (6 s gave 8 at 1.6k ops/s).
const SCENARIO: &str = "name: origin-windows\nseed: 7\n\
    tiers: [{ name: l1, kind: memory, max_entries: 1 }]\n\
    data: { keys: { count: 100000 }, values: { size: 32 } }\n\
    origin: { latency: 200us }\n\
    workloads:\n  - { name: reads, target: stack, duration: 10s, concurrency: 4, mix: { get: 1 }, thresholds: [\"get.p99 < 1s\"] }\n";

/// The runs here measure throughput: one at a time, so they do not measure each other.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn json(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn one_run_per_side_with_a_3x_slower_origin_is_a_regression_exit_5() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "s.yaml", SCENARIO);
    let p = path.to_str().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let base = tierbench(&[
        "run",
        p,
        "--no-progress",
        "--report",
        &format!("json={}", a.display()),
    ]);
    assert_eq!(base.status.code(), Some(0), "{}", all_output(&base));
    let doc = json(&a);
    let windows = doc["workloads"][0]["samples"]["throughput"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        windows >= 10,
        "{windows} windows: {}",
        doc["workloads"][0]["samples"]
    );

    let slow = tierbench(&[
        "run",
        p,
        "--no-progress",
        "--set",
        "origin.latency=600us",
        "--baseline",
        a.to_str().unwrap(),
        "--report",
        &format!("json={}", b.display()),
        "--report",
        "text",
    ]);
    let text = all_output(&slow);
    assert_eq!(slow.status.code(), Some(5), "{text}");
    let doc = json(&b);
    assert!(
        doc["workloads"][0]["samples"]["throughput"]
            .as_array()
            .unwrap()
            .len()
            >= 10
    );
    assert_eq!(doc["summary"]["regressed"], true);
    assert_eq!(doc["summary"]["passed"], false);
    assert_eq!(doc["summary"]["verdict_failed"], true);
    let metrics = doc["comparison"]["metrics"].as_array().unwrap();
    let throughput = metrics
        .iter()
        .find(|m| m["metric"] == "throughput")
        .unwrap();
    assert_eq!(throughput["verdict"], "regressed", "{throughput}");
    assert_eq!(throughput["sample_kind"][0], "windows");
    let low = throughput["change"]["ci_low"].as_f64().unwrap();
    assert!(low > -1.0, "a change stays above -100%: {low}");
    let last = String::from_utf8_lossy(&slow.stdout)
        .lines()
        .rfind(|l| l.starts_with("result:"))
        .unwrap()
        .to_string();
    assert!(last.starts_with("result: FAILED: "), "{last}");
    assert!(last.contains("regressed against"), "{last}");
    assert!(text.contains("error: exit 5:"), "{text}");

    // The same two documents through `compare`: exit 5 too; accepted with both flags.
    let cmp = tierbench(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(cmp.status.code(), Some(5), "{}", all_output(&cmp));
    assert!(all_output(&cmp).contains("verdict: REGRESSED"));
    let ok = tierbench(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--no-fail-on-regression",
        "--allow-inconclusive",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", all_output(&ok));
}

#[test]
fn compare_of_unrelated_documents_is_an_error_naming_both_files() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let one = write_scenario(
        dir.path(),
        "one.yaml",
        "name: one\ntiers: [{ name: l1, kind: memory, max_entries: 100 }]\ndata: { keys: { count: 100 }, values: { size: 8 } }\n\
         workloads: [{ name: alpha, target: l1, ops: 2000, mix: { get: 1 } }]\n",
    );
    let two = write_scenario(
        dir.path(),
        "two.yaml",
        "name: two\ntiers: [{ name: l1, kind: memory, max_entries: 100 }]\ndata: { keys: { count: 100 }, values: { size: 8 } }\n\
         workloads: [{ name: beta, target: l1, ops: 2000, mix: { get: 1 } }]\n",
    );
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    for (s, out) in [(&one, &a), (&two, &b)] {
        let r = tierbench(&[
            "run",
            s.to_str().unwrap(),
            "--no-progress",
            "--report",
            &format!("json={}", out.display()),
        ]);
        assert_eq!(r.status.code(), Some(0), "{}", all_output(&r));
    }
    let r = tierbench(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    let text = all_output(&r);
    assert_eq!(r.status.code(), Some(2), "{text}");
    assert!(text.contains("a.json") && text.contains("b.json"), "{text}");
    assert!(
        text.contains("`alpha`") && text.contains("`beta`"),
        "{text}"
    );
    // The run side: --baseline with no workload in common fails with 2, and says FAILED.
    let run = tierbench(&[
        "run",
        two.to_str().unwrap(),
        "--no-progress",
        "--baseline",
        a.to_str().unwrap(),
    ]);
    let text = all_output(&run);
    assert_eq!(run.status.code(), Some(2), "{text}");
    assert!(text.contains("result: FAILED: cannot compare"), "{text}");
}

#[test]
fn help_lists_every_exit_code() {
    for cmd in ["run", "compare"] {
        let r = tierbench(&[cmd, "--help"]);
        let text = all_output(&r);
        for code in ["  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "130", "143"] {
            assert!(text.contains(code), "{cmd} --help lacks {code}: {text}");
        }
        assert!(text.contains("--allow-inconclusive"), "{text}");
    }
}

/// An L1 shrunk from 5,000 to 500 entries, one run per side: its hit rate is judged by the
/// windows of each run (not "1 sample, no change"), found regressed, and the run exits 5. The
/// time series carries the hit rate of every second.
#[test]
fn one_run_per_side_with_a_smaller_l1_regresses_its_hit_rate_by_windows() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "l1.yaml",
        "name: l1-windows\nseed: 3\n\
         tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 5000 }]\n\
         data: { keys: { count: 10000, distribution: zipf, zipf_exponent: 0.9 }, values: { size: 32 } }\n\
         workloads:\n  - { name: reads, target: stack, duration: 2s, concurrency: 1, mix: { get: 1 } }\n",
    );
    let p = path.to_str().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let base = tierbench(&["run", p, "-q", "--report", &format!("json={}", a.display())]);
    assert_eq!(base.status.code(), Some(0), "{}", all_output(&base));
    let doc = json(&a);
    let rates = doc["workloads"][0]["samples"]["hit_rate"]["l1"]
        .as_array()
        .unwrap();
    assert!(rates.len() >= 10, "{}", doc["workloads"][0]["samples"]);
    assert!(
        rates
            .iter()
            .all(|r| (0.0..=1.0).contains(&r.as_f64().unwrap()))
    );
    let second = &doc["workloads"][0]["timeseries"][0]["hit_rates"]["l1"];
    assert!(second.as_f64().unwrap() > 0.3, "{second}");

    let small = tierbench(&[
        "run",
        p,
        "-q",
        "--set",
        "tiers.l1.max_entries=500",
        "--baseline",
        a.to_str().unwrap(),
        "--report",
        &format!("json={}", b.display()),
    ]);
    let text = all_output(&small);
    assert_eq!(small.status.code(), Some(5), "{text}");
    let doc = json(&b);
    let hit = doc["comparison"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "l1.hit_rate")
        .unwrap()
        .clone();
    assert_eq!(hit["verdict"], "regressed", "{hit}");
    assert_eq!(hit["sample_kind"][0], "windows", "{hit}");
    assert!(hit["samples"][0].as_u64().unwrap() >= 10, "{hit}");
}

/// A short, origin-bound scenario for the interleaved and history tests.
fn short(dir: &std::path::Path, name: &str, latency: &str) -> std::path::PathBuf {
    write_scenario(
        dir,
        name,
        &SCENARIO
            .replace("duration: 10s", "duration: 1s")
            .replace("latency: 200us", &format!("latency: {latency}")),
    )
}

#[test]
fn ab_judges_paired_rounds_and_a_slower_candidate_regresses() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let base = short(dir.path(), "base.yaml", "200us");
    let slow = short(dir.path(), "slow.yaml", "1ms");
    let json_out = dir.path().join("ab.json");
    let out = tierbench(&[
        "ab",
        base.to_str().unwrap(),
        slow.to_str().unwrap(),
        "--rounds",
        "3",
        "-q",
        "--report",
        &format!("json={}", json_out.display()),
        "--report",
        "comparison",
    ]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("interleaved A/B"), "{text}");
    let doc = json(&json_out);
    let metrics = doc["comparison"]["metrics"].as_array().unwrap();
    let throughput = metrics
        .iter()
        .find(|m| m["metric"] == "throughput")
        .unwrap();
    assert_eq!(throughput["verdict"], "regressed", "{throughput}");
    assert_eq!(throughput["sample_kind"][0], "rounds");
    assert_eq!(throughput["samples"][0], 3);
    assert_eq!(throughput["change"]["method"], "paired_log");
    // Scenarios without a workload in common cannot be compared: exit 2.
    let other = write_scenario(
        dir.path(),
        "other.yaml",
        &SCENARIO
            .replace("duration: 10s", "duration: 1s")
            .replace("name: reads", "name: writes"),
    );
    let out = tierbench(&[
        "ab",
        base.to_str().unwrap(),
        other.to_str().unwrap(),
        "--rounds",
        "2",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
}

#[test]
fn a_named_baseline_keeps_its_last_runs_and_judges_against_their_spread() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let base = short(dir.path(), "base.yaml", "200us");
    let baselines = dir.path().join("baselines");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tierbench"))
            .args(args)
            .env("CI", "1")
            .env("TIERBENCH_BASELINE_DIR", &baselines)
            .output()
            .unwrap();
        (out.status.code(), all_output(&out))
    };
    for _ in 0..4 {
        let (code, text) = run(&[
            "run",
            base.to_str().unwrap(),
            "-q",
            "--save-baseline",
            "main",
            "--baseline-keep",
            "3",
        ]);
        assert_eq!(code, Some(0), "{text}");
    }
    let kept = std::fs::read_dir(baselines.join("main.history"))
        .unwrap()
        .count();
    assert_eq!(kept, 3, "the last 3 runs are kept");
    let report = dir.path().join("r.json");
    let (code, text) = run(&[
        "run",
        base.to_str().unwrap(),
        "-q",
        "--set",
        "origin.latency=1ms",
        "--baseline",
        "main",
        "--report",
        &format!("json={}", report.display()),
    ]);
    assert_eq!(code, Some(5), "{text}");
    let doc = json(&report);
    let cmp = &doc["comparison"];
    assert!(
        cmp["baseline"]
            .as_str()
            .unwrap()
            .contains("the last 3 runs saved as `main`"),
        "{cmp}"
    );
    assert!(
        cmp["method"]
            .as_str()
            .unwrap()
            .contains("prediction interval"),
        "{cmp}"
    );
    let throughput = cmp["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "throughput")
        .unwrap();
    assert_eq!(throughput["verdict"], "regressed", "{throughput}");
    assert_eq!(throughput["samples"][0], 3);
}

/// The noise floor per metric is the scenario's (`noise_floor`) over the defaults, in a run
/// against a baseline and in `compare` of its documents; `--noise-floor` overrides it per
/// metric. Each comparison row says the band it was judged with.
#[test]
fn the_scenarios_noise_floor_sets_the_band_of_one_run_per_side() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: floors\nseed: 7\n\
        tiers: [{ name: l1, kind: memory, max_entries: 1000 }]\n\
        data: { keys: { count: 1000 }, values: { size: 32 } }\n\
        noise_floor: { throughput: 40%, p99: 30% }\n\
        workloads:\n  - { name: reads, target: l1, duration: 2s, concurrency: 2, preload: true, mix: { get: 1 } }\n";
    let path = write_scenario(dir.path(), "s.yaml", yaml);
    let p = path.to_str().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let run = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["run", p, "--no-progress", "--no-fail-on-regression"];
        args.extend(["--allow-inconclusive"]);
        let report = format!("json={}", out.display());
        args.extend(["--report", report.as_str()]);
        args.extend(extra);
        let o = tierbench(&args);
        assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    };
    run(&a, &[]);
    run(&b, &["--baseline", a.to_str().unwrap()]);
    let band = |doc: &serde_json::Value, metric: &str| {
        let metrics = doc["comparison"]["metrics"].as_array().unwrap();
        let row = metrics.iter().find(|m| m["metric"] == metric).unwrap();
        row["band"].as_f64().unwrap()
    };
    let doc = json(&b);
    assert!(band(&doc, "throughput") >= 0.40, "{}", doc["comparison"]);
    assert!(band(&doc, "all.p99_ns") >= 0.30, "{}", doc["comparison"]);
    // `compare` reads the floor from the current run's scenario; the flag overrides it.
    let c = dir.path().join("c.json");
    let cmp = tierbench(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--no-fail-on-regression",
        "--allow-inconclusive",
        "--report",
        &format!("json={}", c.display()),
    ]);
    assert_eq!(cmp.status.code(), Some(0), "{}", all_output(&cmp));
    assert!(band(&json(&c), "throughput") >= 0.40);
    let cmp = tierbench(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--no-fail-on-regression",
        "--allow-inconclusive",
        "--noise-floor",
        "throughput=60%",
        "--report",
        &format!("json={}", c.display()),
    ]);
    assert_eq!(cmp.status.code(), Some(0), "{}", all_output(&cmp));
    let doc = json(&c);
    assert!(band(&doc, "throughput") >= 0.60, "{}", doc["comparison"]);
    assert!(band(&doc, "all.p99_ns") >= 0.30, "{}", doc["comparison"]);
    // A floor that is not a percentage is invalid input, at its field.
    let bad = write_scenario(dir.path(), "bad.yaml", &yaml.replace("40%", "fast"));
    let out = tierbench(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        all_output(&out).contains("noise_floor.throughput"),
        "{}",
        all_output(&out)
    );
}
