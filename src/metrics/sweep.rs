//! A sweep's part of the result document: the grid, each point's workloads, and the curves.
//!
//! Why its own file: a sweep adds a layer above the workloads (points), but every point's
//! workloads stay ordinary `WorkloadResult`s in the document's `workloads` (named
//! `reads [max_entries=1000 engine=lru]`), so every report format, threshold, comparison and
//! baseline reads a sweep as it reads any run. This part only says which workloads belong to
//! which point, and draws the curves across points. Older documents have none (`sweep` absent).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the knee of a curve is chosen (reports print it).
pub const KNEE_RULE: &str = "the smallest size whose hit rate reaches 90% of the largest size's";

/// The grid and what each point gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SweepResult {
    /// The axes: each path and the values it took, in order (the last varied fastest).
    pub axes: Vec<SweepAxis>,
    /// Every point, in run order.
    pub points: Vec<SweepPoint>,
    /// Hit rate against cache size, one curve per workload and combination of the other axes
    /// (when an axis sweeps a tier's `max_entries`).
    pub curves: Vec<SweepCurve>,
    /// How each curve's knee was chosen.
    pub knee_rule: String,
}

/// One axis of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepAxis {
    /// The dotted path (`tiers.l1.max_entries`).
    pub path: String,
    /// The values it took.
    pub values: Vec<serde_json::Value>,
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepPoint {
    /// `max_entries=1000 engine=lru`: each axis's last segment and value.
    pub label: String,
    /// Each axis's value at this point, by path.
    pub values: BTreeMap<String, serde_json::Value>,
    /// Indices into the document's `workloads` of this point's workloads.
    pub workloads: Vec<usize>,
    /// True when every threshold of this point's workloads held.
    pub passed: bool,
    /// Why the point did not complete (a tier failed), if it did not.
    #[serde(default)]
    pub failure: Option<String>,
}

/// Hit rate (and, measured, latency and throughput) against cache size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepCurve {
    /// The workload (its name in the scenario).
    pub workload: String,
    /// The tier whose size was swept.
    pub tier: String,
    /// The other axes' values, as a label (`engine=lru zipf_exponent=0.99`); empty when the
    /// size is the only axis.
    pub series: String,
    /// The tier's engine along this curve (`lru`), when in-process and the same at every point.
    #[serde(default)]
    pub engine: Option<String>,
    /// True when the points were simulated (no latency or throughput).
    pub simulated: bool,
    /// One entry per size, smallest first.
    pub points: Vec<CurvePoint>,
    /// The knee (see `knee_rule`), when the curve has a hit rate at its largest size.
    pub knee: Option<u64>,
    /// The exact LRU curve of the same requests from one pass (Mattson stack distances), when
    /// the tier's engine is `lru` and it is the first tier of a read-through stack.
    #[serde(default)]
    pub exact_lru: Option<ExactCurve>,
}

/// One size of a curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CurvePoint {
    /// Cache size, entries.
    pub size: u64,
    /// The point of the grid (index into `points`).
    pub point: usize,
    /// The tier's hit rate, null without lookups.
    pub hit_rate: Option<f64>,
    /// 1 − hit rate, null without lookups.
    pub miss_ratio: Option<f64>,
    /// p99 of all operations, ns (null when simulated).
    pub p99_ns: Option<u64>,
    /// Throughput, operations per second (null when simulated).
    pub throughput: Option<f64>,
}

/// An exact LRU miss-ratio curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExactCurve {
    /// Sizes, entries, ascending: the sweep's and a 1-2-5 grid up to the largest distance.
    pub sizes: Vec<u64>,
    /// Miss ratio at each size.
    pub miss_ratios: Vec<f64>,
    /// Lookups counted (measured phases; preload and warmup only fill the stack).
    pub lookups: u64,
    /// The size beyond which only cold misses are left (the largest stack distance seen).
    pub max_distance: u64,
}

/// The knee of a curve: the smallest size whose hit rate reaches 90% of the hit rate at the
/// largest size. `None` without a hit rate at the largest size. `points` are (size, hit rate),
/// in any order.
pub fn knee(points: &[(u64, Option<f64>)]) -> Option<u64> {
    let mut sorted: Vec<(u64, f64)> = points
        .iter()
        .filter_map(|&(s, h)| h.map(|h| (s, h)))
        .collect();
    sorted.sort_by_key(|&(s, _)| s);
    let &(_, top) = sorted.last()?;
    sorted
        .iter()
        .find(|&&(_, h)| h >= 0.9 * top)
        .map(|&(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knee_is_the_first_size_within_90_percent_of_the_largest() {
        let curve = [
            (10_000, Some(0.80)),
            (100, Some(0.30)),
            (1_000, Some(0.73)),
            (500, Some(0.70)),
        ];
        assert_eq!(knee(&curve), Some(1_000));
        assert_eq!(knee(&[(5, None)]), None);
        assert_eq!(knee(&[(5, Some(0.0)), (9, Some(0.0))]), Some(5));
    }
}
