//! `store_as: hash` against a real Redis: a session lifecycle run end to end with Redis' own
//! `INFO commandstats` agreeing with the reported counts, what a stored key holds (`TYPE hash`,
//! one field per JSON field of the value the run wrote), promotion through a stack into and out
//! of a hash tier, memory per entry, and the server going away and coming back. Each test starts
//! a private `redis-server` on a free port, so no other test's traffic lands in its counts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::commandstats;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::private_redis::{PrivateRedis, free_port};
use tierbench::tier::Tier;
use tierbench::tier::config::{TierConfig, TierKindConfig};
use tierbench::tier::ownership::key_names::KeyNames;
use tierbench::tier::redis::RedisSettings;
use tierbench::tier::redis::hash::HashLayout;
use tierbench::workload::fields::spans;
use tierbench::workload::values::{SizeSpec, ValuePool, ValueShape};

fn connection(server: &PrivateRedis) -> redis::Connection {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

fn keys(conn: &mut redis::Connection, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS").arg(pattern).query(conn).unwrap()
}

/// Runs `yaml` (written to a temporary directory) and returns the result document.
fn run(yaml: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(dir.path(), "hash.yaml", yaml);
    let (out, doc) = support::run_for_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    doc
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn a_hash_stored_session_lifecycle_runs_and_redis_counts_what_is_reported() {
    let server = PrivateRedis::start(free_port());
    let mut conn = connection(&server);
    let before = commandstats(&mut conn);
    // 200 sessions, one worker: create, read, touch, read, end, read again (a miss).
    let doc = run(&format!(
        "name: sessions-hash\nseed: 5\n\
         tiers: [{{ name: l2, kind: redis, url: \"{}\", store_as: hash, ttl: 10m }}]\n\
         data: {{ keys: {{ count: 400, prefix: \"tbtest:hash:\" }}, values: {{ shape: json, fields: 5, size: 200..400 }} }}\n\
         workloads:\n  - {{ name: sessions, target: l2, ops: 1200, warmup: 0, concurrency: 1, \
         sequence: [set, get, touch, get, delete, get] }}\n",
        server.url()
    ));
    let after = commandstats(&mut conn);
    let delta = |c: &str| after.get(c).copied().unwrap_or(0) - before.get(c).copied().unwrap_or(0);
    let w = &doc["workloads"][0];
    let count = |op: &str| n(&w["operations"][op]["count"]) + n(&w["operations"][op]["errors"]);
    assert_eq!(
        (count("set"), count("get"), count("touch"), count("delete")),
        (200, 600, 200, 200)
    );
    assert_eq!(n(&w["errors"]), 0);
    // Redis saw one HSET per set, one HGETALL per get, one PEXPIRE per set (the ttl, in the same
    // round trip) and per touch, one DEL per delete, and no string command.
    assert_eq!(delta("hset"), count("set"));
    assert_eq!(delta("hgetall"), count("get"));
    assert_eq!(delta("pexpire"), count("set") + count("touch"));
    assert_eq!(delta("del"), count("delete"));
    assert_eq!(delta("get") + delta("set") + delta("mget"), 0);
    // A read after create or touch finds the session; the one after the delete does not.
    let tier = &w["tiers"][0];
    assert_eq!((n(&tier["hits"]), n(&tier["misses"])), (400, 200));
    // Nothing is left behind: every key under the prefix and the run's marker are gone.
    assert_eq!(keys(&mut conn, "tbtest:hash:*"), Vec::<String>::new());
    assert_eq!(delta("flushdb") + delta("flushall"), 0);
}

/// The pool the run generated (same shape, size, seed and count), to compare stored keys with.
fn pool(fields: usize, keys: usize, seed: u64) -> ValuePool {
    let shape = ValueShape::Json { fields, depth: 2 };
    ValuePool::generate(
        &shape,
        &SizeSpec::Range { min: 60, max: 500 },
        0.3,
        keys,
        seed,
    )
}

/// HGETALL of `key` as (name, value) pairs, in the server's order.
fn hash(conn: &mut redis::Connection, key: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    redis::cmd("HGETALL").arg(key).query(conn).unwrap()
}

#[test]
fn a_stored_key_is_a_hash_of_the_values_json_fields() {
    let server = PrivateRedis::start(free_port());
    let mut conn = connection(&server);
    // Preload writes key i with value i of the pool; `keep` leaves them to look at.
    let doc = run(&format!(
        "name: hash-content\nseed: 9\nkeep: true\n\
         tiers: [{{ name: l2, kind: redis, url: \"{}\", store_as: hash }}]\n\
         data: {{ keys: {{ count: 300, prefix: \"tbtest:hashfields:\" }}, \
         values: {{ shape: json, fields: 3, depth: 2, size: 60..500, compressibility: 0.3 }} }}\n\
         workloads:\n  - {{ name: reads, target: l2, preload: true, ops: 600, warmup: 0, concurrency: 3, mix: {{ get: 1 }} }}\n",
        server.url()
    ));
    let tier = &doc["workloads"][0]["tiers"][0];
    assert_eq!((n(&tier["hits"]), n(&tier["misses"])), (600, 0));
    let values = pool(3, 300, 9);
    for i in 0..300 {
        let key = format!("tbtest:hashfields:{i}");
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut conn).unwrap();
        assert_eq!(kind, "hash", "{key}");
        let value = values.get(i);
        let mut want = Vec::new();
        spans(value, &mut want).unwrap();
        let mut want: Vec<(Vec<u8>, Vec<u8>)> = want
            .iter()
            .map(|s| (s.name(value).to_vec(), s.value(value).to_vec()))
            .collect();
        let mut got = hash(&mut conn, &key);
        got.sort();
        want.sort();
        assert_eq!(got, want, "{key}");
        let names: Vec<&[u8]> = got.iter().map(|(name, _)| name.as_slice()).collect();
        assert_eq!(names, [&b"f0"[..], b"f1", b"f2", b"pad"]);
        // Each field holds valid JSON: a number, a string with its quotes, a nested object.
        for (name, text) in &got {
            serde_json::from_slice::<serde_json::Value>(text)
                .unwrap_or_else(|e| panic!("{key} {name:?}: {e}"));
        }
    }
    let made = keys(&mut conn, "tbtest:hashfields:*");
    assert_eq!(
        made.len(),
        301,
        "the data, and the marker saying it was kept: {made:?}"
    );
    assert!(made.contains(&"tbtest:hashfields:__tierbench__".to_string()));
}

#[test]
fn values_promoted_through_a_stack_into_and_out_of_a_hash_tier_are_the_same_bytes() {
    let server = PrivateRedis::start(free_port());
    let mut conn = connection(&server);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l3.db");
    // Write-around puts each session in SQLite only and invalidates L1 and Redis: the first read
    // is served by L3 and promoted into Redis (a hash, split from SQLite's bytes) and L1; the
    // second is served by L1. Then reads through an L1 of 10 entries (an exact LRU) are mostly
    // served by Redis, re-assembled, and promoted into that L1; keys never written load from
    // the origin into every tier.
    let doc = run(&format!(
        "name: hash-stack\nseed: 3\nkeep: true\n\
         tiers:\n\
         \x20 - {{ name: l1, kind: memory, max_entries: 1000 }}\n\
         \x20 - {{ name: small, kind: memory, engine: lru, max_entries: 10 }}\n\
         \x20 - {{ name: l2, kind: redis, url: \"{}\", store_as: hash, ttl: 10m }}\n\
         \x20 - {{ name: l3, kind: sql, url: \"sqlite:{}\", table: sessions }}\n\
         data: {{ keys: {{ count: 100, prefix: \"tbtest:hashstack:\" }}, values: {{ shape: json, fields: 4, size: 100..300 }} }}\n\
         workloads:\n\
         \x20 - {{ name: around, target: [l1, l2, l3], write: around, ops: 300, warmup: 0, concurrency: 1, sequence: [set, get, get] }}\n\
         \x20 - {{ name: reads, target: [small, l2, l3], ops: 500, warmup: 0, concurrency: 1, mix: {{ get: 1 }} }}\n",
        server.url(),
        db.display()
    ));
    let around = &doc["workloads"][0];
    assert_eq!(n(&around["errors"]), 0);
    let hits = |w: &serde_json::Value, t: usize| n(&w["tiers"][t]["hits"]);
    assert_eq!(
        (hits(around, 0), hits(around, 1), hits(around, 2)),
        (100, 0, 100)
    );
    let reads = &doc["workloads"][1];
    assert_eq!(n(&reads["errors"]), 0);
    assert!(
        hits(reads, 1) > 250,
        "Redis served the reads: {}",
        reads["tiers"]
    );
    // Every session Redis holds is the one SQLite holds, field for field.
    let sqlite = rusqlite_rows(&db);
    let mut stored = keys(&mut conn, "tbtest:hashstack:*");
    // The marker a kept run leaves is not one of the sessions.
    stored.retain(|k| !k.ends_with("__tierbench__"));
    assert!(!stored.is_empty());
    for key in &stored {
        let value = &sqlite[key];
        let mut want = Vec::new();
        spans(value, &mut want).unwrap();
        let mut want: Vec<(Vec<u8>, Vec<u8>)> = want
            .iter()
            .map(|s| (s.name(value).to_vec(), s.value(value).to_vec()))
            .collect();
        let mut got = hash(&mut conn, key);
        got.sort();
        want.sort();
        assert_eq!(got, want, "{key}");
    }
    redis::cmd("UNLINK")
        .arg(&stored)
        .query::<()>(&mut conn)
        .unwrap();
}

/// Every row of the SQLite tier's table, key to value.
fn rusqlite_rows(db: &std::path::Path) -> HashMap<String, Vec<u8>> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::Row;
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let rows = sqlx::query("SELECT k, v FROM sessions")
            .fetch_all(&pool)
            .await
            .unwrap();
        rows.iter()
            .map(|r| (r.get::<String, _>(0), r.get::<Vec<u8>, _>(1)))
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_returns_the_bytes_written_whatever_order_redis_keeps_the_fields_in() {
    let server = PrivateRedis::start(free_port());
    let shape = ValueShape::Json {
        fields: 8,
        depth: 2,
    };
    // Values over 64 bytes a field: Redis keeps such hashes as hashtables, in no set order.
    let values = std::sync::Arc::new(ValuePool::generate(
        &shape,
        &SizeSpec::Range {
            min: 100,
            max: 2000,
        },
        0.5,
        60,
        4,
    ));
    let mut config = hash_tier(server.url());
    if let TierKindConfig::Redis(r) = &mut config.kind {
        r.hash = Some(HashLayout {
            fields: shape.field_names().unwrap(),
        });
    }
    let tier = Tier::connect(&config, &KeyNames::generated("tbhashbytes:", 1000))
        .await
        .unwrap();
    tier.use_values(&values);
    let mut conn = connection(&server);
    let mut reordered = 0;
    for i in 0..values.len() {
        let key = format!("tbhashbytes:{i}");
        // Half the writes are a copy of the value (split on the fly), half the pool's own.
        let copy = values.get(i).to_vec();
        let value: &[u8] = if i % 2 == 0 { &copy } else { values.get(i) };
        tier.set(&key, value, i, &mut 0).await.unwrap();
        let got = tier.get(&key, i, &mut 0).await.unwrap().unwrap();
        assert_eq!(&got[..], values.get(i), "{key}");
        let server_order: Vec<Vec<u8>> = hash(&mut conn, &key).into_iter().map(|p| p.0).collect();
        let shape_order: Vec<Vec<u8>> = shape
            .field_names()
            .unwrap()
            .into_iter()
            .map(String::into_bytes)
            .collect();
        reordered += usize::from(server_order != shape_order);
    }
    assert!(
        reordered > 0,
        "Redis kept every hash in the shape's order: nothing was checked"
    );
    tier.cleanup(false).await.unwrap();
}

#[test]
fn memory_per_entry_of_hashes_agrees_with_memory_usage() {
    let server = PrivateRedis::start(free_port());
    let mut conn = connection(&server);
    let doc = run(&format!(
        "name: hash-memory\nseed: 2\nkeep: true\n\
         tiers: [{{ name: l2, kind: redis, url: \"{}\", store_as: hash }}]\n\
         data: {{ keys: {{ count: 12000, prefix: \"tbtest:hashmem:\" }}, values: {{ shape: json, fields: 6, size: 300 }} }}\n\
         workloads:\n  - {{ name: fill, target: l2, preload: true, ops: 100, warmup: 0, concurrency: 4, mix: {{ get: 1 }} }}\n",
        server.url()
    ));
    let memory = &doc["workloads"][0]["tiers"][0]["memory"];
    let reported = memory["per_entry_bytes"]
        .as_f64()
        .unwrap_or_else(|| panic!("no memory figure: {}", doc["workloads"][0]["tiers"][0]));
    // Redis' own account of each key (value, key and the server's bookkeeping), over a sample.
    let sample: Vec<u64> = (0..12000)
        .step_by(97)
        .map(|i| {
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(format!("tbtest:hashmem:{i}"))
                .arg("SAMPLES")
                .arg(0)
                .query(&mut conn)
                .unwrap()
        })
        .collect();
    let usage = sample.iter().sum::<u64>() as f64 / sample.len() as f64;
    let ratio = reported / usage;
    eprintln!("memory per entry {reported:.0} B, MEMORY USAGE {usage:.0} B, ratio {ratio:.2}");
    assert!(
        (0.8..1.25).contains(&ratio),
        "memory per entry {reported:.0} B against MEMORY USAGE {usage:.0} B"
    );
    // And a hash costs more than its value's bytes (6 fields of ~300 B of JSON).
    assert!(reported > 300.0, "{reported}");
}

fn hash_tier(url: String) -> TierConfig {
    TierConfig {
        name: "l2".into(),
        kind: TierKindConfig::Redis(RedisSettings {
            url,
            connections: 2,
            timeout: Duration::from_millis(500),
            ttl: Some(Duration::from_secs(60)),
            pipeline: 1,
            tls: None,
            cluster: false,
            seeds: Vec::new(),
            hash: Some(HashLayout {
                fields: vec!["a".into(), "b".into()],
            }),
        }),
        compression: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_tier_fails_while_the_server_is_away_and_serves_when_it_is_back() {
    let server = PrivateRedis::start(free_port());
    let tier = Tier::connect(
        &hash_tier(server.url()),
        &KeyNames::generated("tbfaulthash:", 1000),
    )
    .await
    .unwrap();
    let value = br#"{"a":1,"b":"two"}"#;
    tier.set("tbfaulthash:1", value, 0, &mut 0).await.unwrap();
    let got = tier.get("tbfaulthash:1", 1, &mut 0).await.unwrap();
    assert_eq!(got.as_deref(), Some(&value[..]));
    // Not a JSON object: the operation's error, saying why; nothing is sent.
    let err = tier.set("tbfaulthash:2", b"text", 0, &mut 0).await;
    assert!(
        err.as_ref()
            .is_err_and(|e| e.to_string().contains("JSON objects")),
        "{err:?}"
    );

    let port = server.kill();
    for lane in 0..4 {
        assert!(tier.get("tbfaulthash:1", lane, &mut 0).await.is_err());
        assert!(
            tier.set("tbfaulthash:1", value, lane, &mut 0)
                .await
                .is_err()
        );
    }
    let server = PrivateRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    for lane in 0..2 {
        loop {
            match tier.set("tbfaulthash:back", value, lane, &mut 0).await {
                Ok(()) => break,
                Err(e) => {
                    assert!(Instant::now() < deadline, "lane {lane} not back: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        let got = tier.get("tbfaulthash:back", lane, &mut 0).await.unwrap();
        assert_eq!(got.as_deref(), Some(&value[..]));
    }
    // The restarted server kept nothing (no save): a miss, not an error.
    assert_eq!(tier.get("tbfaulthash:1", 0, &mut 0).await.unwrap(), None);
    tier.cleanup(false).await.unwrap();
    assert_eq!(tier.entries().await.unwrap(), Some(0));
    drop(server);
}

/// A unix socket goes through the `redis` crate's connections, not tierbench's own: the same
/// hash, the same bytes back, the ttl set with the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_unix_socket_a_hash_tier_stores_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("redis.sock");
    let server = PrivateRedis::start_with(
        free_port(),
        &[
            "--unixsocket",
            socket.to_str().unwrap(),
            "--unixsocketperm",
            "700",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "no socket at {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let tier = Tier::connect(
        &hash_tier(format!("unix://{}", socket.display())),
        &KeyNames::generated("tbunixhash:", 1000),
    )
    .await
    .unwrap();
    let value = br#"{"a":{"x":[1,2]},"b":"two"}"#;
    tier.set("tbunixhash:1", value, 0, &mut 0).await.unwrap();
    // A copy is split on the fly too; fields come back in the layout's order.
    tier.set("tbunixhash:2", value.as_ref(), 1, &mut 0)
        .await
        .unwrap();
    for key in ["tbunixhash:1", "tbunixhash:2"] {
        let got = tier.get(key, 0, &mut 0).await.unwrap();
        assert_eq!(got.as_deref(), Some(&value[..]), "{key}");
    }
    assert_eq!(tier.get("tbunixhash:none", 0, &mut 0).await.unwrap(), None);
    assert!(tier.set("tbunixhash:3", b"[1]", 0, &mut 0).await.is_err());
    let mut conn = connection(&server);
    let kind: String = redis::cmd("TYPE")
        .arg("tbunixhash:1")
        .query(&mut conn)
        .unwrap();
    assert_eq!(kind, "hash");
    let ttl: i64 = redis::cmd("PTTL")
        .arg("tbunixhash:1")
        .query(&mut conn)
        .unwrap();
    assert!((1..=60_000).contains(&ttl), "the tier's ttl of 60 s: {ttl}");
    tier.cleanup(false).await.unwrap();
    assert_eq!(tier.entries().await.unwrap(), Some(0));
}
