//! A SQL table's side of the claim (`claim.rs`), for a table tierbench did not create: the
//! marker is a row `{prefix}__tierbench__` whose value records the run and its key space; names
//! are looked up, counted and deleted with `k IN (...)` lists of exactly the run's keys, so
//! no row of the user's is ever matched by a pattern. (A table tierbench created is its own:
//! it is dropped at the end, and its `__tierbench_created__` row says so to a later run.)

use super::{MAINTENANCE_TIMEOUT, Pool, SqlTier, within};
use crate::tier::error::TierError;
use crate::tier::ownership::claim::{NameStore, Refusal, claim};
use crate::tier::ownership::key_names::{MarkerRecord, NAME_BATCH};
use crate::tier::ownership::marker::{REDIS_MARKER_SUFFIX, SQL_MARKER_KEY, count, run_token, say};
use crate::tier::sql::text::{marker_queries, sql};

/// A user's table, as the claim sees it.
pub(super) struct SqlNames<'a> {
    tier: &'a SqlTier,
    /// The marker row's key.
    marker: String,
}

impl<'a> SqlNames<'a> {
    pub(super) fn new(tier: &'a SqlTier) -> SqlNames<'a> {
        SqlNames {
            marker: format!("{}{REDIS_MARKER_SUFFIX}", tier.names.prefix()),
            tier,
        }
    }

    /// `{head} WHERE k IN ($1, ..., $n)` for `n` names, in the tier's dialect.
    fn in_list(&self, head: &str, n: usize) -> sqlx::SqlStr {
        let postgres = matches!(self.tier.pool, Pool::Postgres(_));
        let places: Vec<String> = (1..=n)
            .map(|i| {
                if postgres {
                    format!("${i}")
                } else {
                    "?".into()
                }
            })
            .collect();
        let table = &self.tier.table;
        sql(format!("{head} {table} WHERE k IN ({})", places.join(", ")))
    }
}

/// Runs `$query` (built from `$text`) with every name of `$names` bound, on the tier's pool.
macro_rules! with_names {
    ($tier:expr, $text:expr, $names:expr, $make:ident, $finish:ident) => {
        within(MAINTENANCE_TIMEOUT, async {
            match &$tier.pool {
                Pool::Sqlite(lanes) => {
                    let mut q = sqlx::$make($text.clone());
                    for name in $names {
                        q = q.bind(name.as_str());
                    }
                    with_names!(@finish $finish, q, lanes.pool())
                }
                Pool::Postgres(lanes) => {
                    let mut q = sqlx::$make($text.clone());
                    for name in $names {
                        q = q.bind(name.as_str());
                    }
                    with_names!(@finish $finish, q, lanes.pool())
                }
                Pool::MySql(lanes) => {
                    let mut q = sqlx::$make($text.clone());
                    for name in $names {
                        q = q.bind(name.as_str());
                    }
                    with_names!(@finish $finish, q, lanes.pool())
                }
            }
        })
    };
    (@finish count, $q:ident, $p:expr) => {
        $q.fetch_one($p).await.map(|n: i64| n.max(0) as u64)
    };
    (@finish execute, $q:ident, $p:expr) => {
        $q.execute($p).await.map(|r| r.rows_affected())
    };
}

impl SqlTier {
    /// Marks a table this run created; takes an existing table carrying an earlier run's
    /// created-marker as its own (its rows are that run's leftovers: deleted, and said); claims
    /// the run's names in a table of the user's (`claim.rs`: refused when one is there).
    pub(super) async fn claim(&mut self, name: &str) -> Result<(), Refusal> {
        let token = run_token();
        if !self.created {
            match self.read_row(SQL_MARKER_KEY).await? {
                // No marker: the user's table.
                None => {
                    let note = claim(&SqlNames::new(self), name, &self.names).await?;
                    self.leftover_note = note.map(Box::from);
                    return Ok(());
                }
                // The marker of this very run: another tier of the run created the table.
                Some(value) if value == token.as_bytes() => return Ok(()),
                Some(_) => {}
            }
            let marker = marker_queries(self.dialect(), &self.table);
            let removed = within(MAINTENANCE_TIMEOUT, async {
                with_pool!(&self.pool, p => sqlx::query(marker.delete_leftovers.clone()).execute(p).await.map(|r| r.rows_affected()))
            })
            .await?;
            self.created = true;
            self.leftover_note = Some(Box::from(say(format!(
                "tier `{name}`: removed {} left in table `{}` by an earlier tierbench run \
                 (the table is tierbench's: it is dropped at the end)",
                count(removed, "row", "rows"),
                self.table
            ))));
        }
        Ok(self.write_row(SQL_MARKER_KEY, token.as_bytes()).await?)
    }

    /// The value of the row `key`, outside the measured phases.
    async fn read_row(&self, key: &str) -> Result<Option<Vec<u8>>, TierError> {
        let read = marker_queries(self.dialect(), &self.table).read;
        within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query_scalar(read.clone()).bind(key).fetch_optional(p).await)
        })
        .await
    }

    /// Writes the row `key` (no expiry), outside the measured phases.
    async fn write_row(&self, key: &str, value: &[u8]) -> Result<(), TierError> {
        within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query(self.queries.set.clone()).bind(key).bind(value).bind(None::<i64>).execute(p).await.map(drop))
        })
        .await
    }

    /// Deletes the row `key`, outside the measured phases.
    async fn delete_row(&self, key: &str) -> Result<(), TierError> {
        within(MAINTENANCE_TIMEOUT, async {
            with_pool!(&self.pool, p => sqlx::query(self.queries.delete.clone()).bind(key).execute(p).await.map(drop))
        })
        .await
    }
}

impl NameStore for SqlNames<'_> {
    fn nouns(&self) -> (String, String) {
        let table = &self.tier.table;
        (
            format!("row of table `{table}`"),
            format!("rows of table `{table}`"),
        )
    }

    async fn read_marker(&self) -> Result<Option<MarkerRecord>, TierError> {
        let value = self.tier.read_row(&self.marker).await?;
        Ok(value.and_then(|v| MarkerRecord::from_text(&String::from_utf8_lossy(&v))))
    }

    async fn write_marker(&self, record: &MarkerRecord) -> Result<(), TierError> {
        self.tier
            .write_row(&self.marker, record.to_text().as_bytes())
            .await
    }

    async fn remove_marker(&self) -> Result<(), TierError> {
        self.tier.delete_row(&self.marker).await
    }

    async fn existing(&self, names: &[String]) -> Result<Vec<String>, TierError> {
        if self.count(names).await? == 0 {
            return Ok(Vec::new());
        }
        // Rare (the run is about to be refused): find which, one name at a time.
        let mut found = Vec::new();
        for name in names {
            if self.tier.read_row(name).await?.is_some() {
                found.push(name.clone());
            }
        }
        Ok(found)
    }

    async fn count(&self, names: &[String]) -> Result<u64, TierError> {
        if names.is_empty() {
            return Ok(0);
        }
        debug_assert!(names.len() <= NAME_BATCH);
        let text = self.in_list("SELECT COUNT(*) FROM", names.len());
        with_names!(self.tier, text, names, query_scalar, count).await
    }

    async fn remove(&self, names: &[String]) -> Result<u64, TierError> {
        if names.is_empty() {
            return Ok(0);
        }
        let text = self.in_list("DELETE FROM", names.len());
        with_names!(self.tier, text, names, query, execute).await
    }
}
