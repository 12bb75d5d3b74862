//! Nothing the user owns is lost or touched: each test puts the user's data on a server or in a
//! table of its own (a private `redis-server`, a private cluster, a table of its own name), runs
//! tierbench as a user would, and checks what the user sees afterwards: every one of their keys
//! and rows still there with its value, the exit code, and the message that says why.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::HashMap;

use support::cluster::Cluster;
use support::db::Db;
use support::private_redis::{PrivateRedis, free_port};
use support::{all_output, commandstats, run_for_json, tierbench, write_scenario};

/// The user's keys on a private server: `user:1..=50` and `order:1..=50`, each with a value of
/// its own.
fn plant_users_keys(conn: &mut redis::Connection) -> HashMap<String, String> {
    let mut keys = HashMap::new();
    for i in 1..=50 {
        keys.insert(format!("user:{i}"), format!("the user's profile {i}"));
        keys.insert(format!("order:{i}"), format!("the user's order {i}"));
    }
    for (k, v) in &keys {
        redis::cmd("SET").arg(k).arg(v).query::<()>(conn).unwrap();
    }
    keys
}

/// Every one of `keys` is still there with its value.
fn assert_intact(conn: &mut redis::Connection, keys: &HashMap<String, String>, what: &str) {
    let mut lost = Vec::new();
    for (k, v) in keys {
        let now: Option<String> = redis::cmd("GET").arg(k).query(conn).unwrap();
        if now.as_deref() != Some(v.as_str()) {
            lost.push(format!("{k} = {now:?}"));
        }
    }
    lost.sort();
    assert!(lost.is_empty(), "{what}: the user's keys changed: {lost:?}");
}

/// A run of 100 keys with preload that gets, sets and deletes, on the Redis at `url`.
fn redis_scenario(url: &str, prefix: &str, keys: u64, size: u64, extra: &str) -> String {
    format!(
        "name: users-data\nseed: 3\n\
         tiers:\n  - {{ name: l2, kind: redis, url: \"{url}\", timeout: 5s }}\n\
         data: {{ keys: {{ count: {keys}, prefix: {prefix:?} }}, values: {{ size: {size} }} }}\n\
         workloads:\n  - {{ name: w, target: l2, preload: true, ops: 2000, concurrency: 4, \
         mix: {{ get: 6, set: 3, delete: 1 }}{extra} }}\n"
    )
}

#[test]
fn prefixes_that_overlap_the_users_keys_never_touch_them() {
    let server = PrivateRedis::start(free_port());
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let keys = plant_users_keys(&mut conn);
    let dir = tempfile::tempdir().unwrap();
    // prefix, exit code, what stderr says
    let cases = [
        ("", 2, "an empty prefix"),
        ("*", 2, "glob characters"),
        ("u", 0, ""),
        (
            "user:",
            3,
            "the key \"user:1\" exists and tierbench did not write it",
        ),
        (
            "user:1",
            3,
            "the key \"user:10\" exists and tierbench did not write it",
        ),
    ];
    for (prefix, code, says) in cases {
        let path = write_scenario(
            dir.path(),
            "s.yaml",
            &redis_scenario(&server.url(), prefix, 100, 32, ""),
        );
        let out = tierbench(&["run", path.to_str().unwrap()]);
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(code), "prefix {prefix:?}: {text}");
        assert!(text.contains(says), "prefix {prefix:?}: {text}");
        if code == 3 {
            assert!(text.contains("nothing was written"), "{text}");
        }
        if code == 2 {
            assert!(
                text.contains("s.yaml:"),
                "the file and line are named: {text}"
            );
        }
        assert_intact(&mut conn, &keys, &format!("prefix {prefix:?}"));
        let size: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
        assert_eq!(size, 100, "prefix {prefix:?}: tierbench left keys behind");
    }
}

#[test]
fn a_million_unrelated_keys_are_never_scanned() {
    let server = PrivateRedis::start_with(free_port(), &["--enable-debug-command", "local"]);
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(1_000_000)
        .arg("someone-else")
        .query::<()>(&mut conn)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "s.yaml",
        &redis_scenario(&server.url(), "tierbench:scan:", 100, 32, ""),
    );
    let before = commandstats(&mut conn);
    let (out, doc) = run_for_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let after = commandstats(&mut conn);
    let scans = after.get("scan").copied().unwrap_or(0) - before.get("scan").copied().unwrap_or(0);
    let keys_cmd = after.get("keys").copied().unwrap_or(0);
    assert_eq!(scans, 0, "no SCAN over the user's keys");
    assert_eq!(keys_cmd, 0, "no KEYS either");
    let size: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(
        size, 1_000_000,
        "the user's keys are all there, tierbench's gone"
    );
    assert!(
        doc["workloads"][0]["tiers"][0]["entries"].is_u64(),
        "entries still counted"
    );
}

