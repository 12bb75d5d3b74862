//! Batch operations through the stack: each tier is asked for the keys the tiers above it
//! missed in ONE call, the keys every tier missed are loaded from the origin as one batch, and
//! what was found below is promoted into each tier above as one batch per tier.
//!
//! A child of `stack.rs` (the same policy, error handling and timing), in its own file. Each
//! tier call is timed once and counted in the tier's recorder under the batch operation; keys
//! are counted one by one as hits or misses of the tier that was asked (so `TIER.hit_rate`
//! stays a per-key figure). The worker's `BatchScratch` holds every list a batch needs, reused
//! from one batch to the next: no allocation per key beyond what a tier returns.

use bytes::Bytes;

use super::{Stack, note_wait};
use crate::metrics::recorder::{Recorder, Slot};
use crate::tier::TierError;
use crate::tier::stack::origin::OriginLatency;
use crate::workload::batch::BatchKeys;
use crate::workload::op::Op;

/// Who served a key: a tier's index, `ORIGIN` or `MISSING`.
const MISSING: u8 = u8::MAX;

/// A worker's reusable lists for batch operations.
#[derive(Default)]
pub struct BatchScratch {
    /// Each key's value once found.
    pub values: Vec<Option<Bytes>>,
    /// Who served each key (a tier index, the stack's length for the origin, `u8::MAX` none).
    pub served: Vec<u8>,
    pending: Vec<u32>,
    next: Vec<u32>,
    found: Vec<Option<Bytes>>,
    all: Vec<u32>,
}

impl BatchScratch {
    /// Positions `0..n`.
    fn fill_all(&mut self, n: usize) {
        self.all.clear();
        self.all.extend(0..n as u32);
    }
}

