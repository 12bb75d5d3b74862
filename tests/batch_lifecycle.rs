//! A batch lifecycle `[mset, mget, mdelete, mget]` on every real tier kind: the first read of
//! each lifecycle finds all its keys (the multi-row upsert / MSET / SET PX pipeline wrote them),
//! the second finds none (the DELETE ... IN / DEL removed them), one call per batch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

#[test]
fn every_tier_kind_writes_reads_and_deletes_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("tbtest:batchlife:{}:", std::process::id());
    let tiers = [
        format!(
            "{{ name: sqlite, kind: sql, url: \"sqlite:{}\", table: tb_batch_life }}",
            dir.path().join("t.db").display()
        ),
        format!(
            "{{ name: pg, kind: sql, url: \"{}\", table: tb_batch_life_{} }}",
            support::postgres_url(),
            std::process::id()
        ),
        format!(
            "{{ name: maria, kind: sql, url: \"{}\", table: tb_batch_life_{} }}",
            support::mysql_url(),
            std::process::id()
        ),
        format!(
            "{{ name: redis, kind: redis, url: \"{}\", ttl: 1m }}",
            support::redis_url()
        ),
        "{ name: memory, kind: memory, max_entries: 10000 }".to_string(),
    ];
    let mut yaml = format!(
        "name: batch-life\nseed: 2\ntiers:\n{}data: {{ keys: {{ count: 5000, prefix: \"{prefix}\" }}, values: {{ size: 48 }} }}\nworkloads:\n",
        tiers
            .iter()
            .map(|t| format!("  - {t}\n"))
            .collect::<String>()
    );
    for name in ["sqlite", "pg", "maria", "redis", "memory"] {
        yaml.push_str(&format!(
            "  - {{ name: {name}-life, target: {name}, ops: 120, warmup: 0, concurrency: 1, batch: {{ 7: 1, 30: 1 }}, sequence: [mset, mget, mdelete, mget] }}\n"
        ));
    }
    let path = support::write_scenario(dir.path(), "life.yaml", &yaml);
    let results = dir.path().join("results.json");
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    for w in doc["workloads"].as_array().unwrap() {
        let t = &w["tiers"][0];
        let b = &t["batch"];
        let name = w["name"].as_str().unwrap();
        assert_eq!(w["errors"], 0, "{name}");
        assert_eq!(b["mset_calls"], 30, "{name}");
        assert_eq!(b["mdelete_calls"], 30, "{name}");
        assert_eq!(b["mget_calls"], 60, "{name}");
        assert_eq!(
            b["full_hits"], 30,
            "{name}: the first read of every lifecycle"
        );
        let keys = w["batches"]["keys"].as_u64().unwrap();
        // 120 operations = 30 lifecycles of 4 batches, each lifecycle on one set of keys.
        assert_eq!(t["hits"].as_u64().unwrap() * 4, keys, "{name}");
        assert_eq!(t["misses"], t["hits"], "{name}");
        assert!(w["batches"]["max_size"].as_u64().unwrap() <= 30, "{name}");
    }
}
