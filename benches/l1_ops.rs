//! Bare in-process cache operations, next to what `tierbench run` reports for the same work.
//!
//! `cargo bench --bench l1_ops` measures a bare `get` (all hits, one thread) for each engine with
//! criterion, then runs the same work through tierbench's engine and prints the mean get latency
//! it reports. The difference is the harness's overhead per measured operation (timer reads and
//! recording); docs/performance.md records the figures. Nothing here asserts a time.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tierbench::engine::progress::Progress;
use tierbench::tier::config::MemoryEngine;
use tierbench::tier::memory::MemoryTier;

const KEYS: u64 = 1000;
const ENGINES: [(MemoryEngine, &str); 3] = [
    (MemoryEngine::Moka, "moka"),
    (MemoryEngine::QuickCache, "quick_cache"),
    (MemoryEngine::Lru, "lru"),
];

fn bare_get(c: &mut Criterion) {
    let keys: Vec<String> = (0..KEYS).map(|i| format!("bench:{i}")).collect();
    // The same key pattern tierbench issues (uniform over the keys), precomputed so the bare
    // loop pays only an index per call.
    let mut rng = SmallRng::seed_from_u64(1);
    let order: Vec<usize> = (0..1 << 20)
        .map(|_| rng.random_range(0..keys.len()))
        .collect();
    let mut group = c.benchmark_group("bare_get");
    group.measurement_time(Duration::from_secs(3));
    for (engine, name) in ENGINES {
        let tier = MemoryTier::new(engine, KEYS * 10, None);
        for k in &keys {
            tier.set(k, &[7u8; 64]);
        }
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & ((1 << 20) - 1);
                black_box(tier.get(black_box(&keys[order[i]])))
            })
        });
    }
    group.finish();
}

/// The mean get latency tierbench reports for the same work (one worker, all hits).
fn reported_get(engine: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.yaml");
    std::fs::write(
        &path,
        format!(
            "name: bench\ntiers: [{{ name: l1, kind: memory, engine: {engine}, max_entries: {} }}]\n\
             data:\n  keys: {{ count: {KEYS}, prefix: \"bench:\", distribution: uniform }}\n  values: {{ size: 64 }}\n\
             workloads:\n  - {{ name: get, target: l1, preload: true, warmup: 100000, ops: 3000000, concurrency: 1, mix: {{ get: 1 }} }}\n",
            KEYS * 10
        ),
    )
    .unwrap();
    let scenario = tierbench::scenario::load(&path).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime.block_on(tierbench::app::run::run(
        &scenario,
        &[],
        &Progress::hidden(),
    ));
    let get = &outcome.document.workloads[0].operations["get"];
    assert_eq!(outcome.document.workloads[0].tiers[0].misses, 0, "all hits");
    get.latency.mean_ns
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bare_get(&mut c);
    c.final_summary();
    println!("\ntierbench-reported mean get latency (1 worker, all hits, 3M ops):");
    for (_, name) in ENGINES {
        println!("  {name:<12} {:>8.1} ns", reported_get(name));
    }
    let clock = quanta::Clock::new();
    let n = 10_000_000u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        black_box(clock.raw());
    }
    let tsc = start.elapsed().as_nanos() as f64 / f64::from(n);
    let start = std::time::Instant::now();
    for _ in 0..n {
        black_box(std::time::Instant::now());
    }
    let instant = start.elapsed().as_nanos() as f64 / f64::from(n);
    println!("timer cost: quanta raw {tsc:.1} ns, Instant::now {instant:.1} ns");
}
