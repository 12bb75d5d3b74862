//! `sweep:` at run time: every point of the grid a full run, one result document for all.
//!
//! Each point runs as `tierbench run` runs a scenario (its own tiers, set up and cleaned up, the
//! same seed), one point after another: points that measure share the machine with nothing
//! else, so their latencies stay comparable. The points' workloads go into the document's
//! `workloads` under names that carry the point (`reads [max_entries=1000 engine=lru]`), so
//! thresholds hold per point and every report, comparison and baseline reads them as usual;
//! `sweep` adds the grid, which workloads belong to which point, and the curves
//! (`sweep_curves.rs`). A point that fails (a tier could not be set up) is recorded and the
//! sweep goes on; an interrupt or the timeout ends it.

use std::time::Instant;

use crate::engine::progress::Progress;
use crate::metrics::host::ProcessSampler;
use crate::metrics::result::{ResultDocument, RunFailure};
use crate::metrics::sweep::{KNEE_RULE, SweepAxis, SweepPoint, SweepResult};
use crate::scenario::plan::Scenario;
use crate::scenario::sweep::SweepPlan;

use super::finish::{Ended, RunOutcome, finish};
use super::output::ReportSpec;
use super::run::{RunOptions, compare_with_baseline, run_with, save_so_far};

/// Runs every point of `plan` and returns one outcome for the whole grid; `announce` says each
/// point on stderr as it starts.
pub(super) async fn run_sweep(
    base: &Scenario,
    plan: &SweepPlan,
    specs: &[ReportSpec],
    progress: &Progress,
    options: &RunOptions<'_>,
    announce: bool,
) -> RunOutcome {
    let started = Instant::now();
    let mut sampler = ProcessSampler::new();
    let mut document: Option<ResultDocument> = None;
    let mut sweep = SweepResult {
        axes: plan
            .axes
            .iter()
            .map(|a| SweepAxis {
                path: a.path.clone(),
                values: a.values.clone(),
            })
            .collect(),
        knee_rule: KNEE_RULE.to_string(),
        ..SweepResult::default()
    };
    let mut ended = Ended::default();
    let total = plan.points.len();
    for (n, point) in plan.points.iter().enumerate() {
        if announce {
            eprintln!("tierbench: sweep point {}/{total}: {}", n + 1, point.label);
        }
        let point_options = RunOptions {
            rule: options.rule,
            timeout: options.timeout,
            ..RunOptions::default()
        };
        let outcome = run_with(&point.scenario, &[], progress, &point_options).await;
        let doc = document.get_or_insert_with(|| {
            let mut d = outcome.document.clone();
            d.workloads.clear();
            d.notes.clear();
            d.scenario.effective = base.effective.clone();
            d
        });
        let mut indices = Vec::new();
        for mut w in outcome.document.workloads {
            w.name = format!("{} [{}]", w.name, point.label);
            indices.push(doc.workloads.len());
            doc.workloads.push(w);
        }
        for note in outcome.document.notes {
            if !doc.notes.contains(&note) {
                doc.notes.push(note);
            }
        }
        let summary = &outcome.document.summary;
        sweep.points.push(SweepPoint {
            label: point.label.clone(),
            values: point.values.iter().cloned().collect(),
            workloads: indices,
            passed: summary.passed,
            failure: outcome.failure.clone(),
        });
        if let (Some(message), None) = (&summary.failure, &ended.failure) {
            ended.failure = Some(RunFailure {
                message: format!("sweep point {} ({}): {message}", n + 1, point.label),
                ..summary.failure_detail.clone().unwrap_or_default()
            });
        }
        doc.sweep = Some(sweep.clone());
        save_so_far(specs, doc);
        if let Some(name) = &summary.interrupted {
            let name = if name == "SIGTERM" {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            ended.interrupted = Some((name, outcome.code));
            break;
        }
        if summary.timed_out {
            ended.timed_out = true;
            break;
        }
    }
    let mut document = document.unwrap_or_else(|| empty_document(base));
    sweep.curves = super::sweep_curves::curves(base, plan, &document, &sweep);
    document.sweep = Some(sweep);
    let mut outcome = finish(document, started, &mut sampler, ended);
    if let Some((baseline, name)) = &options.baseline {
        compare_with_baseline(&mut outcome, baseline, name, &options.history, options.rule);
    }
    outcome
}

/// The document of a sweep that ran no point (only possible when stopped before the first).
fn empty_document(base: &Scenario) -> ResultDocument {
    let mut sampler = ProcessSampler::new();
    super::run::new_document(
        base,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        &mut sampler,
    )
}
