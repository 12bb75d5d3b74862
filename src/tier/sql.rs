//! The SQL tier (an L3): a key/value table in SQLite, PostgreSQL or MariaDB/MySQL through sqlx.
//!
//! The pool is set up for measuring: min = max connections (all opened before the run), no
//! test-before-acquire, no idle or lifetime churn, so a measured operation never pays for a
//! connect. The time a worker waits for a pooled connection is returned apart from the query
//! time. tierbench creates its table when absent (and drops it at the end only if it created it),
//! refuses an existing table whose columns differ, and otherwise deletes only its own keys.
//!
//! Faults: every operation (waiting for a connection, then the query) is bounded by
//! `OPERATION_TIMEOUT`. A connection the server killed (`pg_terminate_backend`, `KILL`, a
//! restart) fails the one operation that uses it; sqlx then finds it broken when it comes back
//! to the pool (sqlx pings every released connection), drops it and opens a replacement, so the
//! pool recovers with no check added before each operation. PostgreSQL connections carry
//! `application_name=tierbench` (unless the URL names another), so they can be found in
//! `pg_stat_activity`.

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use quanta::Clock;
use sqlx::mysql::MySqlPool;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::error::TierError;
use crate::redact::redact_url;

/// The three dialects, each with its own pool (dispatched by `match`, not `dyn`).
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Runs the same code against whichever pool the tier has.
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
            Pool::MySql($p) => $body,
        }
    };
}

/// The statements of one dialect for one table.
/// Each is built once from a validated table name and asserted safe once; cloning one per
/// operation is a reference-count increment.
struct Queries {
    get: SqlStr,
    set: SqlStr,
    delete: SqlStr,
    touch: SqlStr,
    count: SqlStr,
    delete_prefix: SqlStr,
}

/// Marks SQL built from a validated identifier (the table name) and fixed text as safe.
fn sql(text: String) -> SqlStr {
    AssertSqlSafe(std::sync::Arc::<str>::from(text)).into_sql_str()
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
    /// Keep the table and rows at the end.
    pub keep: bool,
}

/// A connected SQL tier.
pub struct SqlTier {
    pool: Pool,
    queries: Queries,
    table: String,
    created: bool,
    keep: bool,
    ttl_ms: Option<i64>,
    prefix: String,
    clock: Clock,
    /// Bound of every operation: the wait for a connection plus the query.
    timeout: Duration,
}

/// Bound of one operation, the wait for a pooled connection included (the same default as a
/// Redis tier's `timeout`): a slower one counts as an error.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Bound of the statements that may scan the table (counting, clearing, dropping, sizing),
/// outside any measured phase.
const MAINTENANCE_TIMEOUT: Duration = Duration::from_secs(120);

/// `application_name` of tierbench's PostgreSQL connections when the URL names none.
pub const APPLICATION_NAME: &str = "tierbench";

fn op_error(e: sqlx::Error) -> TierError {
    TierError::Operation(e.to_string())
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

/// The dialect named by a URL's scheme.
fn dialect(url: &str) -> Option<&'static str> {
    let scheme = url.split(':').next()?;
    match scheme {
        "sqlite" => Some("sqlite"),
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        _ => None,
    }
}

fn queries(dialect: &str, t: &str) -> Queries {
    let (p1, p2, p3) = if dialect == "postgres" {
        ("$1", "$2", "$3")
    } else {
        ("?", "?", "?")
    };
    let upsert = match dialect {
        "mysql" => format!(
            "INSERT INTO {t} (k, v, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = VALUES(expires_at)"
        ),
        _ => format!(
            "INSERT INTO {t} (k, v, expires_at) VALUES ({p1}, {p2}, {p3}) ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at"
        ),
    };
    // SQLite has no default LIKE escape character; MySQL's is `\` already (and `\` escapes in its strings).
    let escape = if dialect == "mysql" {
        ""
    } else {
        " ESCAPE '\\'"
    };
    Queries {
        get: sql(format!(
            "SELECT v FROM {t} WHERE k = {p1} AND (expires_at IS NULL OR expires_at > {p2})"
        )),
        set: sql(upsert),
        delete: sql(format!("DELETE FROM {t} WHERE k = {p1}")),
        touch: sql(format!("UPDATE {t} SET expires_at = {p1} WHERE k = {p2}")),
        count: sql(format!(
            "SELECT COUNT(*) FROM {t} WHERE k LIKE {p1}{escape}"
        )),
        delete_prefix: sql(format!("DELETE FROM {t} WHERE k LIKE {p1}{escape}")),
    }
}

