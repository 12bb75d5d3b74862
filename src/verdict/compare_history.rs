//! Judging a run against the history of a named baseline (`--save-baseline NAME` keeps the last
//! runs): not against one earlier run, whose own luck would decide the verdict, but against the
//! spread of several. For each metric the saved runs' figures give a 95% prediction interval for
//! one new run (Student's t on the logarithms: mean ± t·s·√(1 + 1/n)); the change is the new
//! figure against the saved runs' geometric mean, and its "interval" is the range of changes the
//! history predicts for an unchanged system, shifted by the new figure. The verdicts then follow
//! the same rule as any comparison (`rule::judge`): regressed when the new figure lies beyond
//! the prediction interval by more than the noise band on the bad side, inconclusive when the
//! change is significant and beyond the band but the history's spread covers it, and unchanged
//! otherwise. The band is at least the metric's noise floor (`--noise-floor`): runs saved one
//! after another share the machine's state of the moment, so their spread understates the
//! variance between runs made on other days.

use super::compare::{Rule, assemble, compared_metrics};
use super::rule::judge;
use super::stats::{t_quantile, two_sided};
use crate::metrics::comparison::{Change, ChangeMethod, Comparison, MetricComparison, Verdict};
use crate::metrics::figures::headline;
use crate::metrics::result::ResultDocument;

/// The fewest saved runs a history verdict needs (two give no spread worth the name).
pub const MIN_HISTORY: usize = 3;

/// How the history comparison works, as reports print it.
pub const HISTORY_METHOD: &str = "against the history of the named baseline: for each metric, the \
saved runs' figures give a 95% prediction interval for one new run (Student's t on the logarithms: \
mean +- t(n-1) * s * sqrt(1 + 1/n)); the change is this run's figure against their geometric mean; \
regressed or improved when this run lies beyond the prediction interval by more than the noise band, \
inconclusive when the change is beyond the band but within what the history predicts";

/// Compares `current` with the saved runs of `history` (oldest first; at least `MIN_HISTORY`).
pub fn compare_history(
    name: &str,
    history: &[ResultDocument],
    current: &ResultDocument,
    rule: Rule,
) -> Comparison {
    let mut metrics = Vec::new();
    for w in &current.workloads {
        for (metric, higher_is_better) in compared_metrics(w) {
            let saved: Vec<f64> = history
                .iter()
                .filter_map(|d| d.workloads.iter().find(|o| o.name == w.name))
                .filter_map(|o| headline(o, &metric))
                .collect();
            let Some(now) = headline(w, &metric) else {
                continue;
            };
            if saved.len() < MIN_HISTORY {
                continue;
            }
            let change = predicted_change(&saved, now);
            // Runs saved one after another share the machine's state of the moment: their
            // spread understates the variance between runs on other days, so the band is at
            // least the metric's noise floor here too.
            let band = rule.noise.max(rule.floor.of(&metric));
            let verdict = match &change {
                Some(c) => judge(c, rule.significance, band, higher_is_better),
                None => Verdict::NoChange,
            };
            // A rate moving less than the band in points is settled.
            let mean = saved.iter().sum::<f64>() / saved.len() as f64;
            let verdict = if metric.ends_with("hit_rate")
                && verdict == Verdict::Inconclusive
                && (now - mean).abs() <= band
            {
                Verdict::NoChange
            } else {
                verdict
            };
            metrics.push(MetricComparison {
                workload: w.name.clone(),
                metric,
                baseline: geometric_mean(&saved).unwrap_or(mean),
                current: now,
                change,
                verdict,
                samples: [saved.len(), 1],
                sample_kind: [format!("saved runs of {name}"), "this run".into()],
                higher_is_better,
                band,
                estimator: format!(
                    "geometric mean of the {} saved runs of `{name}` / this run's figure",
                    saved.len()
                ),
            });
        }
    }
    let what = format!(
        "the last {} runs saved as `{name}` (the latest started {})",
        history.len(),
        history.last().map_or("?", |d| d.started_at.as_str())
    );
    assemble(what, rule, metrics, HISTORY_METHOD, Vec::new())
}

fn geometric_mean(xs: &[f64]) -> Option<f64> {
    xs.iter()
        .all(|&x| x > 0.0)
        .then(|| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp())
}

/// The change of `now` against the saved figures, with the range of changes an unchanged
/// system would show (the prediction interval, relative); `None` when a figure is not positive.
fn predicted_change(saved: &[f64], now: f64) -> Option<Change> {
    if now <= 0.0 || saved.iter().any(|&x| x <= 0.0) {
        return None;
    }
    let logs: Vec<f64> = saved.iter().map(|x| x.ln()).collect();
    let n = logs.len() as f64;
    let m = logs.iter().sum::<f64>() / n;
    let s = (logs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = t_quantile(0.975, n - 1.0) * s * (1.0 + 1.0 / n).sqrt();
    let d = now.ln() - m;
    // The t statistic of one new observation against the history.
    let se = s * (1.0 + 1.0 / n).sqrt();
    let p_value = if se > 0.0 {
        two_sided(d / se, n - 1.0)
    } else if d == 0.0 {
        1.0
    } else {
        0.0
    };
    Some(Change {
        relative: d.exp() - 1.0,
        ci_low: (d - half).exp() - 1.0,
        ci_high: (d + half).exp() - 1.0,
        p_value,
        method: ChangeMethod::LogWelch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_run_is_judged_against_the_spread_of_the_saved_ones() {
        let saved = [100.0, 104.0, 97.0, 101.0, 99.0];
        // Inside the history's spread: the interval holds 0.
        let same = predicted_change(&saved, 101.0).unwrap();
        assert!(same.ci_low < 0.0 && same.ci_high > 0.0, "{same:?}");
        // Far outside: a latency 40% up is regressed against a ±2% band.
        let slow = predicted_change(&saved, 140.0).unwrap();
        assert!(slow.ci_low > 0.2, "{slow:?}");
        assert_eq!(judge(&slow, 0.05, 0.02, false), Verdict::Regressed);
        assert_eq!(judge(&same, 0.05, 0.02, false), Verdict::NoChange);
        assert!((geometric_mean(&[1.0, 100.0]).unwrap() - 10.0).abs() < 1e-9);
    }
}
