//! Repetitions: one repetition's figures flattened by metric name, and statistics across them.
//!
//! With `repeat: N`, each repetition's result is reduced to its figures (`repetition_figures`),
//! and `repetition_statistics` gives every figure's mean and confidence interval across the
//! repetitions. Both read the result document only; `app` summarizes each repetition first.

use std::collections::BTreeMap;

use super::stats::{Domain, summarize_in};
use crate::metrics::result::{LatencyStats, RepetitionFigures, WorkloadResult};
use crate::metrics::statistics::Summary;

/// One repetition's figures, flattened by metric name (see `RepetitionFigures`).
pub fn repetition_figures(w: &WorkloadResult) -> RepetitionFigures {
    let mut out = RepetitionFigures::new();
    out.insert("throughput".into(), w.throughput);
    out.insert("error_rate".into(), w.error_rate);
    let stats = |out: &mut RepetitionFigures, prefix: &str, l: &LatencyStats| {
        for (stat, value) in [
            ("mean_ns", l.mean_ns),
            ("p50_ns", l.p50_ns as f64),
            ("p90_ns", l.p90_ns as f64),
            ("p99_ns", l.p99_ns as f64),
            ("p999_ns", l.p999_ns as f64),
            ("max_ns", l.max_ns as f64),
        ] {
            out.insert(format!("{prefix}.{stat}"), value);
        }
    };
    for (op, r) in w.operations.iter().filter(|(_, r)| r.count > 0) {
        stats(&mut out, op, &r.latency);
    }
    for t in &w.tiers {
        if let Some(rate) = t.hit_rate {
            out.insert(format!("{}.hit_rate", t.name), rate);
        }
        if w.stacked {
            for (op, r) in t.operations.iter().filter(|(_, r)| r.count > 0) {
                out.insert(format!("{}.{op}.p99_ns", t.name), r.latency.p99_ns as f64);
            }
        }
    }
    for (by, r) in w.served_by.iter().filter(|(_, r)| r.count > 0) {
        out.insert(format!("served_by.{by}.p99_ns"), r.latency.p99_ns as f64);
    }
    out
}

/// Statistics across repetitions of every figure they all have (needs two or more).
pub fn repetition_statistics(reps: &[RepetitionFigures]) -> BTreeMap<String, Summary> {
    let mut out = BTreeMap::new();
    if reps.len() < 2 {
        return out;
    }
    for name in reps[0].keys() {
        let values: Vec<f64> = reps.iter().filter_map(|r| r.get(name).copied()).collect();
        if values.len() == reps.len()
            && let Some(summary) = summarize_in(&values, Domain::of(name))
        {
            out.insert(name.clone(), summary);
        }
    }
    out
}
