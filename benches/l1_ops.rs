//! Bare in-process cache gets over tierbench's own key sequence, next to what `tierbench run`
//! reports for the same work.
//!
//! For each key distribution (zipf 0.99, uniform), key count (1k, 100k) and engine (moka,
//! quick_cache, lru), the bare loop replays exactly the keys tierbench's worker issues: the same
//! `Planner` (the same `KeySampler`, the same worker seed; checked against a trace tierbench
//! records), 300-byte values, all hits, one thread. Keys are formatted a chunk at a time outside
//! the timed region, and each chunk of gets is timed as a whole, so the bare mean holds the get
//! and nothing else. The difference to tierbench's reported mean get is the harness's cost per
//! measured operation; docs/performance.md records the figures. Nothing here asserts a time.
//!
//! `cargo bench --bench l1_ops` runs criterion's `bare_get` group, then the comparison table
//! (bare and tierbench rounds interleaved, A B A B, ranges reported). Environment:
//! `L1_TABLE_ONLY=1` skips criterion, `L1_OPS` (default 3,000,000) and `L1_ROUNDS` (default 2)
//! size the table, `L1_FILTER=zipf-1000` keeps the scenarios whose label contains it.
//! `scripts/l1-vs-bare-loop.sh` wraps it.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tierbench::app::run::{RunOptions, run_with};
use tierbench::engine::progress::Progress;
use tierbench::tier::config::MemoryEngine;
use tierbench::tier::memory::MemoryTier;
use tierbench::workload::keys::{KeyDistribution, KeySampler};
use tierbench::workload::op::Op;
use tierbench::workload::ops::{OpMix, OpSource};
use tierbench::workload::plan::Planner;

const ENGINES: [(MemoryEngine, &str); 3] = [
    (MemoryEngine::Moka, "moka"),
    (MemoryEngine::QuickCache, "quick_cache"),
    (MemoryEngine::Lru, "lru"),
];
const PREFIX: &str = "bench:";
const VALUE_SIZE: usize = 300;
/// The scenario's seed.
const SEED: u64 = 1;
/// Gets timed as one interval by the bare loop (their keys formatted before it).
const CHUNK: usize = 256;

#[derive(Clone, Copy)]
struct Case {
    zipf: bool,
    keys: u64,
}

impl Case {
    fn label(self) -> String {
        format!(
            "{}-{}",
            if self.zipf { "zipf" } else { "uniform" },
            self.keys
        )
    }

    fn distribution(self) -> KeyDistribution {
        if self.zipf {
            KeyDistribution::Zipf { exponent: 0.99 }
        } else {
            KeyDistribution::Uniform
        }
    }

    fn scenario(self, engine: &str, warmup: u64, ops: u64) -> String {
        let dist = if self.zipf {
            "distribution: zipf, zipf_exponent: 0.99"
        } else {
            "distribution: uniform"
        };
        format!(
            "name: l1-bare\nseed: {SEED}\n\
             tiers: [{{ name: l1, kind: memory, engine: {engine}, max_entries: {} }}]\n\
             data:\n  keys: {{ count: {}, prefix: \"{PREFIX}\", {dist} }}\n  values: {{ size: {VALUE_SIZE} }}\n\
             workloads:\n  - {{ name: get, target: l1, preload: true, warmup: {warmup}, ops: {ops}, concurrency: 1, mix: {{ get: 1 }} }}\n",
            self.keys * 10,
            self.keys
        )
    }

    /// The planner of the measured phase's only worker, as tierbench makes it.
    fn planner(self) -> Planner {
        let sampler = KeySampler::new(&self.distribution(), self.keys, 0, 1).unwrap();
        let mix = OpMix::new(&[1, 0, 0, 0, 0, 0, 0]).unwrap();
        Planner::new(measured_seed(), sampler, &OpSource::Mix(mix))
    }
}

const CASES: [Case; 4] = [
    Case {
        zipf: true,
        keys: 1000,
    },
    Case {
        zipf: true,
        keys: 100_000,
    },
    Case {
        zipf: false,
        keys: 1000,
    },
    Case {
        zipf: false,
        keys: 100_000,
    },
];

