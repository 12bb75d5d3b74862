//! Many workers, one set of latency histograms: with more workers than `SPOOL_FROM_WORKERS`, a
//! worker keeps no histogram of its own but a short list of the latencies it measured, which it
//! records into the phase's shared recorder under one lock every `SPOOL_LEN` operations and when
//! it ends.
//!
//! Why: a worker's histograms grow with the largest latency they hold (HDR histograms at three
//! significant digits: 8 KB more for each doubling), and with thousands of workers each
//! operation waits behind thousands of others: every worker's histograms spanned tens of
//! milliseconds, about half a megabyte a worker, 5 GiB for 10,000 workers. The values are the
//! same, recorded into histograms of the same layout, so every percentile is exactly what the
//! workers' own histograms merged would have said. A few workers keep their own histograms:
//! there, a lock every few hundred operations would cost more than the memory it saves.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{Recorder, record};
use crate::workload::op::Op;

/// Latencies a worker holds before it records them into the shared recorder (8 KB).
pub const SPOOL_LEN: usize = 512;
/// Phases with more workers than this spool their latencies.
pub const SPOOL_FROM_WORKERS: usize = 64;

/// Which of a recorder's histograms a latency belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// End to end, by operation index (`Op::index`).
    Op(u16),
    /// Service time (open loop), by operation index.
    Service(u16),
    /// A tier's call, by tier and operation index.
    TierCall(u8, u16),
    /// A read tier `t` served, end to end.
    Served(u8),
    /// A read the origin served, end to end.
    Origin,
    /// An origin load's actual wait.
    OriginWait,
    /// A wait for a pooled connection of tier `t`.
    PoolWait(u8),
}

impl Slot {
    /// End to end, operation `op`.
    #[inline]
    pub fn op(op: Op) -> Slot {
        Slot::Op(op.index() as u16)
    }

    /// Service time, operation `op`.
    #[inline]
    pub fn service(op: Op) -> Slot {
        Slot::Service(op.index() as u16)
    }

    /// Tier `tier`'s call of `op`.
    #[inline]
    pub fn tier_call(tier: usize, op: Op) -> Slot {
        Slot::TierCall(tier as u8, op.index() as u16)
    }

    /// A read tier `tier` served.
    #[inline]
    pub fn served(tier: usize) -> Slot {
        Slot::Served(tier as u8)
    }

    /// A wait for a pooled connection of tier `tier`.
    #[inline]
    pub fn pool_wait(tier: usize) -> Slot {
        Slot::PoolWait(tier as u8)
    }
}

/// The recorder the workers of a phase share, filled in batches.
#[derive(Clone)]
pub struct SharedLatencies(Arc<Mutex<Recorder>>);

impl std::fmt::Debug for SharedLatencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLatencies")
    }
}

impl SharedLatencies {
    /// An empty one for a stack of `tiers` tiers and `commands` custom commands.
    pub fn new(tiers: usize, commands: usize) -> SharedLatencies {
        SharedLatencies(Arc::new(Mutex::new(Recorder::with_commands(
            tiers, commands,
        ))))
    }

    fn lock(&self) -> MutexGuard<'_, Recorder> {
        // A worker that panicked mid-batch leaves whole values recorded: go on with them.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Empties it for the next phase.
    pub fn clear(&self) {
        let mut shared = self.lock();
        let empty = Recorder::with_commands(shared.tiers.len(), 0);
        *shared = empty;
    }

    /// What `read` makes of what was recorded so far (the phase's merge, a live scrape).
    pub fn read<R>(&self, read: impl FnOnce(&Recorder) -> R) -> R {
        read(&self.lock())
    }
}

/// A worker's latencies not yet recorded into the shared recorder.
#[derive(Clone)]
pub(super) struct Spool {
    pending: Vec<(Slot, u64)>,
    shared: SharedLatencies,
}

impl Spool {
    pub(super) fn new(shared: SharedLatencies) -> Spool {
        Spool {
            pending: Vec::with_capacity(SPOOL_LEN),
            shared,
        }
    }

    /// Holds one latency; true when the spool is full and must be flushed.
    #[inline]
    pub(super) fn hold(&mut self, slot: Slot, nanos: u64) -> bool {
        self.pending.push((slot, nanos));
        self.pending.len() >= SPOOL_LEN
    }

    /// Records every held latency into the shared recorder.
    pub(super) fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut shared = self.shared.lock();
        for (slot, nanos) in self.pending.drain(..) {
            shared.record_now(slot, nanos);
        }
    }
}

