//! Leftovers of an interrupted run, against real servers: a run that finds the marker of a run
//! that did not finish (`{prefix}__tierbench__` in Redis, a `__tierbench_created__` row in a SQL
//! table) removes that run's keys and rows before measuring, says so, never counts them as hits,
//! and drops the table as its own. Keys and tables without a marker are the user's. Every test
//! uses a prefix and table names of its own and removes what it created.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::db::Db;
use support::{all_output, tierbench, write_scenario};

/// The marker a run sets under its prefix.
const REDIS_MARKER: &str = "__tierbench__";
/// The marker row of a table tierbench created.
const SQL_MARKER: &str = "__tierbench_created__";
/// What a killed run's marker holds (its pid and start time).
const OLD_TOKEN: &str = "tierbench pid 1 started 1700000000000";
/// Keys of the scenarios below, and of the leftovers planted.
const KEYS: u64 = 200;

/// A prefix no other test uses.
fn prefix(test: &str) -> String {
    format!("tbtest:left:{test}:{}:", std::process::id())
}

/// Keys under `prefix` in Redis (the marker included).
fn redis_keys(redis: &mut redis::Connection, prefix: &str) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(redis)
        .unwrap()
}

/// What an interrupted run leaves in Redis: its marker (when `marker`) and keys 0..KEYS.
fn plant_redis(redis: &mut redis::Connection, prefix: &str, marker: bool) {
    if marker {
        redis::cmd("HSET")
            .arg(format!("{prefix}{REDIS_MARKER}"))
            .arg("run")
            .arg(OLD_TOKEN)
            .arg("count")
            .arg(KEYS)
            .query::<()>(redis)
            .unwrap();
    }
    for i in 0..KEYS {
        redis::cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg("left by an earlier run")
            .query::<()>(redis)
            .unwrap();
    }
}

/// A get-only workload without preload: a fresh run hits nothing anywhere.
fn scenario(tiers: &str, target: &str, prefix: &str, keep: bool) -> String {
    format!(
        "name: leftovers\nseed: 7\nkeep: {keep}\ntiers:\n{tiers}\
         data: {{ keys: {{ count: {KEYS}, prefix: \"{prefix}\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: reads, target: {target}, ops: 1000, concurrency: 4, mix: {{ get: 1 }} }}\n"
    )
}

/// Runs `yaml` and returns the exit code, stderr and the JSON results.
fn run(dir: &std::path::Path, yaml: &str) -> (std::process::Output, serde_json::Value) {
    let path = write_scenario(dir, "s.yaml", yaml);
    let results = dir.join("r.json");
    let _ = std::fs::remove_file(&results);
    let out = tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let doc = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    (out, doc)
}

/// The result of tier `name` in the first workload.
fn tier<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["workloads"][0]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tier {name} in {doc}"))
}

#[test]
fn redis_keys_of_an_interrupted_run_are_removed_before_measuring_and_said() {
    let mut redis = support::redis();
    let prefix = prefix("redis");
    plant_redis(&mut redis, &prefix, true);
    let url = support::redis_url();
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = run(
        dir.path(),
        &scenario(
            &format!("  - {{ name: l2, kind: redis, url: \"{url}\" }}\n"),
            "l2",
            &prefix,
            false,
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "note: tier `l2`: removed {KEYS} keys left under `{prefix}` by an interrupted tierbench run"
        )),
        "{stderr}"
    );
    let l2 = tier(&doc, "l2");
    assert_eq!(l2["hits"], 0, "leftovers are never hits: {l2}");
    assert_eq!(l2["misses"], 1000, "{l2}");
    assert_eq!(l2["entries"], 0, "the marker is not an entry: {l2}");
    assert!(
        redis_keys(&mut redis, &prefix).is_empty(),
        "no key and no marker after a finished run"
    );
}

#[test]
fn redis_keys_without_a_marker_are_the_users_and_stop_the_run() {
    let mut redis = support::redis();
    let prefix = prefix("nomarker");
    plant_redis(&mut redis, &prefix, false);
    let url = support::redis_url();
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "s.yaml",
        &scenario(
            &format!("  - {{ name: l2, kind: redis, url: \"{url}\" }}\n"),
            "l2",
            &prefix,
            false,
        ),
    );
    let out = tierbench(&["run", path.to_str().unwrap()]);
    let left = redis_keys(&mut redis, &prefix);
    let _: () = redis::cmd("DEL").arg(&left).query(&mut redis).unwrap();
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(&format!(
            "the key \"{prefix}0\" exists and tierbench did not write it"
        )),
        "{text}"
    );
    assert_eq!(
        left.len() as u64,
        KEYS,
        "keys without a marker are not tierbench's: {left:?}"
    );
}

