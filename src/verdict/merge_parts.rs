//! The parts of a shard merge that add up figures: operation latencies (HDR histograms added),
//! tiers (counters summed), and time series (aligned by wall-clock second).

use std::collections::BTreeMap;

use crate::metrics::recorder::new_histogram;
use crate::metrics::result::{LatencyStats, OpResult, SecondResult, TierResult, WorkloadResult};

/// Adds operation results by name: counts summed, histograms added, statistics read off the sum.
pub fn merge_ops<'a>(
    parts: impl Iterator<Item = &'a BTreeMap<String, OpResult>>,
) -> BTreeMap<String, OpResult> {
    let mut sums: BTreeMap<String, (u64, u64, hdrhistogram::Histogram<u64>)> = BTreeMap::new();
    for part in parts {
        for (name, op) in part {
            let entry = sums
                .entry(name.clone())
                .or_insert_with(|| (0, 0, new_histogram()));
            entry.0 += op.count;
            entry.1 += op.errors;
            if let Ok(h) = op.latency.histogram() {
                let _ = entry.2.add(&h);
            }
        }
    }
    sums.into_iter()
        .map(|(name, (count, errors, h))| (name, merge_op(count, errors, &h)))
        .collect()
}

fn merge_op(count: u64, errors: u64, h: &hdrhistogram::Histogram<u64>) -> OpResult {
    OpResult {
        count,
        errors,
        latency: LatencyStats::from_histogram(h),
    }
}

fn add_op(into: &mut OpResult, other: &OpResult) {
    let mut h = into.latency.histogram().unwrap_or_else(|_| new_histogram());
    if let Ok(o) = other.latency.histogram() {
        let _ = h.add(&o);
    }
    *into = merge_op(into.count + other.count, into.errors + other.errors, &h);
}

/// Tiers by position: hits, misses, errors, stale and corrupt summed, hit rate recomputed,
/// latencies added. Entries of an in-process tier are summed (one cache per shard), of a server
/// the most any shard saw (they share it); memory per entry is not reported (the shards filled
/// the tiers at the same time).
pub fn merge_tiers(parts: &[&WorkloadResult]) -> Vec<TierResult> {
    let mut tiers = parts[0].tiers.clone();
    for (i, t) in tiers.iter_mut().enumerate() {
        for p in &parts[1..] {
            let Some(o) = p.tiers.get(i) else { continue };
            t.hits += o.hits;
            t.misses += o.misses;
            t.errors += o.errors;
            t.stale += o.stale;
            t.corrupt += o.corrupt;
            t.entries = match (t.kind.as_str(), t.entries, o.entries) {
                // Each shard's process has its own in-process cache: they add up.
                ("memory", Some(a), Some(b)) => Some(a + b),
                // A server's entries are the same ones every shard counted.
                _ => t.entries.max(o.entries),
            };
            add_op(&mut t.served, &o.served);
            if let (Some(a), Some(b)) = (t.pool_wait.as_mut(), o.pool_wait.as_ref()) {
                add_op(a, b);
            }
            if let (Some(a), Some(b)) = (t.batch.as_mut(), o.batch.as_ref()) {
                a.add(b);
            }
            if let (Some(a), Some(b)) = (t.compression.as_mut(), o.compression.as_ref()) {
                a.bytes_raw += b.bytes_raw;
                a.bytes_stored += b.bytes_stored;
                a.ratio = (a.bytes_stored > 0).then(|| a.bytes_raw as f64 / a.bytes_stored as f64);
                add_op(&mut a.compress, &b.compress);
                add_op(&mut a.decompress, &b.decompress);
            }
        }
        let lookups = t.hits + t.misses;
        t.hit_rate = (lookups > 0).then(|| t.hits as f64 / lookups as f64);
        t.memory = None;
        // Each shard's node counts span every shard's traffic (the windows overlap): summing
        // them would count it N times.
        t.nodes = None;
        t.operations = merge_ops(
            parts
                .iter()
                .filter_map(|p| p.tiers.get(i))
                .map(|x| &x.operations),
        );
    }
    tiers
}

/// Time series aligned by wall-clock second from `start` (Unix ms): operations and errors
/// summed; the mean weighted by operations; p50 and p99 the highest shard's (an upper bound: a
/// second's histogram is not kept in the document); hit rates weighted by operations.
pub fn merge_series(parts: &[&WorkloadResult], start: u64) -> Vec<SecondResult> {
    let mut out: Vec<SecondResult> = Vec::new();
    let mut weights: Vec<BTreeMap<String, (f64, f64)>> = Vec::new();
    for p in parts {
        let offset = p
            .started_ms
            .map_or(0, |s| ((s.saturating_sub(start) + 500) / 1000) as usize);
        for s in &p.timeseries {
            let at = s.second as usize + offset;
            if at >= out.len() {
                out.resize_with(at + 1, || empty_second(0));
                weights.resize_with(at + 1, BTreeMap::new);
            }
            let o = &mut out[at];
            o.second = at as u64;
            let total = (o.ops + s.ops).max(1) as f64;
            o.mean_ns = (o.mean_ns * o.ops as f64 + s.mean_ns * s.ops as f64) / total;
            o.ops += s.ops;
            o.errors += s.errors;
            o.stale += s.stale;
            o.p50_ns = o.p50_ns.max(s.p50_ns);
            o.p99_ns = o.p99_ns.max(s.p99_ns);
            for (tier, n) in &s.tier_errors {
                *o.tier_errors.entry(tier.clone()).or_default() += n;
            }
            for (tier, rate) in &s.hit_rates {
                let w = weights[at].entry(tier.clone()).or_default();
                w.0 += rate * s.ops as f64;
                w.1 += s.ops as f64;
            }
        }
    }
    for (o, w) in out.iter_mut().zip(weights) {
        o.hit_rates = w
            .into_iter()
            .filter(|(_, (_, n))| *n > 0.0)
            .map(|(tier, (sum, n))| (tier, sum / n))
            .collect();
    }
    for (i, o) in out.iter_mut().enumerate() {
        o.second = i as u64;
    }
    out
}

fn empty_second(second: u64) -> SecondResult {
    SecondResult {
        second,
        ops: 0,
        errors: 0,
        stale: 0,
        mean_ns: 0.0,
        p50_ns: 0,
        p99_ns: 0,
        tier_errors: BTreeMap::new(),
        hit_rates: BTreeMap::new(),
    }
}
