//! The figures a comparison reads from a result document: a metric's headline value and its
//! samples (repetitions, the run's windows, or whole seconds). Plain functions over the document,
//! apart from it so the document's types stay in one readable file.

use super::result::WorkloadResult;

/// Per-sample values of a metric: repetitions if there are two or more, else the run's windows
/// (`samples`), else (documents without windows) whole seconds.
pub fn samples(w: &WorkloadResult, metric: &str) -> Vec<f64> {
    if w.repetitions.len() >= 2 {
        return w
            .repetitions
            .iter()
            .filter_map(|r| r.get(metric).copied())
            .collect();
    }
    if let Some(windows) = w.samples.of(metric) {
        return windows.to_vec();
    }
    // Whole seconds only (the last one is partial); fewer than two say nothing about spread,
    // and the run's own figure stands alone (p = 1: no verdict but "no change").
    let seconds = &w.timeseries[..w.timeseries.len().saturating_sub(1)];
    if seconds.len() < 2 || metric.ends_with("hit_rate") {
        return headline(w, metric).into_iter().collect();
    }
    seconds
        .iter()
        .filter(|s| s.ops > 0)
        .filter_map(|s| match metric {
            "throughput" => Some(s.ops as f64),
            "all.mean_ns" => Some(s.mean_ns),
            "all.p50_ns" => Some(s.p50_ns as f64),
            "all.p99_ns" => Some(s.p99_ns as f64),
            _ => None,
        })
        .collect()
}

/// The run's own figure for a compared metric (`throughput`, `all.p99_ns`, `TIER.hit_rate`, ...).
pub fn headline(w: &WorkloadResult, metric: &str) -> Option<f64> {
    let all = w.operations.get("all").map(|o| &o.latency);
    match metric {
        "throughput" => Some(w.throughput),
        "all.mean_ns" => all.map(|l| l.mean_ns),
        "all.p50_ns" => all.map(|l| l.p50_ns as f64),
        "all.p99_ns" => all.map(|l| l.p99_ns as f64),
        m => {
            w.tiers
                .iter()
                .find(|t| Some(t.name.as_str()) == m.strip_suffix(".hit_rate"))?
                .hit_rate
        }
    }
}