#[test]
fn a_key_space_that_would_evict_the_users_keys_is_refused() {
    let server = PrivateRedis::start_with(
        free_port(),
        &["--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru"],
    );
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let mut keys = HashMap::new();
    for i in 0..2000 {
        keys.insert(format!("session:{i}"), format!("the user's session {i}"));
    }
    for (k, v) in &keys {
        redis::cmd("SET")
            .arg(k)
            .arg(v)
            .query::<()>(&mut conn)
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "s.yaml",
        &redis_scenario(&server.url(), "tierbench:evict:", 100_000, 200, ""),
    );
    let out = tierbench(&["run", path.to_str().unwrap()]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("evict"), "{text}");
    assert!(
        text.contains("2000 keys that are not tierbench's"),
        "{text}"
    );
    assert!(text.contains("maxmemory"), "the figures are named: {text}");
    assert_intact(&mut conn, &keys, "evicting server");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut conn).unwrap();
    assert!(
        info.contains("evicted_keys:0\r"),
        "nothing was evicted: {info}"
    );
}

#[test]
fn evictions_on_a_server_of_tierbench_s_own_are_reported_and_judged() {
    let server = PrivateRedis::start_with(
        free_port(),
        &["--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru"],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "s.yaml",
        &redis_scenario(
            &server.url(),
            "tierbench:own:",
            100_000,
            200,
            ", thresholds: [\"l2.evictions == 0\"]",
        ),
    );
    let (out, doc) = run_for_json(&path);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "the threshold fails: {text}");
    let workload = &doc["workloads"][0];
    let evictions = workload["tiers"][0]["evictions"].as_u64().unwrap();
    assert!(evictions > 1000, "the preload evicted: {workload}");
    assert!(
        workload["warnings"]
            .to_string()
            .contains("hit rates include evictions"),
        "{}",
        workload["warnings"]
    );
}

