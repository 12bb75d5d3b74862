//! The load engine: preload, warmup and the measured closed-loop phase of each workload.
//!
//! A workload whose tiers are all in-process runs its workers on plain OS threads, each driving
//! its loop with `driver::block_on`; a workload that talks to servers runs its workers as tokio
//! tasks. Both run the same worker loop. Warmup and preload are not recorded; the measured
//! phase's per-worker recorders are merged at the end.

mod connection_group;
pub mod context;
pub mod driver;
mod fan_out;
pub mod memory;
mod pipelined;
mod pipelined_window;
pub mod progress;
pub mod schedule;
mod self_check;
mod stream;
pub mod verify;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use quanta::Clock;
use thiserror::Error;

use crate::metrics::recorder::Recorder;
use crate::scenario::plan::{Phase as PlanPhase, Scenario, Stop, Workload};
use crate::tier::TierError;
use crate::tier::stack::Stack;
use crate::workload::keys::KeySampler;
use crate::workload::seed::{SeedPhase, worker_seed};
use crate::workload::values::ValuePool;
use context::{WorkerJob, WorkloadContext};
use fan_out::{fan_out, kept_recorder};
pub use memory::MemoryFigure;
use progress::{PhaseInfo, Progress};

/// A failure that stops a workload.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A tier failed outside the measured phase (preload).
    #[error("workload `{workload}`: preload failed: {source}")]
    Preload {
        /// Workload name.
        workload: String,
        /// The tier's error.
        #[source]
        source: TierError,
    },
    /// A worker thread or task died.
    #[error("workload `{workload}`: a worker failed: {message}")]
    Worker {
        /// Workload name.
        workload: String,
        /// What happened.
        message: String,
    },
}

/// What the measured phase of one workload produced.
pub struct Measurement {
    /// Merged recorder of all workers.
    pub recorder: Recorder,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
    /// Memory per entry of each target tier, measured between preload fill levels; `None`
    /// where the tier cannot tell or the figure is unreliable (then `warnings` says why).
    pub memory: Vec<Option<MemoryFigure>>,
    /// Warnings about the measurement itself (a memory figure withheld, and why).
    pub warnings: Vec<String>,
    /// Each phase's own measurements.
    pub phases: Vec<PhaseMeasurement>,
    /// Why the workload ended early: a tier lost for good (no success for `lost_after`).
    pub lost: Option<String>,
    /// Wall-clock time (Unix milliseconds) when measuring began: second 0 of the time series.
    pub started_ms: u64,
}

impl Measurement {
    /// Adds another repetition of the same workload: recorders merge, times add up, phases
    /// merge pairwise; memory per entry stays the first repetition's.
    pub fn absorb(&mut self, other: Measurement) {
        self.recorder.merge(&other.recorder);
        self.elapsed += other.elapsed;
        self.lost = self.lost.take().or(other.lost);
        for (a, b) in self.phases.iter_mut().zip(other.phases) {
            a.recorder.merge(&b.recorder);
            a.elapsed += b.elapsed;
            a.client_cpu_s += b.client_cpu_s;
        }
    }
}

/// One phase's measurements.
pub struct PhaseMeasurement {
    /// The phase as planned.
    pub phase: PlanPhase,
    /// Merged recorder of its workers.
    pub recorder: Recorder,
    /// Its wall time.
    pub elapsed: Duration,
    /// CPU time the whole tierbench process used during it, seconds.
    pub client_cpu_s: f64,
}

/// A future the engine awaits between a workload's preparation and its measuring.
pub type Hold<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// What a workload's run needs beside the scenario and its stack.
pub struct RunInputs<'a> {
    /// The values written (generated once per run).
    pub values: Arc<ValuePool>,
    /// Set when the run must stop (timeout, Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// Progress bars and live figures.
    pub progress: &'a Progress,
    /// `--record-trace`: where the operations issued are written.
    pub record: Option<&'a std::path::Path>,
    /// Awaited after the preload and the warmup, before the first measured phase: a sharded
    /// run's common start (`--start-at`), so that every shard measures from it, prepared.
    pub hold: Option<Hold<'a>>,
}

