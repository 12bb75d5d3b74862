//! A phase's figures as the live exporter and page read them: counts per operation and
//! outcome, the latency sum and classic buckets, and each tier's hits, misses, errors and stale
//! reads; summed over workers and runs of a phase.

use hdrhistogram::Histogram;

use crate::metrics::recorder::Recorder;
use crate::workload::op::Op;

/// Upper bounds of the latency histogram's classic buckets, in seconds: 1, 2.5 and 5 times each
/// power of ten from 1 µs to 10 s (cache latencies, from an in-process hit to a stalled
/// server).
pub const BUCKETS_S: [f64; 22] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram of nanoseconds as counts per bucket of `BUCKETS_S` (not cumulative), the last
/// the overflow. One pass over the recorded values rather than a count per bucket bound (22
/// walks): 1.3M against 1.6M instructions a publish under callgrind.
pub fn classic_buckets(h: &Histogram<u64>) -> Vec<u64> {
    let mut buckets = vec![0u64; BUCKETS_S.len() + 1];
    for v in h.iter_recorded() {
        let ns = v.value_iterated_to() as f64;
        let i = BUCKETS_S.partition_point(|&b| b * 1e9 < ns);
        buckets[i] += v.count_at_value();
    }
    buckets
}

/// One operation kind's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpFigures {
    /// Completed operations.
    pub ok: u64,
    /// Failed operations.
    pub errors: u64,
    /// Sum of the completed operations' latencies, seconds.
    pub sum_s: f64,
    /// Completed operations per bucket of `BUCKETS_S` (not cumulative), the last the overflow.
    pub buckets: Vec<u64>,
}

/// One tier's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierFigures {
    /// Reads it served.
    pub hits: u64,
    /// Reads it missed.
    pub misses: u64,
    /// Its errors.
    pub errors: u64,
    /// Verified reads it served stale (`verify`, `coherence`).
    pub stale: u64,
}

/// A phase's (or one worker's share of a phase's) totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Per operation kind, by name.
    pub ops: Vec<(&'static str, OpFigures)>,
    /// Per target tier, in stack order.
    pub tiers: Vec<TierFigures>,
}

impl Figures {
    /// A recorder's totals (custom commands together, as `command`).
    pub fn of(rec: &Recorder) -> Figures {
        let mut figures = Figures::default();
        let kinds = rec.ops.latency.len().max(rec.ops.errors.len());
        for i in 0..kinds {
            let op = Op::from_index(i);
            let h = rec.ops.latency_of(op);
            let errors = rec.ops.errors_of(op);
            if h.is_empty() && errors == 0 {
                continue;
            }
            let o = OpFigures {
                ok: h.len(),
                errors,
                sum_s: h.mean() * h.len() as f64 / 1e9,
                buckets: classic_buckets(&h),
            };
            figures.add_op(op.name(), &o);
        }
        figures.tiers = rec
            .tiers
            .iter()
            .map(|t| TierFigures {
                hits: t.hits,
                misses: t.misses,
                errors: t.errors,
                stale: t.stale,
            })
            .collect();
        figures
    }

    /// Adds `o` into the figures of operation `name`.
    fn add_op(&mut self, name: &'static str, o: &OpFigures) {
        match self.ops.iter_mut().find(|(n, _)| *n == name) {
            Some((_, mine)) => {
                mine.ok += o.ok;
                mine.errors += o.errors;
                mine.sum_s += o.sum_s;
                let len = o.buckets.len().max(mine.buckets.len());
                mine.buckets.resize(len, 0);
                for (m, b) in mine.buckets.iter_mut().zip(&o.buckets) {
                    *m += b;
                }
            }
            None => self.ops.push((name, o.clone())),
        }
    }

    /// Adds `other` into these figures.
    pub fn add(&mut self, other: &Figures) {
        for (name, o) in &other.ops {
            self.add_op(name, o);
        }
        let len = self.tiers.len().max(other.tiers.len());
        self.tiers.resize(len, TierFigures::default());
        for (mine, t) in self.tiers.iter_mut().zip(&other.tiers) {
            mine.hits += t.hits;
            mine.misses += t.misses;
            mine.errors += t.errors;
            mine.stale += t.stale;
        }
    }
}
