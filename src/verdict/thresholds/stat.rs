//! A latency statistic as written in a threshold (`p99`, `p(99.9)`, `mean`) and as named in
//! reports.

use super::{STATS_HINT, Stat, ThresholdError, err};

impl Stat {
    /// As shown in a metric's canonical name: `min`, `mean`, `p(99)`.
    pub fn name(self) -> String {
        match self {
            Stat::Min => "min".to_string(),
            Stat::Mean => "mean".to_string(),
            Stat::Stddev => "stddev".to_string(),
            Stat::Max => "max".to_string(),
            Stat::Percentile(p) => format!("p({p})"),
        }
    }
}

/// Parses a statistic: `min`, `mean` (`avg`), `stddev`, `max`, `p99`, `p999`, `p(99.9)`.
pub(super) fn parse_stat(name: &str) -> Result<Stat, ThresholdError> {
    let bad = || err(format!("`{name}` is not a statistic"), STATS_HINT);
    Ok(match name {
        "min" => Stat::Min,
        "mean" | "avg" => Stat::Mean,
        "stddev" => Stat::Stddev,
        "max" => Stat::Max,
        "p999" => Stat::Percentile(99.9),
        _ => {
            let number = name
                .strip_prefix("p(")
                .and_then(|s| s.strip_suffix(')'))
                .or_else(|| name.strip_prefix('p'))
                .ok_or_else(bad)?;
            let p: f64 = number.parse().map_err(|_| bad())?;
            if !(0.0..=100.0).contains(&p) {
                return Err(err(format!("percentile {p} is outside 0..100"), STATS_HINT));
            }
            Stat::Percentile(p)
        }
    })
}
