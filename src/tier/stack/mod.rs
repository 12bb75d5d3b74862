//! The stack: the read/write policy over the tiers a workload targets.
//!
//! A lone tier (`target: l1`) is called directly. A stack (`target: stack` or a list) reads
//! through: tiers are asked top first, a hit below is promoted into the tiers above it, and a
//! miss everywhere loads from the simulated origin and fills every tier. Writes go through every
//! tier or around them (lowest tier written, the ones above invalidated); deletes invalidate all.
//! Each tier call is timed and counted in the tier's own recorder, so a report can say where the
//! time of a read went and which tier served it.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use quanta::Clock;

use super::coherence::Coherence;
use super::config::{ErrorPolicy, WritePolicy};
use super::{Tier, TierError};
use crate::metrics::recorder::{Recorder, Slot, record};
use crate::tier::stack::compression::Compression;
use crate::tier::stack::origin::OriginLatency;
use crate::workload::op::Op;

/// Who served a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// The tier at this index of the stack.
    Tier(usize),
    /// The origin, after every tier missed (stacks only).
    Origin,
    /// Nobody: a lone tier missed.
    Miss,
}

/// The policy a stack follows.
#[derive(Debug, Clone, Copy)]
pub struct StackPolicy {
    /// Read-through with an origin (a stack target), or a lone tier.
    pub stacked: bool,
    /// How writes go.
    pub write: WritePolicy,
    /// What a tier error does.
    pub on_error: ErrorPolicy,
    /// Latency of one origin load.
    pub origin_latency: OriginLatency,
}

/// The tiers one workload targets, in order, with their policy.
#[derive(Clone)]
pub struct Stack {
    tiers: Vec<Arc<Tier>>,
    compression: Vec<Option<Compression>>,
    policy: StackPolicy,
    clock: Clock,
    /// The app instance this stack belongs to and its instances' invalidations, when the
    /// scenario keeps several instances coherent (`tier/coherence/`).
    coherence: Option<(Arc<Coherence>, usize)>,
}

impl Stack {
    /// A stack over `tiers` (at least one), first asked first.
    pub fn new(
        tiers: Vec<Arc<Tier>>,
        compression: Vec<Option<Compression>>,
        policy: StackPolicy,
    ) -> Stack {
        Stack {
            tiers,
            compression,
            policy,
            clock: Clock::new(),
            coherence: None,
        }
    }

    /// The same policy and compression over other tiers (an app instance's own copies).
    pub fn with_tiers(&self, tiers: Vec<Arc<Tier>>) -> Stack {
        Stack::new(tiers, self.compression.clone(), self.policy)
    }

    /// This stack as app instance `instance` of `coherence`: its writes then invalidate the
    /// other instances' copies.
    pub fn with_coherence(mut self, coherence: Arc<Coherence>, instance: usize) -> Stack {
        if coherence.invalidates() {
            self.coherence = Some((coherence, instance));
        }
        self
    }

    /// Notes that a write of `key` begins (coherence only).
    #[inline]
    pub(super) fn write_begins(&self, key: &str) {
        if let Some((c, instance)) = &self.coherence {
            c.began(*instance, key);
        }
    }

    /// Notes that a write of `key` completed: the other instances hear of it (coherence only).
    #[inline]
    pub(super) async fn write_completed(&self, key: &str) {
        if let Some((c, instance)) = &self.coherence {
            c.completed(*instance, key).await;
        }
    }

    /// How many tiers.
    pub fn len(&self) -> usize {
        self.tiers.len()
    }

    /// True when the stack has no tier (never, for a validated scenario).
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// True when nothing needs an async runtime: in-process tiers and no origin delay.
    pub fn is_in_process(&self) -> bool {
        self.tiers.iter().all(|t| t.is_in_process())
            && (!self.policy.stacked || self.policy.origin_latency.is_zero())
    }

    /// True when reads that miss every tier wait for an origin latency (whose last stretch a
    /// worker spends yielding on the clock, which keeps a core busy without delaying anyone).
    pub fn waits_on_origin(&self) -> bool {
        self.policy.stacked && !self.policy.origin_latency.is_zero()
    }

    /// The tiers.
    pub fn tiers(&self) -> &[Arc<Tier>] {
        &self.tiers
    }

    /// Whether reads go through with an origin.
    pub fn is_stacked(&self) -> bool {
        self.policy.stacked
    }