impl Recorder {
    /// Records one latency into its histogram: held and recorded in batches into the phase's
    /// shared recorder when this recorder spools (`spool_into`), at once otherwise.
    #[inline]
    pub fn record_latency(&mut self, slot: Slot, nanos: u64) {
        if slot == Slot::Origin {
            self.origin_reads += 1;
        }
        match &mut self.spool {
            Some(spool) => {
                if spool.hold(slot, nanos) {
                    spool.flush();
                }
            }
            None => self.record_now(slot, nanos),
        }
    }

    /// Records into this recorder's own histograms.
    fn record_now(&mut self, slot: Slot, nanos: u64) {
        match slot {
            Slot::Op(i) => self.ops.record_index(usize::from(i), nanos),
            Slot::Service(i) => self.service.record_index(usize::from(i), nanos),
            Slot::TierCall(t, i) => {
                if let Some(tier) = self.tiers.get_mut(usize::from(t)) {
                    tier.calls.record_index(usize::from(i), nanos);
                }
            }
            Slot::Served(t) => {
                if let Some(tier) = self.tiers.get_mut(usize::from(t)) {
                    record(&mut tier.served, nanos);
                }
            }
            Slot::Origin => record(&mut self.origin_served, nanos),
            Slot::OriginWait => record(&mut self.origin_wait, nanos),
            Slot::PoolWait(t) => {
                if let Some(tier) = self.tiers.get_mut(usize::from(t)) {
                    record(&mut tier.pool_wait, nanos);
                }
            }
        }
    }

    /// From now on, latencies go to `shared` in batches instead of this recorder's histograms.
    pub fn spool_into(&mut self, shared: SharedLatencies) {
        self.spool = Some(Spool::new(shared));
    }

    /// Records what is held into the shared recorder, and goes on spooling (once a second, so
    /// that live figures read from the shared recorder are at most a second behind).
    #[inline]
    pub fn flush_held(&mut self) {
        if let Some(spool) = &mut self.spool {
            spool.flush();
        }
    }

    /// Records what is held into the shared recorder and stops spooling (the worker ended).
    pub fn flush_spool(&mut self) {
        if let Some(mut spool) = self.spool.take() {
            spool.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spooled_latencies_land_in_the_same_histograms_as_recorded_ones() {
        let slots = [
            Slot::op(Op::Get),
            Slot::op(Op::Set),
            Slot::service(Op::Get),
            Slot::tier_call(1, Op::Get),
            Slot::served(0),
            Slot::Origin,
            Slot::OriginWait,
            Slot::pool_wait(1),
        ];
        let mut direct = Recorder::new(2);
        let shared = SharedLatencies::new(2, 0);
        let mut workers: Vec<Recorder> = (0..3).map(|_| Recorder::new(2)).collect();
        for w in &mut workers {
            w.spool_into(shared.clone());
        }
        for i in 0..5_000u64 {
            let slot = slots[(i % slots.len() as u64) as usize];
            let nanos = 100 + i * i % 9_000_000;
            direct.record_latency(slot, nanos);
            workers[(i % 3) as usize].record_latency(slot, nanos);
        }
        // Most were flushed in batches of SPOOL_LEN; the rest when each worker ends.
        for w in &mut workers {
            w.flush_spool();
            assert!(
                w.ops.latency.is_empty(),
                "a spooling worker keeps no histogram"
            );
        }
        let mut merged = Recorder::new(2);
        for w in &workers {
            merged.merge(w);
        }
        shared.read(|s| merged.merge(s));
        for op in [Op::Get, Op::Set] {
            assert_eq!(*merged.ops.latency_of(op), *direct.ops.latency_of(op));
        }
        assert_eq!(
            *merged.service.latency_of(Op::Get),
            *direct.service.latency_of(Op::Get)
        );
        assert_eq!(
            *merged.tiers[1].calls.latency_of(Op::Get),
            *direct.tiers[1].calls.latency_of(Op::Get)
        );
        assert_eq!(*merged.tiers[0].served, *direct.tiers[0].served);
        assert_eq!(*merged.origin_served, *direct.origin_served);
        assert_eq!(*merged.origin_wait, *direct.origin_wait);
        assert_eq!(*merged.tiers[1].pool_wait, *direct.tiers[1].pool_wait);
        // The origin's seed counts the worker's own loads either way.
        assert_eq!(merged.origin_reads, direct.origin_reads);
        assert_eq!(direct.origin_reads, direct.origin_served.len());
        shared.clear();
        assert!(shared.read(|s| s.ops.latency.is_empty()));
    }
}
