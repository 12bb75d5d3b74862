//! The weighted operation mix that picks one operation per step, and where operations come from.
//!
//! A mix is a cumulative weight table sampled with one random number: a few comparisons, no
//! allocation, so choosing the next operation stays cheap next to the cheapest cache call.

use rand::{Rng, RngExt};

use super::op::Op;

/// Relative weights of the operations, sampled per step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpMix {
    /// Cumulative weights, indexed like `Op::index`: the built-ins, then the custom commands.
    cumulative: Box<[u64]>,
}

impl OpMix {
    /// A mix from weights indexed like `Op::index` (the built-ins' `Op::COUNT`, then one per
    /// custom command; missing built-ins weigh 0). `None` if every weight is zero.
    pub fn new(weights: &[u32]) -> Option<OpMix> {
        let mut total = 0u64;
        let cumulative: Box<[u64]> = (0..weights.len().max(Op::COUNT))
            .map(|i| {
                total += u64::from(weights.get(i).copied().unwrap_or(0));
                total
            })
            .collect();
        (total > 0).then_some(OpMix { cumulative })
    }

    /// The weight of one operation.
    pub fn weight(&self, op: Op) -> u64 {
        let i = op.index();
        let below = match i.checked_sub(1) {
            Some(j) => self.cumulative.get(j).copied().unwrap_or(0),
            None => 0,
        };
        self.cumulative.get(i).map_or(0, |c| c - below)
    }

    /// Operations with a non-zero weight, in `Op::index` order.
    pub fn ops(&self) -> impl Iterator<Item = Op> + '_ {
        (0..self.cumulative.len())
            .map(Op::from_index)
            .filter(|&op| self.weight(op) > 0)
    }

    /// Picks an operation with probability proportional to its weight.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Op {
        let last = self.cumulative.len() - 1;
        let x = rng.random_range(0..self.cumulative[last]);
        for (i, &c) in self.cumulative.iter().enumerate() {
            if x < c {
                return Op::from_index(i);
            }
        }
        Op::from_index(last)
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
        /// Only the records of this recorded workload (a recording's `workload` column).
        only: Option<std::sync::Arc<str>>,
        /// Replay at the trace's pace times this many thousandths (`1x`: 1000); `None`: as
        /// fast as the loop runs.
        speed_permille: Option<u32>,
    },
}

impl OpSource {
    /// The operations this source issues, in `Op::index` order.
    pub fn ops(&self) -> Vec<Op> {
        match self {
            OpSource::Mix(m) => m.ops().collect(),
            OpSource::Sequence(seq) => {
                let mut ops = seq.clone();
                ops.sort_by_key(|op| op.index());
                ops.dedup();
                ops
            }
            // A trace replays recorded batches key by key (see `trace::parse_line`).
            OpSource::Trace { .. } => Op::ALL.into_iter().filter(|op| !op.is_batch()).collect(),
        }
    }

    /// A trace's feed, read once through the warmup and the phases by all of a workload's
    /// workers (`None` for generated operations).
    pub fn trace_feed(&self) -> Option<super::trace::TraceFeed> {
        match self {
            OpSource::Trace {
                path, format, only, ..
            } => Some(super::trace::TraceFeed::new(
                path.clone(),
                *format,
                only.clone(),
            )),
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
        let mix = OpMix::new(&[90, 10, 0, 0, 0, 0, 0]).unwrap();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut counts = [0u32; Op::COUNT];
        for _ in 0..100_000 {
            counts[mix.sample(&mut rng).index()] += 1;
        }
        assert!((89_000..91_000).contains(&counts[0]), "{counts:?}");
        assert_eq!(counts[2], 0);
        assert_eq!(mix.ops().collect::<Vec<_>>(), vec![Op::Get, Op::Set]);
        assert!(OpMix::new(&[0, 0, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn custom_commands_follow_the_built_ins() {
        let mix = OpMix::new(&[3, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
        assert_eq!(mix.ops().collect::<Vec<_>>(), vec![Op::Get, Op::Command(1)]);
        let mut rng = SmallRng::seed_from_u64(3);
        let commands = (0..40_000)
            .filter(|_| mix.sample(&mut rng) == Op::Command(1))
            .count();
        assert!((9_000..11_000).contains(&commands), "{commands}");
        assert_eq!(mix.weight(Op::Command(7)), 0);
    }
}
