//! Summarizing a measurement into the result document: the engine's figures in, a
//! `WorkloadResult` out (latency statistics, per-tier figures, the time series, samples,
//! outages, the origin).
//!
//! The last step of measuring, so it is the engine's: it reads the engine's `Measurement` and
//! the plan's `Scenario`/`Workload`, which `metrics` may not import (its result document stays
//! plain data that imports nothing above it), and `app` only orders the stages.

use crate::metrics::batch_result::{BatchResult, TierBatchResult};
use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::{Measurement, PhaseMeasurement};
use crate::metrics::errors::{ErrorMessage, Outage};
use crate::metrics::recorder::{OpRecorder, Recorder, WINDOW_NS, new_histogram};
use crate::metrics::result::{
    CompressionResult, LatencyStats, MemoryResult, OpResult, OriginResult, PhaseResult,
    SecondResult, TierResult, WindowSamples, WorkloadResult,
};
use crate::metrics::second::SecondBucket;
use crate::scenario::plan::{Scenario, Workload};

/// Whether the workload replays a trace at its own pace (`trace.speed`): each request is due at
/// its recorded time and timed from then, an open loop whose schedule is the trace's.
fn paced(workload: &Workload) -> bool {
    matches!(
        workload.ops,
        crate::workload::ops::OpSource::Trace {
            speed_permille: Some(_),
            ..
        }
    )
}

fn phase_result(p: &PhaseMeasurement, workload: &Workload) -> PhaseResult {
    let ops = p.recorder.completed();
    let errors = p.recorder.errors();
    let secs = p.elapsed.as_secs_f64().max(1e-9);
    PhaseResult {
        name: p.phase.name.clone(),
        mode: if p.phase.rate.is_some() || paced(workload) {
            "open_loop"
        } else {
            "closed_loop"
        }
        .into(),
        concurrency: p.phase.concurrency,
        duration_s: p.elapsed.as_secs_f64(),
        ops,
        errors,
        intended_rate: p.phase.rate.map(|r| (r.start + r.end) / 2.0),
        achieved_rate: (ops + errors) as f64 / secs,
        operations: op_results(&p.recorder.ops, workload),
        client_cpu_s: Some(p.client_cpu_s),
        client_cores_busy: Some(p.client_cpu_s / secs),
    }
}

/// A warning when an open-loop phase issued less than 95% of the operations it was asked for:
/// then the run measured the generator (or its concurrency limit), not the cache.
fn generator_warning(p: &PhaseMeasurement) -> Option<String> {
    let rate = p.phase.rate?;
    let intended = (rate.start + rate.end) / 2.0;
    let achieved =
        (p.recorder.completed() + p.recorder.errors()) as f64 / p.elapsed.as_secs_f64().max(1e-9);
    (achieved < 0.95 * intended).then(|| {
        format!(
            "phase `{}`: asked for {intended:.0} ops/s, achieved {achieved:.0} ops/s; the load generator \
             could not keep up (raise `concurrency`, the most operations in flight, or lower the rate): \
             these figures measure tierbench, not the cache",
            p.phase.name
        )
    })
}

fn timeseries(names: &[String], rec: &Recorder) -> Vec<SecondResult> {
    rec.seconds
        .iter()
        .enumerate()
        .map(|(i, b)| (i, b, b.latency()))
        .map(|(i, b, latency)| SecondResult {
            second: i as u64,
            ops: b.ops,
            errors: b.errors,
            stale: b.stale,
            mean_ns: if latency.is_empty() {
                0.0
            } else {
                latency.mean()
            },
            p50_ns: if latency.is_empty() {
                0
            } else {
                latency.value_at_quantile(0.5)
            },
            tier_errors: rec
                .tiers
                .iter()
                .zip(names)
                .filter_map(|(t, name)| {
                    let n = t.errors_per_second.get(i).copied().unwrap_or(0);
                    (n > 0).then(|| (name.clone(), n))
                })
                .collect(),
            p99_ns: if latency.is_empty() {
                0
            } else {
                latency.value_at_quantile(0.99)
            },
            hit_rates: hit_rates(names, b),
        })
        .collect()
}

/// Each tier's hit rate in one second or window, for the tiers reads reached.
fn hit_rates(names: &[String], b: &SecondBucket) -> BTreeMap<String, f64> {
    names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| Some((name.clone(), b.hit_rate(i)?)))
        .collect()
}

