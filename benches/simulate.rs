//! Simulate mode and the one-pass LRU curve: how fast each goes on this machine.
//!
//! Criterion's `simulate` group replays 1,000,000 requests of a zipf 0.99 workload (100k keys,
//! 95% gets, a read-through L1 of 10,000 entries) through each engine, timing nothing but the
//! whole replay, and reports requests per second (the goal: at least 5M/s per core for lru and
//! quick_cache). Then, outside criterion (one run each is seconds long), the table: the exact
//! LRU curve of 10,000,000 generated requests, and of a 10,000,000-record oracleGeneral trace
//! written to a temporary file first (240 MB; `SIM_NO_TRACE=1` skips it). The goal for the
//! trace is 10 s. Nothing here asserts a time; docs/performance.md ("Simulation") records the
//! figures.
//!
//! `cargo bench --bench simulate`; `SIM_TABLE_ONLY=1` skips criterion, `SIM_REQUESTS` sizes
//! the table's runs (default 10,000,000).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use tierbench::scenario::overrides::Overrides;
use tierbench::scenario::plan::Scenario;
use tierbench::simulate::{lru_distances, mattson::log_grid, simulate};
use tierbench::workload::keys::{KeyDistribution, KeySampler};

fn scenario(dir: &Path, yaml: &str) -> Scenario {
    tierbench::scenario::load_source(
        &dir.join("bench.yaml"),
        yaml.to_string(),
        &Overrides::default(),
        &|_| None,
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

fn generated(dir: &Path, engine: &str, ops: u64) -> Scenario {
    scenario(
        dir,
        &format!(
            r#"
name: bench
seed: 1
tiers: [{{ name: l1, kind: memory, engine: {engine}, max_entries: 10000 }}]
data: {{ keys: {{ count: 100000, distribution: zipf, zipf_exponent: 0.99 }}, values: {{ size: 8 }} }}
workloads:
  - {{ name: w, target: stack, simulate: true, concurrency: 1, ops: {ops}, mix: {{ get: 95, set: 5 }} }}
"#
        ),
    )
}

fn criterion_group(c: &mut Criterion, dir: &Path) {
    let ops = 1_000_000;
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ops));
    for engine in ["lru", "quick_cache", "moka"] {
        let s = generated(dir, engine, ops);
        group.bench_function(engine, |b| b.iter(|| simulate(&s, 0).unwrap()));
    }
    let s = generated(dir, "lru", ops);
    group.bench_function("one_pass_lru_curve", |b| {
        b.iter(|| lru_distances(&s, 0).unwrap())
    });
    group.finish();
}

/// Writes `n` oracleGeneral records of zipf 0.99 object ids over 1M objects.
fn write_trace(path: &Path, n: u64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let dist = KeyDistribution::Zipf { exponent: 0.99 };
    let mut sampler = KeySampler::new(&dist, 1_000_000, 0, 1).unwrap();
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(9);
    for i in 0..n {
        let id = sampler.sample(&mut rng);
        out.write_all(&(i as u32).to_le_bytes()).unwrap();
        out.write_all(&id.to_le_bytes()).unwrap();
        out.write_all(&100u32.to_le_bytes()).unwrap();
        out.write_all(&(-1i64).to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
}

fn row(label: &str, requests: u64, seconds: f64, detail: &str) {
    println!(
        "{label:<44} {requests:>11} requests {seconds:>7.2} s {:>8.2}M/s  {detail}",
        requests as f64 / seconds / 1e6
    );
}

fn table(dir: &Path) {
    let n: u64 = std::env::var("SIM_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    println!("\nsimulation on this machine (one thread each):");
    for engine in ["lru", "quick_cache", "moka"] {
        let s = generated(dir, engine, n);
        let started = Instant::now();
        let sim = simulate(&s, 0).unwrap();
        let hit = sim.counts.hit_rate(0).unwrap_or(0.0);
        row(
            &format!("simulate {engine} (10k entries, zipf 0.99)"),
            sim.counts.requests(),
            started.elapsed().as_secs_f64(),
            &format!("hit rate {:.2}%", hit * 100.0),
        );
    }
    let s = generated(dir, "lru", n);
    let started = Instant::now();
    let h = lru_distances(&s, 0).unwrap();
    let at = h.miss_ratios(&[10_000])[0];
    row(
        "one-pass LRU curve, generated keys",
        n,
        started.elapsed().as_secs_f64(),
        &format!("miss ratio at 10k {:.2}%", at * 100.0),
    );
    if std::env::var("SIM_NO_TRACE").is_ok() {
        return;
    }
    let trace = dir.join("bench.oracle");
    write_trace(&trace, n);
    let s = scenario(
        dir,
        &format!(
            r#"
name: bench
tiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 10000 }}]
data: {{ keys: {{ count: 1 }}, values: {{ size: 8 }} }}
workloads:
  - {{ name: w, target: stack, ops: {n}, trace: {{ path: bench.oracle, format: oracle_general }} }}
"#
        ),
    );
    let started = Instant::now();
    let h = lru_distances(&s, 0).unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let grid = log_grid(h.max_distance());
    row(
        "one-pass LRU curve, oracleGeneral trace",
        h.lookups(),
        elapsed,
        &format!(
            "{} sizes, miss ratio at 10k {:.2}%",
            grid.len(),
            h.miss_ratios(&[10_000])[0] * 100.0
        ),
    );
    let _ = std::fs::remove_file(&trace);
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    if std::env::var("SIM_TABLE_ONLY").is_err() {
        let mut c = Criterion::default().configure_from_args();
        criterion_group(&mut c, dir.path());
        c.final_summary();
    }
    table(dir.path());
}
