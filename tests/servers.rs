//! Real Redis, PostgreSQL, MariaDB and SQLite: tierbench touches only what it wrote, refuses
//! what it must not use, fails clearly when a server is down, and never shows a password.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::{all_output, tierbench, write_scenario};

fn stack_scenario(redis: &str, sql: &str, table: &str, prefix: &str) -> String {
    format!(
        "name: stack\nseed: 5\ntiers:\n  - {{ name: l1, kind: memory, max_entries: 100 }}\n  - {{ name: l2, kind: redis, url: \"{redis}\" }}\n\
         \x20 - {{ name: l3, kind: sql, url: \"{sql}\", table: {table}, pool: 2 }}\n\
         data: {{ keys: {{ count: 400, prefix: \"{prefix}\" }}, values: {{ shape: json, size: 100 }} }}\n\
         workloads:\n  - {{ name: each, target: l3, preload: true, ops: 500, concurrency: 4, mix: {{ get: 8, set: 2 }} }}\n\
         \x20 - {{ name: stacked, target: stack, ops: 2000, concurrency: 4, mix: {{ get: 8, set: 1, delete: 1 }} }}\n"
    )
}

#[tokio::test]
async fn foreign_keys_and_tables_are_untouched_and_tierbench_cleans_up_its_own() {
    let mut redis = support::redis();
    let pg = support::postgres().await;
    // Planted beforehand: a key outside the prefix, a key sharing the prefix's start, a table.
    redis::cmd("SET")
        .arg("foreign:keep-me")
        .arg("precious")
        .query::<()>(&mut redis)
        .unwrap();
    redis::cmd("SET")
        .arg("tbtest:stacX")
        .arg("also mine")
        .query::<()>(&mut redis)
        .unwrap();
    sqlx::query("DROP TABLE IF EXISTS foreign_table")
        .execute(&pg)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE foreign_table (id INT PRIMARY KEY, note TEXT)")
        .execute(&pg)
        .await
        .unwrap();
    sqlx::query("INSERT INTO foreign_table VALUES (1, 'precious')")
        .execute(&pg)
        .await
        .unwrap();
    sqlx::query("DROP TABLE IF EXISTS tierbench_itest")
        .execute(&pg)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "stack.yaml",
        &stack_scenario(
            &support::redis_url(),
            &support::postgres_url(),
            "tierbench_itest",
            "tbtest:stack:",
        ),
    );
    let results = dir.path().join("r.json");
    let out = tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let stacked = &doc["workloads"][1];
    assert_eq!(
        stacked["ops"].as_u64().unwrap() + stacked["errors"].as_u64().unwrap(),
        2000
    );
    let l3 = &doc["workloads"][0]["tiers"][0];
    // 400 keys are too few to measure memory per entry: withheld, with the reason.
    assert!(l3["memory"].is_null(), "{l3}");
    let warnings = doc["workloads"][0]["warnings"].to_string();
    assert!(
        warnings.contains("too few entries to measure"),
        "{warnings}"
    );
    assert!(
        l3["pool_wait"]["count"].as_u64().unwrap() > 0,
        "pool waits are measured apart"
    );
    let served = stacked["served_by"].as_object().unwrap();
    let reads: u64 = served.values().map(|s| s["count"].as_u64().unwrap()).sum();
    assert_eq!(
        reads,
        stacked["operations"]["get"]["count"].as_u64().unwrap(),
        "every read is served by someone"
    );

    let kept: String = redis::cmd("GET")
        .arg("foreign:keep-me")
        .query(&mut redis)
        .unwrap();
    assert_eq!(kept, "precious");
    let kept: String = redis::cmd("GET")
        .arg("tbtest:stacX")
        .query(&mut redis)
        .unwrap();
    assert_eq!(kept, "also mine");
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("tbtest:stack:*")
        .query(&mut redis)
        .unwrap();
    assert!(left.is_empty(), "tierbench's keys are removed: {left:?}");
    let note: String = sqlx::query_scalar("SELECT note FROM foreign_table WHERE id = 1")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(note, "precious");
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass('tierbench_itest')::TEXT")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(exists, None, "the table tierbench created is dropped");
    redis::cmd("DEL")
        .arg("foreign:keep-me")
        .arg("tbtest:stacX")
        .query::<()>(&mut redis)
        .unwrap();
    sqlx::query("DROP TABLE foreign_table")
        .execute(&pg)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_existing_table_with_other_columns_is_refused_and_kept() {
    let my = support::mysql().await;
    sqlx::query("DROP TABLE IF EXISTS tierbench_wrong")
        .execute(&my)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE tierbench_wrong (id INT PRIMARY KEY, payload TEXT)")
        .execute(&my)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tierbench_wrong VALUES (1, 'mine')")
        .execute(&my)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "wrong.yaml",
        &format!(
            "name: wrong\ntiers: [{{ name: l3, kind: sql, url: \"{}\", table: tierbench_wrong }}]\n\
             data: {{ keys: {{ count: 10 }}, values: {{ size: 8 }} }}\nworkloads: [{{ name: w, target: l3, ops: 10, mix: {{ get: 1 }} }}]\n",
            support::mysql_url()
        ),
    );
    let out = tierbench(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains("tier `l3`") && text.contains("not tierbench's (k, v, expires_at)"),
        "{text}"
    );
    let payload: String = sqlx::query_scalar("SELECT payload FROM tierbench_wrong WHERE id = 1")
        .fetch_one(&my)
        .await
        .unwrap();
    assert_eq!(payload, "mine");
    sqlx::query("DROP TABLE tierbench_wrong")
        .execute(&my)
        .await
        .unwrap();
}

