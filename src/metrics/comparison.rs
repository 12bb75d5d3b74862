//! A comparison with a baseline, as the result document carries it: plain data.
//!
//! `verdict::compare` fills these in; the document stores them (`ResultDocument::comparison`)
//! without depending on how they were computed. Which figures of a workload's result a metric
//! compares (`samples`, `headline`) is the document's own layout, in `result`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Metrics whose change exceeds the noise band but that too few samples could not judge.
    #[serde(default)]
    pub inconclusive: usize,
    /// How intervals and p-values were computed, in a sentence (reports print it).
    #[serde(default)]
    pub method: String,
    /// One line: what changed.
    pub summary: String,
    /// What to do about it.
    pub recommendations: Vec<String>,
    /// What may make the comparison unfair or its samples unrepresentative: a time series
    /// still drifting, different scenarios, durations or hosts, one side much noisier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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
    /// Samples per side (repetitions, windows or seconds).
    pub samples: [usize; 2],
    /// What the samples are on each side: `repetitions`, `windows` or `seconds`.
    #[serde(default)]
    pub sample_kind: [String; 2],
    /// True when a larger value is better.
    pub higher_is_better: bool,
    /// The noise band this metric was judged against (half-width, a fraction): `--noise`, or
    /// with one run per side at least the metric's between-run noise floor.
    #[serde(default)]
    pub band: f64,
    /// What the baseline and current figures are (the estimator the change compares).
    #[serde(default)]
    pub estimator: String,
}

/// The relative change of the mean of `new` against `old`, with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    /// (new − old) / old.
    pub relative: f64,
    /// Lower end of its 95% confidence interval.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Welch's two-sided p-value.
    pub p_value: f64,
    /// How the interval and p-value were computed.
    #[serde(default)]
    pub method: ChangeMethod,
}

/// How a change's interval and p-value were computed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeMethod {
    /// Welch's test on the logarithms of the samples: the interval of the ratio of (geometric)
    /// means, exponentiated, so a change is always above −100%. Used when every sample is > 0.
    #[default]
    LogWelch,
    /// Welch's test on the samples themselves (some sample is 0), the interval's lower end
    /// clamped at −100%.
    Welch,
    /// Fewer than two samples on a side: no test, no interval (it is the point change only).
    None,
    /// A paired t-test on the logarithms of per-round ratios (`tierbench ab`: the two sides ran
    /// alternately, so the machine's drift and neighbours cancel in each pair).
    PairedLog,
}

/// What a comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Better: the whole 95% interval lies beyond the noise band on the good side.
    Improved,
    /// Worse: the whole 95% interval lies beyond the noise band on the bad side.
    Regressed,
    /// Unchanged: the interval's bad end lies inside the noise band (shown no worse than the
    /// band), and the change is not significant.
    NoChange,
    /// Unchanged as `no_change`, but significant: a real change smaller than the band.
    WithinNoise,
    /// The interval reaches past the noise band on the bad side without lying wholly beyond it
    /// (or a point change beyond it with too few samples for an interval): a regression larger
    /// than the band is possible and not shown. It fails a comparison unless allowed.
    Inconclusive,
}