fn create_table(dialect: &str, t: &str) -> String {
    match dialect {
        "postgres" => {
            format!("CREATE TABLE {t} (k TEXT PRIMARY KEY, v BYTEA NOT NULL, expires_at BIGINT)")
        }
        "mysql" => format!(
            "CREATE TABLE {t} (k VARCHAR(512) PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT)"
        ),
        _ => format!("CREATE TABLE {t} (k TEXT PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)"),
    }
}

fn columns_query(dialect: &str) -> &'static str {
    match dialect {
        "postgres" => {
            "SELECT column_name::TEXT FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
        }
        "mysql" => {
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
        }
        _ => "SELECT name FROM pragma_table_info(?)",
    }
}

/// A LIKE pattern matching `prefix` literally, then anything (`\` escapes).
fn like_prefix(prefix: &str) -> String {
    let mut out = String::new();
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Pool settings suited to measuring: every connection opened up front (min = max), no
/// test-before-acquire (a broken connection is dropped when released, see the module's doc),
/// no idle or lifetime churn; waiting for a connection is bounded by `timeout`.
fn measuring_pool<DB: sqlx::Database>(size: u32, timeout: Duration) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .min_connections(size)
        .max_connections(size)
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(timeout)
}

/// One direct connection first: an unreachable server fails at once, where the pool would
/// retry until its acquire timeout.
async fn probe<C: sqlx::Connection>(url: &str) -> Result<(), String> {
    let conn = C::connect(url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    conn.close()
        .await
        .map_err(|e| format!("cannot connect: {e}"))
}

impl SqlTier {
    /// Connects the pool, opens every connection, and prepares the table.
    pub async fn connect(name: &str, s: &SqlSettings, prefix: &str) -> Result<SqlTier, TierError> {
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
        let timeout = OPERATION_TIMEOUT;
        let pool = match dialect {
            "sqlite" => {
                let mut options = SqliteConnectOptions::from_str(&s.url)
                    .map_err(|e| setup(e.to_string()))?
                    .create_if_missing(true)
                    .busy_timeout(Duration::from_secs(5));
                // WAL for a database tierbench creates; an existing file keeps its own journal
                // mode (it is the user's, and switching needs a lock its other users hold).
                if !in_memory && !options.get_filename().exists() {
                    options = options.journal_mode(SqliteJournalMode::Wal);
                }
                Pool::Sqlite(
                    measuring_pool(size, timeout)
                        .connect_with(options)
                        .await
                        .map_err(|e| setup(format!("cannot connect: {e}")))?,
                )
            }
            "postgres" => Pool::Postgres({
                probe::<sqlx::PgConnection>(&s.url).await.map_err(setup)?;
                let mut options =
                    PgConnectOptions::from_str(&s.url).map_err(|e| setup(e.to_string()))?;
                if options.get_application_name().is_none() {
                    options = options.application_name(APPLICATION_NAME);
                }
                measuring_pool(size, timeout)
                    .connect_with(options)
                    .await
                    .map_err(|e| setup(format!("cannot connect: {e}")))?
            }),
            _ => Pool::MySql({
                probe::<sqlx::MySqlConnection>(&s.url)
                    .await
                    .map_err(setup)?;
                measuring_pool(size, timeout)
                    .connect(&s.url)
                    .await
                    .map_err(|e| setup(format!("cannot connect: {e}")))?
            }),
        };
        let columns: Vec<String> =
            with_pool!(&pool, p => sqlx::query_scalar(columns_query(dialect))
            .bind(&s.table)
            .fetch_all(p)
            .await)
            .map_err(|e| setup(format!("cannot inspect table `{}`: {e}", s.table)))?;
        let created = if columns.is_empty() {
            let sql = sql(create_table(dialect, &s.table));
            with_pool!(&pool, p => sqlx::query(sql.clone()).execute(p).await.map(drop))
                .map_err(|e| setup(format!("cannot create table `{}`: {e}", s.table)))?;
            true
        } else {
            let mut found: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
            found.sort();
            if found != ["expires_at", "k", "v"] {
                return Err(setup(format!(
                    "table `{}` exists with columns ({}), not tierbench's (k, v, expires_at); \
                     tierbench will not use it. Choose another `table:`",
                    s.table,
                    columns.join(", ")
                )));
            }
            false
        };
        Ok(SqlTier {
            pool,
            queries: queries(dialect, &s.table),
            table: s.table.clone(),
            created,
            keep: s.keep,
            ttl_ms: s.ttl.map(|t| t.as_millis() as i64),
            prefix: prefix.to_string(),
            clock: Clock::new(),
            timeout,
        })
    }

    fn expires_at(&self) -> Option<i64> {
        self.ttl_ms.map(|ttl| now_ms() + ttl)
    }

    /// SELECT of an unexpired row; adds the time spent waiting for a connection to `wait_ns`.
    pub async fn get(&self, key: &str, wait_ns: &mut u64) -> Result<Option<Bytes>, TierError> {
        let start = self.clock.raw();
        let now = now_ms();
        let value: Option<Vec<u8>> = within(self.timeout, async {
            with_pool!(&self.pool, p => {
                let mut conn = p.acquire().await?;
                *wait_ns += self.clock.delta_as_nanos(start, self.clock.raw());
                sqlx::query_scalar(self.queries.get.clone()).bind(key).bind(now).fetch_optional(&mut *conn).await
            })
        })
        .await?;
        Ok(value.map(Bytes::from))
    }

    /// Upsert.
    pub async fn set(&self, key: &str, value: &[u8], wait_ns: &mut u64) -> Result<(), TierError> {
        let start = self.clock.raw();
        let expires = self.expires_at();
        within(self.timeout, async {
            with_pool!(&self.pool, p => {
                let mut conn = p.acquire().await?;
                *wait_ns += self.clock.delta_as_nanos(start, self.clock.raw());
                sqlx::query(self.queries.set.clone()).bind(key).bind(value).bind(expires).execute(&mut *conn).await.map(drop)
            })
        })
        .await
    }

    /// DELETE of one key.
    pub async fn delete(&self, key: &str, wait_ns: &mut u64) -> Result<(), TierError> {
        let start = self.clock.raw();
        within(self.timeout, async {
            with_pool!(&self.pool, p => {
                let mut conn = p.acquire().await?;
                *wait_ns += self.clock.delta_as_nanos(start, self.clock.raw());
                sqlx::query(self.queries.delete.clone()).bind(key).execute(&mut *conn).await.map(drop)
            })
        })
        .await
    }

    /// Refreshes a row's expiry; true if the row exists.
    pub async fn touch(&self, key: &str, wait_ns: &mut u64) -> Result<bool, TierError> {
        let start = self.clock.raw();
        let expires = self.expires_at();
        let rows = within(self.timeout, async {
            with_pool!(&self.pool, p => {
                let mut conn = p.acquire().await?;
                *wait_ns += self.clock.delta_as_nanos(start, self.clock.raw());
                sqlx::query(self.queries.touch.clone()).bind(expires).bind(key).execute(&mut *conn).await.map(|r| r.rows_affected())
            })
        })
        .await?;
        Ok(rows > 0)
    }

    /// Rows under the prefix.
    pub async fn entries(&self) -> Result<u64, TierError> {
        let pattern = like_prefix(&self.prefix);
        let n: i64 = within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query_scalar(self.queries.count.clone()).bind(&pattern).fetch_one(p).await)
        })
        .await?;
        Ok(n.max(0) as u64)
    }

    /// The table's size on disk (data + indexes), bytes, and how it was obtained.
    pub async fn table_bytes(&self) -> Result<(u64, &'static str), TierError> {
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
            Pool::Postgres(p) => {
                let n: i64 = sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)")
                    .bind(t)
                    .fetch_one(p)
                    .await
                    .map_err(op_error)?;
                Ok((n.max(0) as u64, "pg_total_relation_size"))
            }
            Pool::MySql(p) => {
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
            Pool::Sqlite(p) => {
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

    /// Deletes the rows under the prefix.
    pub async fn clear(&self) -> Result<(), TierError> {
        let pattern = like_prefix(&self.prefix);
        within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query(self.queries.delete_prefix.clone()).bind(&pattern).execute(p).await.map(drop))
        })
        .await
    }

    /// Drops the table if tierbench created it, else deletes only rows under the prefix;
    /// nothing with `keep`.
    pub async fn cleanup(&self) -> Result<(), TierError> {
        if self.keep {
            return Ok(());
        }
        if self.created {
            let sql = sql(format!("DROP TABLE {}", self.table));
            within(MAINTENANCE_TIMEOUT, async {
                with_pool!(&self.pool, p => sqlx::query(sql.clone()).execute(p).await.map(drop))
            })
            .await
        } else {
            self.clear().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_come_from_the_scheme() {
        assert_eq!(dialect("sqlite::memory:"), Some("sqlite"));
        assert_eq!(dialect("postgres://u@h/db"), Some("postgres"));
        assert_eq!(dialect("mysql://root@h/test"), Some("mysql"));
        assert_eq!(dialect("oracle://x"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix("tb:"), "tb:%");
        assert_eq!(like_prefix("a_b%"), "a\\_b\\%%");
    }
}
