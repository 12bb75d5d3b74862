//! memcached as a tier, against a memcached of each test's own (Debian's package) on a free
//! port: what the server itself counted equals what tierbench says it did, the user's items are
//! never touched, a run's names are removed at its end and after a kill, and bad input is
//! refused with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::time::Duration;

use support::private_memcached::PrivateMemcached;
use support::private_redis::free_port;
use support::{all_output, run_for_json, write_scenario};

fn scenario(url: &str, tier_extra: &str, workload: &str) -> String {
    format!(
        "name: mc\nseed: 3\n\
         tiers:\n  - {{ name: l2, kind: memcached, url: \"{url}\"{tier_extra} }}\n\
         data: {{ keys: {{ count: 2000, prefix: \"tbtest:mc:\" }}, values: {{ size: 100 }} }}\n\
         workloads:\n  - {{ name: w, target: l2, {workload} }}\n"
    )
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The server's own `stats` over the workload (in the result document, read by tierbench
/// before and after it) equal tierbench's counts, at depth 1 and pipelined.
#[test]
fn memcached_stats_count_what_tierbench_says_it_did() {
    let server = PrivateMemcached::start(free_port());
    for extra in ["", ", pipeline: 8", ", connections: 3"] {
        let dir = tempfile::tempdir().unwrap();
        let workload = "ops: 20000, warmup: 0, concurrency: 6, preload: false, \
                        mix: { get: 60, set: 20, delete: 10, touch: 10 }";
        let workload = if extra.contains("pipeline") {
            "ops: 20000, warmup: 0, concurrency: 6, preload: false, mix: { get: 70, set: 30 }"
        } else {
            workload
        };
        let path = write_scenario(
            dir.path(),
            "mc.yaml",
            &scenario(&server.url(), extra, workload),
        );
        let (out, doc) = run_for_json(&path);
        assert_eq!(out.status.code(), Some(0), "{extra}: {}", all_output(&out));
        let w = &doc["workloads"][0];
        let ops = |op: &str| w["operations"][op]["count"].as_u64().unwrap_or(0);
        let tier = &w["tiers"][0];
        let node = &tier["nodes"][0];
        assert_eq!(node["source"], "stats", "{node}");
        let calls = |c: &str| n(&node["calls"][c]);
        assert_eq!(
            ops("get") + ops("set") + ops("delete") + ops("touch"),
            20000
        );
        // memcached counts a touch that misses as a get miss (`mg KEY T`): gets and touches
        // together are exact.
        assert_eq!(
            calls("cmd_get") + calls("cmd_touch"),
            ops("get") + ops("touch"),
            "{extra}: {node}"
        );
        assert_eq!(calls("get_hits"), n(&tier["hits"]), "{extra}: {node}");
        assert_eq!(calls("cmd_set"), ops("set"), "{extra}: {node}");
        assert_eq!(
            calls("delete_hits") + calls("delete_misses"),
            ops("delete"),
            "{extra}: {node}"
        );
        assert!(n(&tier["hits"]) > 0 && n(&tier["misses"]) > 0, "{tier}");
    }
}

/// A user's item under the prefix stops the run with nothing written; the user's other items
/// stay, and a finished run leaves none of its own names (nor its marker).
#[test]
fn the_users_items_are_never_touched_and_a_run_leaves_nothing() {
    let server = PrivateMemcached::start(free_port());
    server.set("tbtest:mc:7", "the user's");
    server.set("users:1", "keep me");
    let dir = tempfile::tempdir().unwrap();
    let workload = "ops: 3000, concurrency: 4, preload: true, mix: { get: 80, set: 20 }";
    let path = write_scenario(
        dir.path(),
        "mc.yaml",
        &scenario(&server.url(), "", workload),
    );
    let (out, _) = run_for_json(&path);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("\"tbtest:mc:7\" exists and tierbench did not write it"),
        "{text}"
    );
    assert_eq!(server.get("tbtest:mc:7").as_deref(), Some("the user's"));
    assert_eq!(server.get("tbtest:mc:0"), None, "nothing was written");
    assert_eq!(server.stats()["curr_items"], 2, "nothing was written");

    server.ask("delete tbtest:mc:7");
    let (out, doc) = run_for_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(
        n(&doc["workloads"][0]["tiers"][0]["entries"]),
        2000,
        "preloaded"
    );
    assert_eq!(server.get("users:1").as_deref(), Some("keep me"));
    assert_eq!(
        server.stats()["curr_items"],
        1,
        "only the user's item is left"
    );
}

