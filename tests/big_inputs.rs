//! Big inputs in bounded memory: a long CSV trace is read once and replays every record with a
//! small peak RSS, a key space of 10^9 keys (verify mode included) allocates nothing per key, and
//! a thousand workers cost what they record (not every operation's histogram, sized up front).
//!
//! The test binary is a debug build, so the trace here has 2M lines (about 10 s);
//! `scripts/big-trace.sh` runs the full 10M-line check against a release build (figures in
//! docs/performance.md). Peak RSS is read with `/usr/bin/time -v`, or from `VmHWM` in
//! `/proc/<pid>/status` where that is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Output};

use support::{all_output, redis_url, write_scenario};

/// Peak resident set size allowed for either run.
const MAX_RSS_KIB: u64 = 64 * 1024;

/// Writes `lines` records `key:N,get|set,SIZE|delete` over a million keys, after a header.
/// The memory tests take turns: a run slowed by a sibling test on 2 cores lasts longer, and the
/// 10x test compares two runs' peak RSS, which the run's length moves.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_trace(path: &Path, lines: u64) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    out.write_all(b"key,op,size\n").unwrap();
    let mut x: u64 = 12345;
    for _ in 0..lines {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let key = (x >> 33) % 1_000_000;
        match (x >> 20) & 15 {
            0..=12 => writeln!(out, "key:{key},get"),
            13 | 14 => writeln!(out, "key:{key},set,{}", 64 + ((x >> 40) & 255)),
            _ => writeln!(out, "key:{key},delete"),
        }
        .unwrap();
    }
    out.flush().unwrap();
}

