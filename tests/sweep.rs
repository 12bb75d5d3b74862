//! Sweeps, simulate mode and the one-pass LRU curve.
//!
//! The curve is checked against the engine it claims to predict: at every size of a grid, the
//! one-pass miss ratio equals the miss ratio of replaying the same requests through the `lru`
//! engine at that size (generated keys, a CSV trace and an oracleGeneral trace). The simulated
//! stream is checked against what a run issues (its recorded trace), and the shipped sweep
//! scenario runs small, its measured and simulated `lru` points on the exact curve, and renders
//! in every built-in report format.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tierbench::metrics::result::ResultDocument;
use tierbench::report::{FORMATS, Reporter};
use tierbench::scenario::overrides::Overrides;
use tierbench::scenario::plan::Scenario;
use tierbench::simulate::requests::{Key, Part, for_each_request};
use tierbench::simulate::{lru_distances, mattson::log_grid, simulate};
use tierbench::tier::config::{MemoryEngine, TierKindConfig};

fn no_env(_: &str) -> Option<String> {
    None
}

/// A scenario from YAML text, as if it were the file `dir/s.yaml`.
fn scenario(dir: &Path, yaml: &str) -> Scenario {
    tierbench::scenario::load_source(
        &dir.join("s.yaml"),
        yaml.to_string(),
        &Overrides::default(),
        &no_env,
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

fn with_lru_size(s: &Scenario, size: u64) -> Scenario {
    let mut s = s.clone();
    s.tiers[0].kind = TierKindConfig::Memory {
        engine: MemoryEngine::Lru,
        max_entries: size,
        ttl: None,
    };
    s
}

/// At every size of a 1-2-5 grid (and a few odd ones) the one-pass curve's hits and misses are
/// exactly those of the `lru` engine replaying the same requests at that size.
fn assert_curve_matches_the_engine(s: &Scenario) {
    let histogram = lru_distances(s, 0).unwrap();
    let lookups = histogram.lookups();
    assert!(lookups > 1000, "too few lookups to test: {lookups}");
    let mut sizes = log_grid(histogram.max_distance() + 10);
    sizes.extend([3, 77, 333]);
    let hits = histogram.hits(&sizes);
    let ratios = histogram.miss_ratios(&sizes);
    let mut distinct = std::collections::BTreeSet::new();
    for ((&size, &hit), &ratio) in sizes.iter().zip(&hits).zip(&ratios) {
        let replayed = simulate(&with_lru_size(s, size), 0).unwrap();
        let (h, m) = (replayed.counts.hits[0], replayed.counts.misses[0]);
        assert_eq!(h + m, lookups, "size {size}: lookups");
        assert_eq!(h, hit, "size {size}: hits, one pass vs the lru engine");
        assert_eq!(ratio, m as f64 / lookups as f64, "size {size}: miss ratio");
        distinct.insert(h);
    }
    assert!(distinct.len() > 5, "the curve is flat: {distinct:?}");
}

#[test]
fn the_one_pass_curve_equals_the_lru_engine_over_a_generated_stream() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        r#"
name: curve
seed: 11
tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 100 }]
data: { keys: { count: 3000, distribution: zipf, zipf_exponent: 0.9 }, values: { size: 8 } }
workloads:
  - name: reads
    target: stack
    preload: true
    warmup: 2000
    concurrency: 3
    ops: 30000
    mix: { get: 80, set: 15, delete: 5 }
"#,
    );
    assert_curve_matches_the_engine(&s);
}

#[test]
fn the_one_pass_curve_equals_the_lru_engine_over_traces() {
    let dir = tempfile::tempdir().unwrap();
    // A CSV trace: a shifting working set, with sets and deletes.
    let mut csv = String::from("key,op,size\n");
    let mut x = 99u64;
    for i in 0..20_000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let key = (i / 40) + (x >> 33) % 400;
        let op = match (x >> 16) % 20 {
            0..=1 => "set",
            2 => "delete",
            _ => "get",
        };
        csv.push_str(&format!("user:{key},{op},10\n"));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    // An oracleGeneral trace: 24-byte records, every one a read.
    let mut bin = Vec::new();
    for i in 0..20_000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let id = if i % 3 == 0 {
            (x >> 40) % 5000
        } else {
            (x >> 40) % 300
        };
        bin.extend_from_slice(&(i as u32).to_le_bytes());
        bin.extend_from_slice(&id.to_le_bytes());
        bin.extend_from_slice(&100u32.to_le_bytes());
        bin.extend_from_slice(&(-1i64).to_le_bytes());
    }
    std::fs::write(dir.path().join("t.oracle"), bin).unwrap();
    for trace in [
        "{ path: t.csv }",
        "{ path: t.oracle, format: oracle_general }",
    ] {
        let s = scenario(
            dir.path(),
            &format!(
                r#"
name: curve
tiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 100 }}]
data: {{ keys: {{ count: 100 }}, values: {{ size: 8 }} }}
workloads:
  - name: replay
    target: stack
    ops: 20000
    trace: {trace}