/// A run killed mid-way leaves its names and marker; the next run of the prefix removes
/// exactly those, says so, and leaves the user's items.
#[test]
fn a_killed_runs_names_are_removed_by_the_next_run() {
    let server = PrivateMemcached::start(free_port());
    server.set("users:1", "keep me");
    let dir = tempfile::tempdir().unwrap();
    let long = "duration: 30s, concurrency: 4, mix: { get: 80, set: 20 }";
    let path = write_scenario(dir.path(), "mc.yaml", &scenario(&server.url(), "", long));
    let results = dir.path().join("r.json");
    let mut run = support::spawn_run(&path, &results);
    let marker = "tbtest:mc:__tierbench__";
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !server.exists(marker) || server.stats()["curr_items"] < 1000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never preloaded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(server.exists(marker), "a killed run leaves its marker");

    let short = "ops: 2000, concurrency: 2, mix: { get: 80, set: 20 }";
    std::fs::write(&path, scenario(&server.url(), "", short)).unwrap();
    let (out, doc) = run_for_json(&path);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("left under `tbtest:mc:` by an interrupted tierbench run"),
        "{text}"
    );
    assert!(
        doc["notes"]
            .to_string()
            .contains("interrupted tierbench run"),
        "{doc}"
    );
    assert_eq!(server.get("users:1").as_deref(), Some("keep me"));
    assert_eq!(
        server.stats()["curr_items"],
        1,
        "only the user's item is left"
    );
}

/// Bad input: a password in the URL, keys over memcached's 250 bytes, a prefix with a space, a
/// ttl past 30 days (exit 2), and values over the server's item size limit (exit 3 at setup,
/// nothing written); each names the reason.
#[test]
fn bad_input_is_refused_with_the_reason() {
    let server = PrivateMemcached::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let ops = "ops: 100, mix: { get: 1 }";
    let url = server.url();
    let cases: Vec<(String, i32, &str)> = vec![
        (
            scenario("memcache://bob:s3cret@127.0.0.1:11211", "", ops),
            2,
            "SASL on its binary protocol only",
        ),
        (
            scenario(&url, "", ops).replace("tbtest:mc:", &"p".repeat(248)),
            2,
            "over memcached's limit of 250",
        ),
        (
            scenario(&url, "", ops).replace("tbtest:mc:", "tb test:"),
            2,
            "cannot hold spaces",
        ),
        (
            scenario(&url, ", ttl: 1000h", ops),
            2,
            "from 1 s to 30 days",
        ),
        (
            scenario(&url, "", ops).replace("size: 100", "size: 2000000"),
            3,
            "over this server's item size limit",
        ),
    ];
    for (yaml, code, said) in cases {
        let path = write_scenario(dir.path(), "bad.yaml", &yaml);
        let (out, _) = run_for_json(&path);
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(code), "{said}: {text}");
        assert!(text.contains(said), "{said}: {text}");
        assert!(
            !text.contains("s3cret") && !text.contains("panicked"),
            "{text}"
        );
    }
    assert_eq!(server.stats()["curr_items"], 0, "nothing was written");
}

/// In a stack under an in-process L1, memcached is read through, written through, compressed
/// and verified: no stale or corrupt reads from one instance, no errors; with several app
/// instances, `invalidation: none` runs over memcached, and `pubsub` (which needs a Redis to
/// carry invalidations) is refused with the reason.
#[test]
fn memcached_stands_in_a_stack_with_compression_verify_and_coherence() {
    let server = PrivateMemcached::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let stack = |coherence: &str| {
        format!(
            "name: mcstack\nseed: 5\n{coherence}\
             tiers:\n  - {{ name: l1, kind: memory, max_entries: 300 }}\n  \
             - {{ name: l2, kind: memcached, url: \"{}\", compression: {{ algorithm: lz4 }} }}\n\
             data: {{ keys: {{ count: 2000, prefix: \"tbtest:mcs:\" }}, values: {{ shape: json, size: 400 }} }}\n\
             workloads:\n  - {{ name: w, target: stack, verify: true, ops: 6000, concurrency: 4, \
             mix: {{ get: 80, set: 15, delete: 5 }} }}\n",
            server.url()
        )
    };
    let (out, doc) = run_for_json(&write_scenario(dir.path(), "s.yaml", &stack("")));
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let w = &doc["workloads"][0];
    assert_eq!(w["errors"], 0, "{w}");
    let l2 = &w["tiers"][1];
    assert!(n(&l2["hits"]) > 0, "{l2}");
    assert_eq!(l2["corrupt"], 0, "{l2}");
    let c = &l2["compression"];
    assert!(
        n(&c["bytes_stored"]) < n(&c["bytes_raw"]),
        "lz4 shrank the JSON: {c}"
    );

    let none = stack("coherence: { instances: 2, invalidation: none }\n");
    let (out, doc) = run_for_json(&write_scenario(dir.path(), "none.yaml", &none));
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(n(&doc["workloads"][0]["ops"]) == 6000);

    let pubsub = stack("coherence: { instances: 2, invalidation: pubsub }\n");
    let (out, _) = run_for_json(&write_scenario(dir.path(), "pubsub.yaml", &pubsub));
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("needs a Redis tier to carry the invalidations"),
        "{text}"
    );
    assert_eq!(server.stats()["curr_items"], 0, "each run left nothing");
}

