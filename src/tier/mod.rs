//! Cache tiers and the stack a workload runs against.
//!
//! `Tier` is a closed enum: the measured path dispatches with `match`, never through a boxed
//! trait object or a boxed future, so a call adds no allocation to what it measures. The
//! `stack::Stack` is the read/write policy over an ordered list of tiers.
//!
//! The tier owns its configuration (`config`): the scenario imports it, never the reverse, and
//! nothing in `tier` imports `scenario`.

mod batch;
pub mod coherence;
pub mod config;
pub mod error;
pub mod memcached;
pub mod memory;
pub mod ownership;
pub mod redis;
pub mod sql;
pub mod stack;
pub mod tls_files;
pub mod wire;

use bytes::Bytes;

use config::{TierConfig, TierKindConfig};
pub use error::TierError;
use memcached::MemcachedTier;
use memory::MemoryTier;
use ownership::key_names::KeyNames;
use redis::RedisTier;
use redis::cluster::RedisClusterTier;
use sql::SqlTier;

/// One set-up tier.
pub enum Tier {
    /// An in-process cache.
    Memory(MemoryTier),
    /// A Redis server.
    Redis(RedisTier),
    /// A Redis Cluster.
    RedisCluster(RedisClusterTier),
    /// A memcached server.
    Memcached(MemcachedTier),
    /// A SQL table.
    Sql(SqlTier),
}

impl Tier {
    /// Sets a tier up from its configuration. A shared tier first claims exactly the names the
    /// run writes (`claim.rs`): when one of them is already there and not tierbench's, setup
    /// fails with nothing written.
    pub async fn connect(config: &TierConfig, names: &KeyNames) -> Result<Tier, TierError> {
        match &config.kind {
            TierKindConfig::Memory {
                engine,
                max_entries,
                ttl,
            } => Ok(Tier::Memory(MemoryTier::new(*engine, *max_entries, *ttl))),
            TierKindConfig::Redis(settings) if settings.cluster => Ok(Tier::RedisCluster(
                RedisClusterTier::connect(&config.name, settings, names).await?,
            )),
            TierKindConfig::Redis(settings) => Ok(Tier::Redis(
                RedisTier::connect(&config.name, settings, names).await?,
            )),
            TierKindConfig::Memcached(settings) => Ok(Tier::Memcached(
                MemcachedTier::connect(&config.name, settings, names).await?,
            )),
            TierKindConfig::Sql(settings) => Ok(Tier::Sql(
                SqlTier::connect(&config.name, settings, names).await?,
            )),
        }
    }

    /// A new, empty copy of an in-process tier (another app instance's own); `None` for a
    /// shared tier, which every instance uses as it is.
    pub fn another_instance(config: &TierConfig) -> Option<Tier> {
        match &config.kind {
            TierKindConfig::Memory {
                engine,
                max_entries,
                ttl,
            } => Some(Tier::Memory(MemoryTier::new(*engine, *max_entries, *ttl))),
            _ => None,
        }
    }

    /// What setup said about data an interrupted tierbench run left in this tier (keys under the
    /// prefix in Redis, rows of a table tierbench had created in SQL), which it removed before
    /// measuring; `None` when there were none. Already said on stderr; meant for the result
    /// document's warnings.
    pub fn leftover_note(&self) -> Option<String> {
        match self {
            Tier::Memory(_) => None,
            Tier::Redis(t) => t.leftover_note().map(str::to_string),
            Tier::RedisCluster(t) => t.leftover_note().map(str::to_string),
            Tier::Memcached(t) => t.leftover_note().map(str::to_string),
            Tier::Sql(t) => t.leftover_note().map(str::to_string),
        }
    }

    /// Gives the tier the run's value pool (a Redis tier storing hashes splits values with it).
    pub fn use_values(&self, values: &std::sync::Arc<crate::workload::values::ValuePool>) {
        if let Tier::Redis(t) = self {
            t.use_values(values);
        }
    }

    /// True when every call completes without waiting on I/O (no async runtime needed).
    pub fn is_in_process(&self) -> bool {
        matches!(self, Tier::Memory(_))
    }

