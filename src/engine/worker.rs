//! One worker's loop, closed or open: plan an operation, time the call, settle it, repeat.
//!
//! Everything that is not the cache call happens outside the timed interval: the operation
//! stream plans the operation, key and value into a reused slot first. The timer is quanta's TSC
//! clock (a few ns per read, against ~25 ns for `Instant::now()`), read twice per operation.
//! Recording is an array increment into this worker's own histograms. Per operation: no
//! allocation, lock or formatting besides the call. The pipelined loop (`pipelined.rs`) uses the
//! same stream; only how operations are issued differs.

use std::ops::Range;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::context::{WorkerJob, WorkloadContext};
use super::fan_out::KeptRecorder;
use super::schedule::{intended_ns, wait_until};
use super::stream::{OpStream, Outcome, Slot, Timing};
use super::verify::stamp;
use crate::metrics::recorder::Recorder;
use crate::tier::TierError;
use crate::tier::memory::MemoryTier;
use crate::tier::stack::{BatchScratch, Served};
use crate::workload::key_buf::KeyBuf;
use crate::workload::op::Op;
use crate::workload::trace::TraceWriter;

/// Runs worker `w`'s share of a phase (closed or open loop; `jobs`: every worker's) and returns
/// what it recorded.
pub async fn run_phase_worker(ctx: &WorkloadContext, jobs: &[WorkerJob], w: usize) -> Recorder {
    if let Some(rec) = other_driver(ctx, jobs, w).await {
        return rec;
    }
    let mut job = jobs[w];
    let mut rec = KeptRecorder::for_job(
        Recorder::with_commands(ctx.stack.len(), ctx.commands.len()),
        &job,
        job.worker,
        ctx,
    );
    let mut stream = OpStream::new(ctx, &job);
    let mut slot = Slot::new(&ctx.prefix);
    // App instances each have their own in-process tiers: never the shared lone tier.
    let in_process = ctx
        .instances
        .is_empty()
        .then(|| ctx.stack.lone_memory())
        .flatten();
    let mut scratch = BatchScratch::default();
    let progress = &ctx.progress[job.worker];
    let clock = &ctx.clock;
    let mut done = 0u64;
    // Open loop: this worker runs operations worker, worker + workers, ... of the phase.
    let mut next = job.worker as u64;
    let mut writer = ctx
        .record
        .as_ref()
        .and_then(|base| TraceWriter::create(base, ctx.workload_index, job.phase, job.worker).ok());
    // Set up: the phase starts when every worker is (its schedule and deadline count from then).
    job.start_raw = ctx.gate.arrive(ctx).await;
    let multiplexed = !ctx.on_threads && ctx.stack.is_in_process();
    loop {
        if ctx.halted() {
            break;
        }
        if let Some(pause) = stream.take_pause() {
            super::schedule::pause(ctx, pause).await;
        }
        let intended = match job.rate {
            None if done >= job.ops => break,
            None => None,
            Some(_) if next >= job.ops => break,
            Some(rate) => {
                let due = intended_ns(next, rate, job.deadline_ns);
                if due >= job.deadline_ns {
                    break;
                }
                wait_until(ctx, job.start_raw, due).await;
                next += job.workers as u64;
                Some(due)
            }
        };
        // Everything but the call happens before the timer starts.
        if !stream.plan(&mut slot) {
            break;
        }
        let intended = paced(ctx, &job, intended, &slot).await;
        let value = slot.value(&ctx.values);
        let start = clock.raw();
        let outcome = match in_process {
            _ if slot.op.is_batch() => {
                issue_batch(ctx, &slot, start, job.worker, &mut scratch, &mut rec).await
            }
            Some(tier) => Ok(issue_in_process(tier, &slot, value)),
            None => issue(ctx, &slot, value, job.worker, &mut rec).await,
        };
        let end = clock.raw();
        if in_process.is_some() {
            count_lone_lookup(&slot, &outcome, &mut rec);
        }
        let service = clock.delta_as_nanos(start, end);
        if let Some(w) = writer.as_mut() {
            write_trace(w, &slot, ctx, job.worker);
        }
        let timing = timing_of(&job, clock, intended, service, end);
        let outcome = match &outcome {
            Ok(Some((served, found))) => Outcome::Read(*served, found.as_deref()),
            Ok(None) => Outcome::Done,
            Err(e) => Outcome::Failed(e),
        };
        stream.settle(&slot, outcome, timing, &mut rec);
        done += 1;
        progress.store(done, Ordering::Relaxed);
        if job.rate.is_none() && job.past_deadline(clock, end) {
            break;
        }
        if multiplexed {
            // An in-process call never waits: give the thread to the other workers' tasks
            // every 128 operations.
            tokio::task::coop::consume_budget().await;
        }
    }
    if let Some(path) = writer.and_then(|w| w.finish().ok()) {
        rec.trace_parts.push(path);
    }
    rec.finish()
}

