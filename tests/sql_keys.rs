//! SQL tiers treat keys as bytes, as a cache does: on PostgreSQL, MariaDB and SQLite, keys
//! that differ only in case are different rows (MariaDB's default collation ignores case);
//! cleaning up the prefix's rows leaves a user's row whose key matches the prefix only when case
//! is ignored (SQLite's LIKE ignores it); and a user's table whose key column is not byte-exact
//! is refused before anything is written to it.

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

/// Runs each statement on `$pool` (any sqlx pool), in order.
macro_rules! execute {
    ($pool:expr, $($statement:expr),+ $(,)?) => {
        $(
            sqlx::query(sqlx::AssertSqlSafe($statement))
                .execute(&$pool)
                .await
                .unwrap();
        )+
    };
}

/// The rows of `$table` in `$pool`.
macro_rules! count_rows {
    ($pool:expr, $table:expr) => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            $table
        )))
        .fetch_one(&$pool)
        .await
        .unwrap()
    };
}

/// A pool on the SQLite database file `path` (created).
async fn sqlite_file(path: &std::path::Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    sqlx::SqlitePool::connect_with(options).await.unwrap()
}

/// The refusal a run on a table with a loose key column must give: exit 3, the reason and a fix,
/// before anything is written.
fn assert_refused(out: &std::process::Output, reason: &str, fix: &str) {
    let text = all_output(out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("key column `k`"), "{text}");
    assert!(text.contains(reason), "{text}");
    assert!(text.contains(fix), "{text}");
}

#[tokio::test]
async fn a_user_table_whose_key_ignores_case_is_refused_and_left_untouched_on_mariadb() {
    let my = support::mysql().await;
    let table = format!("tb_keys_user_{}", std::process::id());
    // The user's table: a case-insensitive key column (the server's default collation), holding
    // a row that tierbench's key `tbkeys:1` would hit without case: before the check, the
    // preload's upsert replaced its value, and the byte-exact cleanup left it behind.
    execute!(
        my,
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} (k VARCHAR(255) PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT)"
        ),
        format!("INSERT INTO {table} VALUES ('TBKEYS:1', x'6d696e65', NULL)"),
    );
    let out = cleanup_scenario(&support::mysql_url(), &table);
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT k, v FROM {table}")))
            .fetch_all(&my)
            .await
            .unwrap();
    execute!(my, format!("DROP TABLE {table}"));
    assert_refused(&out, "ignores case", "MODIFY k VARBINARY(512)");
    assert_eq!(rows, vec![("TBKEYS:1".to_string(), b"mine".to_vec())]);
}

#[tokio::test]
async fn a_user_table_whose_key_pads_with_spaces_is_refused_on_postgres() {
    let pg = support::postgres().await;
    let table = format!("tb_keys_char_{}", std::process::id());
    execute!(
        pg,
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} (k CHARACTER(40) PRIMARY KEY, v BYTEA NOT NULL, expires_at BIGINT)"
        ),
    );
    let out = cleanup_scenario(&support::postgres_url(), &table);
    let rows = count_rows!(pg, table);
    execute!(pg, format!("DROP TABLE {table}"));
    assert_refused(&out, "character(40)", "TYPE TEXT COLLATE \"C\"");
    assert_eq!(rows, 0, "nothing may be written to a refused table");
}

#[tokio::test]
async fn a_user_table_whose_key_is_nocase_is_refused_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nocase.db");
    let pool = sqlite_file(&db).await;
    execute!(
        pool,
        "CREATE TABLE user_cache (k TEXT COLLATE NOCASE PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)"
    );
    let out = cleanup_scenario(&format!("sqlite:{}", db.display()), "user_cache");
    let rows = count_rows!(pool, "user_cache");
    assert_refused(&out, "COLLATE NOCASE", "no COLLATE clause");
    assert_eq!(rows, 0, "nothing may be written to a refused table");
}

#[tokio::test]
async fn cleanup_keeps_a_row_that_matches_the_prefix_only_without_case_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("user.db");
    let pool = sqlite_file(&db).await;
    // Also a key with GLOB's special characters after the prefix's letters.
    execute!(
        pool,
        "CREATE TABLE user_cache (k TEXT PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)",
        "INSERT INTO user_cache VALUES ('TBKEYS:user', x'01', NULL), ('tbkeys*other', x'01', NULL)",
    );
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

#[tokio::test]
async fn a_mixed_case_table_name_is_the_table_postgres_resolves_it_to() {
    // PostgreSQL folds the unquoted `TbKeysMixed_N` to `tbkeysmixed_N`, as tierbench's statements
    // are written: setup must find the user's table under that name (it used to look for the
    // name as written, find nothing and fail creating a table that exists).
    let pg = support::postgres().await;
    let table = format!("tbkeysmixed_{}", std::process::id());
    execute!(
        pg,
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} (k TEXT COLLATE \"C\" PRIMARY KEY, v BYTEA NOT NULL, expires_at BIGINT)"
        ),
        format!("INSERT INTO {table} VALUES ('user:1', '\\x6d696e65', NULL)"),
    );
    let written = format!("TbKeysMixed_{}", std::process::id());
    let out = cleanup_scenario(&support::postgres_url(), &written);
    let rows: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT k FROM {table}")))
            .fetch_all(&pg)
            .await
            .unwrap();
    execute!(pg, format!("DROP TABLE {table}"));
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(
        rows,
        vec!["user:1".to_string()],
        "the user's table and row stay"
    );
}

#[tokio::test]
async fn an_older_tierbench_table_whose_key_ignores_case_is_refused_and_its_marker_said() {
    // As an interrupted run of an earlier tierbench left its table: a VARCHAR key with the
    // server's default collation, the marker row, some rows under the prefix.
    let my = support::mysql().await;
    let table = format!("tb_keys_older_{}", std::process::id());
    execute!(
        my,
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} (k VARCHAR(512) PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT)"
        ),
        format!(
            "INSERT INTO {table} VALUES ('__tierbench_created__', x'6f6c64', NULL), \
             ('{PREFIX}1', x'01', NULL), ('{PREFIX}2', x'02', NULL)"
        ),
    );
    let out = cleanup_scenario(&support::mysql_url(), &table);
    let rows = count_rows!(my, table);
    execute!(my, format!("DROP TABLE {table}"));
    assert_refused(&out, "ignores case", "MODIFY k VARBINARY(512)");
    let text = all_output(&out);
    assert!(text.contains("marker row"), "{text}");
    assert!(text.contains(&format!("DROP TABLE {table}")), "{text}");
    assert_eq!(rows, 3, "nothing removed or written");
}
