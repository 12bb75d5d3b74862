//! Baselines and verdicts: comparing a run with an earlier one, and scoring thresholds.
//!
//! A result document is also the baseline format. Comparing two, each metric gets its relative
//! change with a 95% confidence interval and criterion's verdict (significant at p < 0.05 *and*
//! the interval outside a ±2% noise band). Samples are the per-repetition figures when both runs
//! were repeated, else the per-second figures of the time series. Latency up, or throughput or
//! hit rate down, is a regression.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::metrics::result::{ResultDocument, ThresholdResult, WorkloadResult};
use crate::stats::{Change, Verdict, relative_change, verdict};

/// How strict a comparison is.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Half-width of the noise band, as a fraction (0.02 = ±2%).
    pub noise: f64,
    /// Significance level (0.05).
    pub significance: f64,
}

impl Default for Rule {
    fn default() -> Rule {
        Rule {
            noise: 0.02,
            significance: 0.05,
        }
    }
}

/// A whole comparison.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// The baseline run: scenario name, file SHA-256 and start time.
    pub baseline: String,
    /// Noise band half-width (fraction).
    pub noise: f64,
    /// Significance level.
    pub significance: f64,
    /// Each metric of each workload present in both runs.
    pub metrics: Vec<MetricComparison>,
    /// Metrics judged regressed.
    pub regressions: usize,
    /// Metrics judged improved.
    pub improvements: usize,
    /// One line: what changed.
    pub summary: String,
    /// What to do about it.
    pub recommendations: Vec<String>,
}

/// One metric's comparison.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MetricComparison {
    /// Workload name.
    pub workload: String,
    /// Metric name (`throughput`, `all.p99_ns`, `l1.hit_rate`, ...).
    pub metric: String,
    /// Baseline value.
    pub baseline: f64,
    /// Current value.
    pub current: f64,
    /// Relative change and its interval; null when there were no samples.
    pub change: Option<Change>,
    /// The verdict.
    pub verdict: Verdict,
    /// Samples per side (repetitions or seconds).
    pub samples: [usize; 2],
    /// True when a larger value is better.
    pub higher_is_better: bool,
}

/// Per-sample values of a metric: repetitions if there are two or more, else whole seconds.
fn samples(w: &WorkloadResult, metric: &str) -> Vec<f64> {
    if w.repetitions.len() >= 2 {
        return w
            .repetitions
            .iter()
            .filter_map(|r| r.get(metric).copied())
            .collect();
    }
    // Whole seconds only (the last one is partial); fewer than two say nothing about spread,
    // and the run's own figure stands alone (p = 1: no verdict but "no change").
    let seconds = &w.timeseries[..w.timeseries.len().saturating_sub(1)];
    if seconds.len() < 2 || metric.ends_with("hit_rate") {
        return headline(w, metric).into_iter().collect();
    }
    seconds
        .iter()
        .filter(|s| s.ops > 0)
        .filter_map(|s| match metric {
            "throughput" => Some(s.ops as f64),
            "all.mean_ns" => Some(s.mean_ns),
            "all.p50_ns" => Some(s.p50_ns as f64),
            "all.p99_ns" => Some(s.p99_ns as f64),
            _ => None,
        })
        .collect()
}

fn headline(w: &WorkloadResult, metric: &str) -> Option<f64> {
    let all = w.operations.get("all").map(|o| &o.latency);
    match metric {
        "throughput" => Some(w.throughput),
        "all.mean_ns" => all.map(|l| l.mean_ns),
        "all.p50_ns" => all.map(|l| l.p50_ns as f64),
        "all.p99_ns" => all.map(|l| l.p99_ns as f64),
        m => {
            w.tiers
                .iter()
                .find(|t| Some(t.name.as_str()) == m.strip_suffix(".hit_rate"))?
                .hit_rate
        }
    }
}

/// Compares `current` with `baseline`, workload by workload (matched by name).
pub fn compare(baseline: &ResultDocument, current: &ResultDocument, rule: Rule) -> Comparison {
    let mut metrics = Vec::new();
    for w in &current.workloads {
        let Some(old) = baseline.workloads.iter().find(|b| b.name == w.name) else {
            continue;
        };
        let mut names = vec![
            ("throughput".to_string(), true),
            ("all.mean_ns".to_string(), false),
            ("all.p50_ns".to_string(), false),
            ("all.p99_ns".to_string(), false),
        ];
        names.extend(
            w.tiers
                .iter()
                .map(|t| (format!("{}.hit_rate", t.name), true)),
        );
        for (metric, higher_is_better) in names {
            let (Some(b), Some(c)) = (headline(old, &metric), headline(w, &metric)) else {
                continue;
            };
            let (sb, sc) = (samples(old, &metric), samples(w, &metric));
            let change = relative_change(&sb, &sc);
            let v = change.map_or(Verdict::NoChange, |ch| {
                verdict(&ch, rule.significance, rule.noise, higher_is_better)
            });
            metrics.push(MetricComparison {
                workload: w.name.clone(),
                metric,
                baseline: b,
                current: c,
                change,
                verdict: v,
                samples: [sb.len(), sc.len()],
                higher_is_better,
            });
        }
    }
    let count = |v: Verdict| metrics.iter().filter(|m| m.verdict == v).count();
    let (regressions, improvements) = (count(Verdict::Regressed), count(Verdict::Improved));
    let summary = format!(
        "{} metric(s) compared: {regressions} regressed, {improvements} improved, {} within noise, {} no change",
        metrics.len(),
        count(Verdict::WithinNoise),
        count(Verdict::NoChange)
    );
    let recommendations = recommend(&metrics);
    Comparison {
        baseline: format!(
            "{} (sha256 {}, started {})",
            baseline.scenario.name,
            baseline.scenario.sha256.get(..12).unwrap_or_default(),
            baseline.started_at
        ),
        noise: rule.noise,
        significance: rule.significance,
        metrics,
        regressions,
        improvements,
        summary,
        recommendations,
    }
}

