//! The scenario's settings for verdicts against a baseline: the noise floor of each compared
//! metric, for comparisons of one run per side (a run's windows hold none of the variance
//! between runs, so the band is never narrower than this).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diagnostic::Problem;
use crate::units::parse_percent;
use crate::verdict::compare::NoiseFloor;

/// The smallest band within which a change of one run per side counts as noise, per metric:
/// `{ throughput: 5%, p99: 10% }`. Unset metrics keep the defaults; `--noise-floor` overrides
/// them per metric.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoiseFloorFile {
    /// Throughput (default `5%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<String>,
    /// Mean latency of all operations (default `5%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<String>,
    /// Median latency of all operations (default `5%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<String>,
    /// 99th percentile latency of all operations (default `10%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<String>,
    /// Each tier's hit rate, relative (default `2%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_rate: Option<String>,
}

impl NoiseFloorFile {
    /// The floor: the values given over the defaults. A value that is not a percentage is a
    /// problem at its field (and keeps the default).
    pub fn resolve(&self, problems: &mut Vec<Problem>) -> NoiseFloor {
        let mut floor = NoiseFloor::default();
        let fields = [
            ("throughput", &self.throughput, &mut floor.throughput),
            ("mean", &self.mean, &mut floor.mean),
            ("p50", &self.p50, &mut floor.p50),
            ("p99", &self.p99, &mut floor.p99),
            ("hit_rate", &self.hit_rate, &mut floor.hit_rate),
        ];
        for (name, given, slot) in fields {
            let Some(text) = given else { continue };
            match parse_percent(text) {
                Ok(value) if (0.0..1.0).contains(&value) => *slot = value,
                Ok(value) => problems.push(
                    Problem::new(
                        format!("/noise_floor/{name}"),
                        format!("{:.0}% is not a noise floor", value * 100.0),
                    )
                    .expected("a percentage from 0% to under 100%, e.g. 5%"),
                ),
                Err(e) => problems.push(
                    Problem::new(format!("/noise_floor/{name}"), e)
                        .expected("a percentage, e.g. 5%"),
                ),
            }
        }
        floor
    }
}
