//! How a run ended: its summary, its exit code and the message that goes with it.
//!
//! Interruption, a run-time failure, a timeout and failed thresholds each end a run differently;
//! this is the one place that ranks them, so the summary, the exit code and the last line agree.

use std::time::Instant;

use crate::exit;
use crate::metrics::host::ProcessSampler;
use crate::metrics::result::{ResultDocument, RunFailure, Summary};
use crate::scenario::plan::Scenario;
use crate::tier::config::TierKindConfig;
use crate::verdict::score::verdict_grade;

/// The outcome of a run.
pub struct RunOutcome {
    /// The result document (complete, or up to the failure).
    pub document: ResultDocument,
    /// The exit code.
    pub code: u8,
    /// A runtime failure, if one stopped the run.
    pub failure: Option<String>,
}

/// How a run ended besides its thresholds.
#[derive(Default)]
pub(super) struct Ended {
    /// A run-time failure (setup, a tier lost for good, a worker), where it happened.
    pub(super) failure: Option<RunFailure>,
    /// The run's timeout stopped it.
    pub(super) timed_out: bool,
    /// A signal stopped it: its name and exit code.
    pub(super) interrupted: Option<(&'static str, u8)>,
}

pub(super) fn finish(
    mut document: ResultDocument,
    started: Instant,
    sampler: &mut ProcessSampler,
    ended: Ended,
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
    let Ended {
        failure,
        timed_out,
        interrupted,
    } = ended;
    let passed = failed == 0 && failure.is_none() && !timed_out && interrupted.is_none();
    document.summary = Summary {
        passed,
        thresholds,
        failed,
        score: overall,
        grade: overall.map(|s| verdict_grade(s, passed)),
        timed_out,
        interrupted: interrupted.map(|(name, _)| name.to_string()),
        failure: failure.as_ref().map(|f| f.message.clone()),
        failure_detail: failure.clone(),
        // `+ 0.0`: an empty sum of floats is -0.0, which reads oddly in the JSON.
        measured_s: document.workloads.iter().map(|w| w.duration_s).sum::<f64>() + 0.0,
        ..Summary::default()
    };
    // One shard of several judges only its share (a share's throughput is a fraction of the
    // whole's): its thresholds are in its document, but the verdict, and exit 1, are
    // `tierbench merge`'s, on the whole. Errors, time-outs and interrupts still fail the shard.
    let share = document
        .shard
        .as_ref()
        .filter(|s| s.count > 1 && s.indices.len() == 1);
    let code = match (&interrupted, &failure) {
        (Some((_, code)), _) => *code,
        (None, Some(_)) => exit::RUNTIME_FAILURE,
        (None, None) if timed_out => exit::TIMED_OUT,
        (None, None) if failed > 0 && share.is_none() => exit::THRESHOLD_FAILED,
        (None, None) => exit::OK,
    };
    if let Some(s) = share
        && failed > 0
    {
        eprintln!(
            "tierbench: shard {} of {}: {failed} threshold{} missed on this shard's share alone; \
             not a verdict (exit 0): `tierbench merge` judges the thresholds on the whole",
            s.indices[0],
            s.count,
            if failed == 1 { "" } else { "s" }
        );
    }
    let failure = failure.map(|f| f.message).or_else(|| {
        interrupted.map(|(name, _)| {
            format!(
                "interrupted by {name} after {:.1} s of measurement; the results cover what ran before it",
                document.summary.measured_s
            )
        })
    });
    let failure = failure.or_else(|| {
        timed_out
            .then(|| "the run timed out; the results cover what ran before the timeout".to_string())
    });
    RunOutcome {
        document,
        code,
        failure,
    }
}

/// What a second interrupt leaves behind, said before exiting at once.
pub(super) fn left_behind(scenario: &Scenario) -> String {
    let servers: Vec<&str> = scenario
        .tiers
        .iter()
        .filter(|t| !matches!(t.kind, TierKindConfig::Memory { .. }))
        .map(|t| t.name.as_str())
        .collect();
    if servers.is_empty() || scenario.keep {
        return "nothing (in-process tiers only, or `keep: true`)".into();
    }
    format!(
        "tierbench's keys under `{}` (and tables it created) in tier(s) {}; the next run of this \
         scenario removes them before measuring",
        scenario.keys.prefix,
        servers.join(", ")
    )
}
