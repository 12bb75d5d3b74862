//! A Redis Cluster as L2 (`cluster: true`), against a private 3-node cluster the test starts on
//! free ports (and kills when done): per-node counts equal each node's own `INFO commandstats`
//! and add up to the operations tierbench reports; cleanup leaves no key on any node; slots
//! moving during a run cost no operation; a single Redis with `cluster: true` is a clear setup
//! error. The shared Redis on 6379 is only read (test c), never stopped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::cluster::{Cluster, free_port, keys_left, redis_cli, run, slots_of};
use support::commandstats;

#[test]
fn a_cluster_run_counts_per_node_and_moving_slots_cost_nothing() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();

    // (a) Per-node counts equal each node's INFO commandstats deltas and sum to the client's.
    let before: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let yaml = format!(
        "name: cluster\nseed: 5\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", seeds: [\"redis://127.0.0.1:{}\"], connections: 2, ttl: 60s }}]\n\
         data: {{ keys: {{ count: 500, prefix: \"tbtest:cluster:\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: mixed, target: l2, ops: 4000, warmup: 0, concurrency: 8, mix: {{ get: 6, set: 3, delete: 1, touch: 1 }} }}\n",
        cluster.url(),
        cluster.ports[1]
    );
    let (out, doc) = run(dir.path(), &yaml);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let doc = doc.unwrap();
    let after: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let workload = &doc["workloads"][0];
    let ops = &workload["operations"];
    let reported =
        |op: &str| ops[op]["count"].as_u64().unwrap() + ops[op]["errors"].as_u64().unwrap();
    assert_eq!(
        reported("get") + reported("set") + reported("delete") + reported("touch"),
        4000
    );
    let nodes = workload["tiers"][0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    // The per-node figures are in the reports a user reads, not only in the JSON.
    let document: tierbench::metrics::result::ResultDocument =
        serde_json::from_value(doc.clone()).unwrap();
    let reporter = tierbench::report::Reporter::new(None).unwrap();
    for format in ["text", "markdown", "html"] {
        let report = reporter.render_format(format, &document).unwrap();
        for port in &cluster.ports {
            assert!(
                report.contains(&format!("127.0.0.1:{port}")),
                "{format} lacks node {port}:\n{report}"
            );
        }
    }
    let mut sums: HashMap<&str, u64> = HashMap::new();
    for (i, port) in cluster.ports.iter().enumerate() {
        let name = format!("127.0.0.1:{port}");
        let node = nodes
            .iter()
            .find(|n| n["node"] == name.as_str())
            .unwrap_or_else(|| panic!("no node {name} in {nodes:?}"));
        for cmd in ["get", "set", "del", "pexpire"] {
            let delta =
                after[i].get(cmd).copied().unwrap_or(0) - before[i].get(cmd).copied().unwrap_or(0);
            let figure = node["calls"][cmd].as_u64().unwrap();
            assert_eq!(figure, delta, "{name} {cmd}");
            *sums.entry(cmd).or_default() += figure;
        }
        // Every node took a share of the keys.
        assert!(node["total"].as_u64().unwrap() > 0, "{node}");
    }
    assert_eq!(sums["get"], reported("get"));
    assert_eq!(sums["set"], reported("set"));
    assert_eq!(sums["del"], reported("delete"));
    assert_eq!(sums["pexpire"], reported("touch"));
    // Cleanup scanned every primary: no key under the prefix is left anywhere, never a flush.
    assert!(keys_left(&cluster, "tbtest:cluster:*").is_empty());
    for (i, after) in after.iter().enumerate() {
        let flushes = after.get("flushdb").copied().unwrap_or(0)
            + after.get("flushall").copied().unwrap_or(0);
        assert_eq!(flushes, 0, "node {i} was flushed");
    }

    // (b) 1000 slots move from one node to another while a run reads and writes preloaded keys:
    // the cluster client follows MOVED/ASK and no operation fails.
    let yaml = format!(
        "name: cluster-moves\nseed: 6\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", connections: 2 }}]\n\
         data: {{ keys: {{ count: 12000, prefix: \"tbtest:cluster-moves:\" }}, values: {{ size: 64 }} }}\n\
         workloads:\n  - {{ name: during-reshard, target: l2, preload: true, duration: 8s, warmup: 0, concurrency: 8, mix: {{ get: 7, set: 3 }} }}\n",
        cluster.url()
    );
    let path = support::write_scenario(dir.path(), "moves.yaml", &yaml);
    let results = dir.path().join("moves.json");
    let child = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap(), "--report"])
        .arg(format!("json={}", results.display()))
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let from = redis_cli(&["-p", &cluster.ports[0].to_string(), "cluster", "myid"]);
    let to = redis_cli(&["-p", &cluster.ports[1].to_string(), "cluster", "myid"]);
    // Wait until the preload is done and the measured phase runs (keys on every node).
    let deadline = Instant::now() + Duration::from_secs(20);
    while keys_left(&cluster, "tbtest:cluster-moves:*").len() < 11000 {
        assert!(Instant::now() < deadline, "the preload never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let slots_before = [slots_of(&cluster, 0), slots_of(&cluster, 1)];
    let moved_at = Instant::now();
    redis_cli(&[
        "--cluster",
        "reshard",
        &format!("127.0.0.1:{}", cluster.ports[0]),
        "--cluster-from",
        from.trim(),
        "--cluster-to",
        to.trim(),
        "--cluster-slots",
        "1000",
        "--cluster-yes",
    ]);
    let took = moved_at.elapsed();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let workload = &doc["workloads"][0];
    assert_eq!(workload["errors"], 0, "{}", support::all_output(&out));
    for op in ["get", "set"] {
        let o = &workload["operations"][op];
        assert!(o["count"].as_u64().unwrap() > 0, "{o}");
        assert_eq!(o["errors"], 0, "{op}: {o}");
    }
    let nodes = workload["tiers"][0]["nodes"].as_array().unwrap();
    let gets: u64 = nodes
        .iter()
        .map(|n| n["calls"]["get"].as_u64().unwrap())
        .sum();
    let sets: u64 = nodes
        .iter()
        .map(|n| n["calls"]["set"].as_u64().unwrap())
        .sum();
    // Redirected commands count where they ran, once: the nodes' sums are still the client's
    // (the workload's counts span its preload: 12000 SETs).
    let count = |op: &str| workload["operations"][op]["count"].as_u64().unwrap();
    assert_eq!(gets, count("get"));
    assert_eq!(sets, count("set") + 12000);
    // Memory per entry, from the preload (12000 keys: enough for a figure): used_memory summed
    // over the primaries.
    let memory = &workload["tiers"][0]["memory"];
    assert!(
        memory["method"]
            .as_str()
            .unwrap()
            .contains("summed over the cluster's primaries"),
        "{memory}"
    );
    assert!(
        memory["per_entry_bytes"].as_f64().unwrap() > 64.0,
        "{memory}"
    );
    // The slots did move, while the run went on (8 s of measuring).
    assert_eq!(slots_of(&cluster, 0), slots_before[0] - 1000);
    assert_eq!(slots_of(&cluster, 1), slots_before[1] + 1000);
    assert!(took < Duration::from_secs(7), "the reshard took {took:?}");
    eprintln!(
        "reshard of 1000 slots took {took:?}, during the run; get {} set {}; memory {memory}",
        count("get"),
        count("set")
    );
    assert!(keys_left(&cluster, "tbtest:cluster-moves:*").is_empty());
}

#[test]
fn cluster_true_against_a_single_redis_is_a_clear_setup_error() {
    let _ = support::redis();
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: not-a-cluster\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\" }}]\n\
         data: {{ keys: {{ count: 10, prefix: \"tbtest:not-a-cluster:\" }}, values: {{ size: 8 }} }}\n\
         workloads:\n  - {{ name: w, target: l2, ops: 10, mix: {{ get: 1 }} }}\n",
        support::redis_url()
    );
    let (out, _) = run(dir.path(), &yaml);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("not a Redis Cluster node"), "{text}");
    assert!(text.contains("remove `cluster: true`"), "{text}");

    // A seed nobody listens on: says which, exit 3.
    let port = free_port(&[]);
    let yaml = yaml.replace(&support::redis_url(), &format!("redis://127.0.0.1:{port}"));
    let (out, _) = run(dir.path(), &yaml);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("cannot connect to any seed"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[test]
fn cluster_seeds_must_share_the_urls_scheme() {
    let dir = tempfile::tempdir().unwrap();
    // Pipelining and TLS are accepted with a cluster.
    let path = support::write_scenario(
        dir.path(),
        "p.yaml",
        "name: p\ntiers: [{ name: l2, kind: redis, cluster: true, url: \"rediss://127.0.0.1:7000\", seeds: [\"rediss://127.0.0.1:7001\"], pipeline: 8, tls: { insecure_skip_verify: true } }]\n\
         data: { keys: { count: 10, prefix: \"tbtest:p:\" }, values: { size: 8 } }\n\
         workloads:\n  - { name: w, target: l2, ops: 10, batch: 4, mix: { mget: 1 } }\n",
    );
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));

    // A seed of another scheme than the URL's, a unix socket, and seeds without a cluster are
    // refused with their places.
    let path = support::write_scenario(
        dir.path(),
        "q.yaml",
        "name: q\ntiers:\n  - { name: a, kind: redis, cluster: true, url: \"rediss://127.0.0.1:7000\", seeds: [\"redis://127.0.0.1:7001\", \"unix:///tmp/r.sock\"] }\n\
         \x20 - { name: b, kind: redis, url: \"redis://127.0.0.1:6379\", seeds: [\"redis://127.0.0.1:6380\"] }\n\
         data: { keys: { count: 10, prefix: \"tbtest:q:\" }, values: { size: 8 } }\n\
         workloads:\n  - { name: w, target: a, ops: 10, mix: { get: 1 } }\n",
    );
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("tiers[0].seeds[0]: a cluster seed must be a rediss:// URL"),
        "{text}"
    );
    assert!(text.contains("tiers[0].seeds[1]"), "{text}");
    assert!(
        text.contains("tiers[1].seeds: `seeds` are for a Redis Cluster"),
        "{text}"
    );
    assert!(text.contains("3 problems found"), "{text}");
}