/// Runs one workload against `stack` and returns its measured phase.
pub async fn run_workload(
    scenario: &Scenario,
    index: usize,
    stack: Stack,
    inputs: RunInputs<'_>,
) -> Result<Measurement, EngineError> {
    let RunInputs {
        values,
        stop,
        progress,
        record,
        hold,
    } = inputs;
    let workload = &scenario.workloads[index];
    let workers = workload.concurrency;
    let sampler = KeySampler::new(&scenario.keys.distribution, scenario.keys.count, 0, workers)
        .map_err(|message| EngineError::Worker {
            workload: workload.name.clone(),
            message,
        })?;
    let counters: Arc<[CachePadded<AtomicU64>]> = (0..workers)
        .map(|_| CachePadded::new(AtomicU64::new(0)))
        .collect();
    let verify = workload
        .verify
        .then(|| Arc::new(verify::VerifyState::new(scenario.keys.count)));
    let ctx = Arc::new(WorkloadContext {
        stack,
        ops: workload.ops.clone(),
        batch: workload.batch.clone(),
        commands: std::sync::Arc::clone(&workload.commands),
        verify,
        values,
        prefix: scenario.keys.prefix.clone(),
        key_count: scenario.keys.count,
        sampler,
        progress: counters,
        live: (0..workers).map(|_| CachePadded::default()).collect(),
        series: Arc::default(),
        stop,
        clock: Clock::new(),
        record: record.map(std::path::Path::to_path_buf),
        workload_index: index,
        workload_name: workload.name.clone(),
        trace: workload.ops.trace_feed(),
        lost_after_ns: u64::try_from(scenario.lost_after.as_nanos()).unwrap_or(u64::MAX),
        lost: std::sync::OnceLock::new(),
        gate: context::StartGate::default(),
        abandoned: std::sync::Mutex::new(Vec::new()),
        abandoned_in_flight: AtomicUsize::new(0),
        oversubscribed: workers
            > std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    });

    let first_tier = workload
        .target
        .first()
        .and_then(|&t| scenario.tiers.get(t))
        .map_or("", |t| t.name.as_str());
    let info = PhaseInfo {
        workload: &workload.name,
        phase: "",
        total: None,
        duration: None,
        tier: first_tier,
    };
    let mut memory = vec![None; ctx.stack.len()];
    let mut warnings = Vec::new();
    if workload.preload {
        let bar = progress.phase(
            &PhaseInfo {
                phase: "preload",
                total: Some(scenario.keys.count),
                ..info
            },
            &ctx.progress,
            &ctx.live,
        );
        // Three fill levels (10%, 55%, all keys): memory per entry is the slope over the last
        // 90%, its uncertainty the gap between the two halves' slopes.
        // A shard preloads its own range of the key space.
        let all = scenario.keys.count;
        let range = scenario.shard.map_or(0..all, |s| s.key_range(all));
        let (lo, count) = (range.start, range.end - range.start);
        let (tenth, middle) = (count / 10, count / 10 + (count - count / 10) / 2);
        let mut levels = Vec::with_capacity(3);
        for keys in [
            lo..lo + tenth,
            lo + tenth..lo + middle,
            lo + middle..range.end,
        ] {
            preload_range(&ctx, workload, workers, keys).await?;
            levels.push(memory::readings(&ctx).await);
        }
        bar.finish();
        let sharded = scenario.shard.is_some_and(|s| s.count > 1);
        for (i, slot) in memory.iter_mut().enumerate() {
            let tier = &ctx.stack.tiers()[i];
            let figure = if sharded {
                Err("other shards fill the same tiers at the same time".to_string())
            } else {
                let levels = [levels[0][i], levels[1][i], levels[2][i]];
                memory::figure_of(tier, levels).await
            };
            match figure {
                Ok(figure) => *slot = figure,
                Err(reason) => warnings.push(format!(
                    "`{}`: memory per entry not reported: {reason}",
                    scenario.tiers[workload.target[i]].name
                )),
            }
        }
    }
    let mut warmup_parts = Vec::new();
    if workload.warmup > 0 {
        let bar = progress.phase(
            &PhaseInfo {
                phase: "warmup",
                total: Some(workload.warmup),
                ..info
            },
            &ctx.progress,
            &ctx.live,
        );
        let warmup = PlanPhase {
            name: "warmup".into(),
            stop: Stop::Ops(workload.warmup),
            concurrency: workload.phases[0].concurrency,
            rate: None,
        };
        let origin = ctx.clock.raw();
        let recorders = run_phase(scenario, index, &ctx, SeedPhase::Warmup, &warmup, origin)
            .await
            .map_err(|message| worker_error(workload, message))?;
        warmup_parts = recorders.into_iter().flat_map(|r| r.trace_parts).collect();
        bar.finish();
    }
    if let Some(hold) = hold {
        hold.await;
    }
    let mut recorder = Recorder::with_commands(ctx.stack.len(), ctx.commands.len());
    recorder.trace_parts = warmup_parts;
    let mut phases = Vec::with_capacity(workload.phases.len());
    let mut cpu = crate::metrics::host::ProcessSampler::new();
    let series_origin = ctx.clock.raw();
    let started_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    for (p, phase) in workload.phases.iter().enumerate() {
        if ctx.lost.get().is_some() {
            break;
        }
        let (total, duration) = match phase.stop {
            Stop::Ops(n) => (Some(n), None),
            Stop::Duration(d) => (None, Some(d)),
        };
        let label = if workload.phases.len() > 1 {
            phase.name.as_str()
        } else {
            "measure"
        };
        let bar = progress.phase(
            &PhaseInfo {
                phase: label,
                total,
                duration,
                ..info
            },
            &ctx.progress,
            &ctx.live,
        );
        let cpu_before = cpu.cpu_seconds();
        let probe = (!ctx.stack.is_in_process()).then(self_check::PollProbe::start);
        let phase_started = std::time::Instant::now();
        let recorders = run_phase(
            scenario,
            index,
            &ctx,
            SeedPhase::Measure(p),
            phase,
            series_origin,
        )
        .await
        .map_err(|message| worker_error(workload, message))?;
        // The measured span: from the gate that started every worker (after each set its
        // connection up) to the end of the last operation. Throughput and every other figure
        // of the phase and the workload use this one span.
        let elapsed = match ctx.gate.started() {
            Some(start) => Duration::from_nanos(ctx.clock.delta_as_nanos(start, ctx.clock.raw())),
            None => phase_started.elapsed(),
        };
        let client_cpu_s = cpu.cpu_seconds() - cpu_before;
        let poll_delay = match probe {
            Some(probe) => probe.finish().await,
            None => None,
        };
        bar.finish();
        let waiting = if phase.rate.is_some() || ctx.stack.waits_on_origin() {
            self_check::Waiting::OnTheClock
        } else {
            self_check::Waiting::Never
        };
        warnings.extend(self_check::saturation_warning(
            label,
            client_cpu_s,
            elapsed.as_secs_f64(),
            poll_delay,
            waiting,
        ));
        let mut merged = Recorder::with_commands(ctx.stack.len(), ctx.commands.len());
        for r in &recorders {
            merged.merge(r);
        }
        recorder.merge(&merged);
        if ctx.trace.as_ref().is_some_and(|t| t.ended_early(p + 1)) {
            warnings.push(format!(
                "phase `{label}`: the trace ended before the {} operations asked for; the \
                 phase replayed the whole trace once and stopped (lower `ops`, or use a longer trace)",
                total.map_or_else(|| "duration's".to_string(), |n| n.to_string())
            ));
        }
        phases.push(PhaseMeasurement {
            phase: phase.clone(),
            recorder: merged,
            elapsed,
            client_cpu_s,
        });
    }
    let elapsed = phases.iter().map(|p| p.elapsed).sum();
    ctx.series.drain_into(&mut recorder.seconds);
    recorder.absorb_windows(0, &ctx.series.take_windows());
    warnings.extend(self_check::timer_warning(
        &recorder,
        self_check::timer_cost_ns(&ctx.clock),
    ));
    let abandoned = ctx.abandoned_in_flight.load(Ordering::Relaxed);
    if abandoned > 0 {
        warnings.push(format!(
            "stopped: {abandoned} worker{s} still waiting on a server {grace} s after the stop \
             gave up {their} in-flight operation{s} (counted neither as done nor as errors)",
            s = if abandoned == 1 { "" } else { "s" },
            their = if abandoned == 1 { "its" } else { "their" },
            grace = fan_out::STOP_GRACE.as_secs(),
        ));
    }
    Ok(Measurement {
        recorder,
        elapsed,
        memory,
        warnings,
        phases,
        lost: ctx.lost.get().cloned(),
        started_ms,
    })
}

