//! The simulated origin: a constant latency is reproduced (not rounded up to the runtime timer's
//! 1 ms tick), and the distributions parse into the plan. Bounds are generous: this is a test on
//! a possibly loaded machine, not a benchmark (docs/performance.md has the precise figures).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::path::Path;
use std::time::Duration;

use support::{all_output, tierbench, write_scenario};
use tierbench::scenario::overrides::Overrides;
use tierbench::tier::stack::origin::OriginLatency;

/// The tests that look at time (origin waits, Little's law, the schedule) run one at a time: on
/// 2 cores each would otherwise measure the others' load.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scenario(latency: &str, extra: &str) -> String {
    format!(
        "name: origin\nseed: 3\ntiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 10 }}]\n\
         data: {{ keys: {{ count: 1000000, distribution: uniform }}, values: {{ size: 64{extra} }} }}\n\
         origin: {{ latency: {latency} }}\n\
         workloads:\n  - {{ name: reads, target: [l1], preload: false, warmup: 0, ops: 200, concurrency: 2, mix: {{ get: 1 }} }}\n"
    )
}

#[test]
fn a_constant_origin_latency_is_reproduced() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "o.yaml", &scenario("5ms", ""));
    let results = dir.path().join("results.json");
    let out = tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let origin = &doc["workloads"][0]["served_by"]["origin"];
    let count = origin["count"].as_u64().unwrap();
    let mean_ms = origin["latency"]["mean_ns"].as_f64().unwrap() / 1e6;
    let min_ms = origin["latency"]["min_ns"].as_u64().unwrap() as f64 / 1e6;
    assert!(count >= 190, "{count} origin loads of 200 reads");
    // Before the fix the mean was the latency rounded up to the next 1 ms tick plus a tick.
    assert!((4.5..7.5).contains(&mean_ms), "mean {mean_ms} ms");
    assert!(
        min_ms >= 4.99,
        "never shorter than configured: min {min_ms} ms"
    );
}

