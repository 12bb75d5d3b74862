//! Which faster driver a stack allows: a lone Redis or memcached tier pipelined, or driven one
//! task per connection, or a lone in-process tier called directly (`engine/worker.rs` asks).

use super::Stack;
use crate::tier::Tier;

impl Stack {
    /// A lone Redis (single or cluster) or memcached tier with explicit pipelining: the tier and
    /// its depth.
    pub fn pipelined(&self) -> Option<(&Tier, usize)> {
        match (self.policy.stacked, self.tiers.as_slice()) {
            (false, [tier]) if self.compression[0].is_none() => {
                let depth = tier.pipeline_depth();
                (depth > 1).then_some((tier.as_ref(), depth))
            }
            _ => None,
        }
    }

    /// A lone Redis server tier (not a cluster) or memcached tier without explicit pipelining or
    /// compression whose connections one task each may drive (`RedisTier::group_target`): where each such task
    /// opens its connection, and how many connections the workers share.
    pub fn lone_redis(&self) -> Option<(crate::tier::wire::pipe::PipeTarget, usize)> {
        match (
            self.policy.stacked,
            self.tiers.as_slice(),
            self.compression.as_slice(),
        ) {
            (false, [tier], [None]) => match &**tier {
                Tier::Redis(r) if r.pipeline_depth() == 1 => {
                    Some((r.group_target()?, r.connection_count()))
                }
                Tier::Memcached(m) if m.pipeline_depth() == 1 => {
                    Some((m.pipe_target(), m.connection_count()))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The tier itself when this stack is one in-process tier storing values as given (not
    /// stacked, no compression): the worker then calls it directly and synchronously, without
    /// the two async layers (`Stack::get`, `Tier::get`) whose bookkeeping would sit inside the
    /// timed interval of a call that takes tens of nanoseconds (docs/performance.md).
    pub fn lone_memory(&self) -> Option<&crate::tier::memory::MemoryTier> {
        match (
            self.policy.stacked,
            self.tiers.as_slice(),
            self.compression.as_slice(),
        ) {
            (false, [tier], [None]) => match &**tier {
                Tier::Memory(m) => Some(m),
                _ => None,
            },
            _ => None,
        }
    }
}