async fn preload_range(
    ctx: &Arc<WorkloadContext>,
    workload: &Workload,
    workers: usize,
    keys: std::ops::Range<u64>,
) -> Result<(), EngineError> {
    let results = fan_out(
        ctx,
        workers,
        move |ctx, w| {
            let keys = keys.clone();
            async move { worker::preload(&ctx, w, workers, keys).await }
        },
        |_, _| Ok(()),
    )
    .await
    .map_err(|message| worker_error(workload, message))?;
    for r in results {
        r.map_err(|source| EngineError::Preload {
            workload: workload.name.clone(),
            source,
        })?;
    }
    Ok(())
}

fn worker_error(workload: &Workload, message: String) -> EngineError {
    EngineError::Worker {
        workload: workload.name.clone(),
        message,
    }
}

/// Runs one phase on its workers. Closed loop: `ops` split over the workers (the first take
/// the remainder). Open loop: operation `i` of the phase is due at its scheduled time and is run
/// by worker `i mod workers`.
async fn run_phase(
    scenario: &Scenario,
    index: usize,
    ctx: &Arc<WorkloadContext>,
    seed_phase: SeedPhase,
    phase: &PlanPhase,
    series_origin: u64,
) -> Result<Vec<Recorder>, String> {
    let workers = phase.concurrency;
    // Replaced by the gate's reading once every worker is running (see `StartGate`).
    let start_raw = ctx.clock.raw();
    ctx.gate.arm(workers);
    let seed = scenario.seed;
    let (ops, deadline_ns) = match phase.stop {
        Stop::Ops(n) => (n, u64::MAX),
        Stop::Duration(d) => (u64::MAX, d.as_nanos() as u64),
    };
    let rate = phase.rate;
    let jobs: Arc<[WorkerJob]> = (0..workers)
        .map(|w| WorkerJob {
            worker: w,
            workers,
            seed: worker_seed(seed, index, w, seed_phase),
            ops: match (ops, rate) {
                (u64::MAX, _) => u64::MAX,
                // Open loop: the phase's op count is global; each worker takes every `workers`-th.
                (n, Some(_)) => n,
                (n, None) => n / workers as u64 + u64::from((w as u64) < n % workers as u64),
            },
            start_raw,
            deadline_ns,
            rate,
            series_origin,
            phase: match seed_phase {
                SeedPhase::Warmup => 0,
                SeedPhase::Measure(p) => p + 1,
            },
        })
        .collect();
    fan_out(
        ctx,
        workers,
        move |ctx, w| {
            let jobs = Arc::clone(&jobs);
            async move { worker::run_phase_worker(&ctx, &jobs, w).await }
        },
        kept_recorder,
    )
    .await
}
