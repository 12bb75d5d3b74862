//! The SQL tier's held connections (one per worker lane, `src/tier/sql_lanes.rs`) against a real
//! PostgreSQL: an operation cancelled by its timeout does not leave its connection in its lane,
//! workers sharing a lane report their wait as `pool_wait`, and statements outside the measured
//! phases still get a connection while every lane holds one. Each test uses its own table; a
//! table lock taken by the test (on its own connection) stands in for a slow server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::time::{Duration, Instant};

use sqlx::AssertSqlSafe;
use tierbench::tier::Tier;
use tierbench::tier::config::{TierConfig, TierKindConfig};
use tierbench::tier::ownership::key_names::KeyNames;
use tierbench::tier::sql::SqlSettings;

/// How long the tier may take to serve again once the lock is gone (a failure limit, not a goal).
const RECOVERY: Duration = Duration::from_secs(10);

async fn tier(table: &str, pool: u32, timeout: Duration) -> Tier {
    let admin = support::postgres().await;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&admin)
        .await
        .unwrap();
    let config = TierConfig {
        name: "l3".into(),
        kind: TierKindConfig::Sql(SqlSettings {
            url: support::postgres_url(),
            table: table.into(),
            pool,
            ttl: None,
            timeout,
            keep: false,
            tls: None,
        }),
        compression: None,
    };
    Tier::connect(&config, &KeyNames::generated("tbspeed:", 1000))
        .await
        .unwrap()
}

async fn get(tier: &Tier, key: &str, lane: usize, wait: &mut u64) -> Option<Vec<u8>> {
    tier.get(key, lane, wait).await.unwrap().map(|b| b.to_vec())
}

/// Locks `table` against every other session until the returned transaction ends.
async fn lock(table: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = support::postgres().await.begin().await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx
}

async fn table_exists(table: &str) -> bool {
    let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::TEXT")
        .bind(table)
        .fetch_one(&support::postgres().await)
        .await
        .unwrap();
    found.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_given_up_at_its_timeout_does_not_leave_its_connection_in_its_lane() {
    let table = "tb_speed_timeout";
    let tier = tier(table, 1, Duration::from_millis(300)).await;
    tier.set("tbspeed:one", b"one", 0, &mut 0).await.unwrap();
    tier.set("tbspeed:two", b"two", 0, &mut 0).await.unwrap();

    let tx = lock(table).await;
    let given_up = tier.get("tbspeed:one", 0, &mut 0).await;
    let message = given_up
        .expect_err("a read of a locked table answered")
        .to_string();
    assert!(message.contains("timeout"), "{message}");
    tx.rollback().await.unwrap();

    // The lane's next reads get their own answers, never the abandoned read's.
    let deadline = Instant::now() + RECOVERY;
    loop {
        match tier.get("tbspeed:two", 0, &mut 0).await {
            Ok(value) => {
                assert_eq!(value.as_deref(), Some(&b"two"[..]));
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "not served again: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        get(&tier, "tbspeed:one", 0, &mut 0).await.as_deref(),
        Some(&b"one"[..])
    );
    tier.cleanup(false).await.unwrap();
    assert!(
        !table_exists(table).await,
        "the test's table was left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_sharing_one_connection_report_their_wait_for_it_as_pool_wait() {
    let table = "tb_speed_shared";
    // One connection, two workers (lanes 0 and 1): lane 1 waits while lane 0's read is held up.
    let tier = tier(table, 1, Duration::from_secs(5)).await;
    tier.set("tbspeed:k", b"v", 0, &mut 0).await.unwrap();
    let (mut first_wait, mut second_wait) = (0u64, 0u64);
    let tx = lock(table).await;
    let held_for = Duration::from_millis(400);
    let (first, second, ()) = tokio::join!(
        get(&tier, "tbspeed:k", 0, &mut first_wait),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            get(&tier, "tbspeed:k", 1, &mut second_wait).await
        },
        async {
            tokio::time::sleep(held_for).await;
            tx.rollback().await.unwrap();
        },
    );
    assert_eq!(first.as_deref(), Some(&b"v"[..]));
    assert_eq!(second.as_deref(), Some(&b"v"[..]));
    // Lane 0 had its connection at hand; lane 1 waited for it about as long as the lock held.
    assert!(
        first_wait < 50_000_000,
        "lane 0 waited {first_wait} ns for the connection it holds"
    );
    assert!(
        second_wait >= 250_000_000,
        "lane 1 reported {second_wait} ns of wait for a connection held ~350 ms by lane 0"
    );
    tier.cleanup(false).await.unwrap();
    assert!(
        !table_exists(table).await,
        "the test's table was left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_and_cleanup_get_a_connection_while_every_lane_holds_one() {
    let table = "tb_speed_release";
    // A short timeout: a statement waiting for a connection the lanes hold would fail.
    let tier = tier(table, 2, Duration::from_millis(500)).await;
    for lane in 0..4 {
        let key = format!("tbspeed:{lane}");
        tier.set(&key, b"x", lane, &mut 0).await.unwrap();
        assert!(get(&tier, &key, lane, &mut 0).await.is_some());
    }
    assert_eq!(tier.entries().await.unwrap(), Some(4));
    // The lanes acquire again after the count, and counting again works.
    assert!(get(&tier, "tbspeed:0", 0, &mut 0).await.is_some());
    assert!(get(&tier, "tbspeed:1", 1, &mut 0).await.is_some());
    assert_eq!(tier.entries().await.unwrap(), Some(4));
    tier.cleanup(false).await.unwrap();
    assert!(
        !table_exists(table).await,
        "the test's table was left behind"
    );
}

#[tokio::test]
async fn a_measured_operation_does_not_carry_the_pool_acquire_inline() {
    // sqlx's pool acquire future is ~8.6 KiB; held inline (once per dialect) it made a get's
    // future ~18 KiB, moved several times per operation. Only a lane without a connection
    // acquires, through a box: the future of a get or set stays a few KiB at most.
    let tier = tier("tb_speed_sizes", 1, Duration::from_secs(5)).await;
    let mut wait = 0;
    let get = tier.get("tbspeed:k", 0, &mut wait);
    let get_size = std::mem::size_of_val(&get);
    drop(get);
    let set = tier.set("tbspeed:k", b"v", 0, &mut wait);
    let set_size = std::mem::size_of_val(&set);
    drop(set);
    assert!(get_size < 4096, "a get's future is {get_size} bytes");
    assert!(set_size < 4096, "a set's future is {set_size} bytes");
    tier.cleanup(false).await.unwrap();
}
