//! `tierbench run`: the whole pipeline for one scenario, from tiers to reports and exit code.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::engine::progress::Progress;
use crate::exit;
use crate::metrics::host::{ProcessSampler, host_info};
use crate::metrics::result::{
    ResultDocument, RunFailure, SCHEMA_VERSION, ScenarioInfo, ShardInfo, Summary,
};
use crate::scenario::plan::Scenario;
use crate::tier::{Tier, TierError};
use crate::verdict::compare::{Rule, apply, cannot_compare, compare};
use crate::verdict::compare_history::{MIN_HISTORY, compare_history};
use crate::verdict::judge::{judge_workload, not_measured};
use crate::workload::values::ValuePool;

pub use super::finish::RunOutcome;
use super::finish::{Ended, finish, left_behind};
use super::measure::Shared;
use super::output::{ReportSpec, json_path, write_atomic};

/// How many distinct values are generated (at most; fewer when there are fewer keys).
const VALUE_POOL_SIZE: usize = 1024;

/// What a run does besides running the scenario.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// `--record-trace`: write every issued operation to this file as a replayable CSV trace
    /// (`key,op,size,worker,workload`; preload is not recorded).
    pub record: Option<&'a std::path::Path>,
    /// `--baseline`: the earlier run to compare with, and its file name.
    pub baseline: Option<(ResultDocument, String)>,
    /// `--baseline NAME`: the saved runs of the name, oldest first (judged against once there
    /// are `MIN_HISTORY`).
    pub history: Vec<ResultDocument>,
    /// The comparison's noise band and significance, and what fails it.
    pub rule: Rule,
    /// `--timeout`: replaces the scenario's `timeout`.
    pub timeout: Option<Duration>,
    /// `--start-at`: the first workload waits for this time (after setup).
    pub start_at: Option<super::shards::StartAt>,
    /// `--until-ready`: the run stops, timed, where the first workload would start measuring.
    pub probe: Option<&'a super::shards::ReadyProbe>,
}

/// Runs every workload and returns the results. Tier setup failures end the run with exit 3.
pub async fn run(scenario: &Scenario, specs: &[ReportSpec], progress: &Progress) -> RunOutcome {
    run_with(scenario, specs, progress, &RunOptions::default()).await
}

/// Like `run`, with options.
pub async fn run_with(
    scenario: &Scenario,
    specs: &[ReportSpec],
    progress: &Progress,
    options: &RunOptions<'_>,
) -> RunOutcome {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut sampler = ProcessSampler::new();
    let mut document = new_document(scenario, started_at, &mut sampler);
    // Watching for Ctrl-C from before the tiers are set up: a signal during setup (the claim of
    // a large key space takes a while) stops the run cleanly instead of killing it.
    let stop = Arc::new(AtomicBool::new(false));
    let interrupt = super::interrupt::Interrupt::watch(&stop, left_behind(scenario));
    let tiers = match connect_all(scenario).await {
        Ok(t) => t,
        Err(e) => {
            // The result document and the reports still say what failed, where.
            let tier = match &e {
                TierError::Setup { tier, .. } => Some(tier.clone()),
                TierError::Operation(_) => None,
            };
            let ended = Ended {
                failure: Some(RunFailure {
                    tier,
                    ..failed("setup", None, format!("setup failed: {e}"))
                }),
                interrupted: interrupt.end(),
                ..Ended::default()
            };
            return finish(document, started, &mut sampler, ended);
        }
    };
    document.notes = tiers.iter().filter_map(|t| t.leftover_note()).collect();
    let shared = Shared {
        scenario,
        progress,
        record: options.record,
        values: value_pool(scenario),
        stop,
        tiers,
        start_at: std::sync::Mutex::new(options.start_at.clone()),
        late: std::sync::Mutex::new(None),
        probe: options.probe,
    };
    for tier in &shared.tiers {
        tier.use_values(&shared.values);
    }
    let deadline = Deadline::start(options.timeout.or(scenario.timeout), &shared.stop);
    if let (Some(start), Some(shard)) = (&options.start_at, document.shard.as_mut()) {
        shard.start_at = Some(start.text.clone());
    }
    let (mut failure, trace_parts) =
        run_workloads(&shared, specs, &mut document, &mut sampler).await;
    if let Some(path) = shared.record
        && let Err(e) = crate::workload::trace::assemble(path, trace_parts)
    {
        let message = format!("cannot write the trace {}: {e}", path.display());
        failure.get_or_insert(failed("trace", None, message));
    }
    match scenario
        .shard
        .filter(|s| s.count > 1 && options.probe.is_none())
    {
        // Other shards may still be using the keys and tables: the merge cleans up once.
        Some(s) => document.notes.push(format!(
            "shard {} of {}: tierbench's keys and tables are left for the other shards; \
             `tierbench merge --cleanup SCENARIO` (or the next run) removes them",
            s.index, s.count
        )),
        None => {
            for tier in &shared.tiers {
                if let Err(e) = tier.cleanup(scenario.keep).await {
                    eprintln!("warning: cleanup: {e}");
                }
            }
        }
    }
    let timed_out = deadline.end();
    let interrupted = interrupt.end();
    let ended = Ended {
        failure,
        timed_out,
        interrupted,
    };
    let mut outcome = finish(document, started, &mut sampler, ended);
    if let Some((baseline, name)) = &options.baseline {
        compare_with_baseline(&mut outcome, baseline, name, &options.history, options.rule);
    }
    outcome
}

