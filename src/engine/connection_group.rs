//! The closed loop of the workers that share one connection to a lone Redis tier (no explicit
//! pipelining), driven by one task: each worker keeps its one operation in flight, and the
//! task writes every operation ready in one write and reads every reply in one read.
//!
//! Why: on a shared connection (`tier/wire/lane.rs`) each worker is a task of its own that
//! hands its command to the connection's driver task and waits on a reply slot: per operation
//! two task wake-ups, a lock and the driver's yield, which cost most of the client's CPU at
//! depth 1 (docs/performance.md). memtier_benchmark drives all the connections of a thread from
//! one event loop; here one task drives all the workers of a connection. Nothing a user sees
//! changes: each worker still has its own operation stream (seed, keys, share of the phase),
//! its own recorder and progress, at most one operation in flight, and its next operation
//! planned only after its previous one settled. Each operation is timed from the write that
//! sent it to the read that brought its reply (one clock reading per write and one per read,
//! shared by the operations each carried), as in the pipelined window.
//!
//! Faults, as on the worker's own pipelined connection (`tier/wire/pipe.rs`): a failed
//! connection fails every operation in flight on it, each an error of its worker; a reply later
//! than the tier's timeout fails them and closes the connection. A worker whose operation
//! failed backs off on its own, as it would on a task of its own: its next operation waits out
//! its pause while the group's other workers go on (an error reply for one key does not stall
//! the connection's other workers); when only pausing workers are left, the task sleeps until
//! the first pause ends.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context::{WorkerJob, WorkloadContext};
use super::fan_out::KeptRecorder;
use super::pipelined_window::{exchange, settle_reply};
use super::stream::{OpStream, Outcome, Slot, Timing};
use crate::metrics::recorder::Recorder;
use crate::tier::TierError;
use crate::tier::wire::pipe::Pipe;

/// One worker of the group: its stream, its planned operation, what it recorded.
struct Member<'c> {
    job: WorkerJob,
    stream: OpStream<'c>,
    slot: Slot,
    rec: KeptRecorder<'c>,
    issued: u64,
    done: u64,
    /// While backing off after a failure: the end of its pause (ns since the phase's start).
    resume_ns: u64,
}

/// Counts, when the task is dropped mid-phase (a stop gave up on a frozen server), the workers
/// whose operation was in flight besides the one `fan_out` counts for the task itself.
struct InFlight<'c> {
    ctx: &'c WorkloadContext,
    count: usize,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.count > 1 {
            (self.ctx.abandoned_in_flight).fetch_add(self.count - 1, Ordering::Relaxed);
        }
    }
}

/// The group's members, one per job, each with its stream, slot and recorder (kept under the
/// leader's index).
fn members<'c>(ctx: &'c WorkloadContext, jobs: &[WorkerJob], leader: usize) -> Vec<Member<'c>> {
    jobs.iter()
        .map(|job| Member {
            job: *job,
            stream: OpStream::new(ctx, job),
            slot: Slot::new(&ctx.prefix),
            rec: KeptRecorder::for_job(Recorder::new(1), job, leader, ctx),
            issued: 0,
            done: 0,
            resume_ns: 0,
        })
        .collect()
}