/// Runs `tierbench args` and returns its output and peak RSS in KiB.
fn run_measured(args: &[&str]) -> (Output, u64) {
    let bin = env!("CARGO_BIN_EXE_tierbench");
    let time = Path::new("/usr/bin/time");
    if time.exists() {
        let out = Command::new(time)
            .arg("-v")
            .arg(bin)
            .args(args)
            .env("CI", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rss = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak RSS in /usr/bin/time's output:\n{stderr}"));
        return (out, rss);
    }
    // No GNU time: poll the high-water mark while the process runs.
    let child = Command::new(bin)
        .args(args)
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let poll = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            match hwm {
                Some(kib) => peak = peak.max(kib),
                None => break, // a zombie: it has exited
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    (out, poll.join().unwrap())
}

/// `workloads[i].ops` of a JSON result document.
fn completed_ops(json: &Path, workload: usize) -> u64 {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    doc["workloads"][workload]["ops"].as_u64().unwrap()
}

#[test]
fn a_long_csv_trace_replays_every_record_once_in_bounded_memory() {
    let _serial = serial();
    const LINES: u64 = 2_000_000;
    let dir = tempfile::tempdir().unwrap();
    write_trace(&dir.path().join("big.csv"), LINES);
    // More operations than records: the replay stops at the trace's end, every record issued.
    let scenario = write_scenario(
        dir.path(),
        "big.yaml",
        &format!(
            "name: big-trace\nseed: 1\n\
             tiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 10000 }}]\n\
             data: {{ keys: {{ count: 1000, prefix: \"bt:\" }}, values: {{ size: 64 }} }}\n\
             workloads:\n  - {{ name: replay, target: l1, warmup: 0, ops: {}, concurrency: 2, \
             trace: {{ path: big.csv }} }}\n",
            3 * LINES
        ),
    );
    let json = dir.path().join("result.json");
    let report = format!("json={}", json.display());
    let (out, rss) = run_measured(&["run", scenario.to_str().unwrap(), "--report", &report]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    eprintln!("peak RSS: {rss} KiB");
    assert_eq!(completed_ops(&json, 0), LINES, "every record once");
    assert!(
        rss <= MAX_RSS_KIB,
        "peak RSS {rss} KiB over {MAX_RSS_KIB} KiB"
    );
}

#[test]
fn a_billion_keys_cost_nothing_per_key() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    // Verify mode too: its versions must not take 8 bytes for each of the 10^9 keys.
    let scenario = write_scenario(
        dir.path(),
        "keys.yaml",
        "name: billion\nseed: 1\n\
         tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 1000 }]\n\
         data: { keys: { count: 1000000000, prefix: \"bk:\", distribution: zipf }, values: { size: 64 } }\n\
         workloads:\n\
         \x20 - { name: mix, target: l1, warmup: 1000, ops: 5000, concurrency: 2, mix: { get: 9, set: 1 } }\n\
         \x20 - { name: verified, target: l1, warmup: 1000, ops: 5000, concurrency: 2, verify: true, \
         mix: { get: 5, set: 4, delete: 1 } }\n",
    );
    let json = dir.path().join("result.json");
    let report = format!("json={}", json.display());
    let (out, rss) = run_measured(&["run", scenario.to_str().unwrap(), "--report", &report]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    eprintln!("peak RSS: {rss} KiB");
    assert_eq!(completed_ops(&json, 0), 5000);
    assert_eq!(completed_ops(&json, 1), 5000);
    assert!(
        rss <= MAX_RSS_KIB,
        "peak RSS {rss} KiB over {MAX_RSS_KIB} KiB"
    );
}

/// A run ten times longer costs at most 5% more memory (plus 2 MiB): the time series keeps one
/// packed histogram per second and the recorders are reused, so nothing grows per operation.
/// (An LRU tier: moka frees replaced values in its background maintenance, which moves RSS by
/// several MiB either way; docs/performance.md.)
#[test]
fn a_ten_times_longer_run_takes_no_more_memory() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "long.yaml",
        "name: long\nseed: 1\n\
         tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 100000 }]\n\
         data: { keys: { count: 100000 }, values: { size: 64 } }\n\
         workloads:\n\
         \x20 - { name: w, target: l1, warmup: 0, ops: 200000, concurrency: 4, preload: true, mix: { get: 9, set: 1 } }\n",
    );
    let path = scenario.to_str().unwrap();
    let (short, short_rss) = run_measured(&["run", path, "-q"]);
    assert_eq!(short.status.code(), Some(0), "{}", all_output(&short));
    let (long, long_rss) = run_measured(&["run", path, "-q", "--set", "workloads.w.ops=2000000"]);
    assert_eq!(long.status.code(), Some(0), "{}", all_output(&long));
    eprintln!("peak RSS: {short_rss} KiB for 200k operations, {long_rss} KiB for 2M");
    assert!(
        long_rss as f64 <= short_rss as f64 * 1.05 + 2048.0,
        "peak RSS {long_rss} KiB for 2M operations against {short_rss} KiB for 200k"
    );
}

/// Peak resident set size allowed for a thousand workers against Redis: about 1 MiB a worker.
/// Each worker used to hold ~6 MiB of histograms sized up front (every operation's, its tier's,
/// 120 sample windows): 6 GiB here, 12 GiB for `concurrency: 2000`.
const MAX_RSS_KIB_1000_WORKERS: u64 = 1024 * 1024;

#[test]
fn a_thousand_workers_cost_what_they_record() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "many.yaml",
        &format!(
            "name: many-workers\nseed: 1\n\
             tiers: [{{ name: l2, kind: redis, url: \"{}\" }}]\n\
             data: {{ keys: {{ count: 10000, prefix: \"tbtest:many:\" }}, values: {{ size: 32 }} }}\n\
             workloads:\n\
             \x20 - {{ name: mix, target: l2, warmup: 0, ops: 20000, concurrency: 1000, mix: {{ get: 10, set: 1 }} }}\n",
            redis_url()
        ),
    );
    let json = dir.path().join("result.json");
    let report = format!("json={}", json.display());
    let (out, rss) = run_measured(&["run", scenario.to_str().unwrap(), "--report", &report]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    eprintln!("peak RSS: {rss} KiB");
    assert_eq!(completed_ops(&json, 0), 20_000);
    assert!(
        rss <= MAX_RSS_KIB_1000_WORKERS,
        "peak RSS {rss} KiB over {MAX_RSS_KIB_1000_WORKERS} KiB for 1000 workers"
    );
}