/// End-to-end latency of reads by who served them: each tier's name, and `origin` for stacks.
fn served_by(
    scenario: &Scenario,
    workload: &Workload,
    rec: &Recorder,
) -> BTreeMap<String, OpResult> {
    let mut out: BTreeMap<String, OpResult> = workload
        .target
        .iter()
        .zip(&rec.tiers)
        .map(|(&t, r)| (scenario.tiers[t].name.clone(), op_result(&r.served, 0)))
        .collect();
    if workload.stacked {
        out.insert("origin".into(), op_result(&rec.origin_served, 0));
    }
    out
}

/// Per-operation results (only the operations the workload issues) plus `all`.
fn op_results(rec: &OpRecorder, workload: &Workload) -> BTreeMap<String, OpResult> {
    let mut out = BTreeMap::new();
    let mut all = new_histogram();
    let mut all_errors = 0;
    for op in workload.ops.ops() {
        let h = rec.latency_of(op);
        let _ = all.add(&*h);
        all_errors += rec.errors_of(op);
        out.insert(
            op.label(&workload.commands).to_string(),
            op_result(&h, rec.errors_of(op)),
        );
    }
    out.insert("all".to_string(), op_result(&all, all_errors));
    out
}

fn op_result(h: &Histogram<u64>, errors: u64) -> OpResult {
    OpResult {
        count: h.len(),
        errors,
        latency: LatencyStats::from_histogram(h),
    }
}

/// Each target tier's figures: lookups, entries, memory per entry, pool waits, compression,
/// call times (a lone tier's are the end-to-end ones: it was measured once) and batches.
fn tier_results(
    scenario: &Scenario,
    workload: &Workload,
    m: &Measurement,
    entries: Vec<Option<u64>>,
    operations: &BTreeMap<String, OpResult>,
) -> Vec<TierResult> {
    workload
        .target
        .iter()
        .zip(&m.recorder.tiers)
        .zip(entries)
        .zip(&m.memory)
        .map(|(((&t, rec), entries), memory)| {
            let lookups = rec.hits + rec.misses;
            TierResult {
                name: scenario.tiers[t].name.clone(),
                kind: scenario.tiers[t].kind_name().to_string(),
                hits: rec.hits,
                misses: rec.misses,
                hit_rate: (lookups > 0).then(|| rec.hits as f64 / lookups as f64),
                errors: rec.errors,
                entries,
                memory: memory.as_ref().map(|f| MemoryResult {
                    per_entry_bytes: f.per_entry,
                    entries_measured: f.entries_between,
                    method: f.method.clone(),
                }),
                pool_wait: (!rec.pool_wait.is_empty()).then(|| op_result(&rec.pool_wait, 0)),
                served: op_result(&rec.served, 0),
                stale: rec.stale,
                corrupt: rec.corrupt,
                stale_rate: (workload.verify && !rec.served.is_empty())
                    .then(|| rec.stale as f64 / rec.served.len() as f64),
                stale_age: rec.stale_age.as_ref().map(LatencyStats::from_histogram),
                compression: scenario.tiers[t].compression.map(|c| CompressionResult {
                    algorithm: c.name(),
                    bytes_raw: rec.bytes_raw,
                    bytes_stored: rec.bytes_stored,
                    ratio: (rec.bytes_stored > 0)
                        .then(|| rec.bytes_raw as f64 / rec.bytes_stored as f64),
                    compress: op_result(&rec.compress, 0),
                    decompress: op_result(&rec.decompress, 0),
                }),
                // A lone tier's call time is the end-to-end time: it was measured once.
                operations: if !workload.stacked {
                    operations.clone()
                } else {
                    op_results(&rec.calls, workload)
                },
                batch: TierBatchResult::from_counts(&rec.batch),
                evictions: None,
                nodes: None,
            }
        })
        .collect()
}

