//! What a workload's workers share (`WorkloadContext`) and what each is told to do (`WorkerJob`).
//!
//! Built once per workload by `engine::run_workload`, read by every loop (closed, open,
//! pipelined) and by the operation stream; nothing in it is written per operation except the
//! padded progress counters and the verify versions.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crossbeam_utils::CachePadded;
use quanta::Clock;

use super::progress::LiveWorker;
use super::verify::VerifyState;
use crate::metrics::recorder::Recorder;
use crate::metrics::recorder::SharedLatencies;
use crate::metrics::second::SeriesSink;
use crate::scenario::plan::Rate;
use crate::tier::stack::Stack;
use crate::workload::keys::KeySampler;
use crate::workload::ops::OpSource;
use crate::workload::trace::TraceFeed;
use crate::workload::values::ValuePool;

/// What every worker of a workload shares.
pub struct WorkloadContext {
    /// The tiers and their policy.
    pub stack: Stack,
    /// With several app instances (`coherence:`): each instance's stack, worker `w` using
    /// instance `w % instances`; empty otherwise.
    pub instances: Vec<Stack>,
    /// Where operations come from.
    pub ops: OpSource,
    /// Keys per batch operation, when the workload has batch operations.
    pub batch: Option<crate::workload::batch::BatchSizes>,
    /// The scenario's custom Redis commands, indexed like `Op::Command`.
    pub commands: Arc<[crate::workload::command::CustomCommand]>,
    /// Pre-generated values.
    pub values: Arc<ValuePool>,
    /// Key prefix.
    pub prefix: String,
    /// Number of keys.
    pub key_count: u64,
    /// Per worker key samplers' template.
    pub sampler: KeySampler,
    /// Operations done so far, one padded counter per worker (read by the progress bar).
    pub progress: Arc<[CachePadded<AtomicU64>]>,
    /// The measured phases' time series, where workers add each finished second.
    pub series: Arc<SeriesSink>,
    /// The current phase's latency histograms, when its workers spool (many workers).
    pub latencies: SharedLatencies,
    /// Live figures per worker for the progress display (published once a second).
    pub live: Arc<[CachePadded<LiveWorker>]>,
    /// The current phase's live board, when a metrics exporter runs (`metrics::live`).
    pub phase_board: Mutex<Option<Arc<crate::metrics::live::PhaseBoard>>>,
    /// Set to stop every worker early (timeout, Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// The shared TSC clock.
    pub clock: Clock,
    /// Write versions per key, in verify mode.
    pub verify: Option<Arc<VerifyState>>,
    /// `--record-trace`: where every issued operation is written (per-worker parts beside it).
    pub record: Option<PathBuf>,
    /// This workload's index (for trace parts).
    pub workload_index: usize,
    /// This workload's name (recorded with each operation).
    pub workload_name: String,
    /// A trace workload's feed: the trace read once per phase, shared by the workers.
    /// `trace.ended_early(job.phase)` tells whether a phase stopped because the trace ran out
    /// before its operation count or duration.
    pub trace: Option<TraceFeed>,
    /// Give a tier up when no operation of a worker succeeded for this long.
    pub lost_after_ns: u64,
    /// Why the workload gave up (a tier lost for good); set once, ends every loop.
    pub lost: OnceLock<String>,
    /// The current phase's start barrier: its clock starts when every worker is ready.
    pub gate: StartGate,
    /// Recorders of workers cancelled while waiting on a server after a stop (see `fan_out`).
    pub abandoned: Mutex<Vec<(usize, Recorder)>>,
    /// Workers whose in-flight operation was abandoned that way.
    pub abandoned_in_flight: AtomicUsize,
    /// More in-process worker threads than cores: an open-loop worker then sleeps until its
    /// operation is due instead of spinning the last stretch (see `schedule::wait_until`).
    pub oversubscribed: bool,
    /// Each worker runs on an OS thread of its own: an in-process stack (no origin) with at most
    /// `fan_out::MAX_WORKER_THREADS` workers. With more, its workers are tasks on the runtime's
    /// threads, each giving its thread up every few operations (`fan_out.rs`).
    pub on_threads: bool,
}

