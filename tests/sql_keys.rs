//! SQL tiers treat keys as bytes, as a cache does: on PostgreSQL, MariaDB and SQLite, keys
//! that differ only in case are different rows (MariaDB's default collation ignores case), and
//! cleaning up the prefix's rows leaves a user's row whose key matches the prefix only when case
//! is ignored (MariaDB's and SQLite's LIKE ignore it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::{all_output, run_for_json, tierbench, write_scenario};

const PREFIX: &str = "tbkeys:";

/// Replays `Case:1` set, `case:1` get, `CASE:1` get, `Case:1` get on `url`'s table `table` and
/// returns the tier's (hits, misses).
fn case_replay(url: &str, table: &str) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("case.csv"),
        "key,op,size,worker,workload\nCase:1,set,16,0,w\ncase:1,get,0,0,w\nCASE:1,get,0,0,w\nCase:1,get,0,0,w\n",
    )
    .unwrap();
    let yaml = format!(
        "name: keys\nseed: 1\ntiers: [{{ name: l3, kind: sql, url: \"{url}\", table: {table} }}]\n\
         data: {{ keys: {{ count: 10, prefix: \"{PREFIX}\" }}, values: {{ size: 16 }} }}\n\
         workloads: [{{ name: w, target: l3, preload: false, warmup: 0, ops: 4, concurrency: 1, \
         trace: {{ path: case.csv }} }}]\n"
    );
    let path = write_scenario(dir.path(), "keys.yaml", &yaml);
    let (out, doc) = run_for_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let tier = &doc["workloads"][0]["tiers"][0];
    (
        tier["hits"].as_u64().unwrap(),
        tier["misses"].as_u64().unwrap(),
    )
}

/// A run on an existing table holding a user's row `TBKEYS:user`: the row must survive.
fn cleanup_scenario(url: &str, table: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: keys\nseed: 1\ntiers: [{{ name: l3, kind: sql, url: \"{url}\", table: {table} }}]\n\
         data: {{ keys: {{ count: 20, prefix: \"{PREFIX}\" }}, values: {{ size: 16 }} }}\n\
         workloads: [{{ name: w, target: l3, preload: true, warmup: 0, ops: 50, mix: {{ get: 1, set: 1 }} }}]\n"
    );
    let path = write_scenario(dir.path(), "cleanup.yaml", &yaml);
    tierbench(&["run", path.to_str().unwrap()])
}

#[test]
fn keys_that_differ_in_case_are_different_rows_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("keys.db").display());
    assert_eq!(case_replay(&url, "tb_keys_case"), (1, 2));
}

#[test]
fn keys_that_differ_in_case_are_different_rows_on_postgres() {
    let table = format!("tb_keys_case_{}", std::process::id());
    assert_eq!(case_replay(&support::postgres_url(), &table), (1, 2));
}

#[test]
fn keys_that_differ_in_case_are_different_rows_on_mariadb() {
    let table = format!("tb_keys_case_{}", std::process::id());
    assert_eq!(case_replay(&support::mysql_url(), &table), (1, 2));
}

#[tokio::test]
async fn cleanup_keeps_a_row_that_matches_the_prefix_only_without_case_on_mariadb() {
    let my = support::mysql().await;
    let table = format!("tb_keys_user_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&my)
        .await
        .unwrap();
    // The user's table: a case-insensitive key column (the server's default collation).
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {table} (k VARCHAR(255) PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT)"
    )))
    .execute(&my)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} VALUES ('TBKEYS:user', x'6d696e65', NULL)"
    )))
    .execute(&my)
    .await
    .unwrap();
    let out = cleanup_scenario(&support::mysql_url(), &table);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let rows: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT k FROM {table}")))
            .fetch_all(&my)
            .await
            .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&my)
        .await
        .unwrap();
    assert_eq!(rows, vec!["TBKEYS:user".to_string()]);
}

#[tokio::test]
async fn cleanup_keeps_a_row_that_matches_the_prefix_only_without_case_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("user.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query(
        "CREATE TABLE user_cache (k TEXT PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)",
    )
    .execute(&pool)
    .await
    .unwrap();
    // Also a key with GLOB's special characters after the prefix's letters.
    for k in ["TBKEYS:user", "tbkeys*other"] {
        sqlx::query("INSERT INTO user_cache VALUES (?, x'01', NULL)")
            .bind(k)
            .execute(&pool)
            .await
            .unwrap();
    }
    let out = cleanup_scenario(&format!("sqlite:{}", db.display()), "user_cache");
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let mut rows: Vec<String> = sqlx::query_scalar("SELECT k FROM user_cache")
        .fetch_all(&pool)
        .await
        .unwrap();
    rows.sort();
    assert_eq!(
        rows,
        vec!["TBKEYS:user".to_string(), "tbkeys*other".to_string()]
    );
}