/// Summarizes a workload's measurement; `entries` per target tier come from the tiers themselves.
/// Thresholds are not evaluated here (see `thresholds`).
pub fn summarize(
    scenario: &Scenario,
    workload: &Workload,
    m: &Measurement,
    entries: Vec<Option<u64>>,
) -> WorkloadResult {
    let ops = m.recorder.completed();
    let errors = m.recorder.errors();
    let secs = m.elapsed.as_secs_f64();
    let names: Vec<String> = workload
        .target
        .iter()
        .map(|&t| scenario.tiers[t].name.clone())
        .collect();
    let operations = op_results(&m.recorder.ops, workload);
    let open_loop = paced(workload) || workload.phases.iter().any(|p| p.rate.is_some());
    let closed_loop = !paced(workload) && workload.phases.iter().any(|p| p.rate.is_none());
    let tiers = tier_results(scenario, workload, m, entries, &operations);
    WorkloadResult {
        name: workload.name.clone(),
        target: workload
            .target
            .iter()
            .map(|&t| scenario.tiers[t].name.clone())
            .collect(),
        mode: match (open_loop, closed_loop) {
            (true, true) => "mixed",
            (true, false) => "open_loop",
            _ => "closed_loop",
        }
        .into(),
        stacked: workload.stacked,
        concurrency: workload.concurrency,
        duration_s: secs,
        ops,
        throughput: if secs > 0.0 { ops as f64 / secs } else { 0.0 },
        errors,
        error_rate: if ops + errors > 0 {
            errors as f64 / (ops + errors) as f64
        } else {
            0.0
        },
        service: if open_loop {
            op_results(&m.recorder.service, workload)
        } else {
            BTreeMap::new()
        },
        phases: m.phases.iter().map(|p| phase_result(p, workload)).collect(),
        timeseries: timeseries(&names, &m.recorder),
        warnings: (m.phases.iter().filter_map(generator_warning))
            .chain(workload.notes.iter().cloned())
            .chain(m.warnings.iter().cloned())
            .chain(idle_tier_notes(workload, &names, &m.recorder))
            .collect(),
        repetitions: Vec::new(),
        statistics: BTreeMap::new(),
        outliers: None,
        samples: window_samples(&names, &m.recorder),
        score: None,
        grade: None,
        operations,
        served_by: served_by(scenario, workload, &m.recorder),
        batches: BatchResult::from_recorder(&m.recorder.batch, |h| op_result(h, 0)),
        tiers,
        thresholds: Vec::new(),
        passed: true,
        error_messages: error_messages(&names, &m.recorder),
        other_errors: m.recorder.error_log.other,
        outages: outages(&names, &m.recorder),
        origin: origin(scenario, workload, &m.recorder),
        coherence: m.coherence.as_ref().map(|c| c.result(ops)),
        failure: m.lost.clone(),
        started_ms: Some(m.started_ms),
    }
}

/// The distinct error messages, by tier name, most frequent first.
fn error_messages(names: &[String], rec: &Recorder) -> Vec<ErrorMessage> {
    let mut out: Vec<ErrorMessage> = rec
        .error_log
        .entries
        .iter()
        .map(|e| ErrorMessage {
            tier: names.get(e.tier).cloned().unwrap_or_default(),
            message: e.message.clone(),
            count: e.count,
            first_s: e.first_second as u64,
            last_s: e.last_second as u64,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_s.cmp(&b.first_s)));
    out
}

/// A stack's origin: its configured latency beside what the loads waited, when it has one.
fn origin(scenario: &Scenario, workload: &Workload, rec: &Recorder) -> Option<OriginResult> {
    let latency = &scenario.origin_latency;
    if !workload.stacked || latency.is_zero() {
        return None;
    }
    let (p50, p99) = latency.planned_p50_p99();
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Some(OriginResult {
        configured: latency.describe(),
        planned_p50_ns: nanos(p50),
        planned_p99_ns: nanos(p99),
        loads: rec.origin_wait.len(),
        wait: LatencyStats::from_histogram(&rec.origin_wait),
    })
}

/// The stretches in which no operation succeeded and operations failed, with the tiers that
/// erred in the seconds they touch.
fn outages(names: &[String], rec: &Recorder) -> Vec<Outage> {
    rec.spells
        .outages(rec.seconds.len() * 10)
        .into_iter()
        .map(|(from, to, errors)| Outage {
            tiers: rec
                .tiers
                .iter()
                .zip(names)
                .filter(|(t, _)| {
                    (from / 10..to.div_ceil(10))
                        .any(|s| t.errors_per_second.get(s).is_some_and(|&n| n > 0))
                })
                .map(|(_, name)| name.clone())
                .collect(),
            start_s: from as f64 / 10.0,
            length_s: (to - from) as f64 / 10.0,
            errors,
        })
        .collect()
}

