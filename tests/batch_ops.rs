//! Batch reads through memory → Redis → SQLite against real servers: one MGET per batch that
//! had L1 misses (Redis `INFO commandstats` agrees), one SQL query per batch with L2 misses, and
//! per-key hits per tier equal to an independent replay of the recorded trace through an exact
//! LRU and a set (what Redis holds). (Alone in its test binary, so no other test's traffic
//! lands in the counters.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::commandstats;

use std::collections::{HashSet, VecDeque};

/// An exact LRU of `capacity` keys, as the `lru` engine keeps it.
struct Lru {
    capacity: usize,
    order: VecDeque<String>, // front: most recent
}

impl Lru {
    fn get(&mut self, key: &str) -> bool {
        match self.order.iter().position(|k| k == key) {
            Some(i) => {
                let k = self.order.remove(i).unwrap();
                self.order.push_front(k);
                true
            }
            None => false,
        }
    }
    fn put(&mut self, key: &str) {
        if let Some(i) = self.order.iter().position(|k| k == key) {
            self.order.remove(i);
        }
        self.order.push_front(key.to_string());
        self.order.truncate(self.capacity);
    }
}

/// What the replay of the trace expects.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    l1: (u64, u64),
    l2: (u64, u64),
    l3: (u64, u64),
    mgets: u64,
    sql_queries: u64,
    l1_full: u64,
}

/// Replays batches of `size` consecutive keys: L1 lookups, the misses to Redis (a set of what
/// was promoted into it), what is still missing to SQL (preloaded: every key is there), then
/// promotion in key order, L1 first.
fn replay(keys: &[String], size: usize, l1_capacity: usize) -> Expected {
    let mut lru = Lru {
        capacity: l1_capacity,
        order: VecDeque::new(),
    };
    let mut redis: HashSet<String> = HashSet::new();
    let mut e = Expected::default();
    for batch in keys.chunks(size) {
        let mut served = vec![0usize; batch.len()];
        let l1_missed: Vec<usize> = (0..batch.len()).filter(|&i| !lru.get(&batch[i])).collect();
        e.l1.0 += (batch.len() - l1_missed.len()) as u64;
        e.l1.1 += l1_missed.len() as u64;
        if l1_missed.is_empty() {
            e.l1_full += 1;
            continue;
        }
        e.mgets += 1;
        let mut l2_missed = Vec::new();
        for &i in &l1_missed {
            if redis.contains(&batch[i]) {
                served[i] = 1;
                e.l2.0 += 1;
            } else {
                l2_missed.push(i);
                e.l2.1 += 1;
            }
        }
        if !l2_missed.is_empty() {
            e.sql_queries += 1;
            for &i in &l2_missed {
                served[i] = 2;
                e.l3.0 += 1;
            }
        }
        for i in 0..batch.len() {
            if served[i] > 0 {
                lru.put(&batch[i]);
            }
        }
        for i in 0..batch.len() {
            if served[i] > 1 {
                redis.insert(batch[i].clone());
            }
        }
    }
    e
}

