//! Whole runs under faults, through the `tierbench` binary: a Redis server (the test's own, on a
//! free port) that restarts mid-run or goes away for good, and SIGINT/SIGTERM to a running
//! tierbench against the shared Redis and PostgreSQL. The shared servers are never stopped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::private_redis::{PrivateRedis, free_port};
use support::spawn_run;

/// Sends `signal` (`-INT`, `-STOP`, ...) to process `pid` with kill(1).
fn send_signal(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn redis_scenario(url: &str, prefix: &str, extra: &str, duration: &str) -> String {
    format!(
        "name: faults\nseed: 4\n{extra}\
         tiers: [{{ name: l2, kind: redis, url: \"{url}\", timeout: 300ms }}]\n\
         data: {{ keys: {{ count: 2000, prefix: \"{prefix}\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: rw, target: l2, duration: {duration}, warmup: 0, concurrency: 4, mix: {{ get: 9, set: 1 }} }}\n"
    )
}

/// The same scenario with `pipeline: 10`: each worker keeps a window of 10 commands in flight on
/// a connection of its own (`tier/wire/pipe.rs`), which has its own reconnects and time-outs.
fn pipelined(yaml: String) -> String {
    yaml.replace("timeout: 300ms", "timeout: 300ms, pipeline: 10")
}

/// The tests that judge throughput, or load the machine, run one at a time: a restart test's
/// seconds are compared with each other, and a neighbour's load would move them.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn a_redis_gone_for_good_ends_the_run_with_exit_3_and_the_reason() {
    let mut redis = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let scenario = support::write_scenario(
        dir.path(),
        "gone.yaml",
        &redis_scenario(&redis.url(), "tbtest:gone:", "lost_after: 2s\n", "60s"),
    );
    let results = dir.path().join("gone.json");
    let started = Instant::now();
    let run = spawn_run(&scenario, &results);
    std::thread::sleep(Duration::from_millis(1500));
    redis.stop();
    let out = run.wait_with_output().unwrap();
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 60 s run was not ended early"
    );
    assert!(text.contains("gave up"), "{text}");
    let doc = read_json(&results);
    assert!(
        doc["summary"]["failure"]
            .as_str()
            .unwrap()
            .contains("no operation succeeded")
    );
    assert_eq!(doc["summary"]["passed"], false);
    assert!(doc["workloads"][0]["failure"].is_string());
}

/// Sends `signal` (INT or TERM) to a running tierbench 2 s into a long stack run and checks the
/// exit code, the JSON, and that nothing was left on the servers.
fn interrupt_with(signal: &str, code: i32) {
    let mut redis_conn = support::redis();
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("tbtest:sig{}:", signal.to_lowercase());
    let table = format!("tb_sig_{}", signal.to_lowercase());
    let scenario = support::write_scenario(
        dir.path(),
        "sig.yaml",
        &format!(
            "name: sig\nseed: 6\ntiers:\n  - {{ name: l1, kind: memory, max_entries: 100 }}\n\
             \x20 - {{ name: l2, kind: redis, url: \"{}\" }}\n\
             \x20 - {{ name: l3, kind: sql, url: \"{}\", table: {table}, pool: 2 }}\n\
             data: {{ keys: {{ count: 5000, prefix: \"{prefix}\" }}, values: {{ size: 64 }} }}\n\
             workloads:\n  - {{ name: stacked, target: stack, duration: 60s, warmup: 0, concurrency: 4, mix: {{ get: 8, set: 2 }} }}\n",
            support::redis_url(),
            support::postgres_url()
        ),
    );
    let results = dir.path().join("sig.json");
    let run = spawn_run(&scenario, &results);
    std::thread::sleep(Duration::from_millis(2500));
    let sent = Instant::now();
    send_signal(&format!("-{signal}"), run.id());
    let out = run.wait_with_output().unwrap();
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(code), "{text}");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        sent.elapsed()
    );
    assert!(text.contains("INTERRUPTED"), "{text}");
    let doc = read_json(&results);
    assert_eq!(doc["summary"]["interrupted"], format!("SIG{signal}"));
    assert_eq!(doc["summary"]["passed"], false);
    assert!(doc["workloads"][0]["ops"].as_u64().unwrap() > 0, "{doc}");
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut redis_conn)
        .unwrap();
    assert!(left.is_empty(), "{} keys left under {prefix}", left.len());
    let tables: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = support::postgres().await;
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = $1")
            .bind(&table)
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(tables, 0, "table {table} was left behind");
}

/// Ctrl-C while a large preload runs: the workload says it measured nothing, and judges nothing
/// (no threshold passes on 0 operations, no grade, no capacity warning from the cut preload).
#[test]
fn ctrl_c_during_the_preload_reports_a_workload_that_did_not_measure() {
    let _serial = serial();
    let redis = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let scenario = support::write_scenario(
        dir.path(),
        "preload.yaml",
        &format!(
            "name: cut\nseed: 6\ntiers: [{{ name: l2, kind: redis, url: \"{}\" }}]\n\
             data: {{ keys: {{ count: 5000000, prefix: \"tbtest:cut:\" }}, values: {{ size: 64 }} }}\n\
             workloads:\n  - {{ name: reads, target: l2, preload: true, ops: 1000, concurrency: 4, \
             mix: {{ get: 1 }}, thresholds: [\"get.p99 < 1s\"] }}\n",
            redis.url()
        ),
    );
    let results = dir.path().join("cut.json");
    let run = spawn_run(&scenario, &results);
    // Once the preload is writing (after setup has claimed the 5M names).
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while redis::cmd("DBSIZE").query::<u64>(&mut conn).unwrap() < 10_000 {
        assert!(Instant::now() < deadline, "the preload never began");
        std::thread::sleep(Duration::from_millis(20));
    }
    send_signal("-INT", run.id());
    let out = run.wait_with_output().unwrap();
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(130), "{text}");
    let doc = read_json(&results);
    let w = &doc["workloads"][0];
    assert_eq!(w["ops"], 0, "{w}");
    assert!(
        w["failure"]
            .as_str()
            .unwrap()
            .contains("nothing was measured"),
        "{w}"
    );
    assert_eq!(
        w["thresholds"].as_array().unwrap().len(),
        0,
        "nothing judged: {w}"
    );
    assert!(
        w["grade"].is_null() && doc["summary"]["grade"].is_null(),
        "{doc}"
    );
    assert!(!text.contains("holds at most"), "{text}");
    assert!(!text.contains("PASS "), "{text}");
}