/// A Twitter trace's TTLs on a cluster: each set is written with its own TTL (replacing the
/// tier's), one with TTL 0 with the tier's, on whichever node serves the key's slot, over one
/// connection and over several. (A trace replays at depth 1: explicit `pipeline` is refused.)
#[test]
fn a_traces_ttls_reach_each_keys_node() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let mut trace = String::new();
    for i in 0..40 {
        let ttl = if i % 2 == 0 { 600 } else { 0 };
        trace.push_str(&format!("{i},user:{i},6,40,1,set,{ttl}\n"));
        trace.push_str(&format!("{i},user:{i},6,0,1,get,0\n"));
    }
    std::fs::write(dir.path().join("twitter.csv"), trace).unwrap();
    for (prefix, connections) in [("tbtest:ttl1:", 1), ("tbtest:ttl3:", 3)] {
        let yaml = format!(
            "name: cluster-ttl\nseed: 1\nkeep: true\n\
             tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", ttl: 1h, connections: {connections} }}]\n\
             data: {{ keys: {{ count: 100, prefix: \"{prefix}\" }}, values: {{ size: 16 }} }}\n\
             workloads:\n  - {{ name: w, target: l2, warmup: 0, concurrency: 4, \
             trace: {{ path: twitter.csv, format: twitter }} }}\n",
            cluster.url()
        );
        let (out, doc) = run(dir.path(), &yaml);
        assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
        assert_eq!(
            doc.unwrap()["workloads"][0]["operations"]["set"]["count"],
            40
        );
        let mut nodes_used = std::collections::BTreeSet::new();
        for i in 0..40 {
            let key = format!("{prefix}user:{i}");
            // The node serving the key's slot answers; the others answer MOVED (an error).
            let (node, pttl) = (0..3)
                .find_map(|n| {
                    redis::cmd("PTTL")
                        .arg(&key)
                        .query::<i64>(&mut cluster.conn(n))
                        .ok()
                        .map(|t| (n, t))
                })
                .unwrap();
            nodes_used.insert(node);
            let want = if i % 2 == 0 {
                590_000..=600_000
            } else {
                3_590_000..=3_600_000
            };
            assert!(
                want.contains(&pttl),
                "{connections} connections: {key} on node {node}: PTTL {pttl}"
            );
        }
        assert_eq!(nodes_used.len(), 3, "the keys spread over every node");
    }
}
