//! Connections held per worker (lane) for the SQL tier's measured operations.
//!
//! Why: sqlx returns every released pool connection through a spawned task that pings the
//! server before the connection is idle again, so a pool acquire per operation costs a task and a
//! second round trip per measured query (the server answers twice as many requests as the
//! workload asks for). Here each lane (worker index modulo the pool's size) keeps the connection
//! it last used: a measured operation takes it from its lane, runs its statement (prepared once
//! per connection by sqlx's statement cache) and puts it back. Workers that share a lane (more
//! workers than connections) wait in turn for it; that wait is the tier's `pool_wait`.
//!
//! Faults: a connection is put back only after a statement that succeeded. After an error, or when
//! the operation is cancelled (its timeout, Ctrl-C), the connection is dropped instead, which
//! returns it to the pool the usual way: sqlx pings it there and replaces it if it is broken (a
//! killed backend, a restarted server), and the lane's next operation acquires a connection from
//! the pool again. Statements outside the measured phases use the pool directly, after
//! [`Lanes::release`] has returned every held connection to it. The pool's settings and the
//! first connection's probe live here too.

use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
use tokio::sync::{Mutex, MutexGuard};

use crate::tier::error::sql_message;

/// Pool settings suited to measuring: every connection opened up front (min = max), no
/// test-before-acquire (a broken connection is dropped when released, see the module's doc),
/// no idle or lifetime churn; waiting for a connection is bounded by `timeout`.
pub(in crate::tier) fn measuring_pool<DB: sqlx::Database>(
    size: u32,
    timeout: Duration,
) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .min_connections(size)
        .max_connections(size)
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(timeout)
}

/// Creates a new SQLite database file in WAL mode with one connection, before the pool opens its
/// connections: WAL persists in the file, whereas each pooled connection switching the journal
/// mode itself raced the others for the lock ("database is locked" at setup).
pub(in crate::tier) async fn create_in_wal_mode(
    options: &sqlx::sqlite::SqliteConnectOptions,
) -> Result<(), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection};
    let conn = options
        .clone()
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .connect()
        .await?;
    conn.close().await
}

/// One direct connection first: an unreachable server fails at once, where the pool would
/// retry until its acquire timeout.
pub(in crate::tier) async fn probe<C: sqlx::Connection>(
    options: &C::Options,
) -> Result<(), String> {
    let conn = C::connect_with(options)
        .await
        .map_err(|e| format!("cannot connect: {}", sql_message(&e)))?;
    conn.close()
        .await
        .map_err(|e| format!("cannot connect: {}", sql_message(&e)))
}

/// A pool and the connection each lane holds.
pub(in crate::tier) struct Lanes<DB: Database> {
    pool: Pool<DB>,
    held: Box<[Mutex<Option<PoolConnection<DB>>>]>,
}

/// A lane's connection, taken for one operation: [`Taken::keep`] puts it back; dropping it
/// instead returns it to the pool (tested there, replaced if broken).
pub(in crate::tier) struct Taken<'a, DB: Database> {
    slot: MutexGuard<'a, Option<PoolConnection<DB>>>,
    conn: PoolConnection<DB>,
}

impl<DB: Database> Lanes<DB> {
    /// `lanes` slots (at least one) over `pool`, all empty until first used.
    pub(in crate::tier) fn new(pool: Pool<DB>, lanes: usize) -> Self {
        Lanes {
            pool,
            held: (0..lanes.max(1)).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// The pool, for statements outside the measured phases (call [`Lanes::release`] first).
    pub(in crate::tier) fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Takes `lane`'s connection: waits for the lane's other workers, and acquires a connection
    /// from the pool when the lane holds none (its first use, or after a failed operation).
    pub(in crate::tier) async fn take(&self, lane: usize) -> Result<Taken<'_, DB>, sqlx::Error> {
        let mut slot = self.held[lane % self.held.len()].lock().await;
        let conn = match slot.take() {
            Some(conn) => conn,
            // sqlx's acquire future is ~8.6 KiB; held inline, it made every operation's future
            // ~18 KiB (one per dialect), copied several times per operation (callgrind: about
            // half of a get's instructions in `memcpy`). Boxed, it costs an allocation only when
            // a lane acquires, and the operation's future stays small.
            None => Box::pin(self.pool.acquire()).await?,
        };
        Ok(Taken { slot, conn })
    }

    /// Returns every held connection to the pool (waiting for operations in progress).
    pub(in crate::tier) async fn release(&self) {
        for slot in self.held.iter() {
            drop(slot.lock().await.take());
        }
    }

    /// How many lanes hold a connection now.
    #[cfg(test)]
    pub(in crate::tier) async fn holding(&self) -> usize {
        let mut n = 0;
        for slot in self.held.iter() {
            n += usize::from(slot.lock().await.is_some());
        }
        n
    }
}

impl<DB: Database> Taken<'_, DB> {
    /// The connection, to run a statement on.
    pub(in crate::tier) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }

    /// Puts the connection back in its lane (after a statement that succeeded).
    pub(in crate::tier) fn keep(self) {
        let Taken { mut slot, conn } = self;
        *slot = Some(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Sqlite;
    use sqlx::sqlite::SqlitePoolOptions;

    async fn lanes(size: u32, lanes: usize) -> Lanes<Sqlite> {
        let pool = SqlitePoolOptions::new()
            .min_connections(size)
            .max_connections(size)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        Lanes::new(pool, lanes)
    }

    #[tokio::test]
    async fn a_kept_connection_stays_in_its_lane_and_a_dropped_one_goes_back_to_the_pool() {
        // A temporary table belongs to one connection: it tells them apart.
        let lanes = lanes(2, 2).await;
        let mut taken = lanes.take(0).await.unwrap();
        sqlx::query("CREATE TEMP TABLE mine (x INTEGER)")
            .execute(taken.conn())
            .await
            .unwrap();
        taken.keep();
        assert_eq!(lanes.holding().await, 1);
        // Lane 2 is lane 0 (modulo the lanes): the connection lane 0 kept.
        let mut again = lanes.take(2).await.unwrap();
        sqlx::query("SELECT x FROM mine")
            .execute(again.conn())
            .await
            .unwrap();
        again.keep();
        // Lane 1 acquires the pool's other connection.
        let mut other = lanes.take(1).await.unwrap();
        assert!(
            sqlx::query("SELECT x FROM mine")
                .execute(other.conn())
                .await
                .is_err()
        );
        drop(other);
        assert_eq!(
            lanes.holding().await,
            1,
            "a dropped connection stayed in its lane"
        );
        lanes.release().await;
        assert_eq!(lanes.holding().await, 0);
        assert!(lanes.pool().acquire().await.is_ok());
    }

    #[tokio::test]
    async fn workers_sharing_a_lane_wait_for_its_connection() {
        let lanes = lanes(1, 1).await;
        let first = lanes.take(0).await.unwrap();
        let second = tokio::time::timeout(std::time::Duration::from_millis(50), lanes.take(1));
        assert!(second.await.is_err(), "lane 1 shares lane 0's connection");
        first.keep();
        let again = lanes.take(1).await.unwrap();
        again.keep();
        assert_eq!(lanes.holding().await, 1);
    }
}
