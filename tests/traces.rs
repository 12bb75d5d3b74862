//! Traces: a seeded run records the same operation sequence every time, and replaying a
//! recorded trace issues exactly its operations.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::{record_trace, write_scenario};

fn scenario(workload: &str) -> String {
    format!(
        "name: rec\nseed: 77\ntiers: [{{ name: l1, kind: memory, engine: lru, max_entries: 300 }}]\n\
         data: {{ keys: {{ count: 1000, prefix: \"rec:\", distribution: zipf }}, values: {{ size: 16..64 }} }}\n\
         workloads:\n  - {{ name: w, target: l1, warmup: 100, {workload} }}\n"
    )
}

fn record(dir: &std::path::Path, name: &str, yaml: &str) -> String {
    record_trace(&write_scenario(dir, &format!("{name}.yaml"), yaml))
}

#[test]
fn the_same_seed_records_the_same_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario("ops: 3000, concurrency: 3, mix: { get: 7, set: 2, delete: 1 }");
    let first = record(dir.path(), "a", &yaml);
    let second = record(dir.path(), "b", &yaml);
    assert_eq!(
        first.lines().count(),
        1 + 100 + 3000,
        "header, warmup, measured"
    );
    assert_eq!(first, second);
    let other = record(dir.path(), "c", &yaml.replace("seed: 77", "seed: 78"));
    assert_ne!(first, other);
}

#[test]
fn a_replayed_trace_issues_exactly_its_operations() {
    let dir = tempfile::tempdir().unwrap();
    let original = record(
        dir.path(),
        "orig",
        &scenario("ops: 2000, concurrency: 1, mix: { get: 6, set: 3, delete: 1 }"),
    );
    std::fs::write(dir.path().join("orig-trace.csv"), &original).unwrap();
    // Replay it (warmup off: the replay's own warmup would consume records) and record again.
    let replay_yaml = scenario("ops: 5000, concurrency: 1, trace: { path: orig-trace.csv }")
        .replace("warmup: 100, ", "warmup: 0, ");
    let replayed = record(dir.path(), "replay", &replay_yaml);
    let key_op = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .skip(1)
            .map(|l| {
                let mut f = l.split(',');
                (f.next().unwrap().to_string(), f.next().unwrap().to_string())
            })
            .collect()
    };
    assert_eq!(
        key_op(&replayed),
        key_op(&original),
        "same keys and operations, in order"
    );
}

/// A recording replays what it recorded: each workload its own records (the trace's `workload`
/// column), the warmup's records first and the measured ones after (the phases read on where
/// the warmup stopped), and with no `ops` or `duration`, to the end of its records.
#[test]
fn a_recording_of_two_workloads_with_warmup_replays_to_identical_counts() {
    let dir = tempfile::tempdir().unwrap();
    let workloads = [
        (
            "browse",
            500,
            "ops: 8000, mix: { get: 70, set: 20, delete: 5, touch: 5 }",
        ),
        (
            "churn",
            200,
            "ops: 3000, mix: { get: 30, set: 50, delete: 20 }",
        ),
    ];
    let head = "name: rec2\nseed: 5\ntiers: [{ name: l1, kind: memory, engine: lru, max_entries: 300 }]\n\
                data: { keys: { count: 1000, prefix: \"rec2:\", distribution: zipf }, values: { size: 16..64 } }\n\
                workloads:\n";
    let mut recorded = head.to_string();
    let mut replayed = head.to_string();
    for (name, warmup, what) in workloads {
        recorded.push_str(&format!(
            "  - {{ name: {name}, target: l1, warmup: {warmup}, concurrency: 2, {what} }}\n"
        ));
        replayed.push_str(&format!(
            "  - {{ name: {name}, target: l1, warmup: {warmup}, concurrency: 2, trace: {{ path: rec.csv }} }}\n"
        ));
    }
    let trace = dir.path().join("rec.csv");
    let (out, original) = support::run_for_json_with(
        &write_scenario(dir.path(), "recorded.yaml", &recorded),
        &["--record-trace", trace.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let (out, replay) =
        support::run_for_json(&write_scenario(dir.path(), "replayed.yaml", &replayed));
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    for w in 0..2 {
        assert!(original["workloads"][w]["ops"].as_u64().unwrap() > 2000);
        for op in ["get", "set", "delete", "touch"] {
            // An operation the mix never issues is absent, the trace's is 0.
            let count = |doc: &serde_json::Value| {
                doc["workloads"][w]["operations"][op]["count"]
                    .as_u64()
                    .unwrap_or(0)
            };
            assert_eq!(
                count(&replay),
                count(&original),
                "workload {w}, {op}: replayed against recorded"
            );
        }
    }
}

#[test]
fn a_recorded_workload_that_is_not_in_the_trace_is_refused_with_the_ones_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rec.csv"),
        "key,op,size,worker,workload\na,get,1,0,reads\nb,set,9,1,writes\n",
    )
    .unwrap();
    let yaml = scenario("concurrency: 1, trace: { path: rec.csv, workload: read }")
        .replace("warmup: 100, ", "warmup: 0, ");
    let path = write_scenario(dir.path(), "bad.yaml", &yaml);
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("the trace records no workload `read`") && text.contains("reads, writes"),
        "{text}"
    );
    // Without `ops`, the warmup must leave records to measure.
    let yaml = scenario("concurrency: 1, trace: { path: rec.csv, workload: reads }")
        .replace("warmup: 100, ", "warmup: 1, ");
    let path = write_scenario(dir.path(), "short.yaml", &yaml);
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("none is left to measure"), "{text}");
}

