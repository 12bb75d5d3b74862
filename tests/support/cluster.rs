//! A private 3-node Redis Cluster on free ports (no replicas), started by a test and killed
//! when dropped, with helpers to read its nodes: the cluster tests share it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Three cluster-enabled redis-servers made one cluster (no replicas), killed when dropped.
pub struct Cluster {
    pub ports: Vec<u16>,
    /// TLS: the CA file (PEM) the nodes' certificates are signed by.
    pub ca: Option<PathBuf>,
    /// TLS: the server certificate, its key and the CA, to start a node again.
    tls: Option<[PathBuf; 3]>,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

/// One cluster-enabled `redis-server` on `port`, its node file and data in `dir`.
fn spawn_node(port: u16, tls: Option<&[PathBuf; 3]>, dir: &Path) -> Child {
    let mut server = Command::new("redis-server");
    match tls {
        None => server.args(["--port", &port.to_string()]),
        Some([cert, key, ca]) => server
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--tls-cluster", "yes", "--tls-replication", "yes"])
            .arg("--tls-cert-file")
            .arg(cert)
            .arg("--tls-key-file")
            .arg(key)
            .arg("--tls-ca-cert-file")
            .arg(ca)
            .args(["--tls-auth-clients", "no"]),
    };
    server
        .args(["--bind", "127.0.0.1"])
        .args(["--cluster-enabled", "yes"])
        .arg("--cluster-config-file")
        .arg(dir.join(format!("nodes-{port}.conf")))
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed")
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
pub fn free_port(taken: &[u16]) -> u16 {
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

pub fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        super::all_output(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Cluster {
    pub fn start() -> Cluster {
        Cluster::start_with(None)
    }

    /// A TLS-only cluster (`--port 0`, TLS between clients and nodes and on the cluster bus)
    /// with the server certificate `cert`/`key` signed by `ca`.
    pub fn start_tls(cert: &Path, key: &Path, ca: &Path) -> Cluster {
        Cluster::start_with(Some((cert, key, ca)))
    }

    fn start_with(tls: Option<(&Path, &Path, &Path)>) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let tls = tls.map(|(c, k, a)| [c.to_path_buf(), k.to_path_buf(), a.to_path_buf()]);
        let mut ports = Vec::new();
        let mut children = Vec::new();
        for _ in 0..3 {
            let port = free_port(&ports);
            children.push(spawn_node(port, tls.as_ref(), dir.path()));
            ports.push(port);
        }
        let cluster = Cluster {
            ports,
            ca: tls.as_ref().map(|[_, _, ca]| ca.clone()),
            tls,
            children,
            dir,
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
        cluster.cli(&args);
        cluster.wait_until_ok();
        cluster
    }

    /// Waits until every node says `cluster_state:ok`.
    fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for &port in &self.ports {
            loop {
                let info = self.cli(&["-p", &port.to_string(), "cluster", "info"]);
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "cluster never became ok: {info}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// SIGKILL to node `i`, as a crash would.
    pub fn stop_node(&mut self, i: usize) {
        let _ = self.children[i].kill();
        let _ = self.children[i].wait();
    }

    /// Starts node `i` again on its port with its node file (its slots and peers) and none of
    /// its data, and waits until it listens.
    pub fn start_node(&mut self, i: usize) {
        let port = self.ports[i];
        self.children[i] = spawn_node(port, self.tls.as_ref(), self.dir.path());
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "node {port} did not start again");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts node `i` again and waits until it serves: a restarted primary accepts connections
    /// at once but answers CLUSTERDOWN until it has rejoined the cluster (up to ~2 s here).
    pub fn start_node_serving(&mut self, i: usize) {
        self.start_node(i);
        let port = self.ports[i].to_string();
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self
            .cli(&["-p", &port, "cluster", "info"])
            .contains("cluster_state:ok")
        {
            assert!(Instant::now() < deadline, "node {port} did not rejoin");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// redis-cli with `args`, over TLS for a TLS cluster.
    pub fn cli(&self, args: &[&str]) -> String {
        match &self.ca {
            None => redis_cli(args),
            Some(ca) => {
                let ca = ca.to_str().unwrap();
                let mut all = vec!["--tls", "--cacert", ca];
                all.extend(args);
                redis_cli(&all)
            }
        }
    }

    pub fn conn(&self, i: usize) -> redis::Connection {
        let url = format!("{}://127.0.0.1:{}", self.scheme(), self.ports[i]);
        let client = match &self.ca {
            None => redis::Client::open(url).unwrap(),
            Some(ca) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(ca).unwrap()),
                },
            )
            .unwrap(),
        };
        client.get_connection().unwrap()
    }

    fn scheme(&self) -> &str {
        if self.ca.is_some() { "rediss" } else { "redis" }
    }

    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.ports[0])
    }
}

pub fn run(dir: &Path, yaml: &str) -> (std::process::Output, Option<serde_json::Value>) {
    let path = super::write_scenario(dir, "cluster.yaml", yaml);
    let results = dir.join("results.json");
    let _ = std::fs::remove_file(&results);
    let out = super::tierbench(&[
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

pub fn keys_left(cluster: &Cluster, pattern: &str) -> Vec<String> {
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
pub fn slots_of(cluster: &Cluster, i: usize) -> i64 {
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
