//! `run --until-ready`: the common start of a sharded run computed instead of guessed. The probe
//! prepares as a shard would (connect, claim, preload, warm up) against the real Redis, stops
//! before measuring, cleans up what it wrote (and nothing else), and prints a start that covers
//! it; shards started at that time are all ready by then and measure together.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::all_output;

const PREFIX: &str = "tbtest:ready:";

fn scenario(dir: &Path) -> std::path::PathBuf {
    let tier = format!(
        "{{ name: l2, kind: redis, url: \"{}\", connections: 2 }}",
        support::redis_url()
    );
    support::write_scenario(
        dir,
        "ready.yaml",
        &format!(
            "name: ready\nseed: 3\ntiers: [{tier}]\n\
             data: {{ keys: {{ count: 60000, prefix: \"{PREFIX}\" }}, values: {{ size: 128 }} }}\n\
             workloads:\n  - {{ name: reads, target: l2, preload: true, duration: 1s, warmup: 3000, \
             concurrency: 4, mix: {{ get: 1 }}, thresholds: [\"errors == 0\"] }}\n"
        ),
    )
}

fn keys_under_prefix(conn: &mut redis::Connection) -> usize {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{PREFIX}*"))
        .query(conn)
        .unwrap();
    keys.len()
}

#[test]
fn the_printed_start_covers_every_shards_preload_and_the_probe_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    let mut conn = support::redis();
    // The user's own key next to tierbench's prefix: never touched.
    let user_key = "tbtest:ready-user:1";
    redis::cmd("SET")
        .arg(user_key)
        .arg("theirs")
        .query::<()>(&mut conn)
        .unwrap();

    let asked = chrono::Utc::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .arg("run")
        .arg(&path)
        .args([
            "--shard",
            "0/3",
            "--until-ready",
            "--ready-margin",
            "2s",
            "-q",
        ])
        .env_remove("TIERBENCH_START_AT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line for start.env: {stdout:?}");
    let start = lines[0].strip_prefix("TIERBENCH_START_AT=").unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ready to measure"), "{stderr}");
    assert!(
        at.signed_duration_since(asked).num_milliseconds() >= 2_000,
        "{start} allows the margin"
    );
    assert_eq!(keys_under_prefix(&mut conn), 0, "the probe cleaned up");
    let theirs: String = redis::cmd("GET").arg(user_key).query(&mut conn).unwrap();
    assert_eq!(theirs, "theirs");

    // Three shards started now with that start are all ready by then, and measure together.
    let children: Vec<_> = (0..3)
        .map(|i| {
            let json = dir.path().join(format!("shard-{i}.json"));
            let child = Command::new(env!("CARGO_BIN_EXE_tierbench"))
                .arg("run")
                .arg(&path)
                .args(["-q", "--shard", &format!("{i}/3"), "--start-at", start])
                .arg("--report")
                .arg(format!("json={}", json.display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (json, child)
        })
        .collect();
    let mut began = Vec::new();
    for (json, child) in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        assert!(
            !all_output(&out).contains("had passed"),
            "{}",
            all_output(&out)
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        assert!(
            !doc["notes"].to_string().contains("had passed"),
            "{}",
            doc["notes"]
        );
        began.push(doc["workloads"][0]["started_ms"].as_u64().unwrap());
    }
    let start_ms = at.timestamp_millis() as u64;
    let (first, last) = (*began.iter().min().unwrap(), *began.iter().max().unwrap());
    assert!(
        first >= start_ms && last - first <= 20,
        "windows began at {began:?}, start {start_ms}"
    );
    // The shards leave their keys for each other; the merge's cleanup is not this test's.
    let _: () = redis::cmd("EVAL")
        .arg("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end")
        .arg(0)
        .arg(format!("{PREFIX}*"))
        .query(&mut conn)
        .unwrap();
    let _: () = redis::cmd("DEL").arg(user_key).query(&mut conn).unwrap();
}

#[test]
fn until_ready_with_a_sweep_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "sweep.yaml",
        "name: s\nseed: 1\ntiers: [{ name: l1, kind: memory, max_entries: 100 }]\n\
         data: { keys: { count: 1000 }, values: { size: 8 } }\n\
         sweep: { tiers.l1.max_entries: [100, 200] }\n\
         workloads:\n  - { name: w, target: l1, ops: 100, concurrency: 1, mix: { get: 1 } }\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .arg("run")
        .arg(&path)
        .args(["--until-ready", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("--until-ready"),
        "{}",
        all_output(&out)
    );
}
