//! Statistics for numbers that say how sure they are: summaries with confidence intervals,
//! Tukey outliers, Welch's test and the regression verdict.
//!
//! Confidence intervals use Student's t distribution (statrs), not a bootstrap: samples here are
//! per-repetition or per-second figures, few and roughly normal. The verdict follows criterion.rs:
//! a change counts only when it is significant (p < significance) *and* its whole confidence
//! interval lies outside the noise band; a significant change inside the band is "within noise".
//!
//! The figures these functions produce (`Summary`, `Outliers`, `Change`, `Verdict`) are plain data
//! of the result document and live in `metrics`; only the arithmetic is here.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::metrics::comparison::{Change, Verdict};
use crate::metrics::statistics::{Outliers, Summary};

/// The two-sided Student t quantile, e.g. `t_quantile(0.975, 4)` = 2.776.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df.max(1.0)) {
        Ok(t) => t.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn variance(xs: &[f64], m: f64) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// Summarizes samples; `None` when there are none.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let m = mean(samples);
    let sd = variance(samples, m).sqrt();
    let half = if samples.len() < 2 {
        0.0
    } else {
        t_quantile(0.975, (samples.len() - 1) as f64) * sd / (samples.len() as f64).sqrt()
    };
    Some(Summary {
        n: samples.len(),
        mean: m,
        stddev: sd,
        ci_low: m - half,
        ci_high: m + half,
    })
}

/// Welch's t statistic and degrees of freedom for two samples, `None` if it is undefined.
fn welch(a: &[f64], b: &[f64]) -> Option<(f64, f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, mb) = (mean(a), mean(b));
    let (va, vb) = (
        variance(a, ma) / a.len() as f64,
        variance(b, mb) / b.len() as f64,
    );
    let se2 = va + vb;
    if se2 == 0.0 {
        return None;
    }
    let df = se2 * se2 / (va * va / (a.len() - 1) as f64 + vb * vb / (b.len() - 1) as f64);
    Some(((mb - ma) / se2.sqrt(), df, se2.sqrt()))
}

/// Two-sided p-value of Welch's t-test that `a` and `b` have the same mean. With fewer than two
/// samples on a side it is 1 (nothing can be shown); with no variance at all it is 0 when the
/// means differ and 1 when they are equal.
pub fn welch_p_value(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    match welch(a, b) {
        Some((t, df, _)) => match StudentsT::new(0.0, 1.0, df) {
            Ok(dist) => (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0),
            Err(_) => 1.0,
        },
        None if a.len() >= 2 && b.len() >= 2 && mean(a) != mean(b) => 0.0,
        None => 1.0,
    }
}

/// Relative change of the means; the interval is Welch's interval of the difference divided by
/// the old mean (its own uncertainty neglected, as criterion does for the baseline). `None` if
/// either side is empty or the old mean is 0.
pub fn relative_change(old: &[f64], new: &[f64]) -> Option<Change> {
    if old.is_empty() || new.is_empty() {
        return None;
    }
    let (mo, mn) = (mean(old), mean(new));
    if mo == 0.0 {
        return None;
    }
    let half = match welch(old, new) {
        Some((_, df, se)) => t_quantile(0.975, df) * se,
        None => 0.0,
    };
    let diff = mn - mo;
    Some(Change {
        relative: diff / mo,
        ci_low: (diff - half) / mo.abs(),
        ci_high: (diff + half) / mo.abs(),
        p_value: welch_p_value(old, new),
    })
}

/// Quantile with linear interpolation between order statistics (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Classifies samples with Tukey's fences; `None` for fewer than four samples.
pub fn tukey(samples: &[f64]) -> Option<Outliers> {
    if samples.len() < 4 || samples.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.75));
    let iqr = q3 - q1;
    let mut o = Outliers {
        q1,
        q3,
        low_mild: 0,
        high_mild: 0,
        low_severe: 0,
        high_severe: 0,
    };
    for &x in samples {
        if x < q1 - 3.0 * iqr {
            o.low_severe += 1;
        } else if x < q1 - 1.5 * iqr {
            o.low_mild += 1;
        } else if x > q3 + 3.0 * iqr {
            o.high_severe += 1;
        } else if x > q3 + 1.5 * iqr {
            o.high_mild += 1;
        }
    }
    Some(o)
}

