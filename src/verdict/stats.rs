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

use crate::metrics::comparison::{Change, ChangeMethod};
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

/// The range a metric's values can take: intervals are clamped to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Domain {
    /// Any real number.
    Real,
    /// 0 and above (latencies, throughputs, counts).
    NonNegative,
    /// 0 to 1 (hit rates, error rates).
    Rate,
}

impl Domain {
    /// The domain of a metric by its name (`throughput`, `all.p99_ns`, `l1.hit_rate`, ...).
    pub fn of(metric: &str) -> Domain {
        if metric.ends_with("rate") {
            Domain::Rate
        } else {
            Domain::NonNegative
        }
    }

    fn clamp(self, x: f64) -> f64 {
        match self {
            Domain::Real => x,
            Domain::NonNegative => x.max(0.0),
            Domain::Rate => x.clamp(0.0, 1.0),
        }
    }
}

/// Summarizes samples with an interval inside `domain`. Latencies and throughputs (every sample
/// above 0) get a log-scale interval: Student's t on the logarithms, its half-width applied as a
/// factor around the mean (`mean · e^±h`), so it stays above 0 and widens upwards on skewed
/// samples as such figures do. Rates (and figures with a 0 among them) get the Student t
/// interval of the mean, clamped to [0, 1] or at 0.
pub fn summarize_in(samples: &[f64], domain: Domain) -> Option<Summary> {
    let s = summarize(samples)?;
    if domain == Domain::NonNegative && samples.len() >= 2 && samples.iter().all(|x| *x > 0.0) {
        let logs: Vec<f64> = samples.iter().map(|x| x.ln()).collect();
        let m = mean(&logs);
        let sd = variance(&logs, m).sqrt();
        let h = t_quantile(0.975, (samples.len() - 1) as f64) * sd / (samples.len() as f64).sqrt();
        return Some(Summary {
            ci_low: s.mean * (-h).exp(),
            ci_high: s.mean * h.exp(),
            ..s
        });
    }
    Some(Summary {
        ci_low: domain.clamp(s.ci_low),
        ci_high: domain.clamp(s.ci_high),
        ..s
    })
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

/// Welch's t statistic, degrees of freedom and standard error for two samples, `None` if it is
/// undefined.
fn welch(a: &[f64], b: &[f64]) -> Option<(f64, f64, f64)> {
    welch_n(a, b, a.len() as f64, b.len() as f64)
}

/// Welch's test when `a` is worth `na` independent samples and `b` `nb` (fewer than their
/// lengths when neighbours are correlated: `effective_n`).
fn welch_n(a: &[f64], b: &[f64], na: f64, nb: f64) -> Option<(f64, f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, mb) = (mean(a), mean(b));
    let (va, vb) = (variance(a, ma) / na, variance(b, mb) / nb);
    let se2 = va + vb;
    if se2 == 0.0 {
        return None;
    }
    let df = se2 * se2 / (va * va / (na - 1.0).max(1.0) + vb * vb / (nb - 1.0).max(1.0));
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
        Some((t, df, _)) => two_sided(t, df),
        None if a.len() >= 2 && b.len() >= 2 && mean(a) != mean(b) => 0.0,
        None => 1.0,
    }
}

/// The two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn two_sided(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// The lag-1 autocorrelation of `xs` (0 when it cannot be computed).
fn lag1(xs: &[f64]) -> f64 {
    if xs.len() < 3 {
        return 0.0;
    }
    let m = mean(xs);
    let denominator: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    if denominator == 0.0 {
        return 0.0;
    }
    let numerator: f64 = xs.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    numerator / denominator
}

/// How many independent samples a run's consecutive windows are worth: n(1 − r)/(1 + r), r
/// their lag-1 autocorrelation (a slow drift makes neighbours alike, so ten windows may be
/// worth three), at least 2 and at most n. Negative correlation counts as none.
pub fn effective_n(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let r = lag1(xs).clamp(0.0, 0.95);
    (n * (1.0 - r) / (1.0 + r)).clamp(2.0_f64.min(n), n)
}