#[test]
fn sigint_writes_the_results_cleans_up_and_exits_130() {
    interrupt_with("INT", 130);
}

#[test]
fn sigterm_writes_the_results_cleans_up_and_exits_143() {
    interrupt_with("TERM", 143);
}

/// A server that stops answering must not hold up Ctrl-C for the tier's whole timeout: the
/// in-flight operations are given up one second after the signal (said in the report), the
/// results are still written, and once the server answers again the keys are cleaned up.
#[test]
fn ctrl_c_gives_up_operations_a_frozen_server_holds() {
    gives_up_on_a_frozen_server(|yaml| yaml);
}

#[test]
fn ctrl_c_gives_up_pipelined_operations_a_frozen_server_holds() {
    gives_up_on_a_frozen_server(pipelined);
}

fn gives_up_on_a_frozen_server(shape: fn(String) -> String) {
    let redis = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let yaml =
        shape(redis_scenario(&redis.url(), "tbtest:frozen:", "", "60s")).replace("300ms", "30s");
    let scenario = support::write_scenario(dir.path(), "frozen.yaml", &yaml);
    let results = dir.path().join("frozen.json");
    let run = spawn_run(&scenario, &results);
    std::thread::sleep(Duration::from_millis(2000));
    let pid = redis.pid();
    // Frozen, not gone: connections stay open and every operation sent waits for an answer.
    send_signal("-STOP", pid);
    std::thread::sleep(Duration::from_millis(300));
    send_signal("-INT", run.id());
    // Long enough for the one-second grace, far shorter than the 30 s timeout.
    std::thread::sleep(Duration::from_secs(4));
    send_signal("-CONT", pid);
    let out = run.wait_with_output().unwrap();
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(130), "{text}");
    let doc = read_json(&results);
    let warnings = doc["workloads"][0]["warnings"].to_string();
    assert!(
        warnings.contains("gave up") && warnings.contains("in-flight"),
        "no word of the abandoned operations: {warnings}\n{text}"
    );
    assert!(text.contains("in-flight"), "{text}");
    assert!(doc["workloads"][0]["ops"].as_u64().unwrap() > 0, "{doc}");
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("tbtest:frozen:*")
        .query(&mut conn)
        .unwrap();
    assert!(left.is_empty(), "{} keys left", left.len());
}

#[test]
fn a_frozen_server_times_operations_out_and_the_run_goes_on_when_it_thaws() {
    survives_a_freeze(|yaml| yaml);
}

#[test]
fn a_frozen_server_times_pipelined_operations_out_and_the_run_goes_on_when_it_thaws() {
    survives_a_freeze(pipelined);
}

/// A server that stops answering for 1.5 s (SIGSTOP: connections stay open) and comes back:
/// operations in flight fail after the tier's 300 ms timeout, each one an error that says so,
/// the connection they waited on is closed (a late reply must not be taken for the next
/// command's), and the run goes on against the thawed server.
fn survives_a_freeze(shape: fn(String) -> String) {
    let redis = PrivateRedis::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let scenario = support::write_scenario(
        dir.path(),
        "freeze.yaml",
        &shape(redis_scenario(&redis.url(), "tbtest:freeze:", "", "5s")),
    );
    let results = dir.path().join("freeze.json");
    let run = spawn_run(&scenario, &results);
    std::thread::sleep(Duration::from_millis(1500));
    let pid = redis.pid();
    send_signal("-STOP", pid);
    std::thread::sleep(Duration::from_millis(1500));
    send_signal("-CONT", pid);
    let out = run.wait_with_output().unwrap();
    let text = support::all_output(&out);
    let doc = read_json(&results);
    let w = &doc["workloads"][0];
    let messages = w["error_messages"].to_string();
    assert!(
        messages.contains("the tier's timeout"),
        "{messages}\n{text}"
    );
    let errors = w["errors"].as_u64().unwrap();
    assert!(errors > 0 && errors < 10_000, "{errors} errors\n{text}");
    let series = w["timeseries"].as_array().unwrap();
    let last_full = &series[series.len().saturating_sub(2)];
    assert!(
        last_full["ops"].as_u64().unwrap() > 100 && last_full["errors"].as_u64() == Some(0),
        "the run did not recover: {last_full}\n{text}"
    );
    // Errors fail the run closed unless they stay within the implicit error_rate <= 1%.
    let rate = w["error_rate"].as_f64().unwrap();
    assert_eq!(
        out.status.code(),
        Some(if rate <= 0.01 { 0 } else { 1 }),
        "{text}"
    );
}
