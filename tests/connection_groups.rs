//! Workers that share a Redis connection are driven by one task per connection
//! (`engine/connection_group.rs`). What users rely on stays as it was with a task per worker:
//! each worker issues exactly its own operation stream (seed, keys, share of the phase), Redis
//! counts exactly the operations reported, a server's errors are each worker's errors, and so is
//! the back-off after one (the connection's other workers go on).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::private_redis::{PrivateRedis, free_port};
use support::{all_output, record_trace, run_for_json_with, write_scenario};

const PREFIX: &str = "tbgroup:";

/// One test at a time: each starts its own Redis on a free port, and two tests picking a port
/// at once could pick the same one.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scenario(url: &str) -> String {
    format!(
        "name: groups\nseed: 11\n\
         tiers: [{{ name: l2, kind: redis, url: \"{url}\", connections: 2 }}]\n\
         data: {{ keys: {{ count: 500, prefix: \"{PREFIX}\", distribution: zipf, zipf_exponent: 0.9 }}, values: {{ size: 24 }} }}\n\
         workloads:\n  - {{ name: rw, target: l2, warmup: 0, preload: false, ops: 2003, concurrency: 5, \
         mix: {{ get: 6, set: 3, delete: 1 }} }}\n"
    )
}

/// (op, key) → how many times, from `redis-cli monitor` lines under the prefix.
fn monitored(text: &str) -> HashMap<(String, String), usize> {
    let mut seen = HashMap::new();
    for line in text.lines() {
        let Some((_, command)) = line.split_once("] ") else {
            continue;
        };
        let words: Vec<&str> = command.split(' ').map(|w| w.trim_matches('"')).collect();
        let op = match words.first().map(|w| w.to_ascii_uppercase()) {
            Some(w) if w == "GET" => "get",
            Some(w) if w == "SET" => "set",
            Some(w) if w == "DEL" => "delete",
            _ => continue,
        };
        let Some(key) = words.get(1).and_then(|k| k.strip_prefix(PREFIX)) else {
            continue;
        };
        *seen.entry((op.to_string(), key.to_string())).or_insert(0) += 1;
    }
    seen
}

/// (op, key) → how many times, from a recorded trace.
fn traced(text: &str) -> HashMap<(String, String), usize> {
    let mut seen = HashMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        *seen
            .entry((cols[1].to_string(), cols[0].to_string()))
            .or_insert(0) += 1;
    }
    seen
}

/// A private Redis and a connection to it.
fn private_redis() -> (PrivateRedis, redis::Connection) {
    let redis = PrivateRedis::start(free_port());
    let conn = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    (redis, conn)
}

/// What makes some GETs fail: `lists` of the run's keys (suffixes) are made lists once the run
/// has claimed its names, so every GET of them is answered WRONGTYPE. Returns the `--start-at`
/// arguments for the run.
fn lists_after_the_claim(redis: &PrivateRedis, lists: &[&str]) -> [String; 2] {
    let lists: Vec<String> = lists.iter().map(|k| format!("{PREFIX}{k}")).collect();
    support::after_the_claim(redis.url(), PREFIX, move |conn| {
        for key in lists {
            let _: () = redis::cmd("RPUSH").arg(key).arg("x").query(conn).unwrap();
        }
    })
}

/// Runs `scenario` for its JSON result while `redis-cli monitor` watches `redis`; returns both
/// and what MONITOR printed.
fn run_monitored(
    redis: &PrivateRedis,
    scenario: &std::path::Path,
    extra: &[&str],
) -> (std::process::Output, serde_json::Value, String) {
    let log = scenario.with_extension("monitor.log");
    let mut monitor = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "monitor"])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli (apt-get install redis-tools)");
    std::thread::sleep(Duration::from_millis(300));
    let (out, doc) = run_for_json_with(scenario, extra);
    std::thread::sleep(Duration::from_millis(300));
    monitor.kill().unwrap();
    monitor.wait().unwrap();
    (out, doc, std::fs::read_to_string(&log).unwrap())
}

