//! Baselines and verdicts: comparing a run with an earlier one.
//!
//! A result document is also the baseline format. Comparing two, each metric gets its relative
//! change with a 95% confidence interval and criterion's verdict (significant at p < 0.05 *and*
//! the interval outside a ±2% noise band). Samples are the per-repetition figures when both runs
//! were repeated, else the per-second figures of the time series. Latency up, or throughput or
//! hit rate down, is a regression. The comparison's data types, and which samples and headline
//! figure a metric has, are the result document's (`metrics`); scoring is `score`.

use std::collections::BTreeMap;

use super::stats::{relative_change, verdict};
use crate::metrics::comparison::{Comparison, MetricComparison, Verdict};
use crate::metrics::result::{ResultDocument, headline, samples};

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
