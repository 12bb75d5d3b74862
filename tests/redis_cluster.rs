//! A Redis Cluster as L2 (`cluster: true`), against a private 3-node cluster the test starts on
//! free ports (and kills when done): per-node counts equal each node's own `INFO commandstats`
//! and add up to the operations tierbench reports; cleanup leaves no key on any node; slots
//! moving during a run cost no operation; a single Redis with `cluster: true` is a clear setup
//! error. The shared Redis on 6379 is only read (test c), never stopped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Three cluster-enabled redis-servers made one cluster (no replicas), killed when dropped.
struct Cluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free port whose cluster bus port (port + 10000) is free too.
fn free_port(taken: &[u16]) -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55000
            && !taken.contains(&port)
            && std::net::TcpListener::bind(("127.0.0.1", port + 10000)).is_ok()
        {
            return port;
        }
    }
}

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        support::all_output(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut ports = Vec::new();
        let mut children = Vec::new();
        for _ in 0..3 {
            let port = free_port(&ports);
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes"])
                .arg("--cluster-config-file")
                .arg(dir.path().join(format!("nodes-{port}.conf")))
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is installed");
            ports.push(port);
            children.push(child);
        }
        let cluster = Cluster {
            ports,
            children,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        for &port in &cluster.ports {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "redis-server on {port} did not start"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let nodes: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(nodes.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        redis_cli(&args);
        let deadline = Instant::now() + Duration::from_secs(20);
        for &port in &cluster.ports {
            loop {
                let info = redis_cli(&["-p", &port.to_string(), "cluster", "info"]);
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "cluster never became ok: {info}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        cluster
    }

    fn conn(&self, i: usize) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}", self.ports[i]))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.ports[0])
    }
}

fn commandstats(conn: &mut redis::Connection) -> HashMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_string(), calls.parse().ok()?))
        })
        .collect()
}

fn run(dir: &Path, yaml: &str) -> (std::process::Output, Option<serde_json::Value>) {
    let path = support::write_scenario(dir, "cluster.yaml", yaml);
    let results = dir.join("results.json");
    let _ = std::fs::remove_file(&results);
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    let doc = std::fs::read_to_string(&results)
        .ok()
        .map(|s| serde_json::from_str(&s).unwrap());
    (out, doc)
}

fn keys_left(cluster: &Cluster, pattern: &str) -> Vec<String> {
    (0..3)
        .flat_map(|i| {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(pattern)
                .query(&mut cluster.conn(i))
                .unwrap();
            keys
        })
        .collect()
}

/// How many slots node `i` serves, by `CLUSTER SLOTS`.
fn slots_of(cluster: &Cluster, i: usize) -> i64 {
    let ranges: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query(&mut cluster.conn(0))
        .unwrap();
    let port = i64::from(cluster.ports[i]);
    ranges
        .iter()
        .filter(|r| matches!(&r[2], redis::Value::Array(n) if n.get(1) == Some(&redis::Value::Int(port))))
        .map(|r| match (&r[0], &r[1]) {
            (redis::Value::Int(a), redis::Value::Int(b)) => b - a + 1,
            _ => 0,
        })
        .sum()
}

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
fn pipelining_with_a_cluster_is_refused_at_validation() {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "p.yaml",
        "name: p\ntiers: [{ name: l2, kind: redis, cluster: true, url: \"redis://127.0.0.1:7000\", pipeline: 8 }]\n\
         data: { keys: { count: 10, prefix: \"tbtest:p:\" }, values: { size: 8 } }\n\
         workloads:\n  - { name: w, target: l2, ops: 10, mix: { get: 1 } }\n",
    );
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("not supported with `cluster: true`"),
        "{text}"
    );
    assert!(text.contains("tiers[0].pipeline"), "{text}");
    assert!(text.contains("1 problem found"), "{text}");

    // TLS URLs with a cluster, and seeds without one, are refused with their places.
    let path = support::write_scenario(
        dir.path(),
        "q.yaml",
        "name: q\ntiers:\n  - { name: a, kind: redis, cluster: true, url: \"rediss://127.0.0.1:7000\" }\n\
         \x20 - { name: b, kind: redis, url: \"redis://127.0.0.1:6379\", seeds: [\"redis://127.0.0.1:6380\"] }\n\
         data: { keys: { count: 10, prefix: \"tbtest:q:\" }, values: { size: 8 } }\n\
         workloads:\n  - { name: w, target: a, ops: 10, mix: { get: 1 } }\n",
    );
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("tiers[0].url: a cluster seed must be a redis:// URL"),
        "{text}"
    );
    assert!(
        text.contains("tiers[1].seeds: `seeds` are for a Redis Cluster"),
        "{text}"
    );
    assert!(text.contains("2 problems found"), "{text}");
}
