//! A sweep's curves: hit rate (and latency, throughput) against a tier's size, one curve per
//! workload and combination of the other axes, with its knee and, for `lru`, the exact curve.
//!
//! Why its own file: the curves are read off the points' results after the grid ran; the exact
//! LRU curve replays the same requests once more through the one-pass simulator
//! (`simulate::lru_distances`), which is what lets a report set the measured points against the
//! whole curve.

use crate::metrics::result::ResultDocument;
use crate::metrics::sweep::{CurvePoint, ExactCurve, SweepCurve, SweepResult, knee};
use crate::scenario::plan::Scenario;
use crate::scenario::sweep::{SweepPlan, label};
use crate::simulate::{lru_distances, mattson::log_grid};
use crate::tier::config::{MemoryEngine, TierKindConfig};

/// The tier index a `tiers.NAME.max_entries` path sizes, if it is one.
fn sized_tier(path: &str, scenario: &Scenario) -> Option<usize> {
    let parts: Vec<&str> = path.split('.').collect();
    let ["tiers", tier, "max_entries"] = parts.as_slice() else {
        return None;
    };
    scenario
        .tiers
        .iter()
        .position(|t| t.name == *tier)
        .or_else(|| tier.parse().ok().filter(|&i| i < scenario.tiers.len()))
}

/// The engine of tier `t` at a point, when in-process.
fn engine_of(scenario: &Scenario, t: usize) -> Option<MemoryEngine> {
    match scenario.tiers.get(t)?.kind {
        TierKindConfig::Memory { engine, .. } => Some(engine),
        _ => None,
    }
}

fn engine_name(e: MemoryEngine) -> &'static str {
    match e {
        MemoryEngine::Moka => "moka",
        MemoryEngine::QuickCache => "quick_cache",
        MemoryEngine::Lru => "lru",
    }
}

/// Every curve of the sweep: one per size axis, workload and combination of the other axes.
pub(super) fn curves(
    base: &Scenario,
    plan: &SweepPlan,
    document: &ResultDocument,
    sweep: &SweepResult,
) -> Vec<SweepCurve> {
    let mut out = Vec::new();
    for (axis_index, axis) in plan.axes.iter().enumerate() {
        let Some(tier) = sized_tier(&axis.path, base) else {
            continue;
        };
        // Group the points by the other axes' values, in first-seen order.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (p, point) in plan.points.iter().enumerate() {
            let others: Vec<_> = point
                .values
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != axis_index)
                .map(|(_, v)| v.clone())
                .collect();
            let series = label(&others);
            match groups.iter_mut().find(|(s, _)| *s == series) {
                Some((_, members)) => members.push(p),
                None => groups.push((series, vec![p])),
            }
        }
        for (w, workload) in base.workloads.iter().enumerate() {
            if !workload.target.contains(&tier) {
                continue;
            }
            for (series, members) in &groups {
                out.push(curve(plan, document, sweep, (w, tier), series, members));
            }
        }
    }
    out
}

/// One curve: workload `w`'s view of tier `tier` across the points `members`.
fn curve(
    plan: &SweepPlan,
    document: &ResultDocument,
    sweep: &SweepResult,
    (w, tier): (usize, usize),
    series: &str,
    members: &[usize],
) -> SweepCurve {
    let first = &plan.points[members[0]].scenario;
    let workload = &first.workloads[w];
    let tier_name = first.tiers[tier].name.clone();
    let mut points = Vec::new();
    let mut simulated = false;
    for &p in members {
        let scenario = &plan.points[p].scenario;
        let size = match scenario.tiers[tier].kind {
            TierKindConfig::Memory { max_entries, .. } => max_entries,
            _ => continue,
        };
        let name = format!("{} [{}]", workload.name, plan.points[p].label);
        let result = sweep.points.get(p).and_then(|sp| {
            sp.workloads
                .iter()
                .filter_map(|&i| document.workloads.get(i))
                .find(|r| r.name == name)
        });
        let is_sim = scenario.workloads[w].simulate;
        simulated |= is_sim;
        let hit_rate = result.and_then(|r| {
            r.tiers
                .iter()
                .find(|t| t.name == tier_name)
                .and_then(|t| t.hit_rate)
        });
        let all = result.and_then(|r| r.operations.get("all"));
        points.push(CurvePoint {
            size,
            point: p,
            hit_rate,
            miss_ratio: hit_rate.map(|h| 1.0 - h),
            p99_ns: all.filter(|_| !is_sim).map(|a| a.latency.p99_ns),
            throughput: result.filter(|_| !is_sim).map(|r| r.throughput),
        });
    }
    points.sort_by_key(|p| p.size);
    let engines: Vec<Option<MemoryEngine>> = members
        .iter()
        .map(|&p| engine_of(&plan.points[p].scenario, tier))
        .collect();
    let engine = engines[0].filter(|e| engines.iter().all(|x| *x == Some(*e)));
    let knee_at = knee(
        &points
            .iter()
            .map(|p| (p.size, p.hit_rate))
            .collect::<Vec<_>>(),
    );
    let exact_lru = (engine == Some(MemoryEngine::Lru)
        && workload.stacked
        && workload.target.first() == Some(&tier))
    .then(|| exact(first, w, &points))
    .flatten();
    SweepCurve {
        workload: workload.name.clone(),
        tier: tier_name,
        series: series.to_string(),
        engine: engine.map(|e| engine_name(e).to_string()),
        simulated,
        points,
        knee: knee_at,
        exact_lru,
    }
}

/// The one-pass LRU curve of workload `w` at the sweep's sizes and a 1-2-5 grid.
fn exact(scenario: &Scenario, w: usize, points: &[CurvePoint]) -> Option<ExactCurve> {
    let histogram = lru_distances(scenario, w).ok()?;
    let largest = points.iter().map(|p| p.size).max().unwrap_or(1);
    let max_distance = histogram.max_distance();
    let mut sizes = log_grid(largest.max(max_distance));
    sizes.extend(points.iter().map(|p| p.size));
    sizes.sort_unstable();
    sizes.dedup();
    let miss_ratios = histogram.miss_ratios(&sizes);
    Some(ExactCurve {
        sizes,
        miss_ratios,
        lookups: histogram.lookups(),
        max_distance,
    })
}