impl Stack {
    /// Reads a batch of keys. `origin(i)` is the origin's value of key `i` on a miss everywhere;
    /// `start` is the batch's start (a raw clock reading), from which per-key latency counts.
    pub async fn mget<'v>(
        &self,
        keys: &BatchKeys,
        lane: usize,
        origin: impl Fn(usize) -> &'v [u8],
        start: u64,
        scratch: &mut BatchScratch,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        let n = keys.len();
        let s = scratch;
        s.values.clear();
        s.values.resize(n, None);
        s.served.clear();
        s.served.resize(n, MISSING);
        s.pending.clear();
        s.pending.extend(0..n as u32);
        crate::metrics::recorder::record(&mut rec.batch.sizes, n as u64);
        let mut visited = 0;
        let tiers = if self.policy.stacked {
            self.tiers.len()
        } else {
            1
        };
        for i in 0..tiers {
            if s.pending.is_empty() {
                break;
            }
            visited += 1;
            let mut wait = 0;
            let call_start = self.clock.raw();
            let result = self.tiers[i]
                .mget(keys, &s.pending, &mut s.found, lane, &mut wait)
                .await;
            let end = self.clock.raw();
            note_wait(rec, i, wait);
            let t = &mut rec.tiers[i];
            t.batch.mget_calls += 1;
            t.batch.keys_asked += s.pending.len() as u64;
            if self.policy.stacked {
                t.calls
                    .record(Op::MGet, self.clock.delta_as_nanos(call_start, end));
            }
            if let Err(e) = result {
                if !self.policy.stacked {
                    rec.note_tier_error(i, &e, &self.clock);
                    return Err(e);
                }
                self.on_error(rec, i, e)?;
                continue; // skipped: every pending key goes on to the next tier
            }
            let ready = self.clock.delta_as_nanos(start, end);
            s.next.clear();
            for (j, &k) in s.pending.iter().enumerate() {
                match s.found.get_mut(j).and_then(Option::take) {
                    Some(v) => {
                        let v = self.unpack(i, v, rec)?;
                        rec.tiers[i].count_lookup(true);
                        rec.batch.key_ready(ready);
                        s.values[k as usize] = Some(v);
                        s.served[k as usize] = i as u8;
                    }
                    None => {
                        rec.tiers[i].count_lookup(false);
                        s.next.push(k);
                    }
                }
            }
            if s.next.is_empty() {
                rec.tiers[i].batch.full_hits += 1;
            }
            std::mem::swap(&mut s.pending, &mut s.next);
        }
        if self.policy.stacked && !s.pending.is_empty() {
            visited += 1;
            self.load_from_origin(keys, &origin, start, s, rec).await;
        }
        if let Some(v) = rec.batch.visited.get_mut(visited) {
            *v += 1;
        }
        if self.policy.stacked {
            self.promote(keys, lane, s, rec).await?;
        }
        Ok(())
    }

    /// Loads the keys every tier missed from the origin: one load for the batch, as an
    /// application's batched query to its source of truth would be.
    async fn load_from_origin<'v>(
        &self,
        keys: &BatchKeys,
        origin: &impl Fn(usize) -> &'v [u8],
        start: u64,
        s: &mut BatchScratch,
        rec: &mut Recorder,
    ) {
        let latency = &self.policy.origin_latency;
        if !latency.is_zero() {
            let first = keys.key(s.pending[0] as usize);
            let wait_start = self.clock.raw();
            let delay = latency.sample(OriginLatency::seed(first, rec.origin_reads));
            let waited = crate::tier::stack::origin::wait(&self.clock, wait_start, delay).await;
            rec.record_latency(Slot::OriginWait, waited);
        }
        let ready = self.clock.delta_as_nanos(start, self.clock.raw());
        let origin_index = self.tiers.len() as u8;
        for &k in &s.pending {
            s.values[k as usize] = Some(Bytes::copy_from_slice(origin(k as usize)));
            s.served[k as usize] = origin_index;
            rec.batch.key_ready(ready);
        }
    }

    /// Writes what tiers below (or the origin) served into each tier above them: one batch
    /// write per tier that has something to receive.
    async fn promote(
        &self,
        keys: &BatchKeys,
        lane: usize,
        s: &mut BatchScratch,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        for upper in 0..self.tiers.len() {
            s.next.clear();
            s.next.extend((0..s.served.len() as u32).filter(|&k| {
                s.served[k as usize] != MISSING && s.served[k as usize] as usize > upper
            }));
            if s.next.is_empty() {
                continue;
            }
            if self.compression[upper].is_some() {
                for &k in &s.next {
                    if let Some(v) = s.values[k as usize].clone() {
                        self.fill(upper, keys.key(k as usize), &v, lane, rec)
                            .await?;
                    }
                }
                continue;
            }
            let mut wait = 0;
            let call_start = self.clock.raw();
            let result = self.tiers[upper]
                .mset_bytes(keys, &s.next, &s.values, lane, &mut wait)
                .await;
            let took = self.clock.delta_as_nanos(call_start, self.clock.raw());
            rec.record_latency(Slot::tier_call(upper, Op::MSet), took);
            rec.tiers[upper].batch.mset_calls += 1;
            note_wait(rec, upper, wait);
            if let Err(e) = result {
                self.on_error(rec, upper, e)?;
            }
        }
        Ok(())
    }

    /// Runs a batch write or delete on tier `i`, timed and counted for that tier.
    async fn batch_call<'v>(
        &self,
        i: usize,
        op: Op,
        (keys, which): (&BatchKeys, &[u32]),
        value: impl Fn(usize) -> &'v [u8],
        lane: usize,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        let mut wait = 0;
        // A lone tier's call time is the operation's own: no second pair of clock reads.
        let start = if self.policy.stacked {
            self.clock.raw()
        } else {
            0
        };
        let result = if op == Op::MSet {
            rec.tiers[i].batch.mset_calls += 1;
            if self.compression[i].is_some() {
                // Compressed tiers store what `pack` makes, key by key.
                for &k in which {
                    self.call(
                        i,
                        (Op::Set, None),
                        keys.key(k as usize),
                        value(k as usize),
                        lane,
                        rec,
                    )
                    .await?;
                }
                Ok(())
            } else {
                self.tiers[i]
                    .mset(keys, which, value, lane, &mut wait)
                    .await
            }
        } else {
            rec.tiers[i].batch.mdelete_calls += 1;
            self.tiers[i].mdelete(keys, which, lane, &mut wait).await
        };
        self.settle(rec, i, op, start, wait, result)
    }

    /// Writes a batch: every tier, one batch write each (through), or the lowest then one
    /// batch delete in each tier above (around).
    pub async fn mset<'v>(
        &self,
        keys: &BatchKeys,
        value: impl Fn(usize) -> &'v [u8] + Copy,
        lane: usize,
        scratch: &mut BatchScratch,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        scratch.fill_all(keys.len());
        crate::metrics::recorder::record(&mut rec.batch.sizes, keys.len() as u64);
        self.batch_write_begins(keys);
        let all = std::mem::take(&mut scratch.all);
        let last = self.tiers.len() - 1;
        let result = async {
            match self.policy.write {
                super::WritePolicy::Through => {
                    for i in 0..=last {
                        self.batch_call(i, Op::MSet, (keys, &all), value, lane, rec)
                            .await?;
                    }
                }
                super::WritePolicy::Around => {
                    self.batch_call(last, Op::MSet, (keys, &all), value, lane, rec)
                        .await?;
                    for i in (0..last).rev() {
                        self.batch_call(i, Op::MDelete, (keys, &all), value, lane, rec)
                            .await?;
                    }
                }
            }
            Ok(())
        }
        .await;
        scratch.all = all;
        if result.is_ok() {
            self.batch_write_completed(keys).await;
        }
        result
    }

    /// Removes a batch of keys from every tier, lowest first, one batch delete each.
    pub async fn mdelete(
        &self,
        keys: &BatchKeys,
        lane: usize,
        scratch: &mut BatchScratch,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        scratch.fill_all(keys.len());
        crate::metrics::recorder::record(&mut rec.batch.sizes, keys.len() as u64);
        self.batch_write_begins(keys);
        let all = std::mem::take(&mut scratch.all);
        let mut result = Ok(());
        for i in (0..self.tiers.len()).rev() {
            result = self
                .batch_call(i, Op::MDelete, (keys, &all), |_| &[], lane, rec)
                .await;
            if result.is_err() {
                break;
            }
        }
        scratch.all = all;
        if result.is_ok() {
            self.batch_write_completed(keys).await;
        }
        result
    }

    /// Notes that writes of every key of a batch begin (coherence only).
    fn batch_write_begins(&self, keys: &BatchKeys) {
        for i in 0..keys.len() {
            self.write_begins(keys.key(i));
        }
    }

    /// Notes that writes of every key of a batch completed (coherence only).
    async fn batch_write_completed(&self, keys: &BatchKeys) {
        for i in 0..keys.len() {
            self.write_completed(keys.key(i)).await;
        }
    }
}
