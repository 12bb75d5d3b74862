//! Coherence across app instances, against real Redis: four instances with their own L1 over
//! one Redis, 20% writes. What a user relies on: without invalidation the instances serve stale
//! reads; `pubsub` and `tracking` cut them to a tenth or less on the same seed; the lag is real
//! (a paused server shows in its max); invalidations counted equal Redis' own PUBLISH count; a
//! restarted Redis makes every instance flush and the run recover; bad settings are refused
//! with the place and a hint.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::private_redis::{PrivateRedis, free_port};
use support::{all_output, commandstats, run_for_json, spawn_run, write_scenario};

/// The timing-sensitive runs here one at a time (two cores).
static SERIAL: Mutex<()> = Mutex::new(());

fn scenario(url: &str, invalidation: &str, duration: &str, prefix: &str) -> String {
    format!(
        r#"
name: coherence-{invalidation}
seed: 30
tiers:
  - {{ name: l1, kind: memory, engine: moka, max_entries: 2000 }}
  - {{ name: l2, kind: redis, url: "{url}", timeout: 500ms }}
coherence: {{ instances: 4, invalidation: {invalidation} }}
data:
  keys: {{ count: 2000, prefix: "{prefix}", distribution: uniform }}
  values: {{ shape: binary, size: 64 }}
workloads:
  - name: w
    target: stack
    verify: true
    preload: true
    duration: {duration}
    concurrency: 8
    mix: {{ get: 80, set: 20 }}
    thresholds:
      - errors == 0
"#
    )
}

fn workload(doc: &Value) -> &Value {
    &doc["workloads"][0]
}

fn l1_stale(doc: &Value) -> u64 {
    workload(doc)["tiers"][0]["stale"].as_u64().unwrap()
}

#[test]
fn invalidation_cuts_stale_reads_and_every_remaining_one_is_younger_than_the_lag() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let url = support::redis_url();
    let mut stale = Vec::new();
    let mut l2 = serde_json::Map::new();
    for mode in ["none", "pubsub", "tracking"] {
        let path = write_scenario(
            dir.path(),
            &format!("{mode}.yaml"),
            &scenario(&url, mode, "2s", &format!("tierbench:test:coh-{mode}:")),
        );
        let (out, doc) = run_for_json(&path);
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        let w = workload(&doc);
        let c = &w["coherence"];
        assert_eq!(c["instances"], 4);
        assert_eq!(c["invalidation"], mode);
        let reads = w["tiers"][0]["served"]["count"].as_u64().unwrap();
        println!(
            "{mode}: {} stale of {reads} L1 reads, {} stale of L2's; coherence {}",
            l1_stale(&doc),
            w["tiers"][1]["stale"],
            serde_json::to_string(&without_histograms(c)).unwrap()
        );
        if mode != "none" {
            assert!(c["sent"].as_u64().unwrap() > 1000, "{c}");
            assert_eq!(c["lost"], 0, "{c}");
            if mode == "pubsub" {
                // Every message reaches the three peers (tracking merges a key's changes).
                assert!(c["delivered"].as_u64().unwrap() >= 3 * c["sent"].as_u64().unwrap());
            }
            assert!(c["lag"]["p50_ns"].as_u64().is_some(), "{c}");
        }
        // Stale reads over time add up to the tiers' counts.
        let per_second: u64 = w["timeseries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stale"].as_u64().unwrap_or(0))
            .sum();
        let tiers_stale: u64 = (0..2)
            .map(|t| w["tiers"][t]["stale"].as_u64().unwrap())
            .sum();
        assert_eq!(per_second, tiers_stale, "{mode}");
        l2.insert(mode.to_string(), w["tiers"][1]["stale"].clone());
        stale.push((mode, l1_stale(&doc), c.clone(), w["tiers"][0].clone()));
    }
    let none = stale[0].1;
    assert!(
        none > 100,
        "without invalidation the instances serve stale reads: {none}"
    );
    for (mode, count, c, tier) in &stale[1..] {
        assert!(
            *count * 10 <= none,
            "{mode}: {count} stale reads against {none} without invalidation"
        );
        // An L1 stale read older than the longest lag holds a value that no invalidation
        // removed. Mostly it was already stale in Redis when it was read from there (two
        // instances' writes of one key reaching Redis out of order), and that read was itself
        // counted stale on L2. Rarely, within one instance, a read fills its L1 between the
        // instance's own write to its L1 and to Redis, and the instance ignores its own
        // invalidation (NOLOOP): docs/coherence.md. `pubsub` is held to that bound; `tracking`
        // leaves a few more (printed).
        let lag = c["lag"]["max_ns"].as_u64().unwrap();
        let older = older_than(&tier["stale_age"], lag);
        let l2_stale = l2[*mode].as_u64().unwrap();
        let reads = tier["served"]["count"].as_u64().unwrap();
        println!(
            "{mode}: {older} stale L1 reads older than the longest lag ({lag} ns) in {reads}; \
             L2 stale {l2_stale}"
        );
        if *mode == "pubsub" {
            assert!(
                older <= l2_stale + reads / 10_000,
                "{mode}: {older} stale L1 reads outlive the longest lag ({lag} ns), {l2_stale} \
                 stale on Redis, {reads} L1 reads"
            );
        }
    }
}