impl WorkloadContext {
    /// The stack worker `worker` issues its operations through: its app instance's, or the
    /// workload's.
    #[inline]
    pub fn stack_of(&self, worker: usize) -> &Stack {
        match self.instances.len() {
            0 => &self.stack,
            n => &self.instances[worker % n],
        }
    }
}

/// A phase's start barrier. `engine::run_phase` arms it for the phase's workers; each worker
/// arrives once it is running and set up (its recorder, stream and trace file made), and the
/// last to arrive reads the clock: that reading is the phase's start for every worker. So an
/// open-loop schedule never starts while workers are still being spawned, and the backlog of
/// starting up is never counted as latency.
#[derive(Default)]
pub struct StartGate {
    waiting: AtomicUsize,
    start: AtomicU64,
}

impl StartGate {
    /// Arms the gate for `workers` arrivals (phases run one after another, never overlapping).
    pub fn arm(&self, workers: usize) {
        self.start.store(0, Ordering::Release);
        self.waiting.store(workers, Ordering::Release);
    }

    /// The phase's start (a raw clock reading), once every worker has arrived.
    pub fn started(&self) -> Option<u64> {
        Some(self.start.load(Ordering::Acquire)).filter(|&s| s != 0)
    }

    /// Waits until every worker has arrived and returns the phase's start (a raw clock
    /// reading). Waiting yields: to the runtime for a server tier, the thread otherwise.
    pub async fn arrive(&self, ctx: &WorkloadContext) -> u64 {
        if self.waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            let start = ctx.clock.raw().max(1);
            self.start.store(start, Ordering::Release);
            return start;
        }
        loop {
            let start = self.start.load(Ordering::Acquire);
            if start != 0 {
                return start;
            }
            if ctx.halted() {
                return ctx.clock.raw();
            }
            if ctx.on_threads {
                std::thread::yield_now();
            } else {
                tokio::task::yield_now().await;
            }
        }
    }
}

impl WorkloadContext {
    /// True when the loops must stop issuing operations: the run is stopping (timeout,
    /// Ctrl-C) or this workload lost a tier.
    #[inline]
    pub fn halted(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.lost.get().is_some()
    }
}

/// One worker's share of a phase.
#[derive(Debug, Clone, Copy)]
pub struct WorkerJob {
    /// This worker's index.
    pub worker: usize,
    /// How many workers run the phase.
    pub workers: usize,
    /// Seed of this worker's random stream.
    pub seed: u64,
    /// Operations to run, or unlimited (`u64::MAX`) with a deadline.
    pub ops: u64,
    /// Raw clock reading when the phase started.
    pub start_raw: u64,
    /// Stop once this many nanoseconds have passed since `start_raw` (`u64::MAX`: no deadline).
    pub deadline_ns: u64,
    /// Open loop: the phase's arrival rate (`ops` is then the phase's global count).
    pub rate: Option<Rate>,
    /// Raw clock reading when the workload's measurement started (second 0 of its time series).
    pub series_origin: u64,
    /// Phase number for trace recording: 0 for warmup, then 1, 2, ...
    pub phase: usize,
}

impl WorkerJob {
    /// True once a duration-bounded phase has run its time, at raw clock reading `now`.
    #[inline]
    pub fn past_deadline(&self, clock: &Clock, now: u64) -> bool {
        self.deadline_ns != u64::MAX
            && clock.delta_as_nanos(self.start_raw, now) >= self.deadline_ns
    }

    /// The tenth of a second of the time series a raw clock reading falls in.
    #[inline]
    pub fn tenth(&self, clock: &Clock, now: u64) -> usize {
        (clock.delta_as_nanos(self.series_origin, now) / 100_000_000) as usize
    }
}
