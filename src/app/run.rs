//! `tierbench run`: the whole pipeline for one scenario, from tiers to reports and exit code.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::compare::{Rule, compare, grade, score};
use crate::engine::{self, progress::Progress};
use crate::exit;
use crate::metrics::host::{ProcessSampler, host_info};
use crate::metrics::result::{
    ResultDocument, SCHEMA_VERSION, ScenarioInfo, Summary, WorkloadResult,
};
use crate::metrics::{repetition_figures, repetition_statistics, summarize};
use crate::scenario::plan::Scenario;
use crate::stats::tukey;
use crate::tier::stack::{Stack, StackPolicy};
use crate::tier::{Tier, TierError};
use crate::workload::values::ValuePool;

use super::output::{ReportSpec, json_path, write_atomic};

/// How many distinct values are generated (at most; fewer when there are fewer keys).
const VALUE_POOL_SIZE: usize = 1024;

/// What latency means in every report.
pub const LATENCY_METHOD: &str = "closed loop: each worker issues its next operation when the previous one \
completes, and latency is the service time of the call. Open loop (a `rate`): operations are due at scheduled \
times, and latency counts from each operation's intended start, so a stall shows in every operation it delayed \
(coordinated omission corrected, as in wrk2); service time from the actual start is reported apart. Calls are \
timed with a TSC clock (quanta) outside key and value selection, recorded in per-worker HDR histograms \
(3 significant digits) and merged. Preload and warmup are not recorded.";

/// The outcome of a run.
pub struct RunOutcome {
    /// The result document (complete, or up to the failure).
    pub document: ResultDocument,
    /// The exit code.
    pub code: u8,
    /// A runtime failure, if one stopped the run.
    pub failure: Option<String>,
}

