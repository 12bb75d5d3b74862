//! Shared helpers for the tests that talk to real servers.
//!
//! Each server's URL comes from the environment (the defaults are the CI machine's). A test
//! whose server is unreachable fails, with the command that starts it: it never skips silently.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod certs;
pub mod cluster;
pub mod db;
pub mod private_memcached;
pub mod private_redis;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Calls per command from Redis' own `INFO commandstats` (`cmdstat_get:calls=12,...` → `get: 12`).
pub fn commandstats(conn: &mut redis::Connection) -> HashMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_string(), calls.parse().ok()?))
        })
        .collect()
}

/// Redis URL for tests.
pub fn redis_url() -> String {
    std::env::var("TIERBENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// PostgreSQL URL for tests.
pub fn postgres_url() -> String {
    std::env::var("TIERBENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// MariaDB URL for tests.
pub fn mysql_url() -> String {
    std::env::var("TIERBENCH_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A Redis connection, or a failure that says how to start Redis.
pub fn redis() -> redis::Connection {
    let url = redis_url();
    redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at {url} ({e}). Start it with: redis-server --daemonize yes --bind 127.0.0.1 \
                 --port 6379 --save \"\" --appendonly no (or set TIERBENCH_REDIS_URL)"
            )
        })
}

/// A PostgreSQL pool, or a failure that says how to start PostgreSQL.
pub async fn postgres() -> sqlx::PgPool {
    let url = postgres_url();
    sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url} ({e}). Start it with: pg_ctlcluster --skip-systemctl-redirect \
             $(ls /etc/postgresql) main start (or set TIERBENCH_POSTGRES_URL)"
        )
    })
}

/// A MariaDB pool, or a failure that says how to start MariaDB.
pub async fn mysql() -> sqlx::MySqlPool {
    let url = mysql_url();
    sqlx::MySqlPool::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "MariaDB is not reachable at {url} ({e}). Start it with: start-stop-daemon --start --oknodo --background \
             --exec /usr/sbin/mariadbd (or set TIERBENCH_MYSQL_URL)"
        )
    })
}

/// Writes a scenario file into `dir`.
pub fn write_scenario(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Runs the tierbench binary with `args` (progress off).
pub fn tierbench(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(args)
        .env("CI", "1")
        .output()
        .unwrap()
}

/// Runs `tierbench run SCENARIO` with a JSON report beside it; the output, and the JSON result
/// document (`Null` when the run wrote none).
pub fn run_for_json(scenario: &Path) -> (Output, serde_json::Value) {
    run_for_json_with(scenario, &[])
}

/// `run_for_json` with more arguments for `tierbench run`.
pub fn run_for_json_with(scenario: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let results = scenario.with_extension("results.json");
    let report = format!("json={}", results.display());
    let mut args = vec!["run", scenario.to_str().unwrap(), "--report", &report];
    args.extend_from_slice(extra);
    let out = tierbench(&args);
    let doc = std::fs::read_to_string(&results).map_or(serde_json::Value::Null, |text| {
        serde_json::from_str(&text).unwrap()
    });
    (out, doc)
}

/// Runs `tierbench run SCENARIO --record-trace` (the trace beside the scenario); asserts the run
/// passed and returns the trace's CSV text.
pub fn record_trace(scenario: &Path) -> String {
    let trace = scenario.with_extension("csv");
    let out = tierbench(&[
        "run",
        scenario.to_str().unwrap(),
        "--record-trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    std::fs::read_to_string(trace).unwrap()
}

/// stdout and stderr together, as text.
pub fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Lets a test change the run's own keys after the run has claimed them (before the claim they
/// would be the user's, and the run would refuse to start): the run is to be started with the
/// returned `--start-at` arguments, which make it wait 2.5 s after its setup; meanwhile, as soon
/// as its marker is under `prefix` on the Redis at `url`, `change` runs on a connection there.
pub fn after_the_claim(
    url: String,
    prefix: &str,
    change: impl FnOnce(&mut redis::Connection) + Send + 'static,
) -> [String; 2] {
    let start = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let marker = format!("{prefix}__tierbench__");
    std::thread::spawn(move || {
        let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
        while !redis::cmd("EXISTS")
            .arg(&marker)
            .query::<bool>(&mut conn)
            .unwrap()
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        change(&mut conn);
    });
    [
        "--start-at".into(),
        start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    ]
}

/// Starts `tierbench run SCENARIO` in the background (a test stops or restarts a server while it
/// runs), writing the result document to `results` and the text report to stdout.
pub fn spawn_run(scenario: &Path, results: &Path) -> Child {
    spawn_run_with(scenario, results, &[])
}

/// `spawn_run` with more arguments for `tierbench run`.
pub fn spawn_run_with(scenario: &Path, results: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", scenario.to_str().unwrap(), "--report"])
        .arg(format!("json={}", results.display()))
        .args(["--report", "text"])
        .args(extra)
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}
