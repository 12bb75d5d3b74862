//! Batch calls on one tier: many keys in one call (memory: N lookups under one lock where the
//! engine has one; Redis: one MGET / MSET / DEL, a pipeline of SET PX with a ttl; memcached: one
//! pipeline of meta commands; SQL: one
//! `IN (...)` statement or one multi-row upsert).
//!
//! Keys are named by their positions (`which`) in a worker's reused `BatchKeys`, so a call that
//! sends only the keys an upper tier missed builds no list of its own.

use bytes::Bytes;

use super::{Tier, TierError};
use crate::tier::wire::BatchReply;
use crate::workload::batch::BatchKeys;
use crate::workload::op::Op;

impl Tier {
    /// Reads the keys at `which`; `found` gets one entry per position, in order.
    pub async fn mget(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        found: &mut Vec<Option<Bytes>>,
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        found.clear();
        match self {
            Tier::Memory(t) => {
                t.get_many(keys, which, found);
                Ok(())
            }
            Tier::Redis(t) => t.mget(lane, keys, which, found).await,
            Tier::RedisCluster(t) => t.mget(lane, keys, which, found).await,
            Tier::Memcached(t) => t.mget(lane, keys, which, found).await,
            Tier::Sql(t) => t.mget(keys, which, found, lane, wait_ns).await,
        }
    }

    /// Writes the keys at `which`, key `i` with `value(i)`.
    pub async fn mset<'v>(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        value: impl Fn(usize) -> &'v [u8],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                for &i in which {
                    t.set(keys.key(i as usize), value(i as usize));
                }
                Ok(())
            }
            Tier::Redis(t) => t.mset(lane, keys, which, value).await,
            Tier::RedisCluster(t) => t.mset(lane, keys, which, value).await,
            Tier::Memcached(t) => t.mset(lane, keys, which, value).await,
            Tier::Sql(t) => t.mset(keys, which, value, lane, wait_ns).await,
        }
    }

    /// Writes values already held as `Bytes` (promotions): an in-process tier keeps them
    /// without copying.
    pub async fn mset_bytes(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        values: &[Option<Bytes>],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                for &i in which {
                    if let Some(v) = &values[i as usize] {
                        t.set_bytes(keys.key(i as usize), v.clone());
                    }
                }
                Ok(())
            }
            other => {
                let value = |i: usize| values[i].as_deref().unwrap_or(&[]);
                other.mset(keys, which, value, lane, wait_ns).await
            }
        }
    }

    /// Removes the keys at `which`.
    pub async fn mdelete(
        &self,
        keys: &BatchKeys,
        which: &[u32],
        lane: usize,
        wait_ns: &mut u64,
    ) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                for &i in which {
                    t.delete(keys.key(i as usize));
                }
                Ok(())
            }
            Tier::Redis(t) => t.mdelete(lane, keys, which).await,
            Tier::RedisCluster(t) => t.mdelete(lane, keys, which).await,
            Tier::Memcached(t) => t.mdelete(lane, keys, which).await,
            Tier::Sql(t) => t.mdelete(keys, which, lane, wait_ns).await,
        }
    }

    /// Operations per round trip of a Redis tier with explicit pipelining (1 for the others).
    pub fn pipeline_depth(&self) -> usize {
        match self {
            Tier::Redis(t) => t.pipeline_depth(),
            Tier::RedisCluster(t) => t.pipeline_depth(),
            Tier::Memcached(t) => t.pipeline_depth(),
            Tier::Memory(_) | Tier::Sql(_) => 1,
        }
    }

    /// Sends a batch of operations pipelined (a single Redis: one round trip; a cluster: one
    /// pipeline per primary, all at once); each operation's outcome goes into `replies`.
    pub async fn run_batch(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
        replies: &mut Vec<BatchReply>,
    ) -> Result<(), TierError> {
        match self {
            Tier::Redis(t) => t.run_batch(lane, batch, replies).await,
            Tier::RedisCluster(t) => t.run_batch(lane, batch, replies).await,
            Tier::Memcached(t) => t.run_batch(lane, batch, replies).await,
            Tier::Memory(_) | Tier::Sql(_) => Err(TierError::Operation(
                "explicit pipelining is for Redis and memcached tiers".to_string(),
            )),
        }
    }
}
