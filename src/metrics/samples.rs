//! A run's own samples, as the result document carries them: the measured period cut into
//! windows. Plain data; `app::summarize` cuts the windows, `verdict::compare` tests them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Samples of one run: the measured period cut into windows (see `method`), each giving its own
/// throughput and latency figures, so one run per side still gives a significance test.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct WindowSamples {
    /// How the windows were cut (e.g. `14 windows of 0.2 s, >= 1000 ops each`).
    #[serde(default)]
    pub method: String,
    /// Completed operations per second, per window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throughput: Vec<f64>,
    /// Mean latency per window, ns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mean_ns: Vec<f64>,
    /// Median latency per window, ns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub p50_ns: Vec<f64>,
    /// 99th percentile latency per window, ns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub p99_ns: Vec<f64>,
    /// Per tier, its hit rate (0..1) in each window among the reads that reached it; a window
    /// no read reached is left out, so a tier's list may be shorter than `throughput`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hit_rate: BTreeMap<String, Vec<f64>>,
}

impl WindowSamples {
    /// True when there are no windows.
    pub fn is_empty(&self) -> bool {
        self.throughput.is_empty()
    }

    /// The per-window values of a compared metric (`throughput`, `all.p99_ns`, ...), if kept.
    pub fn of(&self, metric: &str) -> Option<&[f64]> {
        let v = match metric {
            "throughput" => &self.throughput,
            "all.mean_ns" => &self.mean_ns,
            "all.p50_ns" => &self.p50_ns,
            "all.p99_ns" => &self.p99_ns,
            other => self.hit_rate.get(other.strip_suffix(".hit_rate")?)?,
        };
        (!v.is_empty()).then_some(v.as_slice())
    }
}