#[test]
fn an_interrupted_runs_keys_go_and_a_foreign_key_under_the_prefix_still_stops_the_run() {
    let server = PrivateRedis::start(free_port());
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let prefix = "tierbench:left:";
    // An interrupted run of 200 keys: its marker and its keys.
    redis::cmd("HSET")
        .arg(format!("{prefix}__tierbench__"))
        .arg("run")
        .arg("tierbench pid 1 started 1700000000000")
        .arg("count")
        .arg(200)
        .query::<()>(&mut conn)
        .unwrap();
    for i in 0..200 {
        redis::cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg("left")
            .query::<()>(&mut conn)
            .unwrap();
    }
    // The user's key, under the same prefix, among the next run's names.
    let users = HashMap::from([(format!("{prefix}250"), "the user's".to_string())]);
    redis::cmd("SET")
        .arg(format!("{prefix}250"))
        .arg("the user's")
        .query::<()>(&mut conn)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml = redis_scenario(&server.url(), prefix, 300, 32, "");
    let path = write_scenario(dir.path(), "s.yaml", &yaml);
    let out = tierbench(&["run", path.to_str().unwrap()]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("removed 200 keys left under `tierbench:left:` by an interrupted"),
        "{text}"
    );
    assert!(
        text.contains("the key \"tierbench:left:250\" exists"),
        "{text}"
    );
    assert_intact(&mut conn, &users, "foreign key under the prefix");
    let size: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(size, 1, "the leftovers went, the user's key stayed");
    // Without the user's key in the way, the same scenario runs and leaves nothing.
    redis::cmd("DEL")
        .arg(format!("{prefix}250"))
        .query::<()>(&mut conn)
        .unwrap();
    let out = tierbench(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let size: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(size, 0);
}

#[test]
fn a_cluster_refuses_a_colliding_key_and_keeps_the_users_keys() {
    let cluster = Cluster::start();
    let mut conn = redis::cluster::ClusterClient::new(vec![cluster.url()])
        .unwrap()
        .get_connection()
        .unwrap();
    let mut keys = HashMap::new();
    for i in 0..50 {
        keys.insert(format!("user:{i}"), format!("profile {i}"));
        keys.insert(format!("cart:{i}"), format!("cart {i}"));
    }
    for (k, v) in &keys {
        redis::cmd("SET")
            .arg(k)
            .arg(v)
            .query::<()>(&mut conn)
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let yaml = |prefix: &str| {
        format!(
            "name: users-data-cluster\nseed: 3\n\
             tiers:\n  - {{ name: l2, kind: redis, cluster: true, url: \"{}\", timeout: 5s }}\n\
             data: {{ keys: {{ count: 100, prefix: {prefix:?} }}, values: {{ size: 32 }} }}\n\
             workloads:\n  - {{ name: w, target: l2, preload: true, ops: 1000, concurrency: 4, \
             mix: {{ get: 6, set: 3, delete: 1 }} }}\n",
            cluster.url()
        )
    };
    let path = write_scenario(dir.path(), "c.yaml", &yaml("user:"));
    let out = tierbench(&["run", path.to_str().unwrap()]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("the key \"user:0\" exists"), "{text}");
    let path = write_scenario(dir.path(), "c.yaml", &yaml("u"));
    let out = tierbench(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let mut get =
        |k: &str| -> Option<String> { redis::cmd("GET").arg(k).query(&mut conn).unwrap() };
    for (k, v) in &keys {
        assert_eq!(get(k).as_deref(), Some(v.as_str()), "{k}");
    }
    for i in 0..100 {
        assert_eq!(
            get(&format!("u{i}")),
            None,
            "tierbench's key u{i} was cleaned up"
        );
    }
}

/// The user's table in a database: 50 rows `tb:0..49` and 50 rows `other:0..49`, in a table of
/// the shape tierbench uses. A run under `tb:` is refused, naming the table and the row, and
/// every row is intact; a run under a prefix of its own goes, and only its rows come and go.
async fn users_table_is_refused_and_intact(db: Db, url: &str) {
    let table = format!("tbusers_{}", std::process::id());
    db.execute(format!("DROP TABLE IF EXISTS {table}")).await;
    db.execute(db.create(&table)).await;
    let rows: Vec<String> = (0..50)
        .flat_map(|i| {
            [
                format!("('tb:{i}', {}, NULL)", db.blob(&format!("user row {i}"))),
                format!(
                    "('other:{i}', {}, NULL)",
                    db.blob(&format!("other row {i}"))
                ),
            ]
        })
        .collect();
    db.execute(format!(
        "INSERT INTO {table} (k, v, expires_at) VALUES {}",
        rows.join(", ")
    ))
    .await;
    let planted = db.rows(&table).await;
    assert_eq!(planted.len(), 100);
    let scenario = |prefix: &str| {
        format!(
            "name: users-table\nseed: 3\n\
             tiers:\n  - {{ name: l3, kind: sql, url: \"{url}\", table: {table}, pool: 2, timeout: 5s }}\n\
             data: {{ keys: {{ count: 100, prefix: {prefix:?} }}, values: {{ size: 32 }} }}\n\
             workloads:\n  - {{ name: w, target: l3, preload: true, ops: 500, concurrency: 2, \
             mix: {{ get: 6, set: 3, delete: 1 }} }}\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "s.yaml", &scenario("tb:"));
    let out = tierbench(&["run", path.to_str().unwrap()]);
    let text = all_output(&out);
    let refused = out.status.code() == Some(3)
        && text.contains(&format!(
            "the row of table `{table}` \"tb:0\" exists and tierbench did not write it"
        ));
    let after_refusal = db.rows(&table).await;
    let path = write_scenario(dir.path(), "s.yaml", &scenario("tierbench:own:"));
    let own = tierbench(&["run", path.to_str().unwrap()]);
    let after_own = db.rows(&table).await;
    db.execute(format!("DROP TABLE {table}")).await;
    assert!(refused, "{text}");
    assert_eq!(after_refusal, planted, "the user's rows are intact");
    assert_eq!(own.status.code(), Some(0), "{}", all_output(&own));
    assert_eq!(
        after_own, planted,
        "only tierbench's own rows came and went"
    );
}

#[tokio::test]
async fn sqlite_users_table_is_refused_and_intact() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let url = format!("sqlite:{}", file.display());
    users_table_is_refused_and_intact(Db::Sqlite(pool), &url).await;
}

#[tokio::test]
async fn postgres_users_table_is_refused_and_intact() {
    let db = Db::Postgres(support::postgres().await);
    users_table_is_refused_and_intact(db, &support::postgres_url()).await;
}

#[tokio::test]
async fn mariadb_users_table_is_refused_and_intact() {
    let db = Db::MySql(support::mysql().await);
    users_table_is_refused_and_intact(db, &support::mysql_url()).await;
}

/// A replayed trace's keys are the run's names too: a user's key that is the prefix plus one of
/// the trace's keys stops the run, untouched, even when the trace's keys look nothing like an
/// index.
#[test]
fn a_trace_key_that_collides_with_the_users_key_stops_the_run() {
    let server = PrivateRedis::start(free_port());
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let users = HashMap::from([("shop:cart-42".to_string(), "the user's cart".to_string())]);
    redis::cmd("SET")
        .arg("shop:cart-42")
        .arg("the user's cart")
        .query::<()>(&mut conn)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "key,op\ncart-7,get\ncart-42,set\ncart-7,get\n",
    )
    .unwrap();
    let yaml = format!(
        "name: trace-names\nseed: 3\n\
         tiers:\n  - {{ name: l2, kind: redis, url: \"{}\", timeout: 5s }}\n\
         data: {{ keys: {{ count: 10, prefix: \"shop:\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: replay, target: l2, trace: {{ path: t.csv }}, ops: 3, concurrency: 1 }}\n",
        server.url()
    );
    let path = write_scenario(dir.path(), "s.yaml", &yaml);
    let out = tierbench(&["run", path.to_str().unwrap()]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("the key \"shop:cart-42\" exists"), "{text}");
    assert_intact(&mut conn, &users, "trace collision");
    let size: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(size, 1, "nothing was written");
}