/// Counts a lone in-process tier's lookup, after the timer stopped, as `Stack::get` counts a
/// lone server tier's.
#[inline]
fn count_lone_lookup(slot: &Slot, outcome: &Result<Issued, TierError>, rec: &mut Recorder) {
    if !slot.op.is_batch()
        && let Ok(Some((served, _))) = outcome
    {
        rec.tiers[0].count_lookup(*served == Served::Tier(0));
    }
}

/// A paced trace's request waits until it is due, and its latency counts from then; any other
/// operation keeps its `intended` start.
async fn paced(
    ctx: &WorkloadContext,
    job: &WorkerJob,
    intended: Option<u64>,
    slot: &Slot,
) -> Option<u64> {
    match (intended, slot.due_ns) {
        (None, Some(due)) => {
            wait_until(ctx, job.start_raw, due).await;
            Some(due)
        }
        (intended, _) => intended,
    }
}

/// Runs the phase on another driver when one fits the workload better, and returns what it
/// recorded: one task per connection for plain depth-1 operations on a lone Redis tier
/// (`connection_group.rs`), a pipelined loop for `pipeline: P`. `None`: this loop runs it.
async fn other_driver(ctx: &WorkloadContext, jobs: &[WorkerJob], w: usize) -> Option<Recorder> {
    let job = jobs[w];
    // A paced trace waits for each request's due time, which only this loop does.
    let paced = matches!(
        ctx.ops,
        crate::workload::ops::OpSource::Trace {
            speed_permille: Some(_),
            ..
        }
    );
    let plain = job.rate.is_none()
        && !paced
        && ctx.verify.is_none()
        && ctx.record.is_none()
        && ctx.batch.is_none();
    if plain
        && ctx.commands.is_empty()
        && let Some((target, connections)) = ctx.stack.lone_redis()
    {
        // One task per connection drives the workers that share it (`connection_group.rs`);
        // the others only arrive at the start gate.
        let groups = connections.min(job.workers).max(1);
        if w >= groups {
            ctx.gate.arrive(ctx).await;
            return Some(Recorder::new(1));
        }
        let members: Vec<WorkerJob> = jobs
            .iter()
            .filter(|j| j.worker % groups == w)
            .copied()
            .collect();
        let group = super::connection_group::run_group(ctx, &members, target.open().await);
        return Some(group.await);
    }
    if plain && let Some((redis, depth)) = ctx.stack.pipelined() {
        let pipe = match redis {
            crate::tier::Tier::Redis(r) => match r.pipe_target() {
                Some(target) => Some(target.open().await),
                None => None,
            },
            crate::tier::Tier::Memcached(m) => Some(m.pipe_target().open().await),
            _ => None,
        };
        return Some(match pipe {
            Some(pipe) => super::pipelined_window::run_window(ctx, job, pipe, depth).await,
            None => super::pipelined::run_pipelined(ctx, job, redis, depth).await,
        });
    }
    None
}

/// Writes the operation in `slot` to the recorded trace: one line per key, a batch's keys
/// consecutive (see `workload::trace`); a custom command has no line a replay could run.
fn write_trace(w: &mut TraceWriter, slot: &Slot, ctx: &WorkloadContext, worker: usize) {
    if slot.op.is_batch() {
        // One line per key, the batch's keys consecutive (see `workload::trace`).
        for i in 0..slot.batch.len() {
            let size = match slot.op {
                Op::MSet => slot.batch_value(&ctx.values, i).len(),
                _ => 0,
            };
            w.write(
                slot.batch.suffix(i),
                slot.op,
                size,
                worker,
                &ctx.workload_name,
            );
        }
    } else if !slot.op.is_command() {
        // A trace holds cache operations: a custom command has no line a replay could run.
        let size = slot.write_size(&ctx.values);
        w.write(slot.key.suffix(), slot.op, size, worker, &ctx.workload_name);
    }
}

