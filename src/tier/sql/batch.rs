//! The SQL tier's batch statements: one `SELECT k, v ... WHERE k IN (...)` with the expiry
//! condition, one multi-row upsert per dialect, one `DELETE ... WHERE k IN (...)`; and the
//! single upsert with a time to live of its own (a trace's write).
//!
//! A child of `sql.rs` (it runs on the tier's lanes with its `on_lane!`), in its own file so the
//! tier's file stays about connecting and single keys. A statement's text depends on the
//! batch's size: it is written per batch (one string per batch, never one per key); sqlx's
//! per-connection statement cache then prepares each size once.

use bytes::Bytes;

use super::{Pool, SqlTier, now_ms, within};
use crate::tier::error::TierError;
use crate::tier::sql::text::sql;
use crate::workload::batch::BatchKeys;

/// The dialect's `n`-th placeholder (1-based).
fn placeholder(out: &mut String, dialect: &str, n: usize) {
    if dialect == "postgres" {
        out.push('$');
        out.push_str(itoa::Buffer::new().format(n));
    } else {
        out.push('?');
    }
}

/// `SELECT key, v FROM t WHERE k IN (p1..pn) AND (expires_at IS NULL OR expires_at > p(n+1))`,
/// the key returned as its bytes in every dialect (whatever type the column has).
pub(crate) fn select_in(dialect: &str, table: &str, n: usize) -> String {
    let key = match dialect {
        "postgres" => "convert_to(k, 'UTF8')",
        "mysql" => "CAST(k AS BINARY)",
        _ => "CAST(k AS BLOB)",
    };
    let mut s = format!("SELECT {key}, v FROM {table} WHERE k IN (");
    for i in 1..=n {
        if i > 1 {
            s.push_str(", ");
        }
        placeholder(&mut s, dialect, i);
    }
    s.push_str(") AND (expires_at IS NULL OR expires_at > ");
    placeholder(&mut s, dialect, n + 1);
    s.push(')');
    s
}

/// One `INSERT ... VALUES (k, v, e), ...` with the dialect's upsert clause.
pub(crate) fn upsert_many(dialect: &str, table: &str, n: usize) -> String {
    let mut s = format!("INSERT INTO {table} (k, v, expires_at) VALUES ");
    for row in 0..n {
        s.push_str(if row == 0 { "(" } else { ", (" });
        for col in 1..=3 {
            if col > 1 {
                s.push_str(", ");
            }
            placeholder(&mut s, dialect, 3 * row + col);
        }
        s.push(')');
    }
    s.push_str(if dialect == "mysql" {
        " ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = VALUES(expires_at)"
    } else {
        " ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at"
    });
    s
}

/// `DELETE FROM t WHERE k IN (p1..pn)`.
pub(crate) fn delete_in(dialect: &str, table: &str, n: usize) -> String {
    let mut s = format!("DELETE FROM {table} WHERE k IN (");
    for i in 1..=n {
        if i > 1 {
            s.push_str(", ");
        }
        placeholder(&mut s, dialect, i);
    }
    s.push(')');
    s
}

impl SqlTier {
    pub(super) fn dialect(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
            Pool::MySql(_) => "mysql",
        }
    }

    /// One SELECT of the unexpired rows among the keys at `which`; `found` gets one entry per
    /// position. Rows come back keyed: each is matched to its position by comparing keys
    /// (a linear scan of the batch; batches are at most `MAX_BATCH` keys).
    pub async fn mget(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        found: &mut Vec<Option<Bytes>>,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        found.resize(which.len(), None);
        let text = sql(select_in(self.dialect(), &self.table, which.len()));
        let start = self.clock.raw();
        let now = now_ms();
        // Keys as bytes (see `select_in`): MySQL's key column is VARBINARY.
        let rows: Vec<(Vec<u8>, Vec<u8>)> = within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => {
                let mut q = sqlx::query_as(text);
                for &i in which {
                    q = q.bind(keys.key(i as usize));
                }
                q.bind(now).fetch_all(&mut *c).await
            })
        })
        .await?;
        for (k, v) in rows {
            if let Some(j) = which
                .iter()
                .position(|&i| keys.key(i as usize).as_bytes() == k.as_slice())
            {
                found[j] = Some(Bytes::from(v));
            }
        }
        Ok(())
    }

    /// One multi-row upsert of the keys at `which`.
    pub async fn mset<'v>(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        value: impl Fn(usize) -> &'v [u8],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        if which.is_empty() {
            return Ok(());
        }
        let text = sql(upsert_many(self.dialect(), &self.table, which.len()));
        // Rows in key order: two batches upserting overlapping keys then lock them in the same
        // order, where the workers' own orders made PostgreSQL detect deadlocks (40P01).
        let mut ordered = which.to_vec();
        ordered.sort_unstable_by(|&a, &b| keys.key(a as usize).cmp(keys.key(b as usize)));
        let start = self.clock.raw();
        let expires = self.expires_at();
        within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => {
                let mut q = sqlx::query(text);
                for &i in &ordered {
                    q = q.bind(keys.key(i as usize)).bind(value(i as usize)).bind(expires);
                }
                q.execute(&mut *c).await.map(drop)
            })
        })
        .await
    }

    /// One DELETE of the keys at `which`.
    pub async fn mdelete(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        if which.is_empty() {
            return Ok(());
        }
        let text = sql(delete_in(self.dialect(), &self.table, which.len()));
        let start = self.clock.raw();
        within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => {
                let mut q = sqlx::query(text);
                for &i in which {
                    q = q.bind(keys.key(i as usize));
                }
                q.execute(&mut *c).await.map(drop)
            })
        })
        .await
    }
}

impl SqlTier {
    /// The upsert of one key with `expires_at` `ttl_ms` from now (a trace's time to live)
    /// instead of the tier's.
    pub async fn set_expiring(
        &self,
        key: &str,
        value: &[u8],
        ttl_ms: u64,
        (lane, wait_ns): (usize, &mut u64),
    ) -> Result<(), TierError> {
        let start = self.clock.raw();
        let expires = Some(now_ms() + i64::try_from(ttl_ms).unwrap_or(i64::MAX / 2));
        within(self.timeout, async {
            on_lane!(self, lane, start, wait_ns, c => sqlx::query(self.queries.set.clone()).bind(key).bind(value).bind(expires).execute(&mut *c).await.map(drop))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_follow_each_dialect() {
        assert_eq!(
            select_in("postgres", "t", 2),
            "SELECT convert_to(k, 'UTF8'), v FROM t WHERE k IN ($1, $2) AND (expires_at IS NULL OR expires_at > $3)"
        );
        assert_eq!(
            upsert_many("sqlite", "t", 2),
            "INSERT INTO t (k, v, expires_at) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at"
        );
        assert!(
            upsert_many("mysql", "t", 1).ends_with(
                "ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = VALUES(expires_at)"
            )
        );
        assert_eq!(upsert_many("postgres", "t", 2).matches('$').count(), 6);
        assert_eq!(
            delete_in("mysql", "t", 3),
            "DELETE FROM t WHERE k IN (?, ?, ?)"
        );
    }
}
