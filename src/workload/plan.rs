//! A worker's planned operations, drawn in batches ahead of the loop that issues them.
//!
//! Why its own file: the draws that decide *what* runs (the operation, the key index, the value
//! pool slot) are the worker's whole random sequence, and two users must agree on it exactly: the
//! engine's operation stream, and the L1 bench's bare loop (`benches/l1_ops.rs`), which replays
//! the same keys to give tierbench's reported latency a reference.
//!
//! Drawing a batch at a time keeps the sampler's code and data (zipf's logarithms and
//! exponentials, the random generator) out of the instruction and data caches between two timed
//! calls: one refill every [`BATCH`] operations instead of a draw between every two. The draws
//! happen in the same order either way (operation, key, pool slot, then the next operation's),
//! so a seed gives the same sequence batched or not. A distribution that follows the worker's own
//! writes (`latest`) is drawn one at a time, after the previous write was noted.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::keys::KeySampler;
use super::op::Op;
use super::ops::{OpMix, OpSource};

/// Operations drawn per refill (16 bytes each: 1 KiB, a few cache lines read in order).
pub const BATCH: usize = 64;

/// One planned operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The key's index.
    pub index: u64,
    /// The value pool slot (`ValuePool::get` reduces it to the pool's size).
    pub pool: u32,
    /// The operation.
    pub op: Op,
}

/// Where the operations come from.
enum Ops {
    Mix(OpMix),
    Sequence {
        steps: Vec<Op>,
        step: usize,
        key: u64,
    },
    /// A trace's (or no) operations: only the pool slot is drawn.
    Given,
}

/// A worker's random sequence of planned operations.
pub struct Planner {
    rng: SmallRng,
    sampler: KeySampler,
    ops: Ops,
    ring: [Planned; BATCH],
    next: usize,
    filled: usize,
    /// Operations drawn per refill: [`BATCH`], or 1 when the keys follow the worker's writes.
    batch: usize,
    /// The seed of the last batch operation's keys (see `batch_keys`).
    last_batch_seed: Option<u64>,
}

impl Planner {
    /// The planner of a worker whose random stream starts at `seed`, choosing keys with `sampler`
    /// (already made for this worker) and operations from `ops`.
    pub fn new(seed: u64, sampler: KeySampler, ops: &OpSource) -> Planner {
        let batch = if sampler.follows_writes() { 1 } else { BATCH };
        let ops = match ops {
            OpSource::Mix(mix) => Ops::Mix(mix.clone()),
            OpSource::Sequence(steps) if !steps.is_empty() => Ops::Sequence {
                steps: steps.clone(),
                step: 0,
                key: 0,
            },
            OpSource::Sequence(_) | OpSource::Trace { .. } => Ops::Given,
        };
        Planner {
            rng: SmallRng::seed_from_u64(seed),
            sampler,
            ops,
            ring: [Planned {
                index: 0,
                pool: 0,
                op: Op::Get,
            }; BATCH],
            next: 0,
            filled: 0,
            batch,
            last_batch_seed: None,
        }
    }

    /// The next planned operation (a trace's: only its pool slot is meaningful).
    #[inline]
    pub fn next_op(&mut self) -> Planned {
        if self.next == self.filled {
            self.refill();
        }
        let planned = self.ring[self.next];
        self.next += 1;
        planned
    }

    /// Notes a completed write of `index` (the `latest` distribution counts back from it).
    #[inline]
    pub fn note_write(&mut self, index: u64) {
        self.sampler.note_write(index);
    }