"#
            ),
        );
        assert_curve_matches_the_engine(&s);
    }
}

fn tierbench() -> Command {
    let mut cmd = Command::cargo_bin("tierbench").expect("binary built");
    cmd.env("CI", "1");
    cmd
}

#[test]
fn the_simulated_stream_is_the_stream_a_run_issues() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"
name: stream
seed: 5
tiers: [{ name: l1, kind: memory, max_entries: 100 }]
data: { keys: { count: 500, prefix: "st:", distribution: zipf }, values: { size: 8 } }
workloads:
  - { name: a, target: l1, warmup: 300, ops: 2000, concurrency: 1, mix: { get: 8, set: 1, delete: 1 } }
  - { name: b, target: stack, ops: 1000, concurrency: 1, sequence: [set, get, delete] }
"#;
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let recorded = dir.path().join("rec.csv");
    tierbench()
        .arg("run")
        .arg(dir.path().join("s.yaml"))
        .arg("--record-trace")
        .arg(&recorded)
        .arg("-q")
        .assert()
        .success();
    let text = std::fs::read_to_string(&recorded).unwrap();
    let s = scenario(dir.path(), yaml);
    for (index, name) in ["a", "b"].iter().enumerate() {
        let issued: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f.len() == 5 && f[4] == *name).then(|| (f[0].to_string(), f[1].to_string()))
            })
            .collect();
        let mut simulated = Vec::new();
        for_each_request(&s, index, |part, key, op| {
            assert_ne!(part, Part::Preload);
            let Key::Index(i) = key else {
                panic!("generated keys are indices")
            };
            simulated.push((i.to_string(), op.name().to_string()));
        })
        .unwrap();
        assert!(issued.len() > 900, "{name}: {} recorded", issued.len());
        assert_eq!(simulated, issued, "workload {name}");
    }
}

fn small_sweep() -> Command {
    let mut cmd = tierbench();
    cmd.args([
        "run",
        "scenarios/sweep-l1.yaml",
        "-q",
        "--set",
        "data.keys.count=800",
        "--set",
        "defaults.ops=3000",
        "--set",
        "defaults.warmup=500",
        "--set",
        "workloads.reads-simulated.ops=6000",
    ]);
    cmd
}

#[test]
fn the_shipped_sweep_runs_small_and_its_lru_points_lie_on_the_exact_curve() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let html = dir.path().join("r.html");
    small_sweep()
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .args(["--report", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::contains("## Sweep"))
        .stdout(predicate::str::contains("knee at"));
    let doc = tierbench::app::read_results(&json).unwrap();
    let sweep = doc.sweep.as_ref().expect("a sweep section");
    assert_eq!(sweep.points.len(), 24);
    assert_eq!(doc.workloads.len(), 48);
    assert!(doc.summary.passed);
    // 2 workloads x (3 engines x 2 skews).
    assert_eq!(sweep.curves.len(), 12);
    let lru: Vec<_> = sweep
        .curves
        .iter()
        .filter(|c| c.engine.as_deref() == Some("lru"))
        .collect();
    assert_eq!(lru.len(), 4);
    for c in lru {
        let exact = c.exact_lru.as_ref().expect("an exact curve for lru");
        assert_eq!(c.points.len(), 4);
        for p in &c.points {
            let at = exact.sizes.iter().position(|&s| s == p.size).unwrap();
            // One worker: the run issues the simulated stream, so the engine's misses are the
            // curve's (the figures are ratios of the same integer counts).
            let measured = p.miss_ratio.unwrap();
            assert!(
                (measured - exact.miss_ratios[at]).abs() < 1e-12,
                "{} {} at {}: {measured} vs exact {}",
                c.workload,
                c.series,
                p.size,
                exact.miss_ratios[at]
            );
        }
        assert!(c.knee.is_some());
        assert_eq!(c.simulated, c.workload == "reads-simulated");
        assert_eq!(c.points[0].p99_ns.is_some(), !c.simulated);
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("data-chart=\"miss-ratio\""));
    assert!(page.contains("data-chart=\"sweep-latency\""));
    // The answer a sweep exists for comes first, linked from the top.
    let sweep = page.find("id=\"sweep\"").unwrap();
    let first_workload = page.find("id=\"workload-1\"").unwrap();
    assert!(
        sweep < first_workload,
        "the Sweep section is below the points"
    );
    assert!(page.contains("<a href=\"#sweep\">sweep</a>"));
}