/// Relative change of `new` against `old` with a 95% interval that stays above −100%.
///
/// When every sample is positive (latencies, throughputs, rates above 0) the test is Welch's on
/// the logarithms: the change is the ratio of geometric means minus one, its interval the
/// exponentiated interval of the difference of log means, and the p-value Welch's on the logs.
/// Otherwise Welch's interval of the difference divided by the old mean (its own uncertainty
/// neglected, as criterion does for the baseline), the lower end clamped at −100%. With fewer
/// than two samples on a side there is no test: the change of the means with p = 1 and a
/// zero-width interval (method `none`). `None` if either side is empty or the old mean is 0.
pub fn relative_change(old: &[f64], new: &[f64]) -> Option<Change> {
    relative_change_of(old, new, false)
}

/// `relative_change` for samples that are consecutive windows of one run each: each side counts
/// as `effective_n` samples, so autocorrelated windows give the wider interval they deserve.
pub fn relative_change_of(old: &[f64], new: &[f64], correlated: bool) -> Option<Change> {
    if old.is_empty() || new.is_empty() {
        return None;
    }
    let (mo, mn) = (mean(old), mean(new));
    if mo == 0.0 {
        return None;
    }
    if old.len() < 2 || new.len() < 2 {
        let relative = ((mn - mo) / mo.abs()).max(-1.0);
        return Some(Change {
            relative,
            ci_low: relative,
            ci_high: relative,
            p_value: 1.0,
            method: ChangeMethod::None,
        });
    }
    let sizes = |a: &[f64], b: &[f64]| {
        if correlated {
            (effective_n(a), effective_n(b))
        } else {
            (a.len() as f64, b.len() as f64)
        }
    };
    if old.iter().chain(new).all(|&x| x > 0.0 && x.is_finite()) {
        let (lo, ln): (Vec<f64>, Vec<f64>) = (
            old.iter().map(|x| x.ln()).collect(),
            new.iter().map(|x| x.ln()).collect(),
        );
        let d = mean(&ln) - mean(&lo);
        let (na, nb) = sizes(&lo, &ln);
        let (half, p_value) = match welch_n(&lo, &ln, na, nb) {
            Some((t, df, se)) => (t_quantile(0.975, df) * se, two_sided(t, df)),
            None => (0.0, if d == 0.0 { 1.0 } else { 0.0 }),
        };
        return Some(Change {
            relative: d.exp() - 1.0,
            ci_low: (d - half).exp() - 1.0,
            ci_high: (d + half).exp() - 1.0,
            p_value,
            method: ChangeMethod::LogWelch,
        });
    }
    let (na, nb) = sizes(old, new);
    let (half, p_value) = match welch_n(old, new, na, nb) {
        Some((t, df, se)) => (t_quantile(0.975, df) * se, two_sided(t, df)),
        None => (0.0, if mn == mo { 1.0 } else { 0.0 }),
    };
    let diff = mn - mo;
    Some(Change {
        relative: (diff / mo.abs()).max(-1.0),
        ci_low: ((diff - half) / mo.abs()).max(-1.0),
        ci_high: ((diff + half) / mo.abs()).max(-1.0),
        p_value,
        method: ChangeMethod::Welch,
    })
}

