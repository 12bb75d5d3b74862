//! The closed loop with explicit Redis pipelining on a connection the worker owns: a window of
//! `P` commands in flight, refilled as replies come (`tier/wire/pipe.rs` says why).
//!
//! Each operation is timed from the write that sent it to the read that brought its reply
//! (one clock reading per write and one per read, shared by the commands each carried), as
//! memtier_benchmark times each request of its pipelines. Operations come from the same
//! operation stream as every other loop and are settled the same way; a failed connection
//! fails every operation in flight, each one an error, as it would unpipelined.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context::{WorkerJob, WorkloadContext};
use super::fan_out::KeptRecorder;
use super::stream::{OpStream, Outcome, Slot, Timing};
use crate::metrics::recorder::Recorder;
use crate::tier::TierError;
use crate::tier::stack::Served;
use crate::tier::wire::pipe::{Pipe, Piped};
use crate::workload::op::Op;

/// Runs one worker's share of a phase with up to `depth` operations in flight on `pipe`.
pub(super) async fn run_window(
    ctx: &WorkloadContext,
    mut job: WorkerJob,
    mut pipe: Pipe,
    depth: usize,
) -> Recorder {
    let mut rec = KeptRecorder::for_job(Recorder::new(1), &job, job.worker, ctx);
    let mut stream = OpStream::new(ctx, &job);
    let mut slots: Vec<Slot> = (0..depth).map(|_| Slot::new(&ctx.prefix)).collect();
    let mut free: Vec<usize> = (0..depth).rev().collect();
    // The operations in flight, oldest first: slot and the raw clock reading of their send.
    let mut window: VecDeque<(usize, u64)> = VecDeque::with_capacity(depth);
    let progress = &ctx.progress[job.worker];
    let clock = &ctx.clock;
    let (mut issued, mut done) = (0u64, 0u64);
    let mut ended = false;
    // The phase starts when every worker is set up (see `StartGate`).
    job.start_raw = ctx.gate.arrive(ctx).await;
    // The latest clock reading: a send's, else the last read's.
    let mut now = job.start_raw;
    loop {
        if let Some(pause) = stream.take_pause() {
            super::schedule::pause(ctx, pause).await;
        }
        // Refill the window: plan and write an operation for every free place.
        let mut fresh = 0;
        if !ended && !ctx.halted() {
            while issued < job.ops {
                let Some(i) = free.pop() else { break };
                if !stream.plan(&mut slots[i]) {
                    free.push(i);
                    ended = true;
                    break;
                }
                let slot = &slots[i];
                pipe.push(
                    slot.op,
                    slot.key.as_str(),
                    slot.value(&ctx.values),
                    slot.ttl_ms,
                );
                window.push_back((i, 0));
                (fresh, issued) = (fresh + 1, issued + 1);
            }
        }
        if window.is_empty() {
            break;
        }
        let outcome = exchange(&mut pipe, &mut window, fresh, clock, &mut now).await;
        let end = now;
        let tenth = job.tenth(clock, end);
        let timing_from = |start: u64| Timing::closed(clock.delta_as_nanos(start, end), tenth, end);
        let mut extra = 0usize;
        let settled = match outcome {
            Ok(()) => pipe.drain(|reply| {
                let Some((i, start)) = window.pop_front() else {
                    extra += 1; // a reply no command asked for: the connection is out of step
                    return;
                };
                settle_reply(
                    &mut stream,
                    &slots[i],
                    reply,
                    timing_from(start),
                    &mut rec,
                    clock,
                );
                free.push(i);
                done += 1;
            }),
            Err(why) => Err(why),
        };
        if let Some(why) = pipe.failure(settled, extra) {
            // The connection failed: every operation in flight failed with it.
            let e = TierError::Operation(why);
            if window.is_empty() {
                rec.note_tier_error(0, &e, clock);
            }
            for (i, start) in window.drain(..) {
                rec.note_tier_error(0, &e, clock);
                stream.settle(&slots[i], Outcome::Failed(&e), timing_from(start), &mut rec);
                free.push(i);
                done += 1;
            }
        }
        progress.store(done, Ordering::Relaxed);
        if job.past_deadline(clock, end) {
            ended = true;
        }
    }
    rec.finish()
}

/// Settles one operation by its reply, read on a connection the loop owns: an error reply fails
/// only its operation; a GET's nil is a miss, any other reply a hit; other replies are done.
#[inline]
pub(super) fn settle_reply(
    stream: &mut OpStream<'_>,
    slot: &Slot,
    reply: Piped<'_>,
    timing: Timing,
    rec: &mut Recorder,
    clock: &quanta::Clock,
) {
    match reply {
        Piped::Error(server, said) => {
            let e = TierError::Operation(format!(
                "{server} said: {:?}",
                String::from_utf8_lossy(said)
            ));
            rec.note_tier_error(0, &e, clock);
            stream.settle(slot, Outcome::Failed(&e), timing, rec);
        }
        reply if slot.op == Op::Get => {
            let hit = reply == Piped::Answered;
            rec.tiers[0].count_lookup(hit);
            let served = if hit { Served::Tier(0) } else { Served::Miss };
            stream.settle(slot, Outcome::Read(served, None), timing, rec);
        }
        _ => stream.settle(slot, Outcome::Done, timing, rec),
    }
}

/// One round on a connection the loop owns: sends the `fresh` operations pushed last (stamping
/// their send in `window`, oldest first), then waits for more replies, at most what is left of
/// the tier's timeout for the oldest operation in flight (as of the latest clock reading: no
/// extra reading per round). `now` is that reading, updated to the round's end.
pub(super) async fn exchange(
    pipe: &mut Pipe,
    window: &mut VecDeque<(usize, u64)>,
    fresh: usize,
    clock: &quanta::Clock,
    now: &mut u64,
) -> Result<(), String> {
    let mut outcome = Ok(());
    if fresh > 0 {
        let sent = clock.raw();
        *now = sent;
        window.iter_mut().rev().take(fresh).for_each(|w| w.1 = sent);
        outcome = pipe.send().await;
    }
    if outcome.is_ok() {
        let waited = Duration::from_nanos(clock.delta_as_nanos(window[0].1, *now));
        outcome = pipe.receive(pipe.timeout().saturating_sub(waited)).await;
    }
    *now = clock.raw();
    outcome
}
