//! Pipelines and batches on a Redis Cluster, against a private 3-node cluster the test starts
//! (support::cluster): with `pipeline: 10` each node's `INFO commandstats` equal the per-node
//! counts and add up to the client's counts (every command ran once, where its slot is), slots
//! moving during a pipelined run cost no operation, and batch operations (mget/mset/mdelete)
//! make one command per slot of a batch's keys, each counted on the node serving it, with every
//! key found after a preload and none left after the run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::cluster::{Cluster, keys_left, redis_cli, run, slots_of};
use support::commandstats;

/// Each node's calls of `cmd` between two `commandstats` readings.
fn deltas(before: &[HashMap<String, u64>], after: &[HashMap<String, u64>], cmd: &str) -> Vec<u64> {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| a.get(cmd).copied().unwrap_or(0) - b.get(cmd).copied().unwrap_or(0))
        .collect()
}

/// The per-node figure of `cmd` in a workload's result, in the order of `cluster.ports`.
fn figures(cluster: &Cluster, workload: &serde_json::Value, cmd: &str) -> Vec<u64> {
    let nodes = workload["tiers"][0]["nodes"].as_array().unwrap();
    cluster
        .ports
        .iter()
        .map(|port| {
            let name = format!("127.0.0.1:{port}");
            let node = nodes
                .iter()
                .find(|n| n["node"] == name.as_str())
                .unwrap_or_else(|| panic!("no node {name} in {nodes:?}"));
            node["calls"][cmd].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn pipelines_go_per_node_and_survive_moving_slots() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();

    // (a) pipeline 10: per-node counts are each node's commandstats, and sum to the client's.
    let before: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let yaml = format!(
        "name: cluster-pipe\nseed: 5\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", connections: 2, pipeline: 10, ttl: 60s }}]\n\
         data: {{ keys: {{ count: 500, prefix: \"tbtest:cpipe:\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: mixed, target: l2, ops: 4000, warmup: 0, concurrency: 4, mix: {{ get: 6, set: 3, delete: 1, touch: 1 }} }}\n",
        cluster.url()
    );
    let (out, doc) = run(dir.path(), &yaml);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let after: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let workload = &doc.unwrap()["workloads"][0];
    assert_eq!(workload["errors"], 0, "{workload}");
    let count = |op: &str| workload["operations"][op]["count"].as_u64().unwrap();
    assert_eq!(
        count("get") + count("set") + count("delete") + count("touch"),
        4000
    );
    for (cmd, op) in [
        ("get", "get"),
        ("set", "set"),
        ("del", "delete"),
        ("pexpire", "touch"),
    ] {
        let server = deltas(&before, &after, cmd);
        assert_eq!(figures(&cluster, workload, cmd), server, "{cmd}");
        assert!(
            server.iter().all(|&n| n > 0),
            "{cmd}: every node served some: {server:?}"
        );
        assert_eq!(server.iter().sum::<u64>(), count(op), "{cmd}");
    }
    assert!(keys_left(&cluster, "tbtest:cpipe:*").is_empty());

    // (b) 1000 slots move while a pipelined run reads and writes preloaded keys: the commands a
    // node redirects (MOVED/ASK) are sent again where their slot is, no operation fails, and
    // each ran once (the nodes' sums are the client's; the preload's 12000 SETs included).
    let yaml = format!(
        "name: cluster-pipe-moves\nseed: 6\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", connections: 2, pipeline: 10 }}]\n\
         data: {{ keys: {{ count: 12000, prefix: \"tbtest:cpipe-moves:\" }}, values: {{ size: 64 }} }}\n\
         workloads:\n  - {{ name: during-reshard, target: l2, preload: true, duration: 8s, warmup: 0, concurrency: 4, mix: {{ get: 7, set: 3 }} }}\n",
        cluster.url()
    );
    let path = support::write_scenario(dir.path(), "moves.yaml", &yaml);
    let results = dir.path().join("moves.json");
    let before: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let child = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap(), "--report"])
        .arg(format!("json={}", results.display()))
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let from = redis_cli(&["-p", &cluster.ports[0].to_string(), "cluster", "myid"]);
    let to = redis_cli(&["-p", &cluster.ports[2].to_string(), "cluster", "myid"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while keys_left(&cluster, "tbtest:cpipe-moves:*").len() < 11000 {
        assert!(Instant::now() < deadline, "the preload never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let slots_before = [slots_of(&cluster, 0), slots_of(&cluster, 2)];
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
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let after: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let workload = &doc["workloads"][0];
    assert_eq!(workload["errors"], 0, "{}", support::all_output(&out));
    let count = |op: &str| workload["operations"][op]["count"].as_u64().unwrap();
    assert!(count("get") > 0 && count("set") > 0, "{workload}");
    assert_eq!(
        deltas(&before, &after, "get").iter().sum::<u64>(),
        count("get")
    );
    assert_eq!(
        deltas(&before, &after, "set").iter().sum::<u64>(),
        count("set") + 12000
    );
    assert_eq!(slots_of(&cluster, 0), slots_before[0] - 1000);
    assert_eq!(slots_of(&cluster, 2), slots_before[1] + 1000);
    assert!(keys_left(&cluster, "tbtest:cpipe-moves:*").is_empty());
}

#[test]
fn batches_make_one_command_per_slot_on_its_node() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    let before: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    // One worker: a batch is 20 consecutive lines of the trace.
    let yaml = format!(
        "name: cluster-batch\nseed: 7\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", connections: 1 }}]\n\
         data: {{ keys: {{ count: 300, prefix: \"tbtest:cbatch:\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n\
         \x20 - {{ name: read, target: l2, preload: true, ops: 100, warmup: 0, concurrency: 1, batch: 20, mix: {{ mget: 1 }} }}\n\
         \x20 - {{ name: churn, target: l2, ops: 100, warmup: 0, concurrency: 1, batch: 20, mix: {{ mget: 2, mset: 1, mdelete: 1 }} }}\n",
        cluster.url()
    );
    let path = support::write_scenario(dir.path(), "batch.yaml", &yaml);
    let results = dir.path().join("results.json");
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--record-trace",
        trace.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
        "--report",
        "text",
    ]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let after: Vec<_> = (0..3).map(|i| commandstats(&mut cluster.conn(i))).collect();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let read = &doc["workloads"][0];
    let churn = &doc["workloads"][1];
    assert_eq!(read["errors"], 0, "{text}");
    assert_eq!(churn["errors"], 0, "{text}");
    assert_eq!(read["operations"]["mget"]["count"], 100);

    // The slot of every key, and which node serves it, from the cluster itself.
    let mut conn = cluster.conn(0);
    let ranges: Vec<Vec<redis::Value>> =
        redis::cmd("CLUSTER").arg("SLOTS").query(&mut conn).unwrap();
    let node_of = |slot: i64| -> usize {
        let r = ranges
            .iter()
            .find(|r| matches!((&r[0], &r[1]), (redis::Value::Int(a), redis::Value::Int(b)) if *a <= slot && slot <= *b))
            .unwrap();
        let redis::Value::Array(node) = &r[2] else {
            panic!("{r:?}")
        };
        let redis::Value::Int(port) = node[1] else {
            panic!("{r:?}")
        };
        cluster
            .ports
            .iter()
            .position(|&p| i64::from(p) == port)
            .unwrap()
    };
    let mut slot_of: HashMap<String, i64> = HashMap::new();
    // The read workload's MGETs, predicted from its trace: one per distinct slot of a batch,
    // on the node serving that slot.
    let lines: Vec<(String, String, String)> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                format!("tbtest:cbatch:{}", f[0]), // the trace holds keys without the prefix
                f[1].to_string(),
                f[f.len() - 1].to_string(),
            )
        })
        .collect();
    let mut expected = [0u64; 3];
    let mut keys_read = 0;
    for batch in lines
        .iter()
        .filter(|(_, _, w)| w == "read")
        .collect::<Vec<_>>()
        .chunks(20)
    {
        let mut slots = HashSet::new();
        for (key, op, _) in batch {
            assert_eq!(op, "mget");
            let slot = *slot_of.entry(key.clone()).or_insert_with(|| {
                redis::cmd("CLUSTER")
                    .arg("KEYSLOT")
                    .arg(key)
                    .query(&mut conn)
                    .unwrap()
            });
            keys_read += 1;
            if slots.insert(slot) {
                expected[node_of(slot)] += 1;
            }
        }
    }
    assert_eq!(keys_read, 2000);
    // The server's counts over both workloads equal the per-node figures of the result.
    let mget_total: Vec<u64> = figures(&cluster, read, "mget")
        .iter()
        .zip(figures(&cluster, churn, "mget"))
        .map(|(a, b)| a + b)
        .collect();
    assert_eq!(mget_total, deltas(&before, &after, "mget"));
    // The read workload: exactly the predicted MGETs on each node, and every key found (the
    // preload wrote them all).
    assert_eq!(figures(&cluster, read, "mget"), expected.to_vec());
    // The text report says both: the batches issued and the server calls they became.
    let line = format!(
        "100 mget batches issued (the nodes received {} MGET calls",
        expected.iter().sum::<u64>()
    );
    assert!(text.contains(&line), "no `{line}` in\n{text}");
    let mget = &read["operations"]["mget"];
    eprintln!("read mget: {mget}; per node {expected:?}");
    assert_eq!(read["tiers"][0]["hits"], 2000, "{}", read["tiers"][0]);
    assert_eq!(read["tiers"][0]["misses"], 0, "{}", read["tiers"][0]);
    // The churn workload wrote and deleted by slot too: MSET and DEL counts on every node.
    let msets = figures(&cluster, churn, "mset");
    let dels = figures(&cluster, churn, "del");
    assert!(
        msets.iter().sum::<u64>() > 0 && dels.iter().sum::<u64>() > 0,
        "{msets:?} {dels:?}"
    );
    assert_eq!(msets, deltas(&before, &after, "mset"));
    // Every command of a batch stays within one slot: no CROSSSLOT, and no key left.
    assert!(!text.contains("CROSSSLOT"), "{text}");
    assert!(keys_left(&cluster, "tbtest:cbatch:*").is_empty());
}