/// A full server that may not evict (`-M`) refuses writes; each failed set is an error with
/// the server's own words.
#[test]
fn the_servers_refusal_is_quoted() {
    let server = PrivateMemcached::start_with(free_port(), &["-m", "2", "-M"]);
    let dir = tempfile::tempdir().unwrap();
    let workload = "ops: 400, warmup: 0, concurrency: 2, mix: { set: 1 }";
    let yaml = scenario(&server.url(), "", workload)
        .replace("count: 2000", "count: 400")
        .replace("size: 100", "size: 60000");
    let (out, doc) = run_for_json(&write_scenario(dir.path(), "full.yaml", &yaml));
    let text = all_output(&out);
    let w = &doc["workloads"][0];
    assert!(n(&w["errors"]) > 0, "{text}");
    let messages = w["error_messages"].to_string();
    assert!(
        messages.contains("memcached said: \\\"SERVER_ERROR out of memory storing object\\\""),
        "{messages}"
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
}

/// Ctrl-C during a run on memcached: the results are written, the run's names and marker are
/// removed (the user's item stays), and the exit code is 130.
#[test]
fn ctrl_c_writes_the_results_and_leaves_only_the_users_items() {
    let server = PrivateMemcached::start(free_port());
    server.set("users:1", "keep me");
    let dir = tempfile::tempdir().unwrap();
    let long = "duration: 60s, concurrency: 4, preload: true, mix: { get: 80, set: 20 }";
    let path = write_scenario(dir.path(), "mc.yaml", &scenario(&server.url(), "", long));
    let results = dir.path().join("r.json");
    let run = support::spawn_run(&path, &results);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.stats()["curr_items"] < 2001 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never preloaded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = run.wait_with_output().unwrap();
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(130), "{text}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert!(n(&doc["workloads"][0]["ops"]) > 0, "results written: {doc}");
    assert!(
        !server.exists("tbtest:mc:__tierbench__"),
        "the marker is gone"
    );
    assert_eq!(
        server.stats()["curr_items"],
        1,
        "only the user's item is left"
    );
    assert_eq!(server.get("users:1").as_deref(), Some("keep me"));
}

/// A Twitter trace's TTLs reach memcached: a set with a TTL of its own is stored with it, one
/// without it never expires. memcached 1.6.18's `me` prints the seconds left negated
/// (`exp=-600` for a classic `set … 600`, checked by hand) and `exp=-1` for no expiry.
#[test]
fn a_twitter_traces_ttls_are_stored_by_memcached() {
    let server = PrivateMemcached::start(free_port());
    let dir = tempfile::tempdir().unwrap();
    let mut trace = String::new();
    for i in 0..10 {
        let ttl = if i % 2 == 0 { 600 } else { 0 };
        trace.push_str(&format!("{i},user:{i},6,40,1,set,{ttl}\n"));
    }
    std::fs::write(dir.path().join("twitter.csv"), trace).unwrap();
    let yaml = scenario(
        &server.url(),
        "",
        "warmup: 0, concurrency: 2, trace: { path: twitter.csv, format: twitter }",
    )
    .replace("seed: 3\n", "seed: 3\nkeep: true\n");
    let (out, _) = run_for_json(&write_scenario(dir.path(), "ttl.yaml", &yaml));
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    for i in 0..10 {
        let said = server.ask(&format!("me tbtest:mc:user:{i}")).join(" ");
        let exp: i64 = said
            .split(' ')
            .find_map(|f| f.strip_prefix("exp=")?.parse().ok())
            .unwrap_or_else(|| panic!("user:{i}: {said}"));
        if i % 2 == 0 {
            assert!((590..=600).contains(&exp.abs()), "user:{i}: {said}");
        } else {
            assert_eq!(exp, -1, "user:{i}: {said}");
        }
    }
}
