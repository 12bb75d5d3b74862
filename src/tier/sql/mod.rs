//! The SQL tier (an L3): a key/value table in SQLite, PostgreSQL or MariaDB/MySQL through sqlx.
//!
//! The pool is set up for measuring: min = max connections (all opened before the run), no
//! test-before-acquire, no idle or lifetime churn, so a measured operation never pays for a
//! connect. A measured operation does not acquire from the pool either: each worker (lane) holds
//! a connection between its operations (`sql_lanes.rs`), and the time to take it (waiting for
//! the lane's other workers, or a pool acquire after a fault) is returned apart from the query
//! time as the tier's `pool_wait`. tierbench creates its table when absent (and drops it at the
//! end only if it created it), refuses an existing table whose columns differ or whose key
//! column is not byte-exact (`sql_schema.rs`).
//!
//! A table of the user's is used only when it holds none of the run's names: setup looks each
//! one up (`claim.rs`, `sql_claim.rs`) and refuses, naming the row, when one is there; the run
//! then deletes exactly its own names, never rows matched by a pattern.
//!
//! Leftovers: a table tierbench creates carries a marker row (`marker`) until it is dropped. A
//! setup that finds an existing table with that row (a run was killed before dropping it, or
//! kept it) takes the table as its own: it deletes the rows left in it before measuring, says
//! so, and drops the table at the end. In the user's table a `{prefix}__tierbench__` row records
//! a run going on and its key space, so a later run removes exactly an interrupted run's names.
//!
//! Faults: every operation (waiting for a connection, then the query) is bounded by the tier's
//! `timeout`. A connection the server killed (`pg_terminate_backend`, `KILL`, a restart) fails
//! the one operation that uses it, which returns it to the pool instead of its lane; sqlx finds
//! it broken there (it pings every released connection) and opens a replacement, so the pool
//! recovers with no check added before each operation. PostgreSQL connections carry
//! `application_name=tierbench` (unless the URL names another): see `pg_stat_activity`.

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use quanta::Clock;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{MySql, Postgres, Sqlite};

use super::error::{TierError, sql_message};
use crate::redact::redact_url;
use crate::tier::ownership::claim::{count_existing, release, remove_all};
use crate::tier::ownership::key_names::KeyNames;
use crate::tier::sql::lanes::{Lanes, create_in_wal_mode, measuring_pool, probe};
use crate::tier::sql::schema::{Existing, inspect_mysql, inspect_postgres, inspect_sqlite};
use crate::tier::sql::text::{Queries, create_table, dialect, prefix_pattern, queries, sql};
pub use crate::tier::sql::tls::{SqlTls, SqlTlsMode};
use crate::tier::sql::tls::{explain, mysql_options, pg_options};

/// The three dialects, each with its own pool and held connections (dispatched by `match`, not
/// `dyn`).
enum Pool {
    Sqlite(Lanes<Sqlite>),
    Postgres(Lanes<Postgres>),
    MySql(Lanes<MySql>),
}

/// Runs the same code against whichever pool the tier has (statements outside the measured
/// phases: call `release` first, so that the lanes hold no connection the pool needs).
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite(lanes) => {
                let $p = lanes.pool();
                $body
            }
            Pool::Postgres(lanes) => {
                let $p = lanes.pool();
                $body
            }
            Pool::MySql(lanes) => {
                let $p = lanes.pool();
                $body
            }
        }
    };
}

/// Runs one measured statement on `lane`'s held connection (`$c`); adds the time taken to get
/// the connection to `$wait`, and keeps the connection in its lane only if the statement
/// succeeded (see `sql_lanes.rs`).
macro_rules! on_lane {
    ($tier:expr, $lane:expr, $start:expr, $wait:expr, $c:ident => $body:expr) => {
        match &$tier.pool {
            Pool::Sqlite(lanes) => on_lane!(@run lanes, $tier, $lane, $start, $wait, $c => $body),
            Pool::Postgres(lanes) => on_lane!(@run lanes, $tier, $lane, $start, $wait, $c => $body),
            Pool::MySql(lanes) => on_lane!(@run lanes, $tier, $lane, $start, $wait, $c => $body),
        }
    };
    (@run $lanes:ident, $tier:expr, $lane:expr, $start:expr, $wait:expr, $c:ident => $body:expr) => {{
        let mut taken = $lanes.take($lane).await?;
        *$wait += $tier.clock.delta_as_nanos($start, $tier.clock.raw());
        let $c = taken.conn();
        let result = $body;
        if result.is_ok() {
            taken.keep();
        }
        result
    }};
}

