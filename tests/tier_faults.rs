//! Tiers under faults, against real servers: a Redis server that goes away and comes back, and
//! PostgreSQL / MariaDB connections killed under a pool. Only what the tests start or open is
//! stopped or killed: a private `redis-server` on a free port, and the connections of this test's
//! own tier (found by `application_name` on PostgreSQL, by a user made for the test on MariaDB).
//! The bounds below are generous failure limits, not speed goals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::time::{Duration, Instant};

use sqlx::AssertSqlSafe;
use tierbench::tier::config::{TierConfig, TierKindConfig};
use tierbench::tier::ownership::key_names::KeyNames;
use tierbench::tier::redis::RedisSettings;
use tierbench::tier::sql::SqlSettings;
use tierbench::tier::{Tier, TierError};

/// How long a recovering tier may take to serve again.
const RECOVERY: Duration = Duration::from_secs(10);

use support::private_redis::{PrivateRedis, free_port};

fn redis_config(url: String, timeout: Duration) -> TierConfig {
    TierConfig {
        name: "l2".into(),
        kind: TierKindConfig::Redis(RedisSettings {
            url,
            connections: 2,
            timeout,
            ttl: None,
            pipeline: 1,
            tls: None,
            cluster: false,
            seeds: Vec::new(),
            hash: None,
        }),
        compression: None,
    }
}

fn sql_config(url: String, table: &str, pool: u32) -> TierConfig {
    TierConfig {
        name: "l3".into(),
        kind: TierKindConfig::Sql(SqlSettings {
            url,
            table: table.into(),
            pool,
            ttl: None,
            timeout: Duration::from_secs(5),
            keep: false,
            tls: None,
        }),
        compression: None,
    }
}

async fn set(tier: &Tier, key: &str, value: &[u8], lane: usize) -> Result<(), TierError> {
    tier.set(key, value, lane, &mut 0).await
}

async fn get(tier: &Tier, key: &str, lane: usize) -> Result<Option<Vec<u8>>, TierError> {
    Ok(tier.get(key, lane, &mut 0).await?.map(|b| b.to_vec()))
}

/// Writes and reads back `count` keys on every lane.
async fn round_trip(tier: &Tier, prefix: &str, count: usize) {
    for i in 0..count {
        let key = format!("{prefix}{i}");
        let value = format!("value-{i}");
        set(tier, &key, value.as_bytes(), i).await.unwrap();
        assert_eq!(
            get(tier, &key, i).await.unwrap().as_deref(),
            Some(value.as_bytes())
        );
    }
}

