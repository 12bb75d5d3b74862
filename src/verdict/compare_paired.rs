//! Judging an interleaved A/B experiment (`tierbench ab`): the two scenarios ran alternately,
//! round after round, each run from the same tier state, so what drifts over the experiment
//! (the machine's clock, a neighbour, a server's caches) touches both sides of a round alike.
//! Each round gives one ratio per metric, candidate over base; the verdict is a paired t-test
//! on the logarithms of those ratios (hyperfine and tango-bench pair the same way), and the
//! rule is any comparison's (`rule::judge`): the band is `--noise`, since pairs of whole runs
//! hold the variance between runs.

use super::compare::{Rule, assemble, compared_metrics};
use super::rule::judge;
use super::stats::{t_quantile, two_sided};
use crate::metrics::comparison::{Change, ChangeMethod, Comparison, MetricComparison};
use crate::metrics::figures::headline;
use crate::metrics::result::ResultDocument;

/// How an A/B experiment is judged, as reports print it.
pub const PAIRED_METHOD: &str = "interleaved A/B: the base and the candidate ran in rounds, each round both in a random order, \
each run from the same tier state; per round, the ratio candidate / base of each metric; a paired \
t-test on the logarithms of the ratios (the change is their geometric mean, its 95% interval \
exponentiated); regressed or improved when the whole interval lies beyond the noise band, \
inconclusive when the change is significant and beyond the band on the bad side but the interval reaches back inside";

/// Compares the candidate's runs `b` with the base's runs `a`, round by round (same length).
pub fn compare_paired(a: &[ResultDocument], b: &[ResultDocument], rule: Rule) -> Comparison {
    let mut metrics = Vec::new();
    let Some(first) = b.first() else {
        return empty(rule);
    };
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
            let Some(change) = paired_change(&pairs) else {
                continue;
            };
            let n = pairs.len();
            let verdict = judge(&change, rule.significance, rule.noise, higher_is_better);
            let gm =
                |xs: Vec<f64>| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp();
            metrics.push(MetricComparison {
                workload: w.name.clone(),
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
    }
    let what = format!("the base scenario, {} interleaved rounds", a.len());
    assemble(what, rule, metrics, PAIRED_METHOD, Vec::new())
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

/// The change over `pairs` (base, candidate) from the logarithms of their ratios; `None` with
/// fewer than two pairs or a figure that is not positive.
fn paired_change(pairs: &[(f64, f64)]) -> Option<Change> {
    if pairs.len() < 2 || pairs.iter().any(|&(a, b)| a <= 0.0 || b <= 0.0) {
        return None;
    }
    let d: Vec<f64> = pairs.iter().map(|&(a, b)| b.ln() - a.ln()).collect();
    let n = d.len() as f64;
    let m = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = sd / n.sqrt();
    let (half, p_value) = if se > 0.0 {
        (t_quantile(0.975, n - 1.0) * se, two_sided(m / se, n - 1.0))
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
        let c = paired_change(&pairs).unwrap();
        assert!((c.relative - 0.10).abs() < 0.01, "{c:?}");
        assert!(c.ci_low > 0.05 && c.ci_high < 0.15, "{c:?}");
        assert_eq!(judge(&c, 0.05, 0.02, false), Verdict::Regressed);
        let same: Vec<(f64, f64)> = pairs.iter().map(|&(a, _)| (a, a)).collect();
        assert_eq!(paired_change(&same).unwrap().relative, 0.0);
        assert!(paired_change(&pairs[..1]).is_none());
    }
}
