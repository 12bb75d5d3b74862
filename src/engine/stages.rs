//! The stages of one workload's run, in the order `run_workload` (mod.rs) calls them: the
//! shared context, the preload (with each tier's memory per entry), the warmup, and each
//! measured phase with the generator's self-checks. Apart from mod.rs so that the run reads as
//! its list of stages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use quanta::Clock;

use super::context::{self, WorkloadContext};
use super::progress::{PhaseInfo, Progress};
use super::{
    EngineError, MemoryFigure, PhaseMeasurement, fan_out, memory, preload_range, run_phase,
    self_check, verify, worker_error,
};
use crate::metrics::host::ProcessSampler;
use crate::metrics::recorder::{Recorder, SharedLatencies};
use crate::scenario::plan::{Phase as PlanPhase, Scenario, Stop};
use crate::tier::stack::Stack;
use crate::workload::keys::KeySampler;
use crate::workload::seed::SeedPhase;
use crate::workload::values::ValuePool;

/// The context every worker of the workload shares.
pub(super) fn context(
    scenario: &Scenario,
    index: usize,
    (stack, instances): (Stack, Vec<Stack>),
    values: Arc<ValuePool>,
    stop: Arc<AtomicBool>,
    record: Option<&std::path::Path>,
) -> Result<Arc<WorkloadContext>, EngineError> {
    let workload = &scenario.workloads[index];
    let workers = workload.concurrency;
    let sampler = KeySampler::new(&scenario.keys.distribution, scenario.keys.count, 0, workers)
        .map_err(|message| worker_error(workload, message))?;
    let counters: Arc<[CachePadded<AtomicU64>]> = (0..workers)
        .map(|_| CachePadded::new(AtomicU64::new(0)))
        .collect();
    let verify = workload
        .verify
        .then(|| Arc::new(verify::VerifyState::new(scenario.keys.count)));
    let stack_len = stack.len();
    let in_process = stack.is_in_process();
    Ok(Arc::new(WorkloadContext {
        stack,
        instances,
        ops: workload.ops.clone(),
        batch: workload.batch.clone(),
        commands: Arc::clone(&workload.commands),
        verify,
        values,
        prefix: scenario.keys.prefix.clone(),
        key_count: scenario.keys.count,
        sampler,
        progress: counters,
        live: (0..workers).map(|_| CachePadded::default()).collect(),
        phase_board: std::sync::Mutex::new(None),
        series: Arc::default(),
        latencies: SharedLatencies::new(stack_len, workload.commands.len()),
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
        on_threads: in_process && workers <= fan_out::MAX_WORKER_THREADS,
        oversubscribed: workers
            > std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    }))
}

/// Writes every key of the workload's range (a shard's own) once, in three fill levels (10%,
/// 55%, all keys): memory per entry is the slope over the last 90%, its uncertainty the gap
/// between the two halves' slopes. Returns each tier's figure and the warnings of those that
/// have none.
pub(super) async fn preload(
    scenario: &Scenario,
    index: usize,
    ctx: &Arc<WorkloadContext>,
    progress: &Progress,
    info: PhaseInfo<'_>,
) -> Result<(Vec<Option<MemoryFigure>>, Vec<String>), EngineError> {
    let workload = &scenario.workloads[index];
    if let Some(board) = crate::metrics::live::board() {
        board.set_state(crate::metrics::live::RunState::Preload);
    }
    let bar = progress.phase(
        &PhaseInfo {
            phase: "preload",
            total: Some(scenario.keys.count),
            ..info
        },
        &ctx.progress,
        &ctx.live,
    );
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
        preload_range(ctx, workload, workload.concurrency, keys).await?;
        levels.push(memory::readings(ctx).await);
    }
    bar.finish();
    let sharded = scenario.shard.is_some_and(|s| s.count > 1);
    let mut figures = vec![None; ctx.stack.len()];
    let mut warnings = Vec::new();
    for (i, slot) in figures.iter_mut().enumerate() {
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
    Ok((figures, warnings))
}

