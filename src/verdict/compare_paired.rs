//! Judging an interleaved A/B experiment (`tierbench ab`): the two scenarios ran alternately,
//! round after round, each run from the same tier state, so what drifts over the experiment
//! (the machine's clock, a neighbour, a server's caches) touches both sides of a round alike.
//! Each round gives one ratio per metric, candidate over base; the verdict is a paired t-test
//! on the logarithms of those ratios (hyperfine and tango-bench pair the same way), and the
//! rule is any comparison's (`rule::judge`): the band is `--noise`, since pairs of whole runs
//! hold the variance between runs.
//!
//! Why Bonferroni: the experiment fails when *any* of its k metrics (throughput, mean, p50,
//! p99, each tier's hit rate, per workload) is judged worse, so each metric is judged at
//! significance 0.05 / k, with its interval at 1 − 0.05 / k. Judged each at 0.05, two
//! identical scenarios failed about one experiment in ten on a 2-core machine (the p99 of six
//! one-second rounds wanders); the family's false alarms are now at most 5%
//! (docs/verdicts.md has the calibration).

use super::compare::{Rule, assemble, compared_metrics};
use super::rule::judge;
use super::stats::{t_quantile, two_sided};
use crate::metrics::comparison::{Change, ChangeMethod, Comparison, MetricComparison};
use crate::metrics::figures::headline;
use crate::metrics::result::ResultDocument;

/// How an A/B experiment is judged, as reports print it.
pub const PAIRED_METHOD: &str = "interleaved A/B: the base and the candidate ran in rounds, each round both in a random order, \
each run from the same tier state; per round, the ratio candidate / base of each metric; a paired \
t-test on the logarithms of the ratios (the change is their geometric mean, its interval \
exponentiated), each of the k metrics judged at significance 0.05/k with its interval at 1 - 0.05/k \
(Bonferroni: the experiment fails when any metric does, and its false alarms stay under 5%); \
regressed or improved when the whole interval lies beyond the noise band, \
inconclusive when the change is significant and beyond the band on the bad side but the interval reaches back inside";

/// Compares the candidate's runs `b` with the base's runs `a`, round by round (same length).
pub fn compare_paired(a: &[ResultDocument], b: &[ResultDocument], rule: Rule) -> Comparison {
    let Some(first) = b.first() else {
        return empty(rule);
    };
    let family = paired_figures(a, b, first);
    // Bonferroni over the metrics that can be judged.
    let judged = family
        .iter()
        .filter(|f| paired_change(&f.pairs, 0.05).is_some());
    let level = rule.significance / judged.count().max(1) as f64;
    let mut metrics = Vec::new();
    for PairedFigures {
        workload,
        metric,
        higher_is_better,
        pairs,
    } in family
    {
        let Some(change) = paired_change(&pairs, level) else {
            continue;
        };
        let n = pairs.len();
        let verdict = judge(&change, level, rule.noise, higher_is_better);
        let gm = |xs: Vec<f64>| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp();
        metrics.push(MetricComparison {
            workload,
            metric,
            baseline: gm(pairs.iter().map(|p| p.0).collect()),
            current: gm(pairs.iter().map(|p| p.1).collect()),
            change: Some(change),
            verdict,
            samples: [n, n],
            sample_kind: ["rounds".into(), "rounds".into()],
            higher_is_better,
            band: rule.noise,
            estimator: format!("geometric mean of the {n} rounds of each side"),
        });
    }
    let what = format!("the base scenario, {} interleaved rounds", a.len());
    assemble(what, rule, metrics, PAIRED_METHOD, Vec::new())
}

/// One metric's figures, round by round: (base, candidate).
struct PairedFigures {
    workload: String,
    metric: String,
    higher_is_better: bool,
    pairs: Vec<(f64, f64)>,
}

