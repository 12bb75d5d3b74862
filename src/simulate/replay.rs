//! Simulate mode's replay: requests through the real in-process engines (moka, quick_cache,
//! lru), counting hits and misses without timing anything.
//!
//! Why it exists: a sweep over cache sizes or a long trace needs hit rates, not latencies, and
//! the engine's loop (a clock read, a histogram record and the stack's bookkeeping around every
//! call) costs more than the cache call itself. Here each request is one or two calls on
//! [`MemoryTier`], the very caches a measured run uses, so the eviction policy is the real one.
//! Values are empty (`Bytes::new()`, no allocation): every engine here counts entries, not
//! bytes, so a value's size does not change what is evicted.
//!
//! The policy is the stack's (`tier::stack`): a lone tier's miss loads nothing; in a stack a
//! read asks the tiers top first, a lower hit is promoted into the tiers above, a miss
//! everywhere loads from the origin and fills every tier. `set` writes every tier (`through`)
//! or the lowest one and invalidates the others (`around`), `delete` removes from every tier,
//! `touch` touches every tier (no lookup counted).

use bytes::Bytes;

use crate::tier::config::WritePolicy;
use crate::tier::memory::MemoryTier;
use crate::workload::op::Op;

/// What a replay counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimCounts {
    /// Requests per operation, indexed by `Op::index`.
    pub ops: [u64; Op::COUNT],
    /// Lookups that hit, per tier in stack order.
    pub hits: Vec<u64>,
    /// Lookups that missed, per tier in stack order.
    pub misses: Vec<u64>,
    /// Reads every tier missed that loaded from the origin (stacks).
    pub origin_loads: u64,
}

impl SimCounts {
    /// All requests counted.
    pub fn requests(&self) -> u64 {
        self.ops.iter().sum()
    }

    /// A tier's hit rate, `None` when no lookup reached it.
    pub fn hit_rate(&self, tier: usize) -> Option<f64> {
        let (h, m) = (*self.hits.get(tier)?, *self.misses.get(tier)?);
        (h + m > 0).then(|| h as f64 / (h + m) as f64)
    }
}

/// In-process tiers replaying requests with a stack's policy.
pub struct Replayer {
    tiers: Vec<MemoryTier>,
    stacked: bool,
    write: WritePolicy,
    counting: bool,
    counts: SimCounts,
}

impl Replayer {
    /// Tiers in stack order; `stacked` for a read-through stack (a lone tier's miss loads
    /// nothing), with its write policy.
    pub fn new(tiers: Vec<MemoryTier>, stacked: bool, write: WritePolicy) -> Replayer {
        let n = tiers.len();
        Replayer {
            tiers,
            stacked,
            write,
            counting: true,
            counts: SimCounts {
                hits: vec![0; n],
                misses: vec![0; n],
                ..SimCounts::default()
            },
        }
    }

    /// Whether requests from now on are counted (preload and warmup are not).
    pub fn set_counting(&mut self, counting: bool) {
        self.counting = counting;
    }

    /// Applies one request.
    #[inline]
    pub fn request(&mut self, key: &str, op: Op) {
        if self.counting
            && let Some(n) = self.counts.ops.get_mut(op.index())
        {
            *n += 1;
        }
        match op.per_key() {
            Op::Get | Op::MGet => self.get(key),
            Op::Set | Op::MSet => match self.write {
                WritePolicy::Through => {
                    for tier in &self.tiers {
                        tier.set_bytes(key, Bytes::new());
                    }
                }
                WritePolicy::Around => {
                    if let Some((lowest, upper)) = self.tiers.split_last() {
                        lowest.set_bytes(key, Bytes::new());
                        for tier in upper {
                            tier.delete(key);
                        }
                    }
                }
            },
            Op::Delete | Op::MDelete => {
                for tier in &self.tiers {
                    tier.delete(key);
                }
            }
            Op::Touch => {
                for tier in &self.tiers {
                    tier.touch(key);
                }
            }
            // Simulation refuses custom commands (validation): nothing to replay.
            Op::Command(_) => {}
        }
    }

    #[inline]
    fn get(&mut self, key: &str) {
        for (i, tier) in self.tiers.iter().enumerate() {
            if tier.get(key).is_some() {
                if self.counting {
                    self.counts.hits[i] += 1;
                }
                if self.stacked {
                    for above in &self.tiers[..i] {
                        above.set_bytes(key, Bytes::new());
                    }
                }
                return;
            }
            if self.counting {
                self.counts.misses[i] += 1;
            }
            if !self.stacked {
                return;
            }
        }
        if self.stacked {
            if self.counting {
                self.counts.origin_loads += 1;
            }
            for tier in &self.tiers {
                tier.set_bytes(key, Bytes::new());
            }
        }
    }

    /// What was counted so far.
    pub fn counts(&self) -> &SimCounts {
        &self.counts
    }

    /// Entries each tier holds now.
    pub fn entries(&self) -> Vec<u64> {
        self.tiers.iter().map(MemoryTier::entries).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tier::config::MemoryEngine;

    #[test]
    fn a_lone_tier_misses_without_loading_and_a_stack_loads() {
        let lone = MemoryTier::new(MemoryEngine::Lru, 10, None);
        let mut r = Replayer::new(vec![lone], false, WritePolicy::Through);
        r.request("a", Op::Get);
        r.request("a", Op::Get);
        assert_eq!((r.counts().hits[0], r.counts().misses[0]), (0, 2));
        r.request("a", Op::Set);
        r.request("a", Op::Get);
        assert_eq!(r.counts().hits[0], 1);

        let tiers = vec![
            MemoryTier::new(MemoryEngine::Lru, 1, None),
            MemoryTier::new(MemoryEngine::Lru, 10, None),
        ];
        let mut s = Replayer::new(tiers, true, WritePolicy::Through);
        for key in ["a", "b", "a"] {
            s.request(key, Op::Get);
        }
        // a: miss, miss, load; b: miss, miss, load (evicts a from l1); a: l1 miss, l2 hit.
        assert_eq!(s.counts().hits, vec![0, 1]);
        assert_eq!(s.counts().misses, vec![3, 2]);
        assert_eq!(s.counts().origin_loads, 2);
        assert_eq!(s.counts().hit_rate(1), Some(1.0 / 3.0));
        assert_eq!(s.counts().requests(), 3);
    }

    #[test]
    fn uncounted_requests_change_the_cache_but_not_the_counts() {
        let mut r = Replayer::new(
            vec![MemoryTier::new(MemoryEngine::QuickCache, 100, None)],
            true,
            WritePolicy::Through,
        );
        r.set_counting(false);
        r.request("k", Op::Get);
        r.set_counting(true);
        r.request("k", Op::Get);
        assert_eq!(r.counts().hits, vec![1]);
        assert_eq!(r.counts().misses, vec![0]);
        assert_eq!(r.entries(), vec![1]);
    }
}