/// The seed of workload 0, worker 0, first measured phase (the engine's `worker_seed`;
/// `check_sequence` compares the keys with a trace tierbench records, so a drift shows).
fn measured_seed() -> u64 {
    let mut x = SEED ^ 2;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// An engine's cache holding every key of `case`, as tierbench's preload leaves it.
fn filled(engine: MemoryEngine, case: Case) -> MemoryTier {
    let tier = MemoryTier::new(engine, case.keys * 10, None);
    let value = [7u8; VALUE_SIZE];
    for i in 0..case.keys {
        tier.set(&format!("{PREFIX}{i}"), &value);
    }
    tier
}

/// Times `ops` bare gets over the planner's keys; returns the time spent in the gets only.
fn bare_gets(tier: &MemoryTier, planner: &mut Planner, ops: u64) -> Duration {
    let mut keys: Vec<String> = (0..CHUNK)
        .map(|_| String::with_capacity(PREFIX.len() + 20))
        .collect();
    let mut digits = itoa::Buffer::new();
    let mut total = Duration::ZERO;
    let mut left = ops;
    while left > 0 {
        let n = CHUNK.min(left as usize);
        for key in &mut keys[..n] {
            let planned = planner.next_op();
            debug_assert_eq!(planned.op, Op::Get);
            key.clear();
            key.push_str(PREFIX);
            key.push_str(digits.format(planned.index));
        }
        let start = Instant::now();
        for key in &keys[..n] {
            black_box(tier.get(black_box(key)));
        }
        total += start.elapsed();
        left -= n as u64;
    }
    total
}

/// Times `ops` bare gets over the planner's keys, each get on its own between two TSC reads (as
/// any per-operation latency harness must): the sum of the per-get intervals. Next to
/// [`bare_gets`], it shows what timing each get costs by itself: a chunk timed as a whole lets
/// the CPU overlap one get's cache misses with the next one's; a timed get cannot (its end read
/// waits for it), which on keys beyond the CPU caches is most of the gap.
fn bare_gets_each_timed(tier: &MemoryTier, planner: &mut Planner, ops: u64) -> u64 {
    let clock = quanta::Clock::new();
    let mut keys: Vec<String> = (0..CHUNK)
        .map(|_| String::with_capacity(PREFIX.len() + 20))
        .collect();
    let mut digits = itoa::Buffer::new();
    let mut total = 0u64;
    let mut left = ops;
    while left > 0 {
        let n = CHUNK.min(left as usize);
        for key in &mut keys[..n] {
            let planned = planner.next_op();
            key.clear();
            key.push_str(PREFIX);
            key.push_str(digits.format(planned.index));
        }
        for key in &keys[..n] {
            let start = clock.raw();
            black_box(tier.get(black_box(key)));
            total += clock.delta_as_nanos(start, clock.raw());
        }
        left -= n as u64;
    }
    total
}

fn bare_get(c: &mut Criterion) {
    let mut group = c.benchmark_group("bare_get");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    for case in CASES {
        for (engine, name) in ENGINES {
            let tier = filled(engine, case);
            let mut planner = case.planner();
            group.bench_function(format!("{}/{name}", case.label()), |b| {
                b.iter_custom(|iters| bare_gets(&tier, &mut planner, iters))
            });
        }
    }
    group.finish();
}

fn run_scenario(yaml: &str, record: Option<&Path>) -> tierbench::app::run::RunOutcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.yaml");
    std::fs::write(&path, yaml).unwrap();
    let scenario = tierbench::scenario::load(&path).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = RunOptions {
        record,
        ..RunOptions::default()
    };
    runtime.block_on(run_with(&scenario, &[], &Progress::hidden(), &options))
}

/// The mean get latency tierbench reports for `case` on `engine` (one worker, all hits).
fn reported_get(case: Case, engine: &str, ops: u64) -> f64 {
    let outcome = run_scenario(&case.scenario(engine, 100_000, ops), None);
    let workload = &outcome.document.workloads[0];
    assert_eq!(workload.tiers[0].misses, 0, "all hits");
    workload.operations["get"].latency.mean_ns
}

/// Fails loudly when the bare loop's keys are not the ones tierbench issues.
fn check_sequence(case: Case) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    let ops = 5000;
    run_scenario(&case.scenario("lru", 0, ops), Some(&trace));
    let text = std::fs::read_to_string(&trace).unwrap();
    let recorded: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    let mut planner = case.planner();
    let planned: Vec<u64> = (0..ops).map(|_| planner.next_op().index).collect();
    assert_eq!(
        recorded,
        planned,
        "{}: the bare loop's keys differ from tierbench's",
        case.label()
    );
}

fn range(xs: &[f64]) -> String {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (hi - lo).abs() < 0.05 {
        format!("{lo:.1}")
    } else {
        format!("{lo:.1}–{hi:.1}")
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn comparison() {
    let ops = env_u64("L1_OPS", 3_000_000);
    let rounds = env_u64("L1_ROUNDS", 2).max(1);
    let filter = std::env::var("L1_FILTER").unwrap_or_default();
    println!(
        "\nmean get, ns: bare loop over tierbench's keys vs tierbench-reported \
         (1 worker, all hits, {VALUE_SIZE}-byte values, {ops} gets, {rounds} interleaved rounds)"
    );
    println!(
        "| keys | engine | bare loop | bare, each get timed | tierbench | difference | \
         difference to each-timed |\n|---|---|---:|---:|---:|---:|---:|"
    );
    for case in CASES {
        if !case.label().contains(&filter) {
            continue;
        }
        check_sequence(case);
        for (engine, name) in ENGINES {
            let tier = filled(engine, case);
            let (mut bare, mut reported, mut diff) = (vec![], vec![], vec![]);
            let (mut timed, mut diff_timed) = (vec![], vec![]);
            for _ in 0..rounds {
                let mut planner = case.planner();
                // Warm the cache up like tierbench's warmup phase, then time.
                bare_gets(&tier, &mut case.planner(), 100_000);
                let b = bare_gets(&tier, &mut planner, ops).as_nanos() as f64 / ops as f64;
                let t = bare_gets_each_timed(&tier, &mut case.planner(), ops) as f64 / ops as f64;
                let r = reported_get(case, name, ops);
                bare.push(b);
                timed.push(t);
                reported.push(r);
                diff.push(r - b);
                diff_timed.push(r - t);
            }
            println!(
                "| {} | {name} | {} | {} | {} | {} | {} |",
                case.label(),
                range(&bare),
                range(&timed),
                range(&reported),
                range(&diff),
                range(&diff_timed)
            );
        }
    }
}

fn main() {
    if std::env::var_os("L1_TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        bare_get(&mut c);
        c.final_summary();
    }
    comparison();
    let clock = quanta::Clock::new();
    let n = 10_000_000u32;
    let start = Instant::now();
    for _ in 0..n {
        black_box(clock.raw());
    }
    let tsc = start.elapsed().as_nanos() as f64 / f64::from(n);
    println!("\ntimer cost: quanta raw {tsc:.1} ns");
}
