//! One operation stream per worker, shared by every loop (closed, open, pipelined).
//!
//! The stream decides *what* runs: the operation, the key (distribution, sequence or trace), the
//! value (pool slice, trace size, verify stamp), and afterwards how the outcome is accounted for:
//! latency and time series, who served a read, freshness in verify mode, write notes that drive
//! the `latest` distribution, and one error per failed operation. A loop only decides *how* and
//! *when* operations are issued, so the loops cannot drift apart in what they count.
//!
//! Planning happens before the timer starts and writes into a reused [`Slot`]: no allocation,
//! lock or formatting per operation.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context::{WorkerJob, WorkloadContext};
use super::progress::LiveWorker;
use super::verify::{Check, check, stamp};
use crate::metrics::live::PhaseBoard;
use crate::metrics::recorder::{Recorder, Slot as RecorderSlot, new_histogram, record};
use crate::tier::TierError;
use crate::tier::stack::Served;
use crate::workload::batch::BatchKeys;
use crate::workload::key_buf::KeyBuf;
use crate::workload::op::Op;
use crate::workload::ops::OpSource;
use crate::workload::plan::Planner;
use crate::workload::trace::{TraceCursor, interleaved_share};
use crate::workload::values::ValuePool;

/// Key index of a trace's operation (its key is a string, not an index).
const TRACE_KEY: u64 = u64::MAX;

/// One planned operation: its kind, key and value, in buffers reused from one operation to the
/// next.
pub struct Slot {
    /// The key, prefix included.
    pub key: KeyBuf,
    /// The operation.
    pub op: Op,
    /// The key's index (`u64::MAX` for a trace's key).
    pub index: u64,
    /// Verify mode: the version written, or the oldest a read may see.
    pub version: u64,
    /// A custom command's `{field}` index.
    pub field: u64,
    /// A paced trace's request: when it is due, nanoseconds from the phase's start.
    pub due_ns: Option<u64>,
    /// A trace's write with a time to live of its own (milliseconds): it replaces the tiers'.
    pub ttl_ms: Option<u64>,
    pool: usize,
    /// A trace's write size: the pool value repeated to that length.
    sized: Vec<u8>,
    /// Verify mode: the value with its stamp.
    stamped: Vec<u8>,
    value: ValueSource,
    /// A batch operation's keys (reused from one batch to the next).
    pub batch: BatchKeys,
    /// Their indices, as drawn.
    batch_indices: Vec<u64>,
}

#[derive(Clone, Copy)]
enum ValueSource {
    Pool,
    Sized,
    Stamped,
}

impl Slot {
    /// An empty slot for keys under `prefix`.
    pub fn new(prefix: &str) -> Slot {
        Slot {
            key: KeyBuf::new(prefix),
            op: Op::Get,
            index: 0,
            version: 0,
            field: 0,
            due_ns: None,
            ttl_ms: None,
            pool: 0,
            sized: Vec::new(),
            stamped: Vec::new(),
            value: ValueSource::Pool,
            batch: BatchKeys::new(prefix),
            batch_indices: Vec::with_capacity(64),
        }
    }

    /// The value batch key `i` gets (a write) or the origin returns for it (a read miss): the
    /// pool's values from the slot's own onwards.
    #[inline]
    pub fn batch_value<'a>(&self, values: &'a ValuePool, i: usize) -> &'a [u8] {
        values.get(self.pool.wrapping_add(i))
    }

    /// The value a write sends (and the origin returns on a read miss).
    #[inline]
    pub fn value<'a>(&'a self, values: &'a ValuePool) -> &'a [u8] {
        match self.value {
            ValueSource::Pool => values.get(self.pool),
            ValueSource::Sized => &self.sized,
            ValueSource::Stamped => &self.stamped,
        }
    }

    /// The value's size as a trace records it (0 for everything but a set).
    pub fn write_size(&self, values: &ValuePool) -> usize {
        if self.op == Op::Set {
            self.value(values).len()
        } else {
            0
        }
    }
}

/// How an issued operation ended.
pub enum Outcome<'v> {
    /// A write, delete or touch that succeeded.
    Done,
    /// A read that succeeded: who served it and what (the value, when the loop has it).
    Read(Served, Option<&'v [u8]>),
    /// The operation failed.
    Failed(&'v TierError),
}

/// Timing of one settled operation.
#[derive(Clone, Copy)]
pub struct Timing {
    /// Its latency (open loop: from the intended start).
    pub nanos: u64,
    /// Open loop: the service time from the actual start.
    pub service: Option<u64>,
    /// The tenth of a second of the time series it completed in.
    pub tenth: usize,
    /// The raw clock reading at its end (the loop's own reading, reused).
    pub end: u64,
}

impl Timing {
    /// A closed-loop operation's timing: its latency is its service time, `nanos`.
    #[inline]
    pub fn closed(nanos: u64, tenth: usize, end: u64) -> Timing {
        Timing {
            nanos,
            service: None,
            tenth,
            end,
        }
    }
}

/// A worker's operation stream.
pub struct OpStream<'c> {
    ctx: &'c WorkloadContext,
    /// The operations, keys and pool slots, drawn a batch ahead from the worker's seed.
    planner: Planner,
    trace: Option<TraceCursor<'c>>,
    /// Raw clock reading of the last success (or the stream's start).
    last_success: u64,
    /// Current back-off after failures, 0 while healthy.
    backoff_ns: u64,
    /// Set by a failure: the loop should pause `backoff_ns` before its next operation.
    pause_pending: bool,
    /// This worker's live figures for the progress display, and the second they were last
    /// published for (`usize::MAX`: not yet).
    live: &'c LiveWorker,
    live_second: usize,
    /// The phase's live board and this worker's slot on it, when a metrics exporter runs.
    board: Option<(Arc<PhaseBoard>, usize)>,
}