#[test]
fn every_point_is_validated_before_anything_runs() {
    tierbench()
        .args([
            "validate",
            "scenarios/sweep-l1.yaml",
            "--set",
            "sweep={tiers.l1.engine: [lru, nope], tiers.l1.max_entries: [10, -1]}",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "sweep point 2 (engine=lru max_entries=-1)",
        ))
        .stderr(predicate::str::contains(
            "sweep point 3 (engine=nope max_entries=10)",
        ))
        .stderr(predicate::str::contains("sweep point 1 ").not());
    tierbench()
        .args([
            "validate",
            "scenarios/sweep-l1.yaml",
            "--set",
            "sweep={tiers.l9.max_entries: [10]}",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no entry named `l9`"));
}

#[test]
fn simulate_refuses_what_it_cannot_simulate() {
    tierbench()
        .args([
            "validate",
            "scenarios/trace-replay.yaml",
            "--set",
            "workloads.replay.simulate=true",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tier `l3` is sql: only in-process tiers (kind: memory) can be simulated",
        ));
    tierbench()
        .args(["run", "scenarios/quickstart.yaml", "--simulate", "-q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs timing"));
}

fn fixture() -> ResultDocument {
    tierbench::app::read_results(Path::new("tests/fixtures/results/sweep.json")).unwrap()
}

#[test]
fn a_sweep_renders_in_every_built_in_format() {
    let doc = fixture();
    let reporter = Reporter::new(None).unwrap();
    for format in FORMATS.iter().filter(|f| **f != "auto") {
        let out = reporter
            .render_format(format, &doc)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(!out.trim().is_empty(), "{format} is empty");
        // Every point's workloads are in every per-workload format.
        if !matches!(*format, "badge" | "comparison") {
            assert!(
                out.contains("max_entries=1000"),
                "{format} does not show the points"
            );
        }
    }
    let text = reporter.render_format("text", &doc).unwrap();
    let sweep = &text[text.find("== sweep").unwrap()..text.find("latency: ").unwrap()];
    insta::assert_snapshot!("sweep_text", sweep);
    let md = reporter.render_format("markdown", &doc).unwrap();
    let sweep = &md[md.find("## Sweep").unwrap()..md.find("_Latency:").unwrap()];
    insta::assert_snapshot!("sweep_markdown", sweep);
}

#[test]
fn a_document_without_a_sweep_still_loads() {
    let doc = tierbench::app::read_results(Path::new("tests/fixtures/results/small.json")).unwrap();
    assert!(doc.sweep.is_none());
    let text = Reporter::new(None)
        .unwrap()
        .render_format("text", &doc)
        .unwrap();
    assert!(!text.contains("== sweep"));
}

#[test]
fn a_lone_in_process_tier_counts_what_the_simulation_counts() {
    // A lone uncompressed in-process tier is called directly by the worker (no async layers in
    // the timed interval); its hits and misses must stay the engine's, which simulate mode
    // counts through the general path over the same requests.
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"
name: direct
seed: 11
tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 150 }]
data: { keys: { count: 600, prefix: "dl:", distribution: zipf }, values: { size: 16 } }
workloads:
  - { name: a, target: l1, warmup: 500, ops: 4000, concurrency: 1, mix: { get: 7, set: 2, delete: 1 } }
"#;
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let counts = |simulate: bool| {
        let json = dir.path().join(format!("r-{simulate}.json"));
        let mut cmd = tierbench();
        cmd.arg("run")
            .arg(dir.path().join("s.yaml"))
            .arg("--report")
            .arg(format!("json={}", json.display()))
            .arg("-q");
        if simulate {
            cmd.arg("--simulate");
        }
        cmd.assert().success();
        let doc = tierbench::app::read_results(&json).unwrap();
        let tier = &doc.workloads[0].tiers[0];
        (tier.hits, tier.misses)
    };
    let measured = counts(false);
    assert!(measured.0 > 500 && measured.1 > 500, "{measured:?}");
    assert_eq!(measured, counts(true));
}
