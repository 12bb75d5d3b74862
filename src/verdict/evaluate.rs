//! Evaluating parsed thresholds on a workload's result: the observed value of each metric, the
//! comparison, and the margin the score uses.
//!
//! Apart from `thresholds.rs` (the syntax, checked at validation time) because evaluation reads
//! the result document while parsing needs only the workload's tiers and operations.

use super::thresholds::{Cmp, CoherenceMetric, Metric, Stat, Threshold, TierFigure};
use crate::metrics::result::{LatencyStats, ThresholdResult, WorkloadResult};

impl Metric {
    /// Canonical name, as shown in reports.
    pub fn name(&self) -> String {
        match self {
            Metric::Latency { tier, op, stat } => {
                let stat = stat.name();
                match tier {
                    Some(t) => format!("{t}.{}.{stat}", op.name()),
                    None => format!("{}.{stat}", op.name()),
                }
            }
            Metric::HitRate { tier } => format!("{tier}.hit_rate"),
            Metric::BatchFullHitRate { tier } => format!("{tier}.batch_full_hit_rate"),
            Metric::PerKey { stat } => format!("mget.per_key.{}", stat.name()),
            Metric::ServedBy { tier, stat } => format!("served_by.{tier}.{}", stat.name()),
            Metric::TierFigure { tier, figure } => format!("{tier}.{}", figure.name()),
            Metric::Throughput => "throughput".into(),
            Metric::Errors => "errors".into(),
            Metric::OpErrors { op } => format!("{}.errors", op.name()),
            Metric::ErrorRate => "error_rate".into(),
            Metric::Coherence(c) => format!("coherence.{}", c.name()),
        }
    }

    /// The canonical unit of the metric's values.
    pub fn unit(&self) -> &'static str {
        match self {
            Metric::Latency { .. } | Metric::ServedBy { .. } | Metric::PerKey { .. } => "ns",
            Metric::HitRate { .. } | Metric::BatchFullHitRate { .. } | Metric::ErrorRate => "ratio",
            Metric::TierFigure {
                figure: TierFigure::MemoryPerEntry,
                ..
            } => "bytes",
            Metric::TierFigure {
                figure: TierFigure::StaleRate,
                ..
            } => "ratio",
            Metric::Coherence(CoherenceMetric::Lag(_)) => "ns",
            Metric::Coherence(_) => "count",
            Metric::TierFigure { .. } => "count",
            Metric::Throughput => "ops/s",
            Metric::Errors | Metric::OpErrors { .. } => "count",
        }
    }

    /// The metric's value in a workload's result, `None` when nothing was measured.
    pub fn observe(&self, w: &WorkloadResult) -> Option<f64> {
        match self {
            Metric::Latency { tier, op, stat } => {
                let ops = match tier {
                    None => &w.operations,
                    Some(name) => &w.tiers.iter().find(|t| &t.name == name)?.operations,
                };
                let r = ops.get(op.name())?;
                (r.count > 0).then(|| stat_value(&r.latency, *stat))?
            }
            Metric::HitRate { tier } => w.tiers.iter().find(|t| &t.name == tier)?.hit_rate,
            Metric::BatchFullHitRate { tier } => {
                w.tiers
                    .iter()
                    .find(|t| &t.name == tier)?
                    .batch
                    .as_ref()?
                    .full_hit_rate
            }
            Metric::PerKey { stat } => {
                let r = w.batches.as_ref()?.per_key.get("mget")?;
                (r.count > 0).then(|| stat_value(&r.latency, *stat))?
            }
            Metric::ServedBy { tier, stat } => {
                let r = w.served_by.get(tier)?;
                (r.count > 0).then(|| stat_value(&r.latency, *stat))?
            }
            Metric::TierFigure { tier, figure } => {
                let t = w.tiers.iter().find(|t| &t.name == tier)?;
                match figure {
                    TierFigure::MemoryPerEntry => t.memory.as_ref().map(|m| m.per_entry_bytes),
                    TierFigure::Entries => t.entries.map(|e| e as f64),
                    TierFigure::Errors => Some(t.errors as f64),
                    TierFigure::Stale => Some(t.stale as f64),
                    TierFigure::Corrupt => Some(t.corrupt as f64),
                    TierFigure::Evictions => t.evictions.map(|e| e as f64),
                    TierFigure::StaleRate => t.stale_rate,
                }
            }
            Metric::Coherence(metric) => {
                let c = w.coherence.as_ref()?;
                match metric {
                    CoherenceMetric::Lag(stat) => {
                        (c.lag.is_measured()).then(|| stat_value(&c.lag, *stat))?
                    }
                    CoherenceMetric::Sent => Some(c.sent as f64),
                    CoherenceMetric::Delivered => Some(c.delivered as f64),
                    CoherenceMetric::Lost => c.lost.map(|n| n as f64),
                    CoherenceMetric::Late => Some(c.late as f64),
                    CoherenceMetric::Flushes => Some(c.flushes as f64),
                }
            }
            Metric::Throughput => Some(w.throughput),
            Metric::Errors => Some(w.errors as f64),
            Metric::OpErrors { op } => Some(w.operations.get(op.name())?.errors as f64),
            Metric::ErrorRate => Some(w.error_rate),
        }
    }
}

fn stat_value(l: &LatencyStats, stat: Stat) -> Option<f64> {
    Some(match stat {
        Stat::Min => l.min_ns as f64,
        Stat::Mean => l.mean_ns,
        Stat::Stddev => l.stddev_ns,
        Stat::Max => l.max_ns as f64,
        Stat::Percentile(50.0) => l.p50_ns as f64,
        Stat::Percentile(90.0) => l.p90_ns as f64,
        Stat::Percentile(95.0) => l.p95_ns as f64,
        Stat::Percentile(99.0) => l.p99_ns as f64,
        Stat::Percentile(99.9) => l.p999_ns as f64,
        Stat::Percentile(p) => l.histogram().ok()?.value_at_percentile(p) as f64,
    })
}

impl Threshold {
    /// Checks the threshold against a workload's result. Unmeasured metrics fail.
    pub fn evaluate(&self, w: &WorkloadResult) -> ThresholdResult {
        let observed = self.metric.observe(w);
        ThresholdResult {
            text: self.text.clone(),
            metric: self.metric.name(),
            op: match self.cmp {
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
                Cmp::Eq => "==",
            }
            .into(),
            observed,
            limit: self.limit,
            unit: self.metric.unit().to_string(),
            passed: observed.is_some_and(|v| self.cmp.holds(v, self.limit)),
            source: None,
        }
    }
}