/// Windows a run is cut into for its samples: at least this many ...
const MIN_WINDOWS: usize = 10;
/// ... of at least this many completed operations each.
const MIN_WINDOW_OPS: u64 = 1_000;

/// One window: consecutive buckets merged.
struct Window {
    ops: u64,
    seconds: f64,
    latency: Histogram<u64>,
    reads: SecondBucket,
}

/// Groups each run of consecutive buckets (`width` seconds each) into windows of at least
/// `MIN_WINDOW_OPS` completed operations; a run's leftover that falls short is dropped.
fn group(segments: &[&[SecondBucket]], width: f64) -> Vec<Window> {
    let mut out = Vec::new();
    for segment in segments {
        let mut current: Option<Window> = None;
        for b in *segment {
            let w = current.get_or_insert_with(|| Window {
                ops: 0,
                seconds: 0.0,
                latency: b.latency().into_owned(),
                reads: b.clone(),
            });
            if w.seconds > 0.0 {
                let _ = w.latency.add(b.latency().as_ref());
                w.reads.absorb(b);
            }
            w.ops += b.ops;
            w.seconds += width;
            if w.ops >= MIN_WINDOW_OPS {
                out.extend(current.take());
            }
        }
    }
    out
}

/// The run's samples: whole seconds grouped into windows of >= 1,000 operations when that gives
/// at least ten; otherwise tenth-of-a-second windows (kept for the first seconds of a workload),
/// grouped the same way, first and last (partial) tenth of each stretch left out.
fn window_samples(names: &[String], rec: &Recorder) -> WindowSamples {
    let whole = &rec.seconds[..rec.seconds.len().saturating_sub(1)];
    let by_seconds = group(&[whole], 1.0);
    let mut chosen = (by_seconds, "whole seconds");
    if chosen.0.len() < MIN_WINDOWS {
        // Stretches of consecutive non-empty tenths (repetitions leave gaps between them).
        let segments: Vec<&[SecondBucket]> = rec
            .windows
            .split(|b| b.ops + b.errors == 0)
            .filter(|s| s.len() > 2)
            .map(|s| &s[1..s.len() - 1])
            .collect();
        let tenths = group(&segments, WINDOW_NS as f64 / 1e9);
        if tenths.len() > chosen.0.len() {
            chosen = (tenths, "tenths of a second");
        }
    }
    let (windows, unit) = chosen;
    if windows.len() < 2 {
        return WindowSamples::default();
    }
    let mean_width = windows.iter().map(|w| w.seconds).sum::<f64>() / windows.len() as f64;
    let quantile = |w: &Window, q: f64| w.latency.value_at_quantile(q) as f64;
    WindowSamples {
        method: format!(
            "{} windows of {} grouped to >= {MIN_WINDOW_OPS} operations each (mean {mean_width:.2} s)",
            windows.len(),
            unit
        ),
        throughput: windows.iter().map(|w| w.ops as f64 / w.seconds).collect(),
        mean_ns: windows.iter().map(|w| w.latency.mean()).collect(),
        p50_ns: windows.iter().map(|w| quantile(w, 0.5)).collect(),
        p99_ns: windows.iter().map(|w| quantile(w, 0.99)).collect(),
        hit_rate: names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let rates = windows.iter().filter_map(|w| w.reads.hit_rate(i));
                (name.clone(), rates.collect::<Vec<f64>>())
            })
            .filter(|(_, rates)| rates.len() >= 2)
            .collect(),
    }
}

/// In a stack, a lower tier that was asked for keys but served none: say why, since a 0% hit
/// rate there usually means the tier above holds every key, not that this tier is broken.
fn idle_tier_notes<'a>(
    workload: &Workload,
    names: &'a [String],
    rec: &'a Recorder,
) -> impl Iterator<Item = String> + 'a {
    let stacked = workload.stacked;
    rec.tiers
        .iter()
        .enumerate()
        .skip(1)
        .filter(move |(_, t)| stacked && t.hits == 0 && t.misses > 0)
        .map(move |(i, t)| {
            format!(
                "tier `{}` served no reads ({} lookups, all misses): a read reaches it only when \
                 every tier above missed, and `{}` never lost a key this tier still held (give \
                 `{}` a size or a `ttl`), or this tier evicts first (give it more room); see \
                 docs/stack.md",
                names[i],
                t.misses,
                names[..i].join("`, `"),
                names[i - 1]
            )
        })
}
