//! Measurements: per-worker recorders, and the result document they are summarized into.

pub mod host;
pub mod recorder;
pub mod result;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::engine::Measurement;
use crate::scenario::plan::{Scenario, Workload};
use recorder::{OpRecorder, Recorder, new_histogram};
use result::{LatencyStats, MemoryResult, OpResult, TierResult, WorkloadResult};

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
        let h: &Histogram<u64> = &rec.latency[op.index()];
        let _ = all.add(h);
        all_errors += rec.errors[op.index()];
        out.insert(op.name().to_string(), op_result(h, rec.errors[op.index()]));
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
    let operations = op_results(&m.recorder.ops, workload);
    let single = !workload.stacked;
    let tiers = workload
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
                // A lone tier's call time is the end-to-end time: it was measured once.
                operations: if single {
                    operations.clone()
                } else {
                    op_results(&rec.calls, workload)
                },
            }
        })
        .collect();
    WorkloadResult {
        name: workload.name.clone(),
        target: workload
            .target
            .iter()
            .map(|&t| scenario.tiers[t].name.clone())
            .collect(),
        mode: "closed_loop".into(),
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
        operations,
        served_by: served_by(scenario, workload, &m.recorder),
        tiers,
        thresholds: Vec::new(),
        passed: true,
    }
}