/// The operation's timing. Open loop counts from the intended start (`due` after the phase's
/// start), so a stall delays every operation behind it; closed loop, the service time.
fn timing_of(
    job: &WorkerJob,
    clock: &quanta::Clock,
    due: Option<u64>,
    service: u64,
    end: u64,
) -> Timing {
    match due {
        Some(due) => Timing {
            nanos: clock
                .delta_as_nanos(job.start_raw, end)
                .saturating_sub(due)
                .max(service),
            service: Some(service),
            tenth: job.tenth(clock, end),
            end,
        },
        None => Timing::closed(service, job.tenth(clock, end), end),
    }
}

/// A read's server and value, or `None` for the other operations.
type Issued = Option<(Served, Option<Bytes>)>;

/// Issues the slot's operation through the stack (the timed call).
#[inline]
async fn issue(
    ctx: &WorkloadContext,
    slot: &Slot,
    value: &[u8],
    lane: usize,
    rec: &mut Recorder,
) -> Result<Issued, TierError> {
    let key = slot.key.as_str();
    let stack = ctx.stack_of(lane);
    match slot.op {
        Op::Get => stack.get(key, lane, value, rec).await.map(Some),
        Op::Set => stack
            .set(key, (value, slot.ttl_ms), lane, rec)
            .await
            .map(|()| None),
        Op::Delete => stack.delete(key, lane, rec).await.map(|()| None),
        Op::Touch => stack.touch(key, lane, rec).await.map(|()| None),
        Op::Command(i) => match ctx.commands.get(usize::from(i)) {
            Some(c) => stack
                .custom(slot.op, &c.template, key, value, slot.field, lane, rec)
                .await
                .map(|()| None),
            None => Ok(None),
        },
        Op::MGet | Op::MSet | Op::MDelete => Ok(None),
    }
}

/// Issues the slot's operation on a lone in-process tier directly (the timed call; the same
/// outcome `issue` gives, without its async layers; the lookup is counted by the caller).
#[inline]
fn issue_in_process(tier: &MemoryTier, slot: &Slot, value: &[u8]) -> Issued {
    let key = slot.key.as_str();
    match slot.op {
        Op::Get => Some(match tier.get(key) {
            Some(found) => (Served::Tier(0), Some(found)),
            None => (Served::Miss, None),
        }),
        Op::Set => {
            tier.set(key, value);
            None
        }
        Op::Delete => {
            tier.delete(key);
            None
        }
        Op::Touch => {
            tier.touch(key);
            None
        }
        // Batches go through `issue_batch`, never here; custom commands need a Redis tier.
        Op::MGet | Op::MSet | Op::MDelete | Op::Command(_) => None,
    }
}

/// Issues the slot's batch operation through the stack (the timed call); `start` is the raw
/// clock reading the batch's timer started at (per-key latency counts from it).
#[inline]
async fn issue_batch(
    ctx: &WorkloadContext,
    slot: &Slot,
    start: u64,
    lane: usize,
    scratch: &mut BatchScratch,
    rec: &mut Recorder,
) -> Result<Issued, TierError> {
    let keys = &slot.batch;
    let values = &*ctx.values;
    let value = |i: usize| slot.batch_value(values, i);
    let stack = ctx.stack_of(lane);
    match slot.op {
        Op::MGet => stack.mget(keys, lane, value, start, scratch, rec).await,
        Op::MSet => stack.mset(keys, value, lane, scratch, rec).await,
        _ => stack.mdelete(keys, lane, scratch, rec).await,
    }
    .map(|()| None)
}

/// Writes this worker's keys of `keys` (`start + worker`, `start + worker + workers`, ...) once,
/// unrecorded. In verify mode they are stamped with version 0.
pub async fn preload(
    ctx: &WorkloadContext,
    worker: usize,
    workers: usize,
    keys: Range<u64>,
) -> Result<(), TierError> {
    let mut rec = Recorder::new(ctx.stack.len());
    let mut key = KeyBuf::new(&ctx.prefix);
    let mut stamped = Vec::new();
    let mut index = keys.start + worker as u64;
    let progress = &ctx.progress[worker];
    let mut done = progress.load(Ordering::Relaxed);
    while index < keys.end && !ctx.stop.load(Ordering::Relaxed) {
        let mut value = ctx.values.get(index as usize);
        if ctx.verify.is_some() {
            stamp(&mut stamped, index, 0, value);
            value = &stamped;
        }
        ctx.stack_of(worker)
            .set(key.set(index), (value, None), worker, &mut rec)
            .await?;
        index += workers as u64;
        done += 1;
        progress.store(done, Ordering::Relaxed);
    }
    Ok(())
}
