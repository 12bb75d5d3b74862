//! Judging one workload's result: its thresholds, score and grade, the outliers of its
//! throughput, and what a workload that never measured may claim (nothing).

use super::score::{score, verdict_grade};
use super::stats::tukey;
use super::thresholds::Threshold;
use crate::metrics::result::WorkloadResult;

/// A workload stopped (Ctrl-C, the run's timeout) before its measured phase began: it says so,
/// and judges nothing (no threshold passes on no operation, no grade, no capacity warning from a
/// preload cut short).
pub fn not_measured(result: &mut WorkloadResult) {
    result.thresholds.clear();
    result.passed = false;
    result.score = None;
    result.grade = None;
    result
        .warnings
        .retain(|w| !w.contains("memory per entry not reported"));
    result.failure = Some(
        "stopped before its measured phase began (during setup, preload or warmup): nothing \
         was measured and no threshold judged"
            .into(),
    );
}

/// Tukey outliers of the per-second throughput (whole seconds), reported and never dropped; a
/// warning when any is severe: the run was noisy.
pub fn note_outliers(result: &mut WorkloadResult) {
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

/// Judges `thresholds` on a workload's result: each threshold's verdict, pass/fail, score and
/// grade.
pub fn judge_workload(thresholds: &[Threshold], result: &mut WorkloadResult) {
    result.thresholds = thresholds.iter().map(|t| t.evaluate(result)).collect();
    result.passed = result.thresholds.iter().all(|t| t.passed);
    result.score = score(&result.thresholds);
    result.grade = result.score.map(|s| verdict_grade(s, result.passed));
}
