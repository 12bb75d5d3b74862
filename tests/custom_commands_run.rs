//! Custom Redis commands end to end: `tierbench run` of a scenario whose mix names custom
//! commands, against a private redis-server on a free port (so `INFO commandstats` counts this
//! test's traffic alone, whatever else runs on the shared 6379). Each command's reported count
//! and errors equal Redis's own count of its calls; a command failing on every key (wrong
//! type) is reported per command and fails the run; thresholds on custom commands are judged;
//! every built-in report shows them; cleanup leaves no key behind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::commandstats;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server of this test's own, killed when dropped.
struct Server {
    port: u16,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let server = Server { port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

#[test]
fn custom_commands_are_counted_timed_judged_and_reported() {
    let server = Server::start();
    let mut conn = server.conn();
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        "\
name: custom-run
seed: 11
tiers: [{{ name: cache, kind: redis, url: \"{url}\", connections: 2 }}]
data: {{ keys: {{ count: 50, prefix: \"tbtest:custom-run:\" }}, values: {{ size: 8 }} }}
defaults: {{ warmup: 0 }}
commands:
  bump: {{ command: [HINCRBY, \"{{key}}\", \"f{{field}}\", \"1\"], fields: 4 }}
  count_fields: [HLEN, \"{{key}}\"]
  wrong_type: [HSETNX, \"{{key}}\", x, \"{{value}}\"]
workloads:
  - name: hashes
    target: cache
    ops: 2000
    concurrency: 3
    mix: {{ bump: 3, count_fields: 1, get: 1 }}
    thresholds: [bump.p99 < 10s, bump.errors == 0, count_fields.max < 1ns]
  - name: strings
    target: cache
    preload: true
    ops: 12
    sequence: [wrong_type, get]
",
        url = server.url()
    );
    let path = support::write_scenario(dir.path(), "custom.yaml", &scenario);
    let report = |kind: &str, name: &str| {
        let file = dir.path().join(name);
        (format!("{kind}={}", file.display()), file)
    };
    let (json_arg, json) = report("json", "results.json");
    let others = [
        report("text", "report.txt"),
        report("markdown", "report.md"),
        report("html", "report.html"),
    ];
    let before = commandstats(&mut conn);
    let mut args = vec!["run", path.to_str().unwrap(), "--report", &json_arg];
    for (arg, _) in &others {
        args.extend(["--report", arg.as_str()]);
    }
    let out = support::tierbench(&args);
    let output = support::all_output(&out);
    // Fails closed: the wrong-type errors and the impossible threshold fail the run (exit 1).
    assert_eq!(out.status.code(), Some(1), "{output}");
    let after = commandstats(&mut conn);
    let delta =
        |cmd: &str| after.get(cmd).copied().unwrap_or(0) - before.get(cmd).copied().unwrap_or(0);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();

    let hashes = &doc["workloads"][0];
    let ops = &hashes["operations"];
    let calls = |op: &str| ops[op]["count"].as_u64().unwrap() + ops[op]["errors"].as_u64().unwrap();
    assert_eq!(calls("bump") + calls("count_fields") + calls("get"), 2000);
    assert!(calls("bump") > 1000 && calls("count_fields") > 300, "{ops}");
    // Redis counted exactly the commands tierbench reports, one call each.
    assert_eq!(delta("hincrby"), calls("bump"));
    assert_eq!(delta("hlen"), calls("count_fields"));
    assert_eq!(ops["bump"]["errors"], 0);
    assert!(
        ops["bump"]["latency"]["p99_ns"].as_u64().unwrap() > 0,
        "{ops}"
    );
    // Thresholds on custom commands were judged on their own figures.
    let judged: HashMap<String, bool> = hashes["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["text"].as_str().unwrap().to_string(),
                t["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(judged.get("bump.p99 < 10s"), Some(&true), "{judged:?}");
    assert_eq!(judged.get("bump.errors == 0"), Some(&true), "{judged:?}");
    assert_eq!(
        judged.get("count_fields.max < 1ns"),
        Some(&false),
        "{judged:?}"
    );

    // HSETNX on the preloaded strings fails with WRONGTYPE every time: counted per command.
    let strings = &doc["workloads"][1];
    let wrong = &strings["operations"]["wrong_type"];
    assert_eq!(wrong["count"], 0, "{strings}");
    assert_eq!(wrong["errors"], 6, "{strings}");
    assert_eq!(delta("hsetnx"), 6);
    assert_eq!(strings["operations"]["get"]["count"], 6);
    assert_eq!(strings["errors"], 6);
    assert_eq!(strings["passed"], false);
    let messages = strings["error_messages"].to_string();
    assert!(messages.contains("WRONGTYPE"), "{messages}");

    // Every built-in report shows the custom commands.
    for (_, file) in &others {
        let text = std::fs::read_to_string(file).unwrap();
        for name in ["bump", "count_fields", "wrong_type"] {
            assert!(text.contains(name), "{} lacks {name}", file.display());
        }
    }
    // Cleanup removed every key tierbench made (hashes and strings), without a flush.
    assert_eq!(delta("flushdb") + delta("flushall"), 0);
    let left: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(left, 0);
}