/// How to reach and use the database.
#[derive(Debug, Clone)]
pub struct SqlSettings {
    /// Any sqlx URL: `sqlite:path`, `sqlite::memory:`, `postgres://`, `mysql://`.
    pub url: String,
    /// Table name (an identifier).
    pub table: String,
    /// Pooled connections (min = max).
    pub pool: u32,
    /// Time to live of written rows.
    pub ttl: Option<Duration>,
    /// Bound of every operation: the wait for a pooled connection plus the query.
    pub timeout: Duration,
    /// Keep the table and rows at the end.
    pub keep: bool,
    /// TLS of a PostgreSQL or MariaDB/MySQL connection, over the URL's parameters.
    pub tls: Option<SqlTls>,
}

/// A connected SQL tier.
pub struct SqlTier {
    pool: Pool,
    queries: Queries,
    table: String,
    created: bool,
    keep: bool,
    ttl_ms: Option<i64>,
    /// Exactly the names the run writes (`key_names.rs`).
    names: KeyNames,
    clock: Clock,
    /// Bound of every operation: the wait for a connection plus the query.
    timeout: Duration,
    /// What setup said about rows an interrupted run left behind, if it found any.
    leftover_note: Option<Box<str>>,
}

/// Bound of the statements that may scan the table (counting, clearing, dropping, sizing),
/// outside any measured phase.
const MAINTENANCE_TIMEOUT: Duration = Duration::from_secs(120);

/// `application_name` of tierbench's PostgreSQL connections when the URL names none.
pub const APPLICATION_NAME: &str = "tierbench";

fn op_error(e: sqlx::Error) -> TierError {
    TierError::Operation(sql_message(&e))
}