#[test]
fn a_server_that_is_down_exits_3_naming_tier_and_url_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in [
        ("redis", "redis://:s3cr3t-pw@127.0.0.1:1/0"),
        ("sql", "postgres://bob:s3cr3t-pw@127.0.0.1:1/test"),
        ("sql", "mysql://bob:s3cr3t-pw@127.0.0.1:1/test"),
    ] {
        let path = write_scenario(
            dir.path(),
            "down.yaml",
            &format!(
                "name: down\ntiers: [{{ name: l2, kind: {kind}, url: \"{url}\" }}]\n\
                 data: {{ keys: {{ count: 10 }}, values: {{ size: 8 }} }}\nworkloads: [{{ name: w, target: l2, ops: 10, mix: {{ get: 1 }} }}]\n"
            ),
        );
        let json = dir.path().join("down.json");
        let out = tierbench(&[
            "run",
            path.to_str().unwrap(),
            "--report",
            "text",
            "--report",
            &format!("json={}", json.display()),
        ]);
        let text = all_output(&out) + &std::fs::read_to_string(&json).unwrap_or_default();
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(
            text.contains("tier `l2`") && text.contains("127.0.0.1:1"),
            "{text}"
        );
        assert!(!text.contains("s3cr3t-pw"), "a password leaked: {text}");
        let validated = tierbench(&["validate", "--print", path.to_str().unwrap()]);
        assert!(!all_output(&validated).contains("s3cr3t-pw"));
    }
}

#[tokio::test]
async fn a_password_accepted_by_the_server_never_reaches_reports() {
    // PostgreSQL here trusts local connections, so the password is sent and ignored: the run
    // succeeds and every report must still hide it.
    let _ = support::postgres().await;
    let url = support::postgres_url().replacen("postgres@", "postgres:hunter2-pw@", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "pw.yaml",
        &format!(
            "name: pw\ntiers: [{{ name: l3, kind: sql, url: \"{url}\", table: tierbench_pw }}]\n\
             data: {{ keys: {{ count: 20, prefix: \"tbtest:pw:\" }}, values: {{ size: 8 }} }}\nworkloads: [{{ name: w, target: l3, ops: 50, mix: {{ get: 1, set: 1 }} }}]\n"
        ),
    );
    let json = dir.path().join("pw.json");
    let md = dir.path().join("pw.md");
    let out = tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        "text",
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("markdown={}", md.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let text = all_output(&out)
        + &std::fs::read_to_string(&json).unwrap()
        + &std::fs::read_to_string(&md).unwrap();
    assert!(!text.contains("hunter2-pw"), "a password leaked");
    assert!(
        text.contains("postgres:***@"),
        "the URL is recorded, redacted"
    );
}

#[tokio::test]
async fn sqlite_in_a_file_keeps_a_table_it_did_not_create_and_removes_only_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let url = format!("sqlite:{}", db.display());
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query(
        "CREATE TABLE shared_cache (k TEXT PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO shared_cache VALUES ('app:session:1', x'01', NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let path = write_scenario(
        dir.path(),
        "lite.yaml",
        &format!(
            "name: lite\ntiers: [{{ name: l3, kind: sql, url: \"{url}\", table: shared_cache }}]\n\
             data: {{ keys: {{ count: 50, prefix: \"tbtest:lite:\" }}, values: {{ size: 16 }} }}\nworkloads: [{{ name: w, target: l3, preload: true, ops: 200, mix: {{ get: 1, set: 1 }} }}]\n"
        ),
    );
    let out = tierbench(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let rows: Vec<String> = sqlx::query_scalar("SELECT k FROM shared_cache")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, vec!["app:session:1".to_string()]);
}