/// The estimate a change is the ratio of: the geometric mean of the samples where the change is
/// on logarithms, else their mean.
pub fn estimate(samples: &[f64], method: ChangeMethod) -> f64 {
    match method {
        ChangeMethod::LogWelch => mean(&samples.iter().map(|x| x.ln()).collect::<Vec<_>>()).exp(),
        _ => mean(samples),
    }
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
    fn relative_changes_carry_an_interval_on_the_log_scale() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [3.0, 4.0, 5.0, 6.0, 7.0];
        let c = relative_change(&a, &b).unwrap();
        assert_eq!(c.method, ChangeMethod::LogWelch);
        // Geometric means: 120^(1/5) = 2.6052, 2520^(1/5) = 4.7894: ratio 1.8384 (by hand).
        assert!(close(c.relative, 0.838_4, 1e-3), "{c:?}");
        assert!(c.ci_low < c.relative && c.relative < c.ci_high, "{c:?}");
        assert_eq!(relative_change(&[0.0, 0.0], &b), None);
        assert_eq!(relative_change(&[], &b), None);
        // A zero sample: Welch on the values, clamped at -100%.
        let z = relative_change(&[10.0, 0.0, 20.0], &[0.0, 0.0, 1.0]).unwrap();
        assert_eq!(z.method, ChangeMethod::Welch);
        assert!(z.ci_low >= -1.0 && z.relative >= -1.0, "{z:?}");
        // One sample a side: no test, no interval.
        let one = relative_change(&[10.0], &[4.0]).unwrap();
        assert_eq!((one.method, one.p_value), (ChangeMethod::None, 1.0));
    }

    #[test]
    fn intervals_stay_in_the_domain_on_skewed_samples() {
        // Latencies with a long tail: the plain t interval of the mean goes below 0.
        let skewed = [1_000.0, 1_100.0, 900.0, 1_050.0, 250_000.0];
        let plain = summarize(&skewed).unwrap();
        assert!(plain.ci_low < 0.0, "{plain:?}");
        let s = summarize_in(&skewed, Domain::NonNegative).unwrap();
        assert!(
            s.ci_low > 0.0 && s.ci_low < s.mean && s.ci_high > s.mean,
            "{s:?}"
        );
        // Log scale: the factor is the same on both sides of the mean.
        assert!(
            (s.mean / s.ci_low - s.ci_high / s.mean).abs() < 1e-9,
            "{s:?}"
        );
        // A 0 among the samples: no logarithm; the t interval clamped at 0.
        let zero = summarize_in(&[0.0, 10.0, 2_000.0], Domain::NonNegative).unwrap();
        assert!(zero.ci_low == 0.0 && zero.ci_high > zero.mean, "{zero:?}");
        // Hit rates near 1: the interval stays in [0, 1].
        let rates = summarize_in(&[0.99, 0.2, 1.0, 0.98], Domain::Rate).unwrap();
        assert!(rates.ci_low >= 0.0 && rates.ci_high <= 1.0, "{rates:?}");
        assert_eq!(Domain::of("l1.hit_rate"), Domain::Rate);
        assert_eq!(Domain::of("all.p99_ns"), Domain::NonNegative);
        // A throughput that collapsed, with a skewed old side: the change stays above -100%.
        let old = [10_000.0, 9_000.0, 50_000.0, 11_000.0, 10_500.0];
        let new = [100.0, 5_000.0, 90.0, 120.0, 4_000.0];
        let c = relative_change(&old, &new).unwrap();
        assert!(c.ci_low > -1.0 && c.ci_high > c.ci_low, "{c:?}");
        let w = relative_change(&old, &[0.0, 5_000.0, 0.0, 120.0, 4_000.0]).unwrap();
        assert!(w.ci_low >= -1.0, "{w:?}");
    }

    #[test]
    fn autocorrelated_windows_count_for_fewer_samples() {
        // A slow drift: neighbours alike, worth far fewer than 12 independent samples.
        let drift: Vec<f64> = (0..12).map(|i| 100.0 + f64::from(i)).collect();
        assert!(effective_n(&drift) < 4.0, "{}", effective_n(&drift));
        let alternating: Vec<f64> = (0..12)
            .map(|i| if i % 2 == 0 { 99.0 } else { 101.0 })
            .collect();
        assert_eq!(effective_n(&alternating), 12.0);
        let old: Vec<f64> = drift.clone();
        let new: Vec<f64> = drift.iter().map(|x| x * 1.03).collect();
        let plain = relative_change_of(&old, &new, false).unwrap();
        let fair = relative_change_of(&old, &new, true).unwrap();
        assert!(fair.ci_high - fair.ci_low > plain.ci_high - plain.ci_low);
        assert!((estimate(&[1.0, 100.0], ChangeMethod::LogWelch) - 10.0).abs() < 1e-9);
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
}