/// Runs the workload's warmup (not recorded); returns the trace parts it wrote.
pub(super) async fn warm_up(
    scenario: &Scenario,
    index: usize,
    ctx: &Arc<WorkloadContext>,
    progress: &Progress,
    info: PhaseInfo<'_>,
) -> Result<Vec<std::path::PathBuf>, EngineError> {
    let workload = &scenario.workloads[index];
    if workload.warmup == 0 {
        return Ok(Vec::new());
    }
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
    let recorders = run_phase(scenario, index, ctx, SeedPhase::Warmup, &warmup, origin)
        .await
        .map_err(|message| worker_error(workload, message))?;
    bar.finish();
    Ok(recorders.into_iter().flat_map(|r| r.trace_parts).collect())
}

/// Which measured phase to run: workload `index`'s phase `p`, on the time series that starts
/// at `series_origin`.
#[derive(Clone, Copy)]
pub(super) struct Measured<'a> {
    pub index: usize,
    pub p: usize,
    pub series_origin: u64,
    pub info: PhaseInfo<'a>,
}

/// Runs one measured phase: its workers' merged recorder over its one measured span, and its
/// warnings (the client's self-check, a trace that ran out).
pub(super) async fn measure(
    scenario: &Scenario,
    ctx: &Arc<WorkloadContext>,
    progress: &Progress,
    at: Measured<'_>,
    cpu: &mut ProcessSampler,
) -> Result<(PhaseMeasurement, Vec<String>), EngineError> {
    let workload = &scenario.workloads[at.index];
    let phase = &workload.phases[at.p];
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
            ..at.info
        },
        &ctx.progress,
        &ctx.live,
    );
    let cpu_before = cpu.cpu_seconds();
    let probe = (!ctx.on_threads).then(self_check::PollProbe::start);
    let phase_started = std::time::Instant::now();
    let seed = SeedPhase::Measure(at.p);
    let recorders = run_phase(scenario, at.index, ctx, seed, phase, at.series_origin)
        .await
        .map_err(|message| worker_error(workload, message))?;
    // The measured span: from the gate that started every worker (after each set its
    // connection up) to the end of the last operation. Throughput and every other figure of
    // the phase and the workload use this one span.
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
    let mut warnings: Vec<String> = self_check::saturation_warning(
        label,
        client_cpu_s,
        elapsed.as_secs_f64(),
        poll_delay,
        waiting,
    )
    .into_iter()
    .collect();
    let mut merged = Recorder::with_commands(ctx.stack.len(), ctx.commands.len());
    for r in &recorders {
        merged.merge(r);
    }
    // What the workers spooled (many workers: one set of histograms, `recorder/spool.rs`).
    ctx.latencies.read(|spooled| merged.merge(spooled));
    if ctx.trace.as_ref().is_some_and(|t| t.ended_early(at.p + 1)) {
        warnings.push(format!(
            "phase `{label}`: the trace ended before the {} operations asked for; the phase \
             replayed the whole trace once and stopped (lower `ops`, or use a longer trace)",
            total.map_or_else(|| "duration's".to_string(), |n| n.to_string())
        ));
    }
    let measured = PhaseMeasurement {
        phase: phase.clone(),
        recorder: merged,
        elapsed,
        client_cpu_s,
    };
    Ok((measured, warnings))
}

/// The warning of a stop that gave up operations workers still waited on a server for.
pub(super) fn abandoned_warning(ctx: &WorkloadContext) -> Option<String> {
    let abandoned = ctx.abandoned_in_flight.load(Ordering::Relaxed);
    (abandoned > 0).then(|| {
        format!(
            "stopped: {abandoned} worker{s} still waiting on a server {grace} s after the stop \
             gave up {their} in-flight operation{s} (counted neither as done nor as errors)",
            s = if abandoned == 1 { "" } else { "s" },
            their = if abandoned == 1 { "its" } else { "their" },
            grace = fan_out::STOP_GRACE.as_secs(),
        )
    })
}
