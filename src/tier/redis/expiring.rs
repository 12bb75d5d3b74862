//! A Redis write with a time to live of its own (a trace's), instead of the tier's: `SET key
//! value PX ttl` (a hash tier: `HSET` with `PEXPIRE` in the same round trip).

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
        let (ttl, timeout) = (Some(ttl_ms), self.timeout);
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