/// Runs every workload in order into `document`, saved after each so that a later failure
/// loses nothing; returns the failure that ended them early, if any, and the trace parts
/// they wrote.
async fn run_workloads(
    shared: &Shared<'_>,
    specs: &[ReportSpec],
    document: &mut ResultDocument,
    sampler: &mut ProcessSampler,
) -> (Option<RunFailure>, Vec<std::path::PathBuf>) {
    let scenario = shared.scenario;
    let mut trace_parts = Vec::new();
    for (index, workload) in scenario.workloads.iter().enumerate() {
        if workload.simulate {
            match super::simulated::result(scenario, index) {
                Ok(mut result) => {
                    judge_workload(&workload.thresholds, &mut result);
                    document.workloads.push(result);
                }
                Err(e) => {
                    return (
                        Some(failed("measure", Some(&workload.name), e)),
                        trace_parts,
                    );
                }
            }
            save_so_far(specs, document);
            continue;
        }
        let stack = shared.stack_for(workload);
        let counters_before = super::server_counts::read(&stack).await;
        let measured = shared.measure(index, &stack, sampler).await;
        if let Some(note) = shared.late.lock().ok().and_then(|mut late| late.take()) {
            document.notes.push(note);
        }
        let (measurement, repetitions) = match measured {
            Ok(Some(measured)) => measured,
            Ok(None) => break,
            Err(e) => {
                return (
                    Some(failed("measure", Some(&workload.name), e)),
                    trace_parts,
                );
            }
        };
        trace_parts.extend(measurement.recorder.trace_parts.iter().cloned());
        if repetitions.len() >= 2 && workload.preload {
            document.notes.push(format!(
                "workload `{}`: each of its {} repetitions started from the same tier state \
                 (tierbench's keys cleared, the preload repeated): independent samples",
                workload.name,
                repetitions.len()
            ));
        }
        let mut result = shared
            .result_of(workload, &stack, &measurement, repetitions, counters_before)
            .await;
        if shared.stop.load(Ordering::Relaxed) && result.ops + result.errors == 0 {
            not_measured(&mut result);
        }
        document.workloads.push(result);
        // Results so far are on disk after each workload: a later failure loses nothing.
        save_so_far(specs, document);
        if let Some(lost) = &measurement.lost {
            let message = format!("workload `{}` gave up: {lost}", workload.name);
            return (
                Some(failed("measure", Some(&workload.name), message)),
                trace_parts,
            );
        }
    }
    (None, trace_parts)
}

/// A run-time failure in `phase` (of `workload`, if any).
fn failed(phase: &str, workload: Option<&str>, message: String) -> RunFailure {
    RunFailure {
        phase: phase.to_string(),
        tier: None,
        workload: workload.map(str::to_string),
        message,
    }
}