    /// The keys of a batch operation `planned` into `out`: drawn from a stream seeded by the
    /// planned key index and pool slot (a mix: every batch its own keys), or by the key index
    /// alone (a sequence: every step of a lifecycle on the same batch). Repeating the last seed
    /// repeats the last keys without drawing (a distribution with state, `sequential`, would
    /// otherwise move on between two steps).
    pub fn batch_keys(
        &mut self,
        planned: &Planned,
        sizes: &super::batch::BatchSizes,
        key_count: u64,
        out: &mut Vec<u64>,
    ) {
        let seed = match self.ops {
            Ops::Sequence { .. } => planned.index ^ 0x9e37_79b9_7f4a_7c15,
            _ => (planned.index << 32) ^ u64::from(planned.pool),
        };
        if self.last_batch_seed == Some(seed) && !out.is_empty() {
            return;
        }
        self.last_batch_seed = Some(seed);
        super::batch::draw_keys(seed, sizes, &mut self.sampler, key_count, out);
    }

    /// Draws the next batch, in the order a draw per operation would take.
    #[inline(never)]
    fn refill(&mut self) {
        for i in 0..self.batch {
            self.ring[i] = self.draw();
        }
        self.next = 0;
        self.filled = self.batch;
    }

    #[inline]
    fn draw(&mut self) -> Planned {
        let (op, index) = match &mut self.ops {
            Ops::Mix(mix) => (
                mix.sample(&mut self.rng),
                self.sampler.sample(&mut self.rng),
            ),
            Ops::Sequence { steps, step, key } => {
                if *step == 0 {
                    *key = self.sampler.sample(&mut self.rng);
                }
                let op = steps[*step];
                *step = (*step + 1) % steps.len();
                (op, *key)
            }
            Ops::Given => (Op::Get, 0),
        };
        Planned {
            index,
            pool: self.rng.next_u32(),
            op,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::keys::KeyDistribution;

    /// The draws as the stream made them before batching: one operation at a time.
    fn one_at_a_time(seed: u64, mut sampler: KeySampler, mix: &OpMix, n: usize) -> Vec<Planned> {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let op = mix.sample(&mut rng);
                let index = sampler.sample(&mut rng);
                Planned {
                    index,
                    pool: rng.next_u32(),
                    op,
                }
            })
            .collect()
    }

    #[test]
    fn batches_give_the_sequence_a_draw_per_operation_gives() {
        let mix = OpMix::new(&[10, 1, 1, 0, 0, 0, 0]).unwrap();
        for dist in [
            KeyDistribution::Zipf { exponent: 0.99 },
            KeyDistribution::Uniform,
            KeyDistribution::Sequential,
        ] {
            let sampler = KeySampler::new(&dist, 5000, 1, 3).unwrap();
            let want = one_at_a_time(42, sampler.clone(), &mix, 3 * BATCH + 5);
            let mut planner = Planner::new(42, sampler, &OpSource::Mix(mix.clone()));
            let got: Vec<Planned> = (0..want.len()).map(|_| planner.next_op()).collect();
            assert_eq!(got, want, "{dist:?}");
        }
    }

    #[test]
    fn sequences_keep_one_key_per_lifecycle() {
        let sampler = KeySampler::new(&KeyDistribution::Uniform, 1_000_000, 0, 1).unwrap();
        let steps = vec![Op::Set, Op::Get, Op::Delete];
        let mut planner = Planner::new(7, sampler, &OpSource::Sequence(steps.clone()));
        for _ in 0..100 {
            let first = planner.next_op();
            assert_eq!(first.op, Op::Set);
            for &op in &steps[1..] {
                let p = planner.next_op();
                assert_eq!((p.op, p.index), (op, first.index));
            }
        }
    }

    #[test]
    fn latest_follows_each_write_before_the_next_draw() {
        let sampler = KeySampler::new(&KeyDistribution::Latest, 100_000, 0, 1).unwrap();
        let mix = OpMix::new(&[1, 0, 0, 0, 0, 0, 0]).unwrap();
        let mut planner = Planner::new(3, sampler, &OpSource::Mix(mix));
        let mut near = 0;
        for k in 0..200u64 {
            let written = 10_000 + k * 450;
            planner.note_write(written);
            if (written - 10_000..=written).contains(&planner.next_op().index) {
                near += 1;
            }
        }
        assert!(
            near > 120,
            "{near} of 200 reads near the write just before them"
        );
    }
}