/// Runs a write + read on `lane` until one succeeds; returns the failures before it.
async fn until_served(tier: &Tier, key: &str, lane: usize) -> usize {
    let deadline = Instant::now() + RECOVERY;
    let mut failures = 0;
    loop {
        let attempt = async {
            set(tier, key, b"back", lane).await?;
            get(tier, key, lane).await
        };
        match attempt.await {
            Ok(value) => {
                assert_eq!(value.as_deref(), Some(&b"back"[..]));
                return failures;
            }
            Err(e) => {
                failures += 1;
                assert!(
                    Instant::now() < deadline,
                    "lane {lane} not served {RECOVERY:?} after the fault ({failures} failures), last: {e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_connections_fail_fast_while_the_server_is_away_and_reconnect_when_it_is_back() {
    let timeout = Duration::from_millis(500);
    let server = PrivateRedis::start(free_port());
    let tier = Tier::connect(
        &redis_config(server.url(), timeout),
        &KeyNames::generated("tbfault:", 1000),
    )
    .await
    .unwrap();
    round_trip(&tier, "tbfault:before:", 20).await;

    let port = server.kill();
    for i in 0..10 {
        let started = Instant::now();
        let outcome = get(&tier, "tbfault:before:1", i).await;
        let took = started.elapsed();
        assert!(
            outcome.is_err(),
            "a get with the server gone succeeded: {outcome:?}"
        );
        assert!(
            took < 2 * timeout,
            "a get with the server gone took {took:?}, more than twice the timeout {timeout:?}"
        );
        eprintln!("server gone, get {i}: {took:?}, {}", outcome.unwrap_err());
    }

    let server = PrivateRedis::start(port);
    for lane in 0..2 {
        let failures = until_served(&tier, "tbfault:after", lane).await;
        eprintln!("server back, lane {lane} served after {failures} failures");
    }
    // Every lane is back, and nothing that was written before survived the restart (no save).
    round_trip(&tier, "tbfault:again:", 20).await;
    assert_eq!(get(&tier, "tbfault:before:1", 0).await.unwrap(), None);
    tier.cleanup(false).await.unwrap();
    assert_eq!(tier.entries().await.unwrap(), Some(0));
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_tier_whose_server_stops_answering_fails_each_operation_within_the_timeout() {
    let timeout = Duration::from_millis(300);
    let server = PrivateRedis::start(free_port());
    let tier = Tier::connect(
        &redis_config(server.url(), timeout),
        &KeyNames::generated("tbfault:", 1000),
    )
    .await
    .unwrap();
    let mut admin = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // CLIENT PAUSE holds every other client's commands for 1.5 s: the tier's wait for an
    // answer is bounded by its timeout, and the connections stay up.
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1500)
        .arg("ALL")
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
    let paused = Instant::now();
    for lane in 0..4 {
        let started = Instant::now();
        let outcome = get(&tier, "tbfault:slow", lane).await;
        let took = started.elapsed();
        assert!(outcome.is_err(), "a get against a blocked server succeeded");
        assert!(
            took < 2 * timeout,
            "a get took {took:?} (timeout {timeout:?})"
        );
    }
    tokio::time::sleep(Duration::from_millis(1600).saturating_sub(paused.elapsed())).await;
    // A timeout drops no connection: the tier serves again at once.
    for lane in 0..2 {
        assert_eq!(until_served(&tier, "tbfault:slow", lane).await, 0);
    }
    tier.cleanup(false).await.unwrap();
}

/// A URL with a query parameter added.
fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

/// Issues operations until `streak` in a row succeed; returns the failures before that.
async fn recovers(tier: &Tier, key: &str, streak: usize) -> usize {
    let deadline = Instant::now() + RECOVERY;
    let (mut failures, mut served, mut op) = (0, 0, 0);
    while served < streak {
        op += 1;
        let attempt = async {
            set(tier, key, b"back", op).await?;
            get(tier, key, op).await
        };
        match attempt.await {
            Ok(value) => {
                assert_eq!(value.as_deref(), Some(&b"back"[..]));
                served += 1;
            }
            Err(e) => {
                failures += 1;
                served = 0;
                assert!(
                    Instant::now() < deadline,
                    "not served {RECOVERY:?} after the fault ({failures} failures), last: {e}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_pool_recovers_from_connections_killed_by_the_server() {
    let admin = support::postgres().await;
    let table = "tierbench_faults_pg";
    let app = format!("tierbench-faults-{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&admin)
        .await
        .unwrap();
    let pool = 3;
    let url = with_param(&support::postgres_url(), &format!("application_name={app}"));
    let tier = Tier::connect(
        &sql_config(url, table, pool),
        &KeyNames::generated("tbfault:", 1000),
    )
    .await
    .unwrap();
    round_trip(&tier, "tbfault:pg:", 10).await;

    let backends = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                    AND pid <> pg_backend_pid() AND application_name = $1 ORDER BY pid";
    let before: Vec<i32> = sqlx::query_scalar(backends)
        .bind(&app)
        .fetch_all(&admin)
        .await
        .unwrap();
    assert!(
        !before.is_empty(),
        "no connection with application_name={app}"
    );
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND application_name = $1",
    )
    .bind(&app)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(killed.iter().all(|k| *k), "{killed:?}");

    let failures = recovers(&tier, "tbfault:pg:after", 4 * pool as usize).await;
    eprintln!(
        "{} connections killed, {failures} failed operations",
        before.len()
    );
    // Each killed connection fails at most the one operation that finds it dead.
    assert!(
        failures <= 2 * before.len(),
        "{failures} failures for {} killed connections",
        before.len()
    );
    let after: Vec<i32> = sqlx::query_scalar(backends)
        .bind(&app)
        .fetch_all(&admin)
        .await
        .unwrap();
    assert!(
        !after.is_empty() && after.iter().all(|pid| !before.contains(pid)),
        "the pool still holds killed connections: before {before:?}, after {after:?}"
    );

    // The default application_name lets users find tierbench's connections too.
    let plain = Tier::connect(
        &sql_config(support::postgres_url(), table, 1),
        &KeyNames::generated("tbfault:", 1000),
    )
    .await
    .unwrap();
    let named: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tierbench'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(named >= 1, "no connection named `tierbench`");
    drop(plain);

    tier.cleanup(false).await.unwrap();
    let left: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::TEXT")
        .bind(table)
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(left, None, "the test's table was left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_pool_recovers_from_connections_killed_by_the_server() {
    let admin = support::mysql().await;
    let table = "tierbench_faults_my";
    // A user of the test's own: its connections are the tier's, and only those are killed.
    let user = format!("tbfault_{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "CREATE USER IF NOT EXISTS '{user}'@'%'"
    )))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "GRANT ALL ON test.* TO '{user}'@'%'"
    )))
    .execute(&admin)
    .await
    .unwrap();
    let mysql = support::mysql_url();
    let url = mysql.replacen("://root@", &format!("://{user}@"), 1);
    assert_ne!(url, mysql, "TIERBENCH_MYSQL_URL should connect as root@");

    let (checker, who) = (admin.clone(), user.clone());
    let outcome = async move {
        let (admin, user) = (checker, who);
        let pool = 3;
        let tier = Tier::connect(
            &sql_config(url, table, pool),
            &KeyNames::generated("tbfault:", 1000),
        )
        .await
        .unwrap();
        round_trip(&tier, "tbfault:my:", 10).await;
        let ids: Vec<u64> = sqlx::query_scalar(
            "SELECT CAST(ID AS UNSIGNED) FROM information_schema.PROCESSLIST WHERE USER = ?",
        )
        .bind(&user)
        .fetch_all(&admin)
        .await
        .unwrap();
        assert!(!ids.is_empty(), "no connection of user {user}");
        for id in &ids {
            sqlx::query(AssertSqlSafe(format!("KILL CONNECTION {id}")))
                .execute(&admin)
                .await
                .unwrap();
        }
        let failures = recovers(&tier, "tbfault:my:after", 4 * pool as usize).await;
        eprintln!(
            "{} connections killed, {failures} failed operations",
            ids.len()
        );
        assert!(
            failures <= 2 * ids.len(),
            "{failures} failures for {} killed connections",
            ids.len()
        );
        let after: Vec<u64> = sqlx::query_scalar(
            "SELECT CAST(ID AS UNSIGNED) FROM information_schema.PROCESSLIST WHERE USER = ?",
        )
        .bind(&user)
        .fetch_all(&admin)
        .await
        .unwrap();
        assert!(
            !after.is_empty() && after.iter().all(|id| !ids.contains(id)),
            "the pool still holds killed connections: before {ids:?}, after {after:?}"
        );
        tier.cleanup(false).await.unwrap();
    };
    // Run the checks, then remove the user whatever happened.
    let result = tokio::spawn(outcome).await;
    sqlx::query(AssertSqlSafe(format!("DROP USER IF EXISTS '{user}'@'%'")))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&admin)
        .await
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}