/// The result document before any workload has run.
pub(super) fn new_document(
    scenario: &Scenario,
    started_at: String,
    sampler: &mut ProcessSampler,
) -> ResultDocument {
    ResultDocument {
        schema_version: SCHEMA_VERSION,
        tierbench_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            path: scenario.source.path.display().to_string(),
            sha256: scenario.source.sha256.clone(),
            seed: scenario.seed,
            effective: scenario.effective.clone(),
        },
        started_at,
        duration_s: 0.0,
        host: host_info(),
        process: sampler.info(),
        latency_method: crate::cli::LATENCY_METHOD.to_string(),
        workloads: Vec::new(),
        summary: Summary::default(),
        profile: scenario.applied.profile.clone(),
        overrides: scenario.applied.overrides.clone(),
        comparison: None,
        notes: Vec::new(),
        shard: scenario.shard.map(|s| ShardInfo {
            indices: vec![s.index],
            count: s.count,
            start_at: None,
        }),
        sweep: None,
        in_progress: false,
    }
}

/// The values every workload writes, generated once per run from the scenario's seed.
fn value_pool(scenario: &Scenario) -> Arc<ValuePool> {
    Arc::new(ValuePool::generate(
        &scenario.values.shape,
        &scenario.values.size,
        scenario.values.compressibility,
        VALUE_POOL_SIZE
            .min(usize::try_from(scenario.keys.count).unwrap_or(usize::MAX))
            .max(1),
        scenario.seed,
    ))
}

/// The run's time limit: when it passes, `stop` is raised and the run counts as timed out.
struct Deadline {
    timed_out: Arc<AtomicBool>,
    timer: Option<tokio::task::JoinHandle<()>>,
}

impl Deadline {
    /// Starts the timer, if there is a limit.
    fn start(limit: Option<Duration>, stop: &Arc<AtomicBool>) -> Deadline {
        let timed_out = Arc::new(AtomicBool::new(false));
        let timer = limit.map(|limit| {
            let (stop, timed_out) = (Arc::clone(stop), Arc::clone(&timed_out));
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                timed_out.store(true, Ordering::Relaxed);
                stop.store(true, Ordering::Relaxed);
            })
        });
        Deadline { timed_out, timer }
    }

    /// Stops the timer; true if the limit was reached.
    fn end(self) -> bool {
        if let Some(timer) = self.timer {
            timer.abort();
        }
        self.timed_out.load(Ordering::Relaxed)
    }
}

/// Writes the results so far to the JSON report's path, if one was asked for (best effort).
pub(super) fn save_so_far(specs: &[ReportSpec], document: &mut ResultDocument) {
    if let Some(path) = json_path(specs) {
        // Marked in progress, so that `merge` does not take it for the finished document.
        document.in_progress = true;
        if let Ok(json) = serde_json::to_vec_pretty(document) {
            let _ = write_atomic(path, &json);
        }
        document.in_progress = false;
    }
}

/// Compares with `--baseline`: a failing verdict turns exit 0 into 5; nothing in common, 2.
pub(super) fn compare_with_baseline(
    o: &mut RunOutcome,
    base: &ResultDocument,
    name: &str,
    history: &[ResultDocument],
    rule: Rule,
) {
    let comparison = if history.len() >= MIN_HISTORY {
        compare_history(name, history, &o.document, rule)
    } else {
        let mut c = compare(base, &o.document, rule);
        if !history.is_empty() {
            c.recommendations.push(format!(
                "`{name}` has {} saved run{}: with {MIN_HISTORY} or more, a run is judged against \
                 their spread instead of the latest alone (save {} more with --save-baseline {name})",
                history.len(),
                if history.len() == 1 { "" } else { "s" },
                MIN_HISTORY - history.len()
            ));
        }
        c
    };
    if let Some(message) = cannot_compare(base, &mut o.document, &comparison, name) {
        (o.failure, o.code) = (Some(message), exit::INVALID_INPUT); // only a complete run
    }
    if apply(&mut o.document.summary, &comparison, name, rule) && o.code == exit::OK {
        o.code = exit::REGRESSION;
    }
    o.document.comparison = Some(comparison);
}

/// Sets up every declared tier, in order; the first that fails ends the run.
pub(super) async fn connect_all(scenario: &Scenario) -> Result<Vec<Arc<Tier>>, TierError> {
    let mut tiers = Vec::with_capacity(scenario.tiers.len());
    let names = scenario.key_names();
    for config in &scenario.tiers {
        match Tier::connect(config, &names).await {
            Ok(tier) => tiers.push(Arc::new(tier)),
            Err(e) => {
                // The tiers already set up carry this run's marker (and maybe a table it
                // created): clean them up rather than leave them for the next run.
                for tier in &tiers {
                    let _ = tier.cleanup(scenario.keep).await;
                }
                return Err(e);
            }
        }
    }
    Ok(tiers)
}
