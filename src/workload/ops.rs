//! The weighted operation mix that picks one operation per step, and where operations come from.
//!
//! A mix is a cumulative weight table sampled with one random number: a few comparisons, no
//! allocation, so choosing the next operation stays cheap next to the cheapest cache call.

use rand::{Rng, RngExt};

use super::op::Op;

/// Relative weights of the operations, sampled per step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpMix {
    /// Cumulative weights, indexed like `Op::ALL`.
    cumulative: [u64; Op::COUNT],
}

impl OpMix {
    /// A mix from weights indexed like `Op::ALL`. `None` if every weight is zero.
    pub fn new(weights: [u32; Op::COUNT]) -> Option<OpMix> {
        let mut cumulative = [0u64; Op::COUNT];
        let mut total = 0u64;
        for (slot, w) in cumulative.iter_mut().zip(weights) {
            total += u64::from(w);
            *slot = total;
        }
        (total > 0).then_some(OpMix { cumulative })
    }

    /// The weight of one operation.
    pub fn weight(&self, op: Op) -> u64 {
        let i = op.index();
        self.cumulative[i] - if i == 0 { 0 } else { self.cumulative[i - 1] }
    }

    /// Operations with a non-zero weight.
    pub fn ops(&self) -> impl Iterator<Item = Op> + '_ {
        Op::ALL.into_iter().filter(|&op| self.weight(op) > 0)
    }

    /// Picks an operation with probability proportional to its weight.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Op {
        let total = self.cumulative[Op::COUNT - 1];
        let x = rng.random_range(0..total);
        for (i, &c) in self.cumulative.iter().enumerate() {
            if x < c {
                return Op::ALL[i];
            }
        }
        Op::ALL[Op::COUNT - 1]
    }
}

/// Where a worker's operations come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpSource {
    /// Weighted random operations, each on a freshly sampled key.
    Mix(OpMix),
    /// A per-key lifecycle: one sampled key, these operations in order, then the next key.
    Sequence(Vec<Op>),
    /// A trace's operations and keys, in its order.
    Trace {
        /// The trace file.
        path: std::path::PathBuf,
        /// Its format.
        format: super::trace::TraceFormat,
    },
}

impl OpSource {
    /// The operations this source issues, in `Op::ALL` order.
    pub fn ops(&self) -> Vec<Op> {
        match self {
            OpSource::Mix(m) => m.ops().collect(),
            OpSource::Sequence(seq) => Op::ALL.into_iter().filter(|op| seq.contains(op)).collect(),
            // A trace replays recorded batches key by key (see `trace::parse_line`).
            OpSource::Trace { .. } => Op::ALL.into_iter().filter(|op| !op.is_batch()).collect(),
        }
    }

    /// A trace's feed, read once per phase by all of a workload's workers (`None` for
    /// generated operations).
    pub fn trace_feed(&self) -> Option<super::trace::TraceFeed> {
        match self {
            OpSource::Trace { path, format } => {
                Some(super::trace::TraceFeed::new(path.clone(), *format))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn mix_follows_weights() {
        let mix = OpMix::new([90, 10, 0, 0, 0, 0, 0]).unwrap();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut counts = [0u32; Op::COUNT];
        for _ in 0..100_000 {
            counts[mix.sample(&mut rng).index()] += 1;
        }
        assert!((89_000..91_000).contains(&counts[0]), "{counts:?}");
        assert_eq!(counts[2], 0);
        assert_eq!(mix.ops().collect::<Vec<_>>(), vec![Op::Get, Op::Set]);
        assert!(OpMix::new([0, 0, 0, 0, 0, 0, 0]).is_none());
    }
}