/// A `redis-cli MONITOR` capture of a private Redis replays as it was captured: each cache
/// command one operation of its kind, and the commands with no cache operation listed in the
/// result's warnings, never dropped without a word.
#[test]
fn a_redis_monitor_capture_replays_its_commands_and_lists_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::private_redis::PrivateRedis::start(support::private_redis::free_port());
    let capture = dir.path().join("capture.txt");
    let mut monitor = std::process::Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "monitor"])
        .stdout(std::fs::File::create(&capture).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let mut run = |args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let _: redis::Value = cmd.query(&mut conn).unwrap();
    };
    for i in 0..30 {
        run(&["SET", &format!("user:{i}"), "some \"quoted\" value"]);
    }
    for i in 0..50 {
        run(&["GET", &format!("user:{}", i % 40)]);
    }
    for i in 0..10 {
        run(&["DEL", &format!("user:{i}")]);
    }
    for i in 0..5 {
        run(&["EXPIRE", &format!("user:{}", 10 + i), "60"]);
    }
    // Multi-key commands replay one operation per key.
    for i in 0..7 {
        let keys: Vec<String> = (0..3).map(|k| format!("user:{}", i * 3 + k)).collect();
        run(&["MGET", &keys[0], &keys[1], &keys[2]]);
    }
    for i in 0..4 {
        run(&["DEL", &format!("batch:{i}:a"), &format!("batch:{i}:b")]);
    }
    for i in 0..3 {
        run(&[
            "MSET",
            &format!("pair:{i}:a"),
            "1",
            &format!("pair:{i}:b"),
            "22",
        ]);
    }
    for _ in 0..3 {
        run(&["PING"]);
    }
    run(&["HSET", "h", "f", "v"]);
    run(&["HSET", "h", "g", "w"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    monitor.kill().unwrap();
    monitor.wait().unwrap();
    // Three workers: the shares (in keys) cut through multi-key commands.
    let yaml = scenario("concurrency: 3, trace: { path: capture.txt, format: redis_monitor }")
        .replace("warmup: 100, ", "warmup: 0, ");
    let (out, doc) = support::run_for_json(&write_scenario(dir.path(), "replay.yaml", &yaml));
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let w = &doc["workloads"][0];
    for (op, n) in [
        ("get", 50 + 21),
        ("set", 30 + 6),
        ("delete", 10 + 8),
        ("touch", 5),
    ] {
        assert_eq!(w["operations"][op]["count"], n, "{op}");
    }
    assert_eq!(w["ops"], 71 + 36 + 18 + 5);
    let warnings = w["warnings"].to_string();
    assert!(
        warnings.contains("HSET 2") && warnings.contains("PING 3"),
        "{warnings}"
    );
}

/// `speed: 1x` replays a capture at its own pace (200 requests 10 ms apart take 2 s), `2x` at
/// twice it (1 s), reported as an open loop; without `speed`, as fast as the loop runs (a
/// closed loop).
#[test]
fn a_capture_replays_at_its_own_pace_or_faster() {
    let dir = tempfile::tempdir().unwrap();
    let mut capture = String::from("OK\n");
    for i in 0..200 {
        let at = 1_700_000_000.0 + f64::from(i) * 0.01;
        capture.push_str(&format!("{at:.6} [0 127.0.0.1:5000] \"GET\" \"k{i}\"\n"));
    }
    std::fs::write(dir.path().join("capture.txt"), capture).unwrap();
    for (speed, seconds) in [(Some("1x"), 1.99), (Some("2x"), 0.995), (None, 0.0)] {
        let speed = speed.map_or(String::new(), |s| format!(", speed: {s}"));
        let yaml = scenario(&format!(
            "concurrency: 4, trace: {{ path: capture.txt, format: redis_monitor{speed} }}"
        ))
        .replace("warmup: 100, ", "warmup: 0, ");
        let (out, doc) = support::run_for_json(&write_scenario(dir.path(), "paced.yaml", &yaml));
        assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
        let w = &doc["workloads"][0];
        assert_eq!(w["ops"], 200);
        let took = w["duration_s"].as_f64().unwrap();
        // A paced replay is an open loop on the trace's own schedule.
        let mode = if seconds > 0.0 {
            "open_loop"
        } else {
            "closed_loop"
        };
        assert_eq!(w["mode"], mode, "{speed}");
        assert_eq!(w["phases"][0]["mode"], mode, "{speed}");
        if seconds > 0.0 {
            assert!(
                (took - seconds).abs() < 0.1,
                "{speed}: the replay took {took:.3} s, the capture's pace {seconds} s"
            );
        } else {
            assert!(took < 0.5, "as fast as the loop runs: {took:.3} s");
        }
    }
}

/// A Twitter trace's TTLs are kept: a set with a TTL writes the key with it (replacing the
/// tier's), one with TTL 0 with the tier's, on a private Redis, alone (one task per
/// connection) and under an in-process L1 (the stack's write-through).
#[test]
fn a_twitter_traces_ttls_are_written_with_its_sets() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::private_redis::PrivateRedis::start(support::private_redis::free_port());
    let mut trace = String::new();
    for i in 0..20 {
        let ttl = if i % 2 == 0 { 600 } else { 0 };
        trace.push_str(&format!("{i},user:{i},6,40,1,set,{ttl}\n"));
        trace.push_str(&format!("{i},user:{i},6,0,1,get,0\n"));
    }
    std::fs::write(dir.path().join("twitter.csv"), trace).unwrap();
    for (prefix, tiers, target) in [
        ("tw:", "", "l2"),
        (
            "tws:",
            "{ name: l1, kind: memory, max_entries: 5 }, ",
            "stack",
        ),
    ] {
        let yaml = format!(
            "name: ttl\nseed: 1\nkeep: true\n\
             tiers: [{tiers}{{ name: l2, kind: redis, url: \"{}\", ttl: 1h }}]\n\
             data: {{ keys: {{ count: 100, prefix: \"{prefix}\" }}, values: {{ size: 16 }} }}\n\
             workloads:\n  - {{ name: w, target: {target}, warmup: 0, concurrency: 2, \
             trace: {{ path: twitter.csv, format: twitter }} }}\n",
            server.url()
        );
        check_ttls(&server, dir.path(), prefix, &yaml);
    }
}