/// Every compared metric of the candidate's workloads, paired round by round with the base's.
fn paired_figures(
    a: &[ResultDocument],
    b: &[ResultDocument],
    first: &ResultDocument,
) -> Vec<PairedFigures> {
    let mut family = Vec::new();
    for w in &first.workloads {
        for (metric, higher_is_better) in compared_metrics(w) {
            let figure = |d: &ResultDocument| {
                d.workloads
                    .iter()
                    .find(|x| x.name == w.name)
                    .and_then(|x| headline(x, &metric))
            };
            let pairs: Vec<(f64, f64)> = a
                .iter()
                .zip(b)
                .filter_map(|(x, y)| Some((figure(x)?, figure(y)?)))
                .collect();
            family.push(PairedFigures {
                workload: w.name.clone(),
                metric,
                higher_is_better,
                pairs,
            });
        }
    }
    family
}

fn empty(rule: Rule) -> Comparison {
    assemble(
        "the base scenario (no round ran)".into(),
        rule,
        Vec::new(),
        PAIRED_METHOD,
        Vec::new(),
    )
}

/// The change over `pairs` (base, candidate) from the logarithms of their ratios, its interval
/// at confidence 1 − `level`; `None` with fewer than two pairs or a figure that is not positive.
fn paired_change(pairs: &[(f64, f64)], level: f64) -> Option<Change> {
    if pairs.len() < 2 || pairs.iter().any(|&(a, b)| a <= 0.0 || b <= 0.0) {
        return None;
    }
    let d: Vec<f64> = pairs.iter().map(|&(a, b)| b.ln() - a.ln()).collect();
    let n = d.len() as f64;
    let m = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = sd / n.sqrt();
    let (half, p_value) = if se > 0.0 {
        (
            t_quantile(1.0 - level / 2.0, n - 1.0) * se,
            two_sided(m / se, n - 1.0),
        )
    } else {
        (0.0, if m == 0.0 { 1.0 } else { 0.0 })
    };
    Some(Change {
        relative: m.exp() - 1.0,
        ci_low: (m - half).exp() - 1.0,
        ci_high: (m + half).exp() - 1.0,
        p_value,
        method: ChangeMethod::PairedLog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::comparison::Verdict;

    #[test]
    fn drift_common_to_both_sides_cancels_in_the_pairs() {
        // The machine slows down round by round; the candidate is 10% slower in every round.
        let pairs: Vec<(f64, f64)> = (0..6)
            .map(|i| {
                let base = 1000.0 * (1.0 + 0.2 * f64::from(i));
                (base, base * 1.10 * if i % 2 == 0 { 1.005 } else { 0.995 })
            })
            .collect();
        let c = paired_change(&pairs, 0.05).unwrap();
        assert!((c.relative - 0.10).abs() < 0.01, "{c:?}");
        assert!(c.ci_low > 0.05 && c.ci_high < 0.15, "{c:?}");
        assert_eq!(judge(&c, 0.05, 0.02, false), Verdict::Regressed);
        let same: Vec<(f64, f64)> = pairs.iter().map(|&(a, _)| (a, a)).collect();
        assert_eq!(paired_change(&same, 0.05).unwrap().relative, 0.0);
        assert!(paired_change(&pairs[..1], 0.05).is_none());
    }

    #[test]
    fn one_metric_of_five_wandering_is_not_a_failure_of_the_experiment() {
        // Six rounds of identical scenarios whose p99 happened to come out 4% worse on average
        // (p about 0.03): judged alone it would fail; as one of five metrics (0.05 / 5) it does not.
        let ratios = [1.00, 1.08, 1.01, 1.07, 1.02, 1.06];
        let pairs: Vec<(f64, f64)> = ratios.iter().map(|&r| (100.0, 100.0 * r)).collect();
        let alone = paired_change(&pairs, 0.05).unwrap();
        assert!(alone.p_value < 0.05 && alone.p_value > 0.01, "{alone:?}");
        assert_eq!(judge(&alone, 0.05, 0.02, false), Verdict::Inconclusive);
        let in_family = paired_change(&pairs, 0.01).unwrap();
        assert!(in_family.ci_high - in_family.ci_low > alone.ci_high - alone.ci_low);
        assert_eq!(judge(&in_family, 0.01, 0.02, false), Verdict::NoChange);
    }
}
