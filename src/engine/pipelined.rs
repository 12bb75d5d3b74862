//! The closed loop with explicit Redis pipelining (`pipeline: P` on a lone Redis tier) in round
//! trips of `P`: on a cluster (a batch goes out as one pipeline per primary, all at once) and
//! over the `redis` crate's connections (unix sockets). Over TCP, a single Redis's workers each
//! keep a window of `P` commands in flight on a connection of their own instead
//! (`pipelined_window.rs`).
//!
//! A worker plans P operations with the same operation stream as every other loop, sends them
//! in one round trip, and settles each with the batch's latency: from the send to the last
//! reply, which is how memtier_benchmark times pipelined requests. A failed round trip fails
//! every operation in it, and each counts as one error, as it would unpipelined.

use std::sync::atomic::Ordering;

use super::context::{WorkerJob, WorkloadContext};
use super::fan_out::KeptRecorder;
use super::stream::{OpStream, Outcome, Slot, Timing};
use crate::metrics::recorder::Recorder;
use crate::tier::Tier;
use crate::tier::stack::Served;
use crate::workload::op::Op;

/// Closed loop with explicit Redis pipelining: each round trip carries `depth` operations, and
/// each operation's latency is the batch's, from its send to its last reply.
pub(super) async fn run_pipelined(
    ctx: &WorkloadContext,
    mut job: WorkerJob,
    redis: &Tier,
    depth: usize,
) -> Recorder {
    let mut rec = KeptRecorder::for_job(Recorder::new(1), &job, job.worker, ctx);
    let mut stream = OpStream::new(ctx, &job);
    let mut slots: Vec<Slot> = (0..depth).map(|_| Slot::new(&ctx.prefix)).collect();
    let mut batch: Batch<'static> = Vec::with_capacity(depth);
    let mut replies = Vec::with_capacity(depth);
    let progress = &ctx.progress[job.worker];
    let clock = &ctx.clock;
    let mut done = 0u64;
    // The phase starts when every worker is set up (see `StartGate`).
    job.start_raw = ctx.gate.arrive(ctx).await;
    while done < job.ops && !ctx.halted() {
        if let Some(pause) = stream.take_pause() {
            super::schedule::pause(ctx, pause).await;
        }
        let want = (job.ops - done).min(depth as u64) as usize;
        let mut planned = 0;
        for slot in slots.iter_mut().take(want) {
            if !stream.plan(slot) {
                break;
            }
            planned += 1;
        }
        if planned == 0 {
            break;
        }
        let slots = &slots[..planned];
        // The batch borrows the slots' buffers: reused, never reallocated once at `depth`.
        let mut reused = recycle(std::mem::take(&mut batch));
        reused.extend(
            slots
                .iter()
                .map(|s| (s.op, s.key.as_str(), s.value(&ctx.values))),
        );
        let start = clock.raw();
        let result = redis.run_batch(job.worker, &reused, &mut replies).await;
        let end = clock.raw();
        batch = recycle(reused);
        let timing = Timing::closed(clock.delta_as_nanos(start, end), job.tenth(clock, end), end);
        match result {
            Ok(()) => {
                for (slot, reply) in slots.iter().zip(replies.drain(..)) {
                    let outcome = match reply {
                        Ok(Some(hit)) => {
                            rec.tiers[0].count_lookup(hit);
                            let served = if hit { Served::Tier(0) } else { Served::Miss };
                            Outcome::Read(served, None)
                        }
                        Ok(None) => Outcome::Done,
                        Err(e) => {
                            rec.note_tier_error(0, &e, clock);
                            stream.settle(slot, Outcome::Failed(&e), timing, &mut rec);
                            continue;
                        }
                    };
                    stream.settle(slot, outcome, timing, &mut rec);
                }
            }
            // The round trip itself failed: every operation in it failed, each one an error.
            Err(e) => {
                for slot in slots {
                    rec.note_tier_error(0, &e, clock);
                    stream.settle(slot, Outcome::Failed(&e), timing, &mut rec);
                }
            }
        }
        done += planned as u64;
        progress.store(done, Ordering::Relaxed);
        if job.past_deadline(clock, end) {
            break;
        }
    }
    rec.finish()
}

/// One round trip's operations: kind, key and value, borrowed from the slots.
type Batch<'a> = Vec<(Op, &'a str, &'a [u8])>;

/// Empties a batch and hands its allocation on with another lifetime, so one buffer serves every
/// round trip (an empty `Vec` collected in place keeps its capacity).
fn recycle<'b>(mut batch: Batch<'_>) -> Batch<'b> {
    batch.clear();
    batch
        .into_iter()
        .map(|_| -> (Op, &'b str, &'b [u8]) { unreachable!("the batch was cleared") })
        .collect()
}