#[test]
fn a_batch_read_makes_one_call_per_tier_that_had_misses() {
    let mut conn = support::redis();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l3.db");
    let trace = dir.path().join("trace.csv");
    let prefix = format!("tbtest:batch:{}:", std::process::id());
    let path = support::write_scenario(
        dir.path(),
        "batch.yaml",
        &format!(
            "name: batch-count\nseed: 9\n\
             tiers:\n\
             \x20 - {{ name: l1, kind: memory, engine: lru, max_entries: 250 }}\n\
             \x20 - {{ name: l2, kind: redis, url: \"{}\", connections: 1 }}\n\
             \x20 - {{ name: l3, kind: sql, url: \"sqlite:{}\", table: tb_batch }}\n\
             data: {{ keys: {{ count: 300, prefix: \"{prefix}\", distribution: zipf }}, values: {{ size: 32 }} }}\n\
             workloads:\n\
             \x20 - {{ name: fill, target: l3, preload: true, ops: 3, warmup: 0, concurrency: 1, batch: 20, mix: {{ mget: 1 }} }}\n\
             \x20 - name: page\n\
             \x20   target: stack\n\
             \x20   ops: 200\n\
             \x20   warmup: 0\n\
             \x20   concurrency: 1\n\
             \x20   batch: 20\n\
             \x20   mix: {{ mget: 1 }}\n\
             \x20   thresholds: [\"mget.p99 < 5s\", \"mget.per_key.p99 < 5s\", \"l1.batch_full_hit_rate >= 0%\"]\n",
            support::redis_url(),
            db.display()
        ),
    );
    let results = dir.path().join("results.json");
    let before = commandstats(&mut conn);
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--record-trace",
        trace.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let after = commandstats(&mut conn);
    let delta =
        |cmd: &str| after.get(cmd).copied().unwrap_or(0) - before.get(cmd).copied().unwrap_or(0);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let page = &doc["workloads"][1];
    assert_eq!(page["name"], "page");
    assert_eq!(page["operations"]["mget"]["count"], 200);
    let tier = |i: usize| &page["tiers"][i];
    let n = |v: &serde_json::Value| v.as_u64().unwrap();

    // The page's keys, from the trace: 20 consecutive lines per batch (one worker).
    let text = std::fs::read_to_string(&trace).unwrap();
    let keys: Vec<String> = text
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",page"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f[1], "mget", "{l}");
            f[0].to_string()
        })
        .collect();
    assert_eq!(keys.len(), 200 * 20);
    for batch in keys.chunks(20) {
        let distinct: HashSet<&String> = batch.iter().collect();
        assert_eq!(distinct.len(), 20, "a batch repeats a key: {batch:?}");
    }
    let want = replay(&keys, 20, 250);
    eprintln!("replayed: {want:?}");
    let got = Expected {
        l1: (n(&tier(0)["hits"]), n(&tier(0)["misses"])),
        l2: (n(&tier(1)["hits"]), n(&tier(1)["misses"])),
        l3: (n(&tier(2)["hits"]), n(&tier(2)["misses"])),
        mgets: n(&tier(1)["batch"]["mget_calls"]),
        sql_queries: n(&tier(2)["batch"]["mget_calls"]),
        l1_full: n(&tier(0)["batch"]["full_hits"]),
    };
    assert_eq!(got, want);
    // The replay is not trivial: every tier served keys, and some batches stopped at L1.
    assert!(want.l1.0 > 0 && want.l2.0 > 0 && want.l3.0 > 0, "{want:?}");
    assert!(want.l1_full > 0 && want.mgets < 200, "{want:?}");
    // Redis saw exactly one MGET per batch with L1 misses (the fill workload sends none), and
    // one MSET per batch that promoted something from SQL into it.
    assert_eq!(delta("mget"), want.mgets);
    assert_eq!(delta("mset"), n(&tier(1)["batch"]["mset_calls"]));
    assert_eq!(n(&tier(1)["batch"]["mset_calls"]), want.sql_queries);
    // The lone SQL workload: one SELECT per batch.
    assert_eq!(
        n(&doc["workloads"][0]["tiers"][0]["batch"]["mget_calls"]),
        3
    );
    // Batch figures and thresholds are in the document.
    let b = &page["batches"];
    assert_eq!(n(&b["batches"]), 200);
    assert_eq!(n(&b["keys"]), 4000);
    assert_eq!(n(&b["per_key"]["mget"]["count"]), 4000);
    let visited: u64 = b["tiers_visited"]
        .as_object()
        .unwrap()
        .values()
        .map(n)
        .sum();
    assert_eq!(visited, 200);
    assert_eq!(n(&b["tiers_visited"]["1"]), want.l1_full);
    let rate = tier(0)["batch"]["full_hit_rate"].as_f64().unwrap();
    assert!((rate - want.l1_full as f64 / 200.0).abs() < 1e-9);
    let metrics: Vec<&str> = page["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metric"].as_str().unwrap())
        .collect();
    assert!(metrics.contains(&"l1.batch_full_hit_rate"), "{metrics:?}");
    assert!(metrics.contains(&"mget.per_key.p(99)"), "{metrics:?}");
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