#[test]
fn kept_keys_carry_the_marker_and_the_next_run_removes_them() {
    let mut redis = support::redis();
    let prefix = prefix("keep");
    let url = support::redis_url();
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario(
        &format!("  - {{ name: l2, kind: redis, url: \"{url}\" }}\n"),
        "l2",
        &prefix,
        true,
    )
    .replace("mix: { get: 1 }", "mix: { set: 1 }");
    let (out, _) = run(dir.path(), &yaml);
    let left = redis_keys(&mut redis, &prefix);
    let kept: Option<String> = redis::cmd("HGET")
        .arg(format!("{prefix}{REDIS_MARKER}"))
        .arg("kept")
        .query(&mut redis)
        .unwrap();
    // The next run (without keep) knows them as tierbench's: removed, said, and gone at its end.
    let (next, _) = run(dir.path(), &yaml.replace("keep: true", "keep: false"));
    let after = redis_keys(&mut redis, &prefix);
    if !after.is_empty() {
        let _: () = redis::cmd("DEL").arg(&after).query(&mut redis).unwrap();
    }
    assert!(left.len() > 1, "{}", all_output(&out));
    assert_eq!(
        kept.as_deref(),
        Some("1"),
        "the marker says the keys were kept: {left:?}"
    );
    assert!(
        all_output(&next).contains("by an earlier tierbench run (keep: true)"),
        "{}",
        all_output(&next)
    );
    assert!(after.is_empty(), "{after:?}");
}