/// What a run does besides running the scenario.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// `--record-trace`: write every issued operation to this file as a replayable CSV trace
    /// (`key,op,size,worker,workload`; preload is not recorded).
    pub record: Option<&'a std::path::Path>,
    /// `--baseline`: the earlier run to compare with.
    pub baseline: Option<ResultDocument>,
    /// The comparison's noise band and significance.
    pub rule: Rule,
    /// `--no-fail-on-regression` clears this: a regression then does not set exit code 1.
    pub fail_on_regression: bool,
    /// `--timeout`: replaces the scenario's `timeout`.
    pub timeout: Option<Duration>,
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
    let record = options.record;
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut sampler = ProcessSampler::new();
    let mut document = ResultDocument {
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
        latency_method: LATENCY_METHOD.to_string(),
        workloads: Vec::new(),
        summary: Summary::default(),
        profile: scenario.applied.profile.clone(),
        overrides: scenario.applied.overrides.clone(),
        comparison: None,
    };

    let tiers = match connect_all(scenario).await {
        Ok(t) => t,
        Err(e) => return finish(document, started, &mut sampler, Some(e.to_string()), false),
    };
    let values = Arc::new(ValuePool::generate(
        &scenario.values.shape,
        &scenario.values.size,
        scenario.values.compressibility,
        VALUE_POOL_SIZE
            .min(usize::try_from(scenario.keys.count).unwrap_or(usize::MAX))
            .max(1),
        scenario.seed,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let timer = options.timeout.or(scenario.timeout).map(|limit| {
        let (stop, timed_out) = (Arc::clone(&stop), Arc::clone(&timed_out));
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            timed_out.store(true, Ordering::Relaxed);
            stop.store(true, Ordering::Relaxed);
        })
    });
    let mut failure = None;
    let mut trace_parts = Vec::new();
    for (index, workload) in scenario.workloads.iter().enumerate() {
        let policy = StackPolicy {
            stacked: workload.stacked,
            write: workload.write,
            on_error: workload.on_error,
            origin_latency: scenario.origin_latency,
        };
        let stack = Stack::new(
            workload
                .target
                .iter()
                .map(|&t| Arc::clone(&tiers[t]))
                .collect(),
            workload
                .target
                .iter()
                .map(|&t| scenario.tiers[t].compression)
                .collect(),
            policy,
        );
        let mut measurement: Option<engine::Measurement> = None;
        let mut repetitions = Vec::new();
        for rep in 0..scenario.repeat {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            // Verified reads need every value to carry a version of this repetition's counter:
            // start each repetition from no tierbench keys.
            if workload.verify
                && let Err(e) = clear(&stack).await
            {
                failure = Some(format!(
                    "workload `{}`: clearing the tiers before verify: {e}",
                    workload.name
                ));
                break;
            }
            // Each repetition draws its own keys and values: a different seed, derived.
            let mut seeded = scenario.clone();
            seeded.seed = scenario
                .seed
                .wrapping_add(u64::from(rep).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let run = engine::run_workload(
                &seeded,
                index,
                stack.clone(),
                Arc::clone(&values),
                Arc::clone(&stop),
                progress,
                record,
            )
            .await;
            sampler.sample();
            match run {
                Ok(m) => {
                    if scenario.repeat > 1 {
                        repetitions.push(repetition_figures(scenario, workload, &m));
                    }
                    match measurement.as_mut() {
                        Some(total) => total.absorb(m),
                        None => measurement = Some(m),
                    }
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        let Some(measurement) = measurement.filter(|_| failure.is_none()) else {
            break;
        };
        let mut entries = Vec::new();
        for tier in stack.tiers() {
            entries.push(tier.entries().await.ok().flatten());
        }
        trace_parts.extend(measurement.recorder.trace_parts.iter().cloned());
        let mut result = summarize(scenario, workload, &measurement, entries);
        result.statistics = repetition_statistics(&repetitions);
        result.repetitions = repetitions;
        note_outliers(&mut result);
        evaluate(workload, &mut result);
        document.workloads.push(result);
        // Results so far are on disk after each workload: a later failure loses nothing.
        if let Some(path) = json_path(specs)
            && let Ok(json) = serde_json::to_vec_pretty(&document)
        {
            let _ = write_atomic(path, &json);
        }
    }
    if let Some(path) = record
        && let Err(e) = crate::workload::trace::assemble(path, trace_parts)
    {
        failure.get_or_insert(format!("cannot write the trace {}: {e}", path.display()));
    }
    for tier in &tiers {
        if let Err(e) = tier.cleanup(scenario.keep).await {
            eprintln!("warning: cleanup: {e}");
        }
    }
    if let Some(timer) = timer {
        timer.abort();
    }
    let timed_out = timed_out.load(Ordering::Relaxed);
    let mut outcome = finish(document, started, &mut sampler, failure, timed_out);
    if let Some(baseline) = &options.baseline {
        let comparison = compare(baseline, &outcome.document, options.rule);
        if comparison.regressions > 0 && options.fail_on_regression && outcome.code == exit::OK {
            outcome.code = exit::THRESHOLD_FAILED;
        }
        outcome.document.comparison = Some(comparison);
    }
    outcome
}

async fn clear(stack: &Stack) -> Result<(), TierError> {
    for tier in stack.tiers() {
        tier.clear().await?;
    }
    Ok(())
}

/// Tukey outliers of the per-second throughput (whole seconds), reported and never dropped; a
/// warning when any is severe: the run was noisy.
fn note_outliers(result: &mut WorkloadResult) {
    let seconds = result.timeseries.len().saturating_sub(1);
    let samples: Vec<f64> = result.timeseries[..seconds]
        .iter()
        .map(|s| s.ops as f64)
        .collect();
    result.outliers = tukey(&samples);
    if let Some(o) = &result.outliers
        && o.low_severe + o.high_severe > 0
    {
        result.warnings.push(format!(
            "noisy run: {} of {} per-second throughput samples are severe outliers (beyond 3 IQR)",
            o.low_severe + o.high_severe,
            samples.len()
        ));
    }
}

fn evaluate(workload: &crate::scenario::plan::Workload, result: &mut WorkloadResult) {
    result.thresholds = workload
        .thresholds
        .iter()
        .map(|t| t.evaluate(result))
        .collect();
    result.passed = result.thresholds.iter().all(|t| t.passed);
    result.score = score(&result.thresholds);
    result.grade = result.score.map(grade);
}

fn finish(
    mut document: ResultDocument,
    started: Instant,
    sampler: &mut ProcessSampler,
    failure: Option<String>,
    timed_out: bool,
) -> RunOutcome {
    document.duration_s = started.elapsed().as_secs_f64();
    document.process = sampler.info();
    let thresholds = document.workloads.iter().map(|w| w.thresholds.len()).sum();
    let failed = document
        .workloads
        .iter()
        .flat_map(|w| &w.thresholds)
        .filter(|t| !t.passed)
        .count();
    let scores: Vec<f64> = document.workloads.iter().filter_map(|w| w.score).collect();
    let overall = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    document.summary = Summary {
        passed: failed == 0 && failure.is_none() && !timed_out,
        thresholds,
        failed,
        score: overall,
        grade: overall.map(grade),
        timed_out,
    };
    let failure = failure.or_else(|| {
        timed_out
            .then(|| "the run timed out; the results cover what ran before the timeout".to_string())
    });
    let code = if failure.is_some() && !timed_out {
        exit::RUNTIME_FAILURE
    } else if timed_out {
        exit::TIMED_OUT
    } else if failed > 0 {
        exit::THRESHOLD_FAILED
    } else {
        exit::OK
    };
    RunOutcome {
        document,
        code,
        failure,
    }
}

/// Sets up every declared tier, in order; the first that fails ends the run.
async fn connect_all(scenario: &Scenario) -> Result<Vec<Arc<Tier>>, TierError> {
    let mut tiers = Vec::with_capacity(scenario.tiers.len());
    for config in &scenario.tiers {
        tiers.push(Arc::new(
            Tier::connect(config, &scenario.keys.prefix).await?,
        ));
    }
    Ok(tiers)
}