fn check_ttls(
    server: &support::private_redis::PrivateRedis,
    dir: &std::path::Path,
    prefix: &str,
    yaml: &str,
) {
    let (out, doc) = support::run_for_json(&write_scenario(dir, "ttl.yaml", yaml));
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    assert_eq!(doc["workloads"][0]["operations"]["set"]["count"], 20);
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    for i in 0..20 {
        let pttl: i64 = redis::cmd("PTTL")
            .arg(format!("{prefix}user:{i}"))
            .query(&mut conn)
            .unwrap();
        if i % 2 == 0 {
            assert!((590_000..=600_000).contains(&pttl), "user:{i}: PTTL {pttl}");
        } else {
            // No TTL of its own: the tier's (1 h).
            assert!(
                (3_590_000..=3_600_000).contains(&pttl),
                "user:{i}: PTTL {pttl}"
            );
        }
    }
}

/// The same TTLs on a SQL tier (SQLite): a set with a TTL of its own writes `expires_at` that
/// far ahead, one without it the tier's.
#[test]
fn a_twitter_traces_ttls_are_written_as_sql_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = String::new();
    for i in 0..10 {
        let ttl = if i % 2 == 0 { 600 } else { 0 };
        trace.push_str(&format!("{i},user:{i},6,40,1,set,{ttl}\n"));
    }
    std::fs::write(dir.path().join("twitter.csv"), trace).unwrap();
    let db = dir.path().join("cache.db");
    let yaml = format!(
        "name: ttl\nseed: 1\nkeep: true\n\
         tiers: [{{ name: l3, kind: sql, url: \"sqlite:{}?mode=rwc\", ttl: 1h }}]\n\
         data: {{ keys: {{ count: 100, prefix: \"tw:\" }}, values: {{ size: 16 }} }}\n\
         workloads:\n  - {{ name: w, target: l3, warmup: 0, concurrency: 2, \
         trace: {{ path: twitter.csv, format: twitter }} }}\n",
        db.display()
    );
    let before = chrono::Utc::now().timestamp_millis();
    let (out, _) = support::run_for_json(&write_scenario(dir.path(), "ttl.yaml", &yaml));
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let rows: Vec<(String, i64)> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        sqlx::query_as("SELECT k, expires_at FROM tierbench_cache WHERE k LIKE 'tw:user:%'")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    assert_eq!(rows.len(), 10, "{rows:?}");
    for (key, expires_at) in rows {
        let i: u32 = key.trim_start_matches("tw:user:").parse().unwrap();
        let ahead = expires_at - before;
        let want = if i.is_multiple_of(2) {
            600_000
        } else {
            3_600_000
        };
        assert!(
            (want - 10_000..=want + 10_000).contains(&ahead),
            "{key}: expires {ahead} ms ahead, expected about {want}"
        );
    }
}
