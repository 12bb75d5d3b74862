//! A Redis write with a given time to live: the tier's (`set`) or a write's own (a trace's),
//! `SET key value PX ttl` (a hash tier: `HSET` with `PEXPIRE` in the same round trip).

use super::RedisTier;
use crate::tier::error::TierError;
use crate::workload::op::Op;

impl RedisTier {
    /// SET PX `ttl_ms`.
    pub async fn set_expiring(
        &self,
        lane: usize,
        key: &str,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<(), TierError> {
        self.set_with_ttl(lane, key, value, Some(ttl_ms)).await
    }

    /// SET, with PX `ttl` when there is one (the tier's, or a write's own).
    pub(super) async fn set_with_ttl(
        &self,
        lane: usize,
        key: &str,
        value: &[u8],
        ttl: Option<u64>,
    ) -> Result<(), TierError> {
        let timeout = self.timeout;
        if let Some(hash) = &self.hash {
            return self
                .data
                .hash_set(lane, key, value, hash, ttl, timeout)
                .await;
        }
        self.data
            .write(lane, Op::Set, key, value, ttl, timeout)
            .await
            .map(drop)
    }
}
