//! The Redis Cluster tier's batch calls (mget, mset, mdelete): a batch's keys lie in many slots,
//! and a multi-key command must stay within one slot (Redis refuses it with CROSSSLOT).
//!
//! MGET, MSET and DEL go through the `redis` crate's cluster client, which splits a multi-key
//! command by slot into one command per slot holding keys of the batch, sends each to the
//! primary serving that slot (all at once, following MOVED/ASK/TRYAGAIN per command) and puts
//! the answers back in the batch's order. So a batch of `n` keys costs one MGET (MSET, DEL) per
//! distinct slot among its keys, which is what the nodes' `INFO commandstats` count. An MSET
//! with the tier's ttl is a `SET key value PX ttl` per key (MSET sets no expiry), sent as one
//! pipeline per primary (`redis_cluster_pipe.rs`). The batch is timed as one operation, from
//! the send to the last answer, as on a single Redis.
//!
//! A child of `redis_cluster.rs` kept in its own file so that one stays about connecting.

use bytes::Bytes;

use super::RedisClusterTier;
use crate::tier::error::TierError;
use crate::tier::redis::data::crate_error;
use crate::tier::wire::bounded;
use crate::workload::batch::BatchKeys;
use crate::workload::op::Op;

impl RedisClusterTier {
    /// MGET of the keys at `which`, split by slot.
    pub async fn mget(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
        found: &mut Vec<Option<Bytes>>,
    ) -> Result<(), TierError> {
        let mut conn = self.conns[lane % self.conns.len()].clone();
        let mut cmd = redis::cmd("MGET");
        for &i in which {
            cmd.arg(keys.key(i as usize));
        }
        let values: Vec<Option<Vec<u8>>> =
            bounded(self.timeout, cmd.query_async(&mut conn), crate_error).await?;
        if values.len() != which.len() {
            return Err(TierError::Operation(format!(
                "an MGET of {} keys got {} values",
                which.len(),
                values.len()
            )));
        }
        found.extend(values.into_iter().map(|v| v.map(Bytes::from)));
        Ok(())
    }

    /// MSET of the keys at `which`, split by slot (with a ttl: SET PX per key, pipelined per
    /// primary).
    pub async fn mset<'v>(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
        value: impl Fn(usize) -> &'v [u8],
    ) -> Result<(), TierError> {
        if self.ttl_ms.is_some() {
            let batch: Vec<(Op, &str, &[u8])> = which
                .iter()
                .map(|&i| (Op::Set, keys.key(i as usize), value(i as usize)))
                .collect();
            let mut replies = Vec::with_capacity(batch.len());
            self.run_batch(lane, &batch, &mut replies).await?;
            return replies.into_iter().try_for_each(|r| r.map(drop));
        }
        let mut conn = self.conns[lane % self.conns.len()].clone();
        let mut cmd = redis::cmd("MSET");
        for &i in which {
            cmd.arg(keys.key(i as usize)).arg(value(i as usize));
        }
        bounded(self.timeout, cmd.query_async::<()>(&mut conn), crate_error).await
    }

    /// DEL of the keys at `which`, split by slot.
    pub async fn mdelete(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
    ) -> Result<(), TierError> {
        let mut conn = self.conns[lane % self.conns.len()].clone();
        let mut cmd = redis::cmd("DEL");
        for &i in which {
            cmd.arg(keys.key(i as usize));
        }
        bounded(self.timeout, cmd.query_async::<i64>(&mut conn), crate_error)
            .await
            .map(drop)
    }
}

impl RedisClusterTier {
    /// `SET key value PX ttl_ms`: a write with a time to live of its own (a trace's) instead of
    /// the tier's.
    pub async fn set_expiring(
        &self,
        lane: usize,
        key: &str,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<(), TierError> {
        let mut conn = self.conns[lane % self.conns.len()].clone();
        let cmd = crate::tier::redis::data::crate_cmd(Op::Set, key, value, Some(ttl_ms));
        let _: redis::Value =
            bounded(self.timeout, cmd.query_async(&mut conn), crate_error).await?;
        Ok(())
    }
}