/// How many values of a result document's latency summary exceed `limit` nanoseconds.
fn older_than(stats: &Value, limit: u64) -> u64 {
    if stats.is_null() {
        return 0;
    }
    let stats: tierbench::metrics::latency::LatencyStats =
        serde_json::from_value(stats.clone()).unwrap();
    let histogram = stats.histogram().unwrap();
    histogram
        .iter_recorded()
        .filter(|v| histogram.lowest_equivalent(v.value_iterated_to()) > limit)
        .map(|v| v.count_at_value())
        .sum()
}

#[test]
fn published_invalidations_equal_redis_own_publish_count_and_a_pause_shows_in_the_lag() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    // Mostly writes, so that a PUBLISH is on its way to the server at almost any instant.
    let path = write_scenario(
        dir.path(),
        "pubsub.yaml",
        &scenario(&server.url(), "pubsub", "4s", "tierbench:test:coh-count:")
            .replace("get: 80, set: 20", "get: 20, set: 80"),
    );
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let before = commandstats(&mut conn).get("publish").copied().unwrap_or(0);
    let results = dir.path().join("pubsub.results.json");
    let child = spawn_run(&path, &results);
    // Pause the server for 300 ms, four times during the run: an invalidation that reached it
    // just before a pause waits until the pause ends.
    std::thread::sleep(Duration::from_millis(1200));
    let pid = server.pid().to_string();
    let signal = |which: &str| {
        std::process::Command::new("kill")
            .args([which, &pid])
            .status()
            .unwrap()
    };
    for _ in 0..4 {
        signal("-STOP");
        std::thread::sleep(Duration::from_millis(300));
        signal("-CONT");
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = child.wait_with_output().unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let c = &workload(&doc)["coherence"];
    let published = commandstats(&mut conn).get("publish").copied().unwrap_or(0) - before;
    assert_eq!(
        c["sent"].as_u64().unwrap() + c["publish_errors"].as_u64().unwrap(),
        published,
        "{c}\n{}",
        all_output(&out)
    );
    let max = c["lag"]["max_ns"].as_u64().unwrap();
    assert!(
        max >= 200_000_000,
        "300 ms pauses must show in the lag's max: {max} ns"
    );
}

#[test]
fn a_restarted_redis_makes_every_instance_flush_and_the_run_recovers() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for mode in ["tracking", "pubsub"] {
        restart_drill(mode);
    }
}

/// A private Redis killed 2.5 s into a 7 s run and started again (empty) 1 s later.
fn restart_drill(mode: &str) {
    let mut server = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "restart.yaml",
        &scenario(&server.url(), mode, "7s", "tierbench:test:coh-restart:")
            .replace("      - errors == 0\n", "      - errors < 100000\n"),
    );
    let results = dir.path().join("restart.results.json");
    let child = spawn_run(&path, &results);
    std::thread::sleep(Duration::from_millis(2500));
    server.stop();
    std::thread::sleep(Duration::from_millis(1000));
    let back = Instant::now();
    server.restart();
    let out = child.wait_with_output().unwrap();
    let text = all_output(&out);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap())
        .unwrap_or_else(|e| panic!("{mode}: {e}\n{text}"));
    let w = workload(&doc);
    let c = &w["coherence"];
    assert!(
        c["flushes"].as_u64().unwrap() >= 4,
        "{mode}: every instance flushes its L1 once its invalidation connection is lost: {c}"
    );
    // Whole seconds from one second after the server is back: throughput at half of second 0's
    // and no errors.
    let series = w["timeseries"].as_array().unwrap();
    let first = series[0]["ops"].as_f64().unwrap();
    let back_at = back.elapsed();
    let last_whole = series.len().saturating_sub(1);
    let from = series.len() - (back_at.as_secs_f64().floor() as usize).min(series.len());
    let checked: Vec<&Value> = series[(from + 1).min(last_whole)..last_whole]
        .iter()
        .collect();
    assert!(!checked.is_empty(), "{mode}: {text}");
    for s in checked {
        assert!(
            s["ops"].as_f64().unwrap() >= first / 2.0 && s["errors"].as_u64() == Some(0),
            "{mode}: second {s} after the restart against {first} ops in second 0\n{text}"
        );
    }
}

fn without_histograms(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "histogram")
                .map(|(k, v)| (k.clone(), without_histograms(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn bad_coherence_settings_are_refused_with_the_place_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let url = support::redis_url();
    let base = scenario(&url, "pubsub", "1s", "tierbench:test:coh-bad:");
    let cases = [
        (
            "zero.yaml",
            base.replace("instances: 4", "instances: 0"),
            "0 app instances",
        ),
        (
            "no-l1.yaml",
            base.replace("target: stack", "target: l2"),
            "no workload targets an in-process tier",
        ),
        (
            "no-redis.yaml",
            base.replace(
                &format!("  - {{ name: l2, kind: redis, url: \"{url}\", timeout: 500ms }}"),
                "  - { name: l2, kind: sql, url: \"sqlite::memory:\", table: tierbench_coh }",
            ),
            "`pubsub` needs a Redis tier",
        ),
        (
            "cluster.yaml",
            base.replace("timeout: 500ms }", "timeout: 500ms, cluster: true }")
                .replace("pubsub", "tracking"),
            "not supported on a Redis Cluster",
        ),
    ];
    for (name, yaml, said) in cases {
        let path = write_scenario(dir.path(), name, &yaml);
        let out = support::tierbench(&["validate", path.to_str().unwrap()]);
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        assert!(text.contains(said), "{name}: {text}");
        assert!(
            text.contains(name) && text.contains("coherence"),
            "{name}: {text}"
        );
        assert!(text.contains("hint"), "{name}: {text}");
        assert!(!text.contains("panicked"), "{name}: {text}");
    }
}