/// A log-normal origin's measured median and 99th percentile are reported beside the
/// configured ones, in the JSON and the text report, and they match: each load's wait keeps
/// its drawn latency within 2% or 20 us.
#[test]
fn a_log_normal_origin_reports_its_measured_p50_and_p99_against_the_configured() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario("{ p50: 1ms, p99: 4ms }", "").replace("ops: 200", "ops: 3000");
    let path = write_scenario(dir.path(), "o.yaml", &yaml);
    let (out, doc) = support::run_for_json_with(&path, &["--report", "text"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let origin = &doc["workloads"][0]["origin"];
    assert_eq!(
        origin["configured"], "log-normal p50 1.00ms p99 4.00ms",
        "{origin}"
    );
    assert_eq!(origin["planned_p50_ns"], 1_000_000);
    assert_eq!(origin["planned_p99_ns"], 4_000_000);
    assert!(origin["loads"].as_u64().unwrap() >= 2900, "{origin}");
    let p50 = origin["wait"]["p50_ns"].as_f64().unwrap() / 1e6;
    let p99 = origin["wait"]["p99_ns"].as_f64().unwrap() / 1e6;
    // 3,000 draws: the sample's quantiles are within a few percent of the distribution's.
    assert!(
        (0.93..1.08).contains(&p50),
        "measured p50 {p50} ms for 1 ms"
    );
    assert!((3.4..4.7).contains(&p99), "measured p99 {p99} ms for 4 ms");
    assert!(
        text.contains("origin: configured log-normal p50 1.00ms p99 4.00ms"),
        "{text}"
    );
}

/// Little's law, as a user checks it: with `concurrency: N` in a closed loop, throughput × mean
/// latency = N operations in flight, also for an in-process stack whose misses wait on a 1 ms
/// origin (workers must not be OS threads sleeping through the origin, two at a time on two
/// cores); and the origin's configured latency is kept.
#[test]
fn concurrency_is_the_operations_in_flight_with_an_in_process_stack_and_an_origin() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    for workers in [8u64, 64] {
        let yaml = format!(
            "name: little\nseed: 3\ntiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 100 }}]\n\
             data: {{ keys: {{ count: 5000, distribution: uniform }}, values: {{ size: 64 }} }}\n\
             origin: {{ latency: 1ms }}\n\
             workloads:\n  - {{ name: reads, target: [l1], warmup: 0, duration: 2s, concurrency: {workers}, mix: {{ get: 1 }} }}\n"
        );
        let path = write_scenario(dir.path(), "little.yaml", &yaml);
        let results = dir.path().join("little.json");
        let out = tierbench(&[
            "run",
            path.to_str().unwrap(),
            "--report",
            &format!("json={}", results.display()),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
        let w = &doc["workloads"][0];
        let throughput = w["throughput"].as_f64().unwrap();
        let mean_s = w["operations"]["get"]["latency"]["mean_ns"]
            .as_f64()
            .unwrap()
            / 1e9;
        let in_flight = throughput * mean_s;
        let ratio = in_flight / workers as f64;
        assert!(
            (0.9..=1.05).contains(&ratio),
            "{workers} workers: {throughput:.0} ops/s × {:.3} ms = {in_flight:.2} in flight",
            mean_s * 1e3
        );
        let origin_ms = w["served_by"]["origin"]["latency"]["mean_ns"]
            .as_f64()
            .unwrap()
            / 1e6;
        // End to end, a read the origin served also waits for its thread to be woken among
        // 64 on 2 cores: 1.10-1.26 ms measured under a loaded CI run. The bound here says the
        // origin was waited for and nothing like a second wait was added; the origin's own
        // wait is held to 2% or 20 us by `a_constant_origin_waits_within_2_percent_or_20_microseconds`.
        assert!(
            (1.0..1.5).contains(&origin_ms),
            "{workers} workers: the origin's 1 ms measured {origin_ms:.3} ms end to end"
        );
    }
}

fn planned(latency: &str) -> OriginLatency {
    let yaml = scenario(latency, "");
    let plan =
        tierbench::scenario::load_source(Path::new("o.yaml"), yaml, &Overrides::default(), &|_| {
            None
        })
        .map_err(|d| format!("{d:?}"))
        .unwrap();
    plan.origin_latency
}

#[test]
fn the_latency_distributions_reach_the_plan() {
    let ms = Duration::from_millis;
    assert_eq!(planned("5ms"), OriginLatency::Constant(ms(5)));
    assert_eq!(
        planned("{ p50: 5ms, p99: 40ms }"),
        OriginLatency::LogNormal {
            p50: ms(5),
            p99: ms(40)
        }
    );
    assert_eq!(
        planned("{ uniform: 2ms..8ms }"),
        OriginLatency::Uniform {
            min: ms(2),
            max: ms(8)
        }
    );
    for bad in [
        "{ p50: 5ms }",
        "{ p50: 5ms, p99: 1ms }",
        "{ uniform: 8ms..2ms }",
        "{ p90: 5ms }",
    ] {
        let yaml = scenario(bad, "");
        let result = tierbench::scenario::load_source(
            Path::new("o.yaml"),
            yaml,
            &Overrides::default(),
            &|_| None,
        );
        assert!(result.is_err(), "{bad} must be rejected");
    }
}

#[test]
fn json_fields_and_depth_reach_the_generated_values() {
    let yaml = scenario("5ms", ", shape: json, fields: 6, depth: 3");
    let plan =
        tierbench::scenario::load_source(Path::new("o.yaml"), yaml, &Overrides::default(), &|_| {
            None
        })
        .map_err(|d| format!("{d:?}"))
        .unwrap();
    let v = &plan.values;
    let pool = tierbench::workload::values::ValuePool::generate(&v.shape, &v.size, 0.0, 5, 1);
    for i in 0..5 {
        let doc: serde_json::Value = serde_json::from_slice(pool.get(i)).unwrap();
        let mut level = &doc;
        for d in 1..=3 {
            let fields = level.as_object().unwrap();
            let own = fields.keys().filter(|k| *k != "pad").count();
            assert_eq!(own, 6, "level {d}: {level}");
            level = &level["f5"];
        }
        assert!(!level.is_object(), "no fourth level: {doc}");
    }
    let yaml = scenario("5ms", ", shape: json, fields: 0");
    let bad =
        tierbench::scenario::load_source(Path::new("o.yaml"), yaml, &Overrides::default(), &|_| {
            None
        });
    assert!(bad.is_err(), "fields: 0 is rejected");
}

/// The open loop keeps its schedule with more worker threads than cores: latency counts from
/// each operation's intended start, so a worker that wakes late shows it in every figure. Eight
/// in-process workers at 20,000/s on 2 cores spun on their cores while waiting and took turns by
/// whole scheduler slices: the median operation started 4 ms late. (A generous bound: this is a
/// check of the schedule, not a benchmark.)
#[test]
fn an_in_process_open_loop_keeps_its_schedule_with_more_workers_than_cores() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: schedule\nseed: 1\ntiers: [{ name: l1, kind: memory, max_entries: 10000 }]\n\
        data: { keys: { count: 10000 }, values: { size: 64 } }\n\
        workloads:\n  - { name: w, target: l1, preload: true, duration: 3s, rate: 20000/s, concurrency: 8, mix: { get: 9, set: 1 } }\n";
    let path = write_scenario(dir.path(), "schedule.yaml", yaml);
    let results = dir.path().join("schedule.json");
    let out = tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let w = &doc["workloads"][0];
    // Every whole second looks like the others, the first one too: threads that spun through
    // the last stretch before their due time made some seconds' p99 10 ms (a due worker waited
    // a scheduler slice for a core) against 0.1 ms for the rest.
    let series = w["timeseries"].as_array().unwrap();
    let p99s: Vec<f64> = series[..series.len() - 1]
        .iter()
        .map(|s| s["p99_ns"].as_f64().unwrap() / 1e6)
        .collect();
    let mut sorted = p99s.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(
        p99s[0] <= (4.0 * median).max(0.5),
        "the first second's p99 is {:.2} ms, the median second's {median:.2} ms: {p99s:?}",
        p99s[0]
    );
    let p50_ms = w["operations"]["all"]["latency"]["p50_ns"]
        .as_f64()
        .unwrap()
        / 1e6;
    let throughput = w["throughput"].as_f64().unwrap();
    assert!(
        p50_ms < 1.0,
        "the median operation started {p50_ms:.2} ms late"
    );
    assert!(
        (19_000.0..21_000.0).contains(&throughput),
        "{throughput:.0}/s for 20,000/s"
    );
}

/// The origin keeps its precision: each load waits what was drawn, within 2% or 20 us
/// (whichever is larger) at the median, and never less, at 1 ms and at 5 ms.
#[test]
fn a_constant_origin_waits_within_2_percent_or_20_microseconds() {
    let _serial = serial();
    for (latency, ns) in [("1ms", 1_000_000.0_f64), ("5ms", 5_000_000.0)] {
        let dir = tempfile::tempdir().unwrap();
        let yaml = scenario(latency, "").replace("ops: 200", "ops: 400");
        let path = write_scenario(dir.path(), "o.yaml", &yaml);
        let (out, doc) = support::run_for_json_with(&path, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        let wait = &doc["workloads"][0]["origin"]["wait"];
        let p50 = wait["p50_ns"].as_f64().unwrap();
        let min = wait["min_ns"].as_f64().unwrap();
        let allowed = (ns * 0.02).max(20_000.0);
        assert!(min >= ns * 0.999, "{latency}: a load waited {min} ns");
        assert!(
            (p50 - ns).abs() <= allowed,
            "{latency}: median wait {p50} ns"
        );
    }
}