fn recommend(metrics: &[MetricComparison]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for m in metrics.iter().filter(|m| m.verdict == Verdict::Regressed) {
        let text = if m.metric.ends_with("_ns") {
            format!(
                "`{}` is slower: compare its tiers' call times (TIER.get.p99) and served_by figures to find which tier slowed",
                m.workload
            )
        } else if m.metric.ends_with("hit_rate") {
            format!(
                "`{}`: {} fell: check capacity, TTL and the key distribution",
                m.workload, m.metric
            )
        } else {
            format!(
                "`{}` does less work per second: look for a slower tier or a saturated pool",
                m.workload
            )
        };
        seen.entry(text).or_insert(());
    }
    out.extend(seen.into_keys());
    if metrics.iter().any(|m| m.samples[0] < 5 || m.samples[1] < 5) {
        out.push(
            "few samples per side: use `repeat: 5` or a longer `duration` for tighter intervals"
                .into(),
        );
    }
    if metrics.iter().any(|m| m.verdict == Verdict::WithinNoise) {
        out.push(
            "some changes are significant but inside the noise band: not worth acting on alone"
                .into(),
        );
    }
    out
}

/// The score of one threshold, 0..100: a pass scores 80 plus up to 20 for headroom (the relative
/// distance from the limit, capped at 100%); a failure scores 50 × (1 − how far past the limit,
/// relative), at least 0. `==` scores 100 or 0.
pub fn threshold_score(t: &ThresholdResult) -> f64 {
    let Some(observed) = t.observed else {
        return 0.0;
    };
    let scale = t.limit.abs().max(f64::MIN_POSITIVE);
    let headroom = match t.op.as_str() {
        "<" | "<=" => (t.limit - observed) / scale,
        ">" | ">=" => (observed - t.limit) / scale,
        _ => return if t.passed { 100.0 } else { 0.0 },
    };
    let headroom = if t.limit == 0.0 {
        if t.passed { 1.0 } else { -1.0 }
    } else {
        headroom
    };
    if t.passed {
        80.0 + 20.0 * headroom.clamp(0.0, 1.0)
    } else {
        50.0 * (1.0 - headroom.abs()).clamp(0.0, 1.0)
    }
}

/// The mean threshold score, `None` without thresholds.
pub fn score(thresholds: &[ThresholdResult]) -> Option<f64> {
    (!thresholds.is_empty())
        .then(|| thresholds.iter().map(threshold_score).sum::<f64>() / thresholds.len() as f64)
}

/// A (>= 90), B (>= 80), C (>= 70), D (>= 60), F.
pub fn grade(score: f64) -> String {
    match score {
        s if s >= 90.0 => "A",
        s if s >= 80.0 => "B",
        s if s >= 70.0 => "C",
        s if s >= 60.0 => "D",
        _ => "F",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(op: &str, observed: f64, limit: f64, passed: bool) -> ThresholdResult {
        ThresholdResult {
            text: String::new(),
            metric: String::new(),
            op: op.into(),
            observed: Some(observed),
            limit,
            unit: "ns".into(),
            passed,
        }
    }

    #[test]
    fn threshold_scores_reward_headroom_and_punish_misses() {
        assert_eq!(threshold_score(&t("<", 50.0, 100.0, true)), 90.0);
        assert_eq!(threshold_score(&t("<", 0.0, 100.0, true)), 100.0);
        assert_eq!(threshold_score(&t("<", 99.9, 100.0, true)).round(), 80.0);
        assert_eq!(threshold_score(&t("<", 150.0, 100.0, false)), 25.0);
        assert_eq!(threshold_score(&t("<", 300.0, 100.0, false)), 0.0);
        assert_eq!(threshold_score(&t(">=", 0.96, 0.95, true)).round(), 80.0);
        assert_eq!(threshold_score(&t("==", 0.0, 0.0, true)), 100.0);
        assert_eq!(score(&[]), None);
        assert_eq!(grade(95.0), "A");
        assert_eq!(grade(80.0), "B");
        assert_eq!(grade(10.0), "F");
    }
}
