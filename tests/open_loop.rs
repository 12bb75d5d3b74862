//! Open loop against real Redis, paused mid-run with `CLIENT PAUSE`: the open-loop run reports
//! the stall in every operation it delayed (p99.9 at least the pause), the closed-loop run of
//! the same reports it once per worker. This is the point of measuring from the intended start.
//! (Alone in its test binary: the pause stops every client of the server.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::time::Duration;

const PAUSE_MS: u64 = 300;

/// Runs `load` against Redis while another connection pauses the server for 300 ms after 500 ms.
fn run_with_pause(dir: &std::path::Path, name: &str, load: &str) -> serde_json::Value {
    let mut admin = support::redis();
    let path = support::write_scenario(
        dir,
        &format!("{name}.yaml"),
        &format!(
            "name: {name}\nseed: 1\ntiers: [{{ name: l2, kind: redis, url: \"{}\", connections: 2 }}]\n\
             data: {{ keys: {{ count: 1000, prefix: \"tbtest:pause:\" }}, values: {{ size: 32 }} }}\n\
             workloads:\n  - {{ name: w, target: l2, mix: {{ get: 9, set: 1 }}, {load} }}\n",
            support::redis_url()
        ),
    );
    let json = dir.join(format!("{name}.json"));
    let pauser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(PAUSE_MS)
            .query::<()>(&mut admin)
            .unwrap();
    });
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", json.display()),
    ]);
    pauser.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[test]
fn open_loop_shows_a_stall_in_every_operation_it_delayed_closed_loop_once() {
    let dir = tempfile::tempdir().unwrap();
    let pause_ns = PAUSE_MS as f64 * 1e6;

    let open = run_with_pause(
        dir.path(),
        "open",
        "duration: 1500ms, rate: 2000/s, concurrency: 64",
    );
    let w = &open["workloads"][0];
    assert_eq!(w["mode"], "open_loop");
    let p999 = w["operations"]["all"]["latency"]["p999_ns"]
        .as_f64()
        .unwrap();
    assert!(
        p999 >= pause_ns,
        "open loop p99.9 {p999} ns < the {PAUSE_MS} ms pause"
    );
    // Every operation due during the pause was delayed: far more than 0.1% of them are slow.
    let service_p999 = w["service"]["all"]["latency"]["p999_ns"].as_f64().unwrap();
    assert!(
        service_p999 <= p999,
        "service time never exceeds latency from the intended start"
    );
    let achieved = w["phases"][0]["achieved_rate"].as_f64().unwrap();
    assert!(achieved > 1500.0, "the generator kept up: {achieved}/s");

    let closed = run_with_pause(dir.path(), "closed", "duration: 1500ms, concurrency: 8");
    let w = &closed["workloads"][0];
    assert_eq!(w["mode"], "closed_loop");
    let max = w["operations"]["all"]["latency"]["max_ns"]
        .as_f64()
        .unwrap();
    let p999 = w["operations"]["all"]["latency"]["p999_ns"]
        .as_f64()
        .unwrap();
    assert!(
        max >= pause_ns * 0.9,
        "the stall is seen once: max {max} ns"
    );
    assert!(
        p999 < pause_ns / 10.0,
        "closed loop hides the stall in its p99.9: {p999} ns"
    );
}