    /// Compresses a value for tier `i` if it is compressed, timing it apart from the tier.
    fn pack<'a>(&self, i: usize, value: &'a [u8], rec: &mut Recorder) -> Cow<'a, [u8]> {
        match &self.compression[i] {
            None => Cow::Borrowed(value),
            Some(c) => {
                let start = self.clock.raw();
                let packed = c.compress(value);
                let t = &mut rec.tiers[i];
                record(
                    &mut t.compress,
                    self.clock.delta_as_nanos(start, self.clock.raw()),
                );
                t.bytes_raw += value.len() as u64;
                t.bytes_stored += packed.len() as u64;
                Cow::Owned(packed)
            }
        }
    }

    /// Decompresses what tier `i` returned, if it is compressed.
    fn unpack(&self, i: usize, value: Bytes, rec: &mut Recorder) -> Result<Bytes, TierError> {
        match &self.compression[i] {
            None => Ok(value),
            Some(c) => {
                let start = self.clock.raw();
                let raw = c.decompress(&value).map_err(TierError::Operation);
                record(
                    &mut rec.tiers[i].decompress,
                    self.clock.delta_as_nanos(start, self.clock.raw()),
                );
                raw.map(Bytes::from)
            }
        }
    }

    /// Handles a tier's error by the policy: `Err` to fail the operation, `Ok` to go on.
    fn on_error(&self, rec: &mut Recorder, tier: usize, e: TierError) -> Result<(), TierError> {
        rec.note_tier_error(tier, &e, &self.clock);
        match self.policy.on_error {
            ErrorPolicy::Fail => Err(e),
            ErrorPolicy::Skip => Ok(()),
        }
    }

    /// Reads a key. `origin_value` is what the origin returns on a miss everywhere. Returns who
    /// served it and the value.
    pub async fn get(
        &self,
        key: &str,
        lane: usize,
        origin_value: &[u8],
        rec: &mut Recorder,
    ) -> Result<(Served, Option<Bytes>), TierError> {
        if !self.policy.stacked {
            let mut wait = 0;
            let result = self.tiers[0].get(key, lane, &mut wait).await;
            note_wait(rec, 0, wait);
            return match result.and_then(|v| v.map(|v| self.unpack(0, v, rec)).transpose()) {
                Ok(Some(v)) => {
                    rec.tiers[0].count_lookup(true);
                    Ok((Served::Tier(0), Some(v)))
                }
                Ok(None) => {
                    rec.tiers[0].count_lookup(false);
                    Ok((Served::Miss, None))
                }
                Err(e) => {
                    rec.note_tier_error(0, &e, &self.clock);
                    Err(e)
                }
            };
        }
        // What this instance had heard of the key before reading below its own tiers.
        let mark = self.coherence.as_ref().map(|(c, i)| c.heard_mark(*i, key));
        for (i, tier) in self.tiers.iter().enumerate() {
            let mut wait = 0;
            let start = self.clock.raw();
            let result = tier.get(key, lane, &mut wait).await;
            let took = self.clock.delta_as_nanos(start, self.clock.raw());
            rec.record_latency(Slot::tier_call(i, Op::Get), took);
            note_wait(rec, i, wait);
            match result.and_then(|v| v.map(|v| self.unpack(i, v, rec)).transpose()) {
                Ok(Some(value)) => {
                    rec.tiers[i].count_lookup(true);
                    let cache_here = self.may_cache(key, mark);
                    for upper in 0..i {
                        if cache_here || !self.tiers[upper].is_in_process() {
                            self.fill(upper, key, &value, lane, rec).await?;
                        }
                    }
                    return Ok((Served::Tier(i), Some(value)));
                }
                Ok(None) => rec.tiers[i].count_lookup(false),
                Err(e) => self.on_error(rec, i, e)?,
            }
        }
        let origin = &self.policy.origin_latency;
        if !origin.is_zero() {
            // Each miss draws its own latency: seeded by the key and this worker's loads so far.
            let start = self.clock.raw();
            let latency = origin.sample(OriginLatency::seed(key, rec.origin_reads));
            let waited = crate::tier::stack::origin::wait(&self.clock, start, latency).await;
            rec.record_latency(Slot::OriginWait, waited);
        }
        let value = Bytes::copy_from_slice(origin_value);
        let cache_here = self.may_cache(key, mark);
        for i in 0..self.tiers.len() {
            if cache_here || !self.tiers[i].is_in_process() {
                self.fill(i, key, &value, lane, rec).await?;
            }
        }
        Ok((Served::Origin, Some(value)))
    }

    /// Whether a value read from below may be cached in this instance's in-process tiers: not
    /// when an invalidation of the key arrived since `mark` (it may predate that change).
    #[inline]
    fn may_cache(&self, key: &str, mark: Option<u64>) -> bool {
        match (&self.coherence, mark) {
            (Some((c, instance)), Some(mark)) => !c.heard_since(*instance, key, mark),
            _ => true,
        }
    }

    /// Writes a promoted or loaded value into tier `i`, timed as that tier's `set`.
    async fn fill(
        &self,
        i: usize,
        key: &str,
        value: &Bytes,
        lane: usize,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        let mut wait = 0;
        let packed = match self.pack(i, value, rec) {
            Cow::Borrowed(_) => value.clone(),
            Cow::Owned(v) => Bytes::from(v),
        };
        let start = self.clock.raw();
        let result = self.tiers[i].set_bytes(key, &packed, lane, &mut wait).await;
        let took = self.clock.delta_as_nanos(start, self.clock.raw());
        rec.record_latency(Slot::tier_call(i, Op::Set), took);
        note_wait(rec, i, wait);
        match result {
            Ok(()) => Ok(()),
            Err(e) => self.on_error(rec, i, e),
        }
    }

    /// Runs `op` (set, delete or touch) on tier `i`, timed and counted for that tier.
    async fn call(
        &self,
        i: usize,
        (op, ttl_ms): (Op, Option<u64>),
        key: &str,
        value: &[u8],
        lane: usize,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        let mut wait = 0;
        let stacked = self.policy.stacked;
        // A lone tier's call time is the operation's own: no second pair of clock reads.
        let start = if stacked { self.clock.raw() } else { 0 };
        let tier = &self.tiers[i];
        let packed = if op == Op::Set {
            self.pack(i, value, rec)
        } else {
            Cow::Borrowed(value)
        };
        let result = match op {
            Op::Set | Op::MSet => tier.set_for(key, &packed, ttl_ms, lane, &mut wait).await,
            Op::Delete | Op::MDelete => tier.delete(key, lane, &mut wait).await,
            Op::Touch => tier.touch(key, lane, &mut wait).await.map(drop),
            Op::Get | Op::MGet => tier.get(key, lane, &mut wait).await.map(drop),
            Op::Command(_) => Err(TierError::Operation(
                "a custom command goes through `Stack::custom`".into(),
            )),
        };
        self.settle(rec, i, op, start, wait, result)
    }

    /// Settles a call of `op` on tier `i`: in a stack its time since `start` as the tier's
    /// call and its error by the policy; alone, its error fails the operation (the operation's
    /// own timer is the call's). Either way the pool wait is noted.
    pub(super) fn settle(
        &self,
        rec: &mut Recorder,
        i: usize,
        op: Op,
        start: u64,
        wait: u64,
        result: Result<(), TierError>,
    ) -> Result<(), TierError> {
        let stacked = self.policy.stacked;
        if stacked {
            let took = self.clock.delta_as_nanos(start, self.clock.raw());
            rec.record_latency(Slot::tier_call(i, op), took);
        }
        note_wait(rec, i, wait);
        match result {
            Ok(()) => Ok(()),
            Err(e) if !stacked => {
                rec.note_tier_error(i, &e, &self.clock);
                Err(e)
            }
            Err(e) => self.on_error(rec, i, e),
        }
    }

    /// Writes a key: every tier (through), or the lowest then invalidating the others (around).
    /// A write with a time to live of its own (`ttl_ms`: a trace's) gives it to every shared
    /// tier instead of theirs; an in-process tier keeps its own.
    pub async fn set(
        &self,
        key: &str,
        (value, ttl_ms): (&[u8], Option<u64>),
        lane: usize,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        let last = self.tiers.len() - 1;
        self.write_begins(key);
        match self.policy.write {
            WritePolicy::Through => {
                for i in 0..=last {
                    self.call(i, (Op::Set, ttl_ms), key, value, lane, rec)
                        .await?;
                }
            }
            WritePolicy::Around => {
                self.call(last, (Op::Set, ttl_ms), key, value, lane, rec)
                    .await?;
                for i in (0..last).rev() {
                    self.call(i, (Op::Delete, None), key, value, lane, rec)
                        .await?;
                }
            }
        }
        self.write_completed(key).await;
        Ok(())
    }

    /// Removes a key from every tier, lowest first (so an upper tier cannot be refilled from
    /// a lower one in between).
    pub async fn delete(
        &self,
        key: &str,
        lane: usize,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        self.write_begins(key);
        for i in (0..self.tiers.len()).rev() {
            self.call(i, (Op::Delete, None), key, &[], lane, rec)
                .await?;
        }
        self.write_completed(key).await;
        Ok(())
    }

    /// Runs a custom Redis command (`op` is its `Op::Command`) on the stack's lone Redis tier:
    /// validation refuses a workload with custom commands on any other target. Its error fails
    /// the operation and is counted as the tier's.
    #[allow(clippy::too_many_arguments)] // the operation's parts, borrowed from the worker's slot
    pub async fn custom(
        &self,
        op: Op,
        template: &crate::workload::command::CommandTemplate,
        key: &str,
        value: &[u8],
        field: u64,
        lane: usize,
        rec: &mut Recorder,
    ) -> Result<(), TierError> {
        let result = match (self.policy.stacked, self.tiers.as_slice()) {
            (false, [tier]) => match tier.as_ref() {
                Tier::Redis(r) => r.custom(lane, template, key, value, field).await,
                _ => Err(TierError::Operation(format!(
                    "custom command `{}` needs a lone Redis tier",
                    template.name
                ))),
            },
            _ => Err(TierError::Operation(format!(
                "custom command `{}` needs a lone Redis tier, not a stack",
                template.name
            ))),
        };
        self.settle(rec, 0, op, 0, 0, result)
    }

    /// Refreshes a key's time to live in every tier.
    pub async fn touch(&self, key: &str, lane: usize, rec: &mut Recorder) -> Result<(), TierError> {
        for i in 0..self.tiers.len() {
            self.call(i, (Op::Touch, None), key, &[], lane, rec).await?;
        }
        Ok(())
    }
}

#[inline]
fn note_wait(rec: &mut Recorder, tier: usize, wait: u64) {
    if wait > 0 {
        rec.record_latency(Slot::pool_wait(tier), wait);
    }
}

mod batch;
pub mod compression;
mod drivers;
pub mod origin;
pub use batch::BatchScratch;