/// The first pause after a failure; it doubles with each further failure up to `BACKOFF_MAX_NS`.
const BACKOFF_MIN_NS: u64 = 1_000_000;
/// The longest pause: a worker facing a dead server makes at most ~10 attempts a second.
const BACKOFF_MAX_NS: u64 = 100_000_000;

impl<'c> OpStream<'c> {
    /// The stream of `job`'s worker: its own random stream, key sampler and trace share.
    pub fn new(ctx: &'c WorkloadContext, job: &WorkerJob) -> OpStream<'c> {
        // One reading of the trace per phase, shared; this worker takes at most its share.
        let trace = ctx.trace.as_ref().map(|feed| {
            let share = match job.rate {
                Some(_) => interleaved_share(job.ops, job.worker, job.workers),
                None => job.ops,
            };
            feed.cursor(job.phase, share)
        });
        OpStream {
            ctx,
            planner: Planner::new(
                job.seed,
                ctx.sampler.for_worker(job.worker, job.workers),
                &ctx.ops,
            ),
            trace,
            last_success: ctx.clock.raw(),
            backoff_ns: 0,
            pause_pending: false,
            live: &ctx.live[job.worker],
            live_second: usize::MAX,
            board: ctx
                .phase_board
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
                .map(|b| (b, job.worker)),
        }
    }

    /// After a failure, how long the loop pauses before its next operation (exponential from
    /// 1 ms to 100 ms, reset by a success), so a dead server costs little CPU and the error
    /// count stays a count of real attempts.
    #[inline]
    pub fn take_pause(&mut self) -> Option<Duration> {
        if !self.pause_pending {
            return None;
        }
        self.pause_pending = false;
        Some(Duration::from_nanos(self.backoff_ns))
    }

    /// Plans the next operation into `slot`. False when the stream has ended (a trace's end).
    #[inline]
    pub fn plan(&mut self, slot: &mut Slot) -> bool {
        let mut trace_size = None;
        let planned = self.planner.next_op();
        let (op, index) = match &self.ctx.ops {
            OpSource::Mix(_) | OpSource::Sequence(_) => (planned.op, planned.index),
            OpSource::Trace { speed_permille, .. } => {
                let Some(record) = self.trace.as_mut().and_then(TraceCursor::next_record) else {
                    return false;
                };
                slot.key.set_str(record.key);
                trace_size = record.size;
                slot.ttl_ms = record.ttl_s.map(|s| u64::from(s) * 1000);
                slot.due_ns = speed_permille
                    .zip(record.at_ns)
                    .map(|(speed, at)| (at as f64 * 1000.0 / f64::from(speed)) as u64);
                (record.op, TRACE_KEY)
            }
        };
        slot.op = op;
        slot.index = index;
        slot.pool = planned.pool as usize;
        slot.value = ValueSource::Pool;
        if let Op::Command(i) = op
            && let Some(c) = self.ctx.commands.get(usize::from(i))
        {
            slot.field = c.field(planned.pool);
        }
        if let Some(size) = trace_size {
            let pool_value = self.ctx.values.get(slot.pool);
            slot.sized.clear();
            while slot.sized.len() < size && !pool_value.is_empty() {
                let take = (size - slot.sized.len()).min(pool_value.len());
                slot.sized.extend_from_slice(&pool_value[..take]);
            }
            slot.value = ValueSource::Sized;
        }
        slot.version = 0;
        if let Some(v) = &self.ctx.verify {
            // Writes carry a new version; a read expects at least the last completed one
            // (and the origin, the source of truth, answers with exactly that).
            slot.version = match op {
                Op::Set | Op::Delete | Op::MSet | Op::MDelete => v.next_version(),
                // Verify mode refuses custom commands (validation): they would not be checked.
                Op::Get | Op::Touch | Op::MGet | Op::Command(_) => v.last(index),
            };
            let body = match slot.value {
                ValueSource::Sized => &slot.sized[..],
                _ => self.ctx.values.get(slot.pool),
            };
            stamp(&mut slot.stamped, index, slot.version, body);
            slot.value = ValueSource::Stamped;
        }
        if index != TRACE_KEY {
            slot.key.set(index);
        }
        if op.is_batch()
            && let Some(sizes) = &self.ctx.batch
        {
            self.planner
                .batch_keys(&planned, sizes, self.ctx.key_count, &mut slot.batch_indices);
            slot.batch.set(&self.ctx.prefix, &slot.batch_indices);
        }
        true
    }

    /// Accounts for a finished operation: latency, time series, who served a read, freshness,
    /// write notes, or one error.
    #[inline]
    pub fn settle(
        &mut self,
        slot: &Slot,
        outcome: Outcome<'_>,
        timing: Timing,
        rec: &mut Recorder,
    ) {
        let op = slot.op;
        if timing.tenth / 10 != self.live_second {
            rec.flush_held();
            self.publish_live(rec, timing.tenth / 10);
        }
        let mut stale = false;
        let read = match outcome {
            Outcome::Failed(error) => {
                rec.ops.record_error(op);
                rec.record_tick(timing.tenth, None, None);
                self.failed(error);
                return;
            }
            Outcome::Read(served, found) => {
                stale = self.note_read(rec, slot, served, (timing.nanos, timing.end), found);
                Some(match served {
                    Served::Tier(i) => i,
                    Served::Origin | Served::Miss => rec.tiers.len(),
                })
            }
            Outcome::Done => None,
        };
        self.backoff_ns = 0;
        self.last_success = timing.end;
        rec.record_latency(RecorderSlot::op(op), timing.nanos);
        if let Some(service) = timing.service {
            rec.record_latency(RecorderSlot::service(op), service);
        }
        rec.record_tick(timing.tenth, Some(timing.nanos), read);
        if stale {
            rec.count_stale(timing.tenth);
        }
        if matches!(op, Op::MSet | Op::MDelete) {
            for i in 0..slot.batch.len() {
                self.planner.note_write(slot.batch.index(i));
            }
        }
        if matches!(op, Op::Set | Op::Delete) && slot.index != TRACE_KEY {
            self.planner.note_write(slot.index);
            if let Some(v) = &self.ctx.verify {
                v.completed(slot.index, slot.version, timing.end);
            }
        }
    }

    /// At the start of a new second, publishes the last one's p99 and the first tier's hits so
    /// far for the progress display, and the worker's totals to a metrics exporter's board
    /// when one runs: once a second per worker, never per operation.
    #[cold]
    fn publish_live(&mut self, rec: &Recorder, second: usize) {
        if let Some(bucket) = rec.seconds.get(self.live_second) {
            let p99 = bucket.latency().value_at_quantile(0.99);
            self.live.p99_ns.store(p99, Ordering::Relaxed);
        }
        if let Some((board, worker)) = &self.board {
            board.publish(*worker, rec);
        }
        if let Some(tier) = rec.tiers.first() {
            self.live.hits.store(tier.hits, Ordering::Relaxed);
            self.live
                .lookups
                .store(tier.hits + tier.misses, Ordering::Relaxed);
        }
        self.live_second = second;
    }

    /// Backs off, and gives the tier up when nothing succeeded for the workload's `lost_after`.
    #[cold]
    fn failed(&mut self, error: &TierError) {
        self.backoff_ns = (self.backoff_ns * 2).clamp(BACKOFF_MIN_NS, BACKOFF_MAX_NS);
        self.pause_pending = true;
        let clock = &self.ctx.clock;
        let since = clock.delta_as_nanos(self.last_success, clock.raw());
        if since >= self.ctx.lost_after_ns {
            self.ctx.lost.get_or_init(|| {
                format!(
                    "no operation succeeded for {:.1} s (lost_after: {:.1} s); the last error: {error}",
                    since as f64 / 1e9,
                    self.ctx.lost_after_ns as f64 / 1e9
                )
            });
        }
    }

    /// Records who served a read, and in verify mode whether what it served was fresh; true
    /// when it was stale.
    #[inline]
    fn note_read(
        &self,
        rec: &mut Recorder,
        slot: &Slot,
        served: Served,
        (nanos, end): (u64, u64),
        found: Option<&[u8]>,
    ) -> bool {
        let mut stale = false;
        match served {
            Served::Tier(i) => {
                rec.record_latency(RecorderSlot::served(i), nanos);
                if let Some(verify) = &self.ctx.verify
                    && let Some(value) = found
                {
                    match check(value, slot.index, slot.version) {
                        Check::Fresh => {}
                        Check::Stale => {
                            stale = true;
                            let tier = &mut rec.tiers[i];
                            tier.stale += 1;
                            let since = verify.completed_at(slot.index);
                            let age = self.ctx.clock.delta_as_nanos(since.min(end), end);
                            record(tier.stale_age.get_or_insert_with(new_histogram), age.max(1));
                        }
                        Check::Corrupt => rec.tiers[i].corrupt += 1,
                    }
                }
            }
            Served::Origin => rec.record_latency(RecorderSlot::Origin, nanos),
            Served::Miss => {}
        }
        stale
    }
}
