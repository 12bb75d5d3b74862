//! Statistics as the result document carries them: plain data, no arithmetic.
//!
//! `verdict::stats` computes these (summaries across repetitions, Tukey outliers); the document
//! only stores them, so it needs nothing from `verdict`. (A module of its own, apart from
//! `result`, also because `result` has a `Summary` of its own: the schema keeps both.)

use serde::{Deserialize, Serialize};

/// Mean, standard deviation and a 95% confidence interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one sample.
    pub stddev: f64,
    /// Lower end of the 95% confidence interval of the mean (Student's t).
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// Tukey's fences over samples: counts below and above 1.5 IQR (mild) and 3 IQR (severe).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Outliers {
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Below q1 − 1.5 IQR but not below q1 − 3 IQR.
    pub low_mild: usize,
    /// Above q3 + 1.5 IQR but not above q3 + 3 IQR.
    pub high_mild: usize,
    /// Below q1 − 3 IQR.
    pub low_severe: usize,
    /// Above q3 + 3 IQR.
    pub high_severe: usize,
}