/// Runs `op`, failing it after `limit`.
async fn within<T>(
    limit: Duration,
    op: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, TierError> {
    match tokio::time::timeout(limit, op).await {
        Ok(result) => result.map_err(op_error),
        Err(_) => Err(TierError::Operation(format!(
            "no answer within {limit:?} (the tier's timeout)"
        ))),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Opens the measuring pool for `dialect` (after one direct connection, so an unreachable
/// server fails at once); SQLite creates a new database file in WAL mode first. The error is
/// the setup message.
async fn open_pool(dialect: &str, s: &SqlSettings, size: u32) -> Result<Pool, String> {
    let cannot_connect = |e: sqlx::Error| explain(format!("cannot connect: {}", sql_message(&e)));
    let in_memory = s.url.contains(":memory:") || s.url.contains("mode=memory");
    let timeout = s.timeout;
    Ok(match dialect {
        "sqlite" => {
            let options = SqliteConnectOptions::from_str(&s.url)
                .map_err(|e| e.to_string())?
                .create_if_missing(true)
                .busy_timeout(Duration::from_secs(5));
            // WAL for a database tierbench creates; an existing file keeps its own journal
            // mode (it is the user's, and switching needs a lock its other users hold).
            if !in_memory && !options.get_filename().exists() {
                create_in_wal_mode(&options).await.map_err(cannot_connect)?;
            }
            Pool::Sqlite(Lanes::new(
                measuring_pool(size, timeout)
                    .connect_with(options)
                    .await
                    .map_err(cannot_connect)?,
                size as usize,
            ))
        }
        "postgres" => {
            let mut options = pg_options(&s.url, s.tls.as_ref())?;
            if options.get_application_name().is_none() {
                options = options.application_name(APPLICATION_NAME);
            }
            probe::<sqlx::PgConnection>(&options)
                .await
                .map_err(explain)?;
            Pool::Postgres(Lanes::new(
                measuring_pool(size, timeout)
                    .connect_with(options)
                    .await
                    .map_err(cannot_connect)?,
                size as usize,
            ))
        }
        _ => {
            let options = mysql_options(&s.url, s.tls.as_ref())?;
            probe::<sqlx::MySqlConnection>(&options)
                .await
                .map_err(explain)?;
            Pool::MySql(Lanes::new(
                measuring_pool(size, timeout)
                    .connect_with(options)
                    .await
                    .map_err(cannot_connect)?,
                size as usize,
            ))
        }
    })
}

impl SqlTier {
    /// Connects the pool, opens every connection, and prepares the table.
    pub async fn connect(
        name: &str,
        s: &SqlSettings,
        names: &KeyNames,
    ) -> Result<SqlTier, TierError> {
        let setup = |message: String| TierError::Setup {
            tier: name.to_string(),
            url: redact_url(&s.url),
            message,
        };
        let dialect = dialect(&s.url).ok_or_else(|| {
            setup("unsupported URL scheme (use sqlite:, postgres:// or mysql://)".into())
        })?;
        let in_memory = s.url.contains(":memory:") || s.url.contains("mode=memory");
        // An in-memory SQLite database lives as long as its one connection: keep exactly one.
        let size = if in_memory { 1 } else { s.pool.max(1) };
        let timeout = s.timeout;
        let pool = open_pool(dialect, s, size).await.map_err(setup)?;
        let existing = match &pool {
            Pool::Sqlite(lanes) => inspect_sqlite(lanes.pool(), &s.table).await,
            Pool::Postgres(lanes) => inspect_postgres(lanes.pool(), &s.table).await,
            Pool::MySql(lanes) => inspect_mysql(lanes.pool(), &s.table).await,
        }
        .map_err(|e| {
            setup(format!(
                "cannot inspect table `{}`: {}",
                s.table,
                sql_message(&e)
            ))
        })?;
        let created = match existing {
            Existing::Absent => {
                let sql = sql(create_table(dialect, &s.table));
                with_pool!(&pool, p => sqlx::query(sql.clone()).execute(p).await.map(drop))
                    .map_err(|e| {
                        setup(format!(
                            "cannot create table `{}`: {}",
                            s.table,
                            sql_message(&e)
                        ))
                    })?;
                true
            }
            Existing::Fits => false,
            Existing::Refused(why) => return Err(setup(why)),
        };
        let mut tier = SqlTier {
            pool,
            queries: queries(dialect, &s.table),
            table: s.table.clone(),
            created,
            keep: s.keep,
            ttl_ms: s.ttl.map(|t| t.as_millis() as i64),
            names: names.clone(),
            clock: Clock::new(),
            timeout,
            leftover_note: None,
        };
        tier.claim(name)
            .await
            .map_err(|r| r.into_setup(name, redact_url(&s.url)))?;
        Ok(tier)
    }

    /// What setup said about rows an interrupted run left behind (they were removed), if any.
    pub fn leftover_note(&self) -> Option<&str> {
        self.leftover_note.as_deref()
    }

    fn expires_at(&self) -> Option<i64> {
        self.ttl_ms.map(|ttl| now_ms() + ttl)
    }

    /// SELECT of an unexpired row on `lane`'s connection; adds the time spent getting the
    /// connection to `wait_ns`.
    pub async fn get(
        &self,
        key: &str,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<Option<Bytes>, TierError> {
        let start = self.clock.raw();
        let now = now_ms();
        let value: Option<Vec<u8>> = within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => sqlx::query_scalar(self.queries.get.clone()).bind(key).bind(now).fetch_optional(&mut *c).await)
        })
        .await?;
        Ok(value.map(Bytes::from))
    }

    /// Upsert on `lane`'s connection.
    pub async fn set(
        &self,
        key: &str,
        value: &[u8],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        let start = self.clock.raw();
        let expires = self.expires_at();
        within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => sqlx::query(self.queries.set.clone()).bind(key).bind(value).bind(expires).execute(&mut *c).await.map(drop))
        })
        .await
    }

    /// DELETE of one key on `lane`'s connection.
    pub async fn delete(&self, key: &str, lane: usize, wait_ns: &mut u64) -> Result<(), TierError> {
        let start = self.clock.raw();
        within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => sqlx::query(self.queries.delete.clone()).bind(key).execute(&mut *c).await.map(drop))
        })
        .await
    }

    /// Refreshes a row's expiry on `lane`'s connection; true if the row exists.
    pub async fn touch(
        &self,
        key: &str,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<bool, TierError> {
        let start = self.clock.raw();
        let expires = self.expires_at();
        let rows = within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => sqlx::query(self.queries.touch.clone()).bind(expires).bind(key).execute(&mut *c).await.map(|r| r.rows_affected()))
        })
        .await?;
        Ok(rows > 0)
    }

    /// Returns the connections the lanes hold to the pool, for statements outside the measured
    /// phases (the lanes acquire again when next used).
    async fn release(&self) {
        match &self.pool {
            Pool::Sqlite(lanes) => lanes.release().await,
            Pool::Postgres(lanes) => lanes.release().await,
            Pool::MySql(lanes) => lanes.release().await,
        }
    }

    /// The run's rows: in a table tierbench created, every row but the marker; in the user's
    /// table, exactly the run's names that exist.
    pub async fn entries(&self) -> Result<u64, TierError> {
        self.release().await;
        if !self.created {
            return count_existing(&SqlNames::new(self), &self.names).await;
        }
        let pattern = prefix_pattern(self.dialect(), self.names.prefix());
        let n: i64 = within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query_scalar(self.queries.count.clone()).bind(&pattern).fetch_one(p).await)
        })
        .await?;
        Ok(n.max(0) as u64)
    }

    /// The table's size on disk (data + indexes), bytes, and how it was obtained.
    pub async fn table_bytes(&self) -> Result<(u64, &'static str), TierError> {
        self.release().await;
        match tokio::time::timeout(MAINTENANCE_TIMEOUT, self.measure_table()).await {
            Ok(result) => result,
            Err(_) => Err(TierError::Operation(format!(
                "no answer within {MAINTENANCE_TIMEOUT:?} measuring the table"
            ))),
        }
    }

    async fn measure_table(&self) -> Result<(u64, &'static str), TierError> {
        let t = &self.table;
        match &self.pool {
            Pool::Postgres(lanes) => {
                let p = lanes.pool();
                let n: i64 = sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)")
                    .bind(t)
                    .fetch_one(p)
                    .await
                    .map_err(op_error)?;
                Ok((n.max(0) as u64, "pg_total_relation_size"))
            }
            Pool::MySql(lanes) => {
                let p = lanes.pool();
                sqlx::query(sql(format!("ANALYZE TABLE {t}")))
                    .execute(p)
                    .await
                    .map_err(op_error)?;
                let n: i64 = sqlx::query_scalar(
                    "SELECT CAST(data_length + index_length AS SIGNED) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
                )
                .bind(t)
                .fetch_one(p)
                .await
                .map_err(op_error)?;
                Ok((
                    n.max(0) as u64,
                    "information_schema data_length + index_length",
                ))
            }
            Pool::Sqlite(lanes) => {
                let p = lanes.pool();
                let pages: i64 = sqlx::query_scalar("SELECT page_count FROM pragma_page_count()")
                    .fetch_one(p)
                    .await
                    .map_err(op_error)?;
                let size: i64 = sqlx::query_scalar("SELECT page_size FROM pragma_page_size()")
                    .fetch_one(p)
                    .await
                    .map_err(op_error)?;
                Ok((
                    (pages * size).max(0) as u64,
                    "SQLite page_count × page_size",
                ))
            }
        }
    }

    /// Deletes the run's rows (the marker row stays): under the prefix in a table tierbench
    /// created, exactly the run's names in the user's.
    pub async fn clear(&self) -> Result<(), TierError> {
        self.release().await;
        if !self.created {
            return remove_all(&SqlNames::new(self), &self.names)
                .await
                .map(drop);
        }
        let pattern = prefix_pattern(self.dialect(), self.names.prefix());
        within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query(self.queries.delete_prefix.clone()).bind(&pattern).execute(p).await.map(drop))
        })
        .await
    }

    /// Drops the table if tierbench created it; in the user's table, deletes exactly the run's
    /// names and its marker row. With `keep`, rows and markers stay (a created table keeps its
    /// created-marker, the user's table a marker saying the names were kept), so the next run
    /// knows them as tierbench's.
    pub async fn cleanup(&self) -> Result<(), TierError> {
        self.release().await;
        if !self.created {
            return release(&SqlNames::new(self), &self.names, self.keep)
                .await
                .map(drop);
        }
        if self.keep {
            return Ok(());
        }
        let sql = sql(format!("DROP TABLE {}", self.table));
        within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query(sql.clone()).execute(p).await.map(drop))
        })
        .await
    }
}

mod batch;
mod claim;
use claim::SqlNames;
mod lanes;
mod schema;
mod text;
mod tls;