#[test]
fn workers_sharing_a_connection_issue_exactly_their_own_streams() {
    let _serial = serial();
    let redis = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "groups.yaml", &scenario(&redis.url()));
    // Run 1, watched by MONITOR: 5 workers on 2 connections, one task per connection.
    let (out, doc, log) = run_monitored(&redis, &path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let on_the_wire = monitored(&log);
    // Run 2 records a trace, which takes the loop of one task per worker: the same workers'
    // streams, written down as each worker issues them.
    let planned = traced(&record_trace(&path));
    assert_eq!(on_the_wire.values().sum::<usize>(), 2003, "{on_the_wire:?}");
    assert_eq!(on_the_wire, planned);
    // And the report counts what Redis saw.
    let ops = &doc["workloads"][0]["operations"];
    for op in ["get", "set", "delete"] {
        let wire: usize = on_the_wire
            .iter()
            .filter(|((o, _), _)| o == op)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(ops[op]["count"].as_u64(), Some(wire as u64), "{op}: {ops}");
    }
}

#[test]
fn an_error_reply_is_its_workers_error_and_the_others_go_on() {
    let _serial = serial();
    // Two of the keys hold a list: every GET of them is answered WRONGTYPE.
    let (redis, mut conn) = private_redis();
    let start = lists_after_the_claim(&redis, &["1", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario(&redis.url())
        .replace("get: 6, set: 3, delete: 1", "get: 1")
        .replace("zipf, zipf_exponent: 0.9", "uniform")
        .replace("count: 500", "count: 10");
    let path = write_scenario(dir.path(), "errors.yaml", &yaml);
    let (out, doc) = run_for_json_with(&path, &[&start[0], &start[1]]);
    // Errors fail the run closed, with Redis' own words.
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(doc.to_string().contains("WRONGTYPE"), "{doc}");
    let get = &doc["workloads"][0]["operations"]["get"];
    let errors = get["errors"].as_u64().unwrap();
    let count = get["count"].as_u64().unwrap();
    let stats = support::commandstats(&mut conn);
    // Every GET Redis answered is reported, as a success or as an error of its own.
    assert_eq!(count + errors, stats["get"], "{get}");
    assert!(errors > 0 && count > errors, "{get}");
}

/// The GETs under the prefix in `redis-cli monitor` lines: (seconds, key) in arrival order.
fn monitored_gets(text: &str) -> Vec<(f64, String)> {
    text.lines()
        .filter_map(|line| {
            let (time, rest) = line.split_once(' ')?;
            let (_, command) = rest.split_once("] ")?;
            let (op, rest) = command.split_once(' ')?;
            if !op.trim_matches('"').eq_ignore_ascii_case("GET") {
                return None;
            }
            let key = rest.split(' ').next()?.trim_matches('"');
            Some((time.parse().ok()?, key.strip_prefix(PREFIX)?.to_string()))
        })
        .collect()
}

#[test]
fn a_worker_backing_off_after_an_error_does_not_hold_up_the_others() {
    let _serial = serial();
    // One key of 50 holds a list: a GET of it is answered WRONGTYPE, and its worker backs off
    // (at least 1 ms). Four workers share one connection.
    let (redis, _conn) = private_redis();
    let start = lists_after_the_claim(&redis, &["7"]);
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario(&redis.url())
        .replace("get: 6, set: 3, delete: 1", "get: 1")
        .replace("zipf, zipf_exponent: 0.9", "uniform")
        .replace("count: 500", "count: 50")
        .replace("connections: 2", "connections: 1")
        .replace("ops: 2003, concurrency: 5", "ops: 3000, concurrency: 4");
    let path = write_scenario(dir.path(), "backoff.yaml", &yaml);
    let (out, doc, log) = run_monitored(&redis, &path, &[&start[0], &start[1]]);
    // Errors above the 1% budget fail the run closed.
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let errors = doc["workloads"][0]["operations"]["get"]["errors"]
        .as_u64()
        .unwrap();
    let wire = monitored_gets(&log);
    assert_eq!(wire.len(), 3000, "every operation reached Redis once");
    // After each failed GET, the GETs Redis received in the next 0.8 ms. Had the whole
    // group paused with the failed worker, that could only be the (at most 3) commands written
    // together with it; the others going on send more in some of these windows.
    let failed: Vec<usize> = (0..wire.len()).filter(|&i| wire[i].1 == "7").collect();
    assert_eq!(failed.len() as u64, errors);
    let most_after = failed
        .iter()
        .map(|&i| {
            wire[i + 1..]
                .iter()
                .take_while(|(t, _)| *t <= wire[i].0 + 0.0008)
                .count()
        })
        .max()
        .unwrap_or(0);
    eprintln!("most GETs within 0.8 ms after a failed one: {most_after}");
    assert!(
        most_after > 3,
        "at most {most_after} GETs followed a failed GET within 0.8 ms, over {} failures",
        failed.len()
    );
}