    /// Reads a key. `lane` picks the worker's connection; time spent waiting for a pooled
    /// connection is added to `wait_ns`.
    #[inline]
    pub async fn get(
        &self,
        key: &str,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<Option<Bytes>, TierError> {
        match self {
            Tier::Memory(t) => Ok(t.get(key)),
            Tier::Redis(t) => t.get(lane, key).await,
            Tier::RedisCluster(t) => t.get(lane, key).await,
            Tier::Memcached(t) => t.get(lane, key).await,
            Tier::Sql(t) => t.get(key, lane, wait_ns).await,
        }
    }

    /// Writes a key.
    #[inline]
    pub async fn set(
        &self,
        key: &str,
        value: &[u8],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.set(key, value);
                Ok(())
            }
            Tier::Redis(t) => t.set(lane, key, value).await,
            Tier::RedisCluster(t) => t.set(lane, key, value).await,
            Tier::Memcached(t) => t.set(lane, key, value).await,
            Tier::Sql(t) => t.set(key, value, lane, wait_ns).await,
        }
    }

    /// Writes a key with a time to live of its own (`ttl_ms`, a trace's), replacing the tier's:
    /// Redis `SET PX`, memcached `ms T`, SQL `expires_at`. An in-process tier keeps its own ttl
    /// (moka's is the cache's, not an entry's); without `ttl_ms`, the tier's.
    #[inline]
    pub async fn set_for(
        &self,
        key: &str,
        value: &[u8],
        ttl_ms: Option<u64>,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        match (ttl_ms, self) {
            (None, _) | (Some(_), Tier::Memory(_)) => self.set(key, value, lane, wait_ns).await,
            (Some(ms), Tier::Redis(t)) => t.set_expiring(lane, key, value, ms).await,
            (Some(ms), Tier::RedisCluster(t)) => t.set_expiring(lane, key, value, ms).await,
            (Some(ms), Tier::Memcached(t)) => t.set_expiring(lane, key, value, ms).await,
            (Some(ms), Tier::Sql(t)) => t.set_expiring(key, value, ms, (lane, wait_ns)).await,
        }
    }

    /// Writes a value already held as `Bytes` (a promotion from a lower tier).
    #[inline]
    async fn set_bytes(
        &self,
        key: &str,
        value: &Bytes,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.set_bytes(key, value.clone());
                Ok(())
            }
            other => other.set(key, value, lane, wait_ns).await,
        }
    }

    /// Removes a key.
    #[inline]
    pub async fn delete(&self, key: &str, lane: usize, wait_ns: &mut u64) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.delete(key);
                Ok(())
            }
            Tier::Redis(t) => t.delete(lane, key).await,
            Tier::RedisCluster(t) => t.delete(lane, key).await,
            Tier::Memcached(t) => t.delete(lane, key).await,
            Tier::Sql(t) => t.delete(key, lane, wait_ns).await,
        }
    }

    /// Refreshes a key's time to live; true if the key exists.
    #[inline]
    pub async fn touch(
        &self,
        key: &str,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<bool, TierError> {
        match self {
            Tier::Memory(t) => Ok(t.touch(key)),
            Tier::Redis(t) => t.touch(lane, key).await,
            Tier::RedisCluster(t) => t.touch(lane, key).await,
            Tier::Memcached(t) => t.touch(lane, key).await,
            Tier::Sql(t) => t.touch(key, lane, wait_ns).await,
        }
    }

    /// Entries held now (under the prefix), when the tier can tell.
    pub async fn entries(&self) -> Result<Option<u64>, TierError> {
        match self {
            Tier::Memory(t) => Ok(Some(t.entries())),
            Tier::Redis(t) => t.entries().await.map(Some),
            Tier::RedisCluster(t) => t.entries().await.map(Some),
            Tier::Memcached(t) => t.entries().await.map(Some),
            Tier::Sql(t) => t.entries().await.map(Some),
        }
    }

    /// Memory the tier uses now, in bytes, and how that figure is obtained.
    pub async fn memory_bytes(&self) -> Result<(u64, &'static str), TierError> {
        match self {
            Tier::Memory(_) => memory::allocated_bytes()
                .map(|b| (b, "jemalloc stats.allocated of the tierbench process")),
            Tier::Redis(t) => t
                .used_memory()
                .await
                .map(|b| (b, "Redis INFO memory used_memory")),
            Tier::RedisCluster(t) => t.used_memory().await.map(|b| {
                (
                    b,
                    "Redis INFO memory used_memory, summed over the cluster's primaries",
                )
            }),
            Tier::Memcached(t) => t.slab_bytes().await.map(|b| {
                (
                    b,
                    "memcached stats slabs: chunk_size x used_chunks over the slab classes",
                )
            }),
            Tier::Sql(t) => t.table_bytes().await,
        }
    }

    /// Bytes per entry by the server's own account of a sample of the run's keys, for key
    /// spaces too small for a slope of `used_memory` (Redis: `MEMORY USAGE`); the figure, how
    /// many keys were sampled and the method. `None` for tiers that cannot tell.
    pub async fn sampled_entry_bytes(&self) -> Result<Option<(f64, u64, String)>, TierError> {
        match self {
            Tier::Redis(t) => t.sampled_entry_bytes().await,
            _ => Ok(None),
        }
    }

    /// Keys the server has evicted since it started (`INFO stats` `evicted_keys`), for a tier
    /// that evicts on a server's own account (Redis); `None` for the others.
    pub async fn evicted_keys(&self) -> Result<Option<u64>, TierError> {
        match self {
            Tier::Redis(t) => t.evicted_keys().await.map(Some),
            Tier::RedisCluster(t) => t.evicted_keys().await.map(Some),
            Tier::Memcached(t) => t.evictions().await.map(Some),
            _ => Ok(None),
        }
    }

    /// Each node's server-side counts now, for a tier that reports them: a Redis Cluster's
    /// primaries (`INFO commandstats`), a memcached server (`stats`).
    pub async fn node_counts(
        &self,
    ) -> Result<Option<Vec<crate::metrics::nodes::NodeCounts>>, TierError> {
        match self {
            Tier::RedisCluster(t) => t.node_counts().await.map(Some),
            Tier::Memcached(t) => t.node_counts().await.map(|n| Some(vec![n])),
            _ => Ok(None),
        }
    }

    /// Removes every key tierbench wrote, keeping the tier itself (its table) in place.
    pub async fn clear(&self) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.clear();
                Ok(())
            }
            Tier::Redis(t) => t.clear().await.map(drop),
            Tier::RedisCluster(t) => t.clear().await.map(drop),
            Tier::Memcached(t) => t.clear().await.map(drop),
            Tier::Sql(t) => t.clear().await,
        }
    }

    /// Removes everything tierbench wrote to the tier (nothing else; with `keep`, only the run's
    /// marker, so the data kept is not taken for an interrupted run's leftovers).
    pub async fn cleanup(&self, keep: bool) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.clear();
                Ok(())
            }
            Tier::Redis(t) => t.cleanup(keep).await.map(drop),
            Tier::RedisCluster(t) => t.cleanup(keep).await.map(drop),
            Tier::Memcached(t) => t.cleanup(keep).await.map(drop),
            Tier::Sql(t) => t.cleanup().await,
        }
    }
}
