//! Compressed tiers store compressed values and return the originals: verified reads through a
//! stack of an lz4 L1 over a zstd SQLite L3 are never corrupt, and the results show the ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

#[test]
fn compressed_tiers_round_trip_values_and_report_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "c.yaml",
        "name: compressed\nseed: 4\ntiers:\n  - { name: l1, kind: memory, max_entries: 100, compression: { algorithm: lz4 } }\n\
         \x20 - { name: l3, kind: sql, url: \"sqlite::memory:\", compression: { algorithm: zstd, level: 5 } }\n\
         data: { keys: { count: 300 }, values: { shape: text, size: 512, compressibility: 0.7 } }\n\
         workloads:\n  - { name: w, target: stack, verify: true, ops: 3000, concurrency: 1, mix: { get: 8, set: 2 } }\n",
    );
    let json = dir.path().join("c.json");
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for tier in doc["workloads"][0]["tiers"].as_array().unwrap() {
        assert_eq!(tier["corrupt"], 0, "{tier}");
        assert_eq!(tier["stale"], 0, "{tier}");
        let c = &tier["compression"];
        assert!(c["ratio"].as_f64().unwrap() > 1.5, "{c}");
        assert!(c["compress"]["count"].as_u64().unwrap() > 0);
    }
    let l1 = &doc["workloads"][0]["tiers"][0];
    assert!(
        l1["compression"]["decompress"]["count"].as_u64().unwrap() > 0,
        "hits were decompressed"
    );
}