/// Every ready worker with operations left plans and writes its next operation to the pipe
/// (a pausing worker keeps its turn for a later round; when `stopping`, none does); returns
/// how many were written.
fn issue_ready(
    ctx: &WorkloadContext,
    members: &mut [Member<'_>],
    ready: &mut Vec<usize>,
    window: &mut VecDeque<(usize, u64)>,
    pipe: &mut Pipe,
    now_ns: u64,
    stopping: bool,
) -> usize {
    let mut fresh = 0;
    ready.retain(|&i| {
        let m = &mut members[i];
        if stopping {
            return false;
        }
        if m.resume_ns > now_ns {
            return true;
        }
        if m.issued >= m.job.ops || !m.stream.plan(&mut m.slot) {
            return false;
        }
        let slot = &m.slot;
        pipe.push(
            slot.op,
            slot.key.as_str(),
            slot.value(&ctx.values),
            slot.ttl_ms,
        );
        m.issued += 1;
        window.push_back((i, 0));
        fresh += 1;
        false
    });
    fresh
}

/// Settles each reply read, in order, on the member whose command it answers (each timed from
/// its send to `at`'s raw end, in `at`'s tenth); a reply no command asked for is counted in
/// `extra` (the connection is out of step).
fn settle_replies(
    ctx: &WorkloadContext,
    pipe: &mut Pipe,
    members: &mut [Member<'_>],
    window: &mut VecDeque<(usize, u64)>,
    ready: &mut Vec<usize>,
    at: (usize, u64),
    extra: &mut usize,
) -> Result<usize, String> {
    let (tenth, end) = at;
    let clock = &ctx.clock;
    pipe.drain(|reply| {
        let Some((i, sent)) = window.pop_front() else {
            *extra += 1;
            return;
        };
        let m = &mut members[i];
        let timing = Timing::closed(clock.delta_as_nanos(sent, end), tenth, end);
        settle_reply(&mut m.stream, &m.slot, reply, timing, &mut m.rec, clock);
        m.done += 1;
        ctx.progress[m.job.worker].store(m.done, Ordering::Relaxed);
        ready.push(i);
    })
}

/// The connection failed: every operation in flight failed with it, each settled at `at`
/// (its tenth and raw end); with none in flight the failure still counts once, on the leader.
fn fail_in_flight(
    ctx: &WorkloadContext,
    members: &mut [Member<'_>],
    window: &mut VecDeque<(usize, u64)>,
    ready: &mut Vec<usize>,
    why: String,
    at: (usize, u64),
) {
    let (tenth, end) = at;
    let clock = &ctx.clock;
    // The connection failed: every operation in flight failed with it.
    let e = TierError::Operation(why);
    if window.is_empty()
        && let Some(m) = members.first_mut()
    {
        m.rec.note_tier_error(0, &e, clock);
    }
    for (i, sent) in window.drain(..) {
        let m = &mut members[i];
        let timing = Timing::closed(clock.delta_as_nanos(sent, end), tenth, end);
        m.rec.note_tier_error(0, &e, clock);
        m.stream
            .settle(&m.slot, Outcome::Failed(&e), timing, &mut m.rec);
        m.done += 1;
        ctx.progress[m.job.worker].store(m.done, Ordering::Relaxed);
        ready.push(i);
    }
}

/// Runs `jobs` (the workers sharing `pipe`, the group's leader first) through one phase and
/// returns what they recorded, merged. Every recorder is kept under the leader's index, so a
/// cancelled task hands all of them over (see `fan_out::kept_recorder`).
pub(super) async fn run_group(
    ctx: &WorkloadContext,
    jobs: &[WorkerJob],
    mut pipe: Pipe,
) -> Recorder {
    let leader = jobs.first().map_or(0, |j| j.worker);
    let mut members = members(ctx, jobs, leader);
    // Workers ready to issue (in the order their replies came), and the operations in flight,
    // oldest first: member and the raw clock reading of their send.
    let mut ready: Vec<usize> = (0..members.len()).collect();
    let mut window: VecDeque<(usize, u64)> = VecDeque::with_capacity(members.len());
    let mut in_flight = InFlight { ctx, count: 0 };
    let clock = &ctx.clock;
    // The phase starts when every worker is set up (see `StartGate`); the group's other
    // workers arrived in their own tasks.
    let start = ctx.gate.arrive(ctx).await;
    for m in &mut members {
        m.job.start_raw = start;
    }
    let mut ended = false;
    let mut now = start;
    loop {
        // A worker whose last operation failed starts its pause now.
        let now_ns = clock.delta_as_nanos(start, now);
        for m in &mut members {
            if let Some(pause) = m.stream.take_pause() {
                m.resume_ns = now_ns.saturating_add(pause.as_nanos() as u64);
            }
        }
        // Every ready worker with operations left plans and writes its next one; a pausing
        // worker keeps its turn for a later round.
        let stopping = ended || ctx.halted();
        let fresh = issue_ready(
            ctx,
            &mut members,
            &mut ready,
            &mut window,
            &mut pipe,
            now_ns,
            stopping,
        );
        if window.is_empty() {
            // Nothing in flight: wait for the first pause to end, or the group is done.
            match ready.iter().map(|&i| members[i].resume_ns).min() {
                Some(resume) => {
                    let wait = Duration::from_nanos(resume.saturating_sub(now_ns));
                    super::schedule::pause(ctx, wait).await;
                    now = clock.raw();
                    continue;
                }
                None => break,
            }
        }
        in_flight.count = window.len();
        let outcome = exchange(&mut pipe, &mut window, fresh, clock, &mut now).await;
        let end = now;
        // The group's workers share the phase's series origin: one tenth for the round.
        let tenth = members.first().map_or(0, |m| m.job.tenth(clock, end));
        let mut extra = 0usize;
        let settled = match outcome {
            Ok(()) => settle_replies(
                ctx,
                &mut pipe,
                &mut members,
                &mut window,
                &mut ready,
                (tenth, end),
                &mut extra,
            ),
            Err(why) => Err(why),
        };
        if let Some(why) = pipe.failure(settled, extra) {
            fail_in_flight(
                ctx,
                &mut members,
                &mut window,
                &mut ready,
                why,
                (tenth, end),
            );
        }
        in_flight.count = window.len();
        // Every worker of the group shares the phase's start and deadline.
        if members
            .first()
            .is_some_and(|m| m.job.past_deadline(clock, end))
        {
            ended = true;
        }
    }
    let mut merged = Recorder::new(1);
    for m in members {
        merged.merge(&m.rec.finish());
    }
    merged
}
