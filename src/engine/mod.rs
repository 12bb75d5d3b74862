//! The load engine: preload, warmup and the measured closed-loop phase of each workload.
//!
//! A workload whose tiers are all in-process runs its workers (up to 64) on plain OS threads,
//! each driving its loop with `driver::block_on`; a workload that talks to servers, or with more
//! in-process workers, runs them as tokio tasks (`fan_out.rs`). Both run the same worker loop.
//! Warmup and preload are not recorded; the measured phase's per-worker recorders are merged at
//! the end (with what they spooled into the phase's shared recorder, `recorder/spool.rs`).

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
mod stages;
mod stream;
pub mod summary;
pub mod verify;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use thiserror::Error;

use crate::metrics::recorder::Recorder;
use crate::scenario::plan::{Phase as PlanPhase, Scenario, Stop, Workload};
use crate::tier::TierError;
use crate::tier::stack::Stack;
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
    /// App instances kept coherent: what their invalidations did (`coherence:`).
    pub coherence: Option<crate::metrics::coherence::CoherenceCounts>,
}

impl Measurement {
    /// Adds another repetition of the same workload: recorders merge, times add up, phases
    /// merge pairwise; memory per entry stays the first repetition's.
    pub fn absorb(&mut self, other: Measurement) {
        self.recorder.merge(&other.recorder);
        self.elapsed += other.elapsed;
        self.lost = self.lost.take().or(other.lost);
        match (&mut self.coherence, &other.coherence) {
            (Some(a), Some(b)) => a.absorb(b),
            (a @ None, Some(b)) => *a = Some(b.clone()),
            _ => {}
        }
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
    /// Each app instance's stack, when the scenario keeps several coherent (`coherence:`);
    /// empty otherwise.
    pub instances: Vec<Stack>,
}

/// Runs one workload against `stack` and returns its measured phase: its context, the
/// preload, the warmup, the hold (a sharded run's common start), then each measured phase
/// (`stages.rs` has each stage).
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
        instances,
    } = inputs;
    let workload = &scenario.workloads[index];
    let ctx = stages::context(scenario, index, (stack, instances), values, stop, record)?;
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
    let (memory, mut warnings) = if workload.preload {
        stages::preload(scenario, index, &ctx, progress, info).await?
    } else {
        (vec![None; ctx.stack.len()], Vec::new())
    };
    let warmup_parts = stages::warm_up(scenario, index, &ctx, progress, info).await?;
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
    for p in 0..workload.phases.len() {
        if ctx.lost.get().is_some() {
            break;
        }
        let phase = stages::Measured {
            index,
            p,
            series_origin,
            info,
        };
        let measured = stages::measure(scenario, &ctx, progress, phase, &mut cpu).await?;
        recorder.merge(&measured.0.recorder);
        warnings.extend(measured.1);
        phases.push(measured.0);
    }
    let elapsed = phases.iter().map(|p| p.elapsed).sum();
    ctx.series.drain_into(&mut recorder.seconds);
    recorder.absorb_windows(0, &ctx.series.take_windows());
    warnings.extend(self_check::timer_warning(
        &recorder,
        self_check::timer_cost_ns(&ctx.clock),
    ));
    warnings.extend(self_check::oversubscribed_warning(
        workload.concurrency,
        ctx.on_threads,
        &recorder,
    ));
    warnings.extend(stages::abandoned_warning(&ctx));
    Ok(Measurement {
        recorder,
        elapsed,
        memory,
        warnings,
        phases,
        lost: ctx.lost.get().cloned(),
        started_ms,
        coherence: None,
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
    // What an earlier phase's workers spooled (the warmup's) is not this phase's.
    ctx.latencies.clear();
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
    let live = begin_live_phase(scenario, index, ctx, seed_phase, phase);
    let recorders = fan_out(
        ctx,
        workers,
        move |ctx, w| {
            let jobs = Arc::clone(&jobs);
            async move { worker::run_phase_worker(&ctx, &jobs, w).await }
        },
        kept_recorder,
    )
    .await?;
    if let Some(live) = live {
        let mut merged = Recorder::with_commands(ctx.stack.len(), ctx.commands.len());
        for r in &recorders {
            merged.merge(r);
        }
        ctx.latencies.read(|spooled| merged.merge(spooled));
        live.finish(&merged);
    }
    Ok(recorders)
}

/// With a live metrics exporter (`--metrics-listen`, `metrics::live`): the phase's board, which
/// the workers publish to once a second (`OpStream`), and the run's state.
fn begin_live_phase(
    scenario: &Scenario,
    index: usize,
    ctx: &WorkloadContext,
    seed_phase: SeedPhase,
    phase: &PlanPhase,
) -> Option<Arc<crate::metrics::live::PhaseBoard>> {
    use crate::metrics::live::RunState;
    let board = crate::metrics::live::board()?;
    let workload = &scenario.workloads[index];
    let (state, label) = match seed_phase {
        SeedPhase::Warmup => (RunState::Warmup, "warmup"),
        SeedPhase::Measure(_) if workload.phases.len() > 1 => (RunState::Measure, &*phase.name),
        SeedPhase::Measure(_) => (RunState::Measure, "measure"),
    };
    board.set_state(state);
    let tiers: Vec<String> = workload
        .target
        .iter()
        .map(|&t| scenario.tiers[t].name.clone())
        .collect();
    let plan = crate::metrics::live::PhasePlan {
        workers: phase.concurrency,
        intended: phase.rate.map(|r| (r.start, r.end)),
        ops: match phase.stop {
            crate::scenario::plan::Stop::Ops(n) => Some(n),
            crate::scenario::plan::Stop::Duration(_) => None,
        },
        duration_s: match phase.stop {
            crate::scenario::plan::Stop::Duration(d) => Some(d.as_secs_f64()),
            crate::scenario::plan::Stop::Ops(_) => None,
        },
    };
    if state == RunState::Measure {
        board.watch_series(&workload.name, tiers.clone(), &ctx.series);
    }
    let live = board.begin_phase(&workload.name, tiers, label, plan);
    live.read_spooled_from(ctx.latencies.clone());
    *ctx.phase_board
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&live));
    Some(live)
}