impl Db {
    /// A table as a killed run leaves it: created, marked (when `marker`), rows 0..KEYS under
    /// the prefix; plus one row outside the prefix.
    async fn plant(&self, table: &str, prefix: &str, marker: bool) {
        self.execute(format!("DROP TABLE IF EXISTS {table}")).await;
        self.execute(self.create(table)).await;
        let blob = match self {
            Db::Postgres(_) => "'\\x6c656674'::bytea",
            _ => "x'6c656674'",
        };
        let mut rows = vec![format!("('other:1', {blob}, NULL)")];
        if marker {
            rows.push(format!(
                "('{SQL_MARKER}', {}, NULL)",
                blob.replace("6c656674", &hex(OLD_TOKEN))
            ));
        }
        rows.extend((0..KEYS).map(|i| format!("('{prefix}{i}', {blob}, NULL)")));
        self.execute(format!(
            "INSERT INTO {table} (k, v, expires_at) VALUES {}",
            rows.join(", ")
        ))
        .await;
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A lone SQL tier over a table an interrupted run created: its rows go before measuring (never
/// hits), a note says so, and the table is dropped at the end.
async fn sql_table_of_an_interrupted_run_is_tierbench_s(db: Db, url: &str, name: &str) {
    let prefix = prefix(name);
    let table = format!("tbleft_{name}_{}", std::process::id());
    db.plant(&table, &prefix, true).await;
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = run(
        dir.path(),
        &scenario(
            &format!(
                "  - {{ name: l3, kind: sql, url: \"{url}\", table: {table}, pool: 2, timeout: 3s }}\n"
            ),
            "l3",
            &prefix,
            false,
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "note: tier `l3`: removed {} rows left in table `{table}` by an earlier tierbench run",
            KEYS + 1
        )),
        "{stderr}"
    );
    let l3 = tier(&doc, "l3");
    assert_eq!(l3["hits"], 0, "leftover rows are never hits: {l3}");
    assert_eq!(l3["entries"], 0, "the marker row is not an entry: {l3}");
    let exists = db.has_table(&table).await;
    if exists {
        db.execute(format!("DROP TABLE {table}")).await;
    }
    assert!(
        !exists,
        "the table of an interrupted run is tierbench's to drop"
    );
}

#[tokio::test]
async fn postgres_table_of_an_interrupted_run_is_cleared_and_dropped() {
    let db = Db::Postgres(support::postgres().await);
    sql_table_of_an_interrupted_run_is_tierbench_s(db, &support::postgres_url(), "pg").await;
}

#[tokio::test]
async fn mariadb_table_of_an_interrupted_run_is_cleared_and_dropped() {
    let db = Db::MySql(support::mysql().await);
    sql_table_of_an_interrupted_run_is_tierbench_s(db, &support::mysql_url(), "my").await;
}

#[tokio::test]
async fn sqlite_table_of_an_interrupted_run_is_cleared_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let url = format!("sqlite:{}", db.display());
    sql_table_of_an_interrupted_run_is_tierbench_s(Db::Sqlite(pool), &url, "lite").await;
}

/// The real thing: an L1 → Redis → PostgreSQL run killed (SIGKILL) mid-run leaves its keys,
/// rows and table; the next run of the same scenario removes them, says so, hits nothing in L2
/// and L3, and leaves nothing behind.
#[tokio::test]
async fn a_killed_stack_run_is_cleaned_up_by_the_next_run() {
    let mut redis = support::redis();
    let pg = Db::Postgres(support::postgres().await);
    let prefix = prefix("killed");
    let table = format!("tbleft_killed_{}", std::process::id());
    pg.execute(format!("DROP TABLE IF EXISTS {table}")).await;
    let tiers = format!(
        "  - {{ name: l1, kind: memory, max_entries: 50 }}\n  - {{ name: l2, kind: redis, url: \"{}\" }}\n\
         \x20 - {{ name: l3, kind: sql, url: \"{}\", table: {table}, pool: 2 }}\n",
        support::redis_url(),
        support::postgres_url()
    );
    let dir = tempfile::tempdir().unwrap();
    // First: a long run that writes, killed once it has written.
    let writer = scenario(&tiers, "stack", &prefix, false).replace(
        "ops: 1000, concurrency: 4, mix: { get: 1 }",
        "duration: 60s, concurrency: 4, mix: { set: 1 }",
    );
    let path = write_scenario(dir.path(), "writer.yaml", &writer);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap()])
        .env("CI", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis_keys(&mut redis, &prefix).len() <= KEYS as usize / 2 {
        assert!(Instant::now() < deadline, "the first run writes nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    let keys = redis_keys(&mut redis, &prefix);
    assert!(
        keys.contains(&format!("{prefix}{REDIS_MARKER}")),
        "{keys:?}"
    );
    let rows = pg.count(format!("SELECT COUNT(*) FROM {table}")).await;
    assert!(rows > 1, "the killed run left rows");

    // Then: the same keys, read only, by one worker (the same reads in the same order each run).
    let reader =
        scenario(&tiers, "stack", &prefix, false).replace("concurrency: 4", "concurrency: 1");
    let (out, doc) = run(dir.path(), &reader);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "note: tier `l2`: removed {} keys left under `{prefix}`",
            keys.len() - 1
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "note: tier `l3`: removed {} rows left in table `{table}`",
            rows - 1
        )),
        "{stderr}"
    );
    let exists = pg.has_table(&table).await;
    if exists {
        pg.execute(format!("DROP TABLE {table}")).await;
    }
    assert!(!exists, "the table the killed run created is dropped");
    assert!(
        redis_keys(&mut redis, &prefix).is_empty(),
        "no key and no marker left"
    );

    // A fresh run of the same scenario and seed: the same reads reach the origin (each key's
    // first read, as nothing is left over), and L2 and L3 count the same hits.
    let (fresh_out, fresh) = run(dir.path(), &reader);
    assert!(
        !String::from_utf8_lossy(&fresh_out.stderr).contains("interrupted"),
        "{}",
        all_output(&fresh_out)
    );
    let origin =
        |doc: &serde_json::Value| doc["workloads"][0]["served_by"]["origin"]["count"].clone();
    assert!(origin(&fresh).as_u64().unwrap() > 0, "{fresh}");
    assert_eq!(origin(&doc), origin(&fresh), "reads served by the origin");
    assert_eq!(tier(&doc, "l3")["hits"], 0, "L2 holds whatever L3 does");
    assert_eq!(tier(&doc, "l3")["hits"], tier(&fresh, "l3")["hits"]);
    assert_eq!(
        tier(&doc, "l2")["misses"],
        tier(&fresh, "l2")["misses"],
        "L2 misses as in a fresh run"
    );
    assert!(redis_keys(&mut redis, &prefix).is_empty());
    assert!(!pg.has_table(&table).await);
}