/// criterion's rule. `noise` is the band's half-width as a fraction (0.02 = ±2%);
/// `higher_is_better` for throughput and hit rates, not for latency.
pub fn verdict(change: &Change, significance: f64, noise: f64, higher_is_better: bool) -> Verdict {
    if change.p_value >= significance {
        return Verdict::NoChange;
    }
    let (up, down) = (change.ci_low > noise, change.ci_high < -noise);
    match (up, down, higher_is_better) {
        (true, _, true) | (_, true, false) => Verdict::Improved,
        (true, _, false) | (_, true, true) => Verdict::Regressed,
        _ => Verdict::WithinNoise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_the_table() {
        // Standard two-sided 95% table values.
        assert!(close(t_quantile(0.975, 1.0), 12.7062, 1e-3));
        assert!(close(t_quantile(0.975, 4.0), 2.7764, 1e-3));
        assert!(close(t_quantile(0.975, 30.0), 2.0423, 1e-3));
    }

    #[test]
    fn summaries_of_empty_single_and_several_samples() {
        assert_eq!(summarize(&[]), None);
        let one = summarize(&[5.0]).unwrap();
        assert_eq!(
            (one.n, one.mean, one.stddev, one.ci_low, one.ci_high),
            (1, 5.0, 0.0, 5.0, 5.0)
        );
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7, sd 2.13809;
        // half-width t(0.975, 7) = 2.36462 × 2.13809 / √8 = 1.78749 (by hand).
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!(close(s.mean, 5.0, 1e-12));
        assert!(close(s.stddev, 2.138_09, 1e-5));
        assert!(close(s.ci_high - s.mean, 1.787_49, 1e-4), "{s:?}");
    }

    #[test]
    fn welch_p_values() {
        // a = 1..5 (mean 3, var 2.5), b = 3..7 (mean 5, var 2.5): t = 2 / √(0.5+0.5) = 2, df = 8;
        // two-sided p = 0.0805 (t table: P(|T8| > 2) = 0.08052).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [3.0, 4.0, 5.0, 6.0, 7.0];
        assert!(close(welch_p_value(&a, &b), 0.0805, 1e-3));
        assert_eq!(welch_p_value(&a, &a), 1.0);
        assert_eq!(welch_p_value(&[1.0], &b), 1.0);
        assert_eq!(welch_p_value(&[2.0, 2.0], &[3.0, 3.0]), 0.0);
        assert_eq!(welch_p_value(&[2.0, 2.0], &[2.0, 2.0]), 1.0);
        assert_eq!(welch_p_value(&[], &b), 1.0);
    }

    #[test]
    fn relative_changes_carry_an_interval() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [3.0, 4.0, 5.0, 6.0, 7.0];
        let c = relative_change(&a, &b).unwrap();
        // diff 2, se 1, t(0.975, 8) = 2.306: interval 2 ± 2.306, over the old mean 3.
        assert!(close(c.relative, 2.0 / 3.0, 1e-12));
        assert!(close(c.ci_low, (2.0 - 2.306) / 3.0, 1e-3));
        assert!(close(c.ci_high, (2.0 + 2.306) / 3.0, 1e-3));
        assert_eq!(relative_change(&[0.0, 0.0], &b), None);
        assert_eq!(relative_change(&[], &b), None);
    }

    #[test]
    fn tukey_fences_classify_mild_and_severe() {
        // −10, 1..=8, 16, 30 (11 samples): q1 = 2.5, q3 = 7.5 (numpy's linear interpolation),
        // IQR 5; mild fences −5 / 15, severe −12.5 / 22.5 (by hand).
        let mut xs: Vec<f64> = (1..=8).map(f64::from).collect();
        xs.extend([16.0, 30.0, -10.0]);
        let o = tukey(&xs).unwrap();
        assert!(close(o.q1, 2.5, 1e-12) && close(o.q3, 7.5, 1e-12), "{o:?}");
        assert_eq!(
            (o.high_mild, o.high_severe, o.low_mild, o.low_severe),
            (1, 1, 1, 0),
            "{o:?}"
        );
        let plain = tukey(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(close(plain.q1, 1.75, 1e-12) && close(plain.q3, 3.25, 1e-12));
        assert_eq!(tukey(&[1.0, 2.0, 3.0]), None);
    }

    #[test]
    fn verdicts_follow_criterions_rule() {
        let c = |relative: f64, lo: f64, hi: f64, p: f64| Change {
            relative,
            ci_low: lo,
            ci_high: hi,
            p_value: p,
        };
        assert_eq!(
            verdict(&c(0.10, 0.05, 0.15, 0.001), 0.05, 0.02, false),
            Verdict::Regressed
        );
        assert_eq!(
            verdict(&c(0.10, 0.05, 0.15, 0.001), 0.05, 0.02, true),
            Verdict::Improved
        );
        assert_eq!(
            verdict(&c(-0.10, -0.15, -0.05, 0.001), 0.05, 0.02, false),
            Verdict::Improved
        );
        assert_eq!(
            verdict(&c(-0.10, -0.15, -0.05, 0.001), 0.05, 0.02, true),
            Verdict::Regressed
        );
        assert_eq!(
            verdict(&c(0.03, 0.01, 0.05, 0.01), 0.05, 0.02, false),
            Verdict::WithinNoise
        );
        assert_eq!(
            verdict(&c(0.30, -0.1, 0.7, 0.2), 0.05, 0.02, false),
            Verdict::NoChange
        );
    }
}
