//! `tierbench run`: the whole pipeline for one scenario, from tiers to reports and exit code.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::engine::{self, progress::Progress};
use crate::exit;
use crate::metrics::host::{ProcessSampler, host_info};
use crate::metrics::result::{
    ResultDocument, SCHEMA_VERSION, ScenarioInfo, Summary, WorkloadResult,
};
use crate::metrics::summarize;
use crate::scenario::plan::Scenario;
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

/// Runs every workload and returns the results. Tier setup failures end the run with exit 3.
pub async fn run(scenario: &Scenario, specs: &[ReportSpec], progress: &Progress) -> RunOutcome {
    run_with(scenario, specs, progress, None).await
}

/// Like `run`; with `record`, every issued operation is written to that file as a replayable
/// CSV trace (`key,op,size,worker,workload`; preload is not recorded).
pub async fn run_with(
    scenario: &Scenario,
    specs: &[ReportSpec],
    progress: &Progress,
    record: Option<&std::path::Path>,
) -> RunOutcome {
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
    };

    let tiers = match connect_all(scenario).await {
        Ok(t) => t,
        Err(e) => return finish(document, started, &mut sampler, Some(e.to_string())),
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
        if workload.verify {
            // Verified reads need every value to carry a version: start from no tierbench keys.
            for tier in stack.tiers() {
                if let Err(e) = tier.clear().await {
                    failure = Some(format!(
                        "workload `{}`: clearing the tiers before verify: {e}",
                        workload.name
                    ));
                }
            }
            if failure.is_some() {
                break;
            }
        }
        let measurement = engine::run_workload(
            scenario,
            index,
            stack.clone(),
            Arc::clone(&values),
            Arc::clone(&stop),
            progress,
            record,
        )
        .await;
        sampler.sample();
        let measurement = match measurement {
            Ok(m) => m,
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        };
        let mut entries = Vec::new();
        for tier in stack.tiers() {
            entries.push(tier.entries().await.ok().flatten());
        }
        trace_parts.extend(measurement.recorder.trace_parts.iter().cloned());
        let mut result = summarize(scenario, workload, &measurement, entries);
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
    finish(document, started, &mut sampler, failure)
}

fn evaluate(workload: &crate::scenario::plan::Workload, result: &mut WorkloadResult) {
    result.thresholds = workload
        .thresholds
        .iter()
        .map(|t| t.evaluate(result))
        .collect();
    result.passed = result.thresholds.iter().all(|t| t.passed);
}

fn finish(
    mut document: ResultDocument,
    started: Instant,
    sampler: &mut ProcessSampler,
    failure: Option<String>,
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
    document.summary = Summary {
        passed: failed == 0 && failure.is_none(),
        thresholds,
        failed,
    };
    let code = if failure.is_some() {
        exit::RUNTIME_FAILURE
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
