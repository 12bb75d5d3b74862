//! What a comparison's user needs to know besides the verdicts: a time series that was still
//! moving (the cache still filling: its mean depends on how long the run lasted), two runs that
//! are not like for like (another scenario file, duration or host), and one side much noisier
//! than the other (a neighbour, or a server that was busy).

use crate::metrics::comparison::MetricComparison;
use crate::metrics::figures::samples;
use crate::metrics::result::{ResultDocument, WorkloadResult};

/// One side's coefficient of variation above this many times the other's is "much noisier".
const NOISIER: f64 = 3.0;

/// The warnings of comparing `current` with `baseline` over `metrics`.
pub(super) fn warnings(
    baseline: &ResultDocument,
    current: &ResultDocument,
    metrics: &[MetricComparison],
) -> Vec<String> {
    let mut out = Vec::new();
    if baseline.scenario.sha256 != current.scenario.sha256 {
        out.push(format!(
            "the baseline comes from another scenario file (sha256 {} against {}): the comparison \
             includes whatever changed in it",
            short(&baseline.scenario.sha256),
            short(&current.scenario.sha256)
        ));
    }
    let (bh, ch) = (&baseline.host, &current.host);
    if bh.cpu_model != ch.cpu_model || bh.cores != ch.cores {
        out.push(format!(
            "the baseline ran on another machine ({}, {} cores) than this run ({}, {} cores)",
            bh.cpu_model, bh.cores, ch.cpu_model, ch.cores
        ));
    }
    for w in &current.workloads {
        let Some(old) = baseline.workloads.iter().find(|b| b.name == w.name) else {
            continue;
        };
        // Runs of another length: neither the same duration nor the same operation count (a
        // count-bounded run of a slower system simply takes longer).
        let ratio = |a: f64, b: f64| a.max(b) / a.min(b).max(f64::MIN_POSITIVE);
        if ratio(w.duration_s, old.duration_s) > 1.25 && ratio(w.ops as f64, old.ops as f64) > 1.25
        {
            out.push(format!(
                "`{}` measured {:.1} s in the baseline and {:.1} s now: a cache still filling, or a \
                 drifting server, gives different means over different durations",
                w.name, old.duration_s, w.duration_s
            ));
        }
        for (side, doc_w) in [("baseline", old), ("this run", w)] {
            out.extend(drift(doc_w, side));
        }
        out.extend(noisier(old, w, metrics));
    }
    out
}

/// A warning when `w`'s throughput or hit rate moved between the first and last third of its
/// samples by more than the band of that metric.
fn drift(w: &WorkloadResult, side: &str) -> Option<String> {
    let mut metrics = vec!["throughput".to_string()];
    metrics.extend(w.tiers.iter().map(|t| format!("{}.hit_rate", t.name)));
    for metric in metrics {
        let xs = samples(w, &metric);
        if xs.len() < 6 || w.repetitions.len() >= 2 {
            continue;
        }
        let third = xs.len() / 3;
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let (first, last) = (mean(&xs[..third]), mean(&xs[xs.len() - third..]));
        let moved = if metric.ends_with("hit_rate") {
            (last - first).abs() > 0.02
        } else {
            first > 0.0 && ((last - first) / first).abs() > 0.10
        };
        if moved {
            return Some(format!(
                "`{}` ({side}): {metric} went from {} in the first third to {} in the last: the \
                 run had not settled (the cache was still filling): preload, or warm up longer",
                w.name,
                shown(&metric, first),
                shown(&metric, last)
            ));
        }
    }
    None
}

/// A warning when one side's samples of a compared metric are much noisier than the other's.
fn noisier(
    old: &WorkloadResult,
    new: &WorkloadResult,
    metrics: &[MetricComparison],
) -> Vec<String> {
    let cv = |xs: &[f64]| {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
        (m != 0.0).then(|| sd / m.abs())
    };
    let mut out = Vec::new();
    for m in metrics
        .iter()
        .filter(|m| m.workload == new.name && m.metric == "throughput")
    {
        let (a, b) = (samples(old, &m.metric), samples(new, &m.metric));
        if a.len() < 5 || b.len() < 5 {
            continue;
        }
        if let (Some(ca), Some(cb)) = (cv(&a), cv(&b))
            && ca.max(cb) > 0.03
            && ca.max(cb) > NOISIER * ca.min(cb).max(0.005)
        {
            let noisy = if cb > ca { "this run" } else { "the baseline" };
            out.push(format!(
                "`{}`: {noisy} is much noisier (its throughput varies {:.1}% against {:.1}%): a \
                 neighbour or a busy server; the verdict is as uncertain as the noisier side",
                new.name,
                100.0 * ca.max(cb),
                100.0 * ca.min(cb)
            ));
        }
    }
    out
}

fn shown(metric: &str, x: f64) -> String {
    if metric.ends_with("hit_rate") {
        format!("{:.1}%", 100.0 * x)
    } else {
        format!("{x:.0}/s")
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
