//! `tierbench merge`: one exact result from the documents of a sharded run.
//!
//! Averaging percentiles across machines is wrong (the mean of two p99s is no one's p99), so the
//! merge adds the shards' HDR histograms and reads percentiles off the sum: exactly what one
//! histogram holding every shard's operations would say. Counters are summed, throughput is
//! taken over the union of the shards' measured windows, the time series are aligned by
//! wall-clock second, and thresholds and scores are judged again on the whole.
//!
//! It refuses (the caller exits 2) documents that are not one sharded run: different scenarios,
//! a shard missing or given twice, different workloads, or measured windows that do not overlap.

use std::collections::BTreeMap;

use super::merge_parts::{merge_ops, merge_series, merge_tiers};
use super::score::{score, verdict_grade};
use super::thresholds::{ThresholdContext, parse};
use crate::metrics::result::{OpResult, ResultDocument, ShardInfo, Summary, WorkloadResult};
use crate::workload::op::Op;

/// A shard's document and the file it came from (for messages).
pub struct ShardDocument {
    /// The file, as the user named it.
    pub name: String,
    /// Its content.
    pub doc: ResultDocument,
}

/// Merges the shards' documents into one, or says why they are not one sharded run.
pub fn merge(shards: Vec<ShardDocument>) -> Result<ResultDocument, String> {
    check(&shards)?;
    let count = shards
        .first()
        .and_then(|s| s.doc.shard.as_ref())
        .map_or(0, |s| s.count);
    let mut docs: Vec<ResultDocument> = shards.into_iter().map(|s| s.doc).collect();
    docs.sort_by_key(|d| d.shard.as_ref().map_or(0, |s| s.indices[0]));
    let mut merged = docs[0].clone();
    merged.workloads = (0..merged.workloads.len())
        .map(|i| merge_workload(&docs.iter().map(|d| &d.workloads[i]).collect::<Vec<_>>()))
        .collect();
    merged.duration_s = docs.iter().map(|d| d.duration_s).fold(0.0, f64::max);
    merged.started_at = docs
        .iter()
        .map(|d| d.started_at.clone())
        .min()
        .unwrap_or_default();
    merged.process.peak_rss_bytes = docs
        .iter()
        .map(|d| d.process.peak_rss_bytes)
        .max()
        .unwrap_or(0);
    merged.process.cpu_time_s = docs.iter().map(|d| d.process.cpu_time_s).sum();
    merged.notes = docs
        .iter()
        .flat_map(|d| d.notes.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // A shard's document carries its derived seed; the merged run is the scenario's.
    if let Some([index]) = docs[0].shard.as_ref().map(|s| s.indices.as_slice()) {
        merged.scenario.seed = crate::workload::seed::shard_seed(merged.scenario.seed, *index);
    }
    merged.comparison = None;
    merged.shard = Some(ShardInfo {
        indices: (0..count).collect(),
        count,
        start_at: docs[0].shard.as_ref().and_then(|s| s.start_at.clone()),
    });
    merged.summary = summary(&merged, &docs);
    Ok(merged)
}

/// The checks that make a set of documents one sharded run.
fn check(shards: &[ShardDocument]) -> Result<(), String> {
    let first = shards.first().ok_or("no result documents to merge")?;
    let mut seen: BTreeMap<usize, &str> = BTreeMap::new();
    let count = |s: &ShardDocument| s.doc.shard.as_ref().map(|i| i.count);
    for s in shards {
        let info = s.doc.shard.as_ref().ok_or_else(|| {
            format!(
                "{} is not a shard's result (run each shard with `--shard I/N`)",
                s.name
            )
        })?;
        if s.doc.scenario.sha256 != first.doc.scenario.sha256 {
            return Err(format!(
                "{} and {} come from different scenarios (sha256 {} and {}): merge only the \
                 shards of one run",
                first.name,
                s.name,
                short(&first.doc.scenario.sha256),
                short(&s.doc.scenario.sha256)
            ));
        }
        if count(s) != count(first) {
            return Err(format!(
                "{} is a shard of {} but {} of {}: merge only the shards of one run",
                first.name,
                count(first).unwrap_or(0),
                s.name,
                info.count
            ));
        }
        let names = |d: &ResultDocument| {
            d.workloads
                .iter()
                .map(|w| w.name.clone())
                .collect::<Vec<_>>()
        };
        if names(&s.doc) != names(&first.doc) {
            return Err(format!(
                "{} ran workloads {:?} but {} ran {:?} (a shard that failed or was stopped early \
                 cannot be merged)",
                first.name,
                names(&first.doc),
                s.name,
                names(&s.doc)
            ));
        }
        for &i in &info.indices {
            if let Some(other) = seen.insert(i, &s.name) {
                return Err(format!("shard {i} is given twice: {other} and {}", s.name));
            }
        }
    }
    let total = count(first).unwrap_or(0);
    let missing: Vec<String> = (0..total)
        .filter(|i| !seen.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard{} {} of {total} missing: the merge of a partial run would under-count \
             everything",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    for (w, workload) in first.doc.workloads.iter().enumerate() {
        let windows = shards
            .iter()
            .map(|s| {
                let x = &s.doc.workloads[w];
                x.started_ms
                    .map(|start| (start, start + (x.duration_s * 1000.0) as u64))
                    .ok_or_else(|| {
                        format!("{}: workload `{}` has no measured window (written by an older tierbench)", s.name, x.name)
                    })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let latest_start = windows.iter().map(|w| w.0).max().unwrap_or(0);
        let earliest_end = windows.iter().map(|w| w.1).min().unwrap_or(0);
        if latest_start >= earliest_end {
            return Err(format!(
                "workload `{}`: the shards' measured windows do not overlap (one ended before \
                 another began): start the shards together with `--start-at TIME`",
                workload.name
            ));
        }
    }
    Ok(())
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// One workload from every shard's.
/// The shards' origin waits added up exactly (their histograms summed).
fn merge_origin(parts: &[&WorkloadResult], w: &mut WorkloadResult) {
    let Some(origin) = w.origin.as_mut() else {
        return;
    };
    let waits: Vec<BTreeMap<String, OpResult>> = parts
        .iter()
        .filter_map(|p| p.origin.as_ref())
        .map(|o| {
            let wait = OpResult {
                count: o.loads,
                errors: 0,
                latency: o.wait.clone(),
            };
            BTreeMap::from([("wait".to_string(), wait)])
        })
        .collect();
    if let Some(sum) = merge_ops(waits.iter()).remove("wait") {
        origin.loads = sum.count;
        origin.wait = sum.latency;
    }
}

fn merge_workload(parts: &[&WorkloadResult]) -> WorkloadResult {
    let mut w = parts[0].clone();
    let start = parts.iter().filter_map(|p| p.started_ms).min().unwrap_or(0);
    let end = parts
        .iter()
        .filter_map(|p| p.started_ms.map(|s| s + (p.duration_s * 1000.0) as u64))
        .max()
        .unwrap_or(start);
    w.started_ms = Some(start);
    w.duration_s = (end - start) as f64 / 1000.0;
    w.ops = parts.iter().map(|p| p.ops).sum();
    w.errors = parts.iter().map(|p| p.errors).sum();
    w.throughput = if w.duration_s > 0.0 {
        w.ops as f64 / w.duration_s
    } else {
        0.0
    };
    let issued = w.ops + w.errors;
    w.error_rate = if issued > 0 {
        w.errors as f64 / issued as f64
    } else {
        0.0
    };
    w.concurrency = parts.iter().map(|p| p.concurrency).sum();
    w.operations = merge_ops(parts.iter().map(|p| &p.operations));
    w.served_by = merge_ops(parts.iter().map(|p| &p.served_by));
    w.service = merge_ops(parts.iter().map(|p| &p.service));
    w.tiers = merge_tiers(parts);
    if let Some(b) = w.batches.as_mut() {
        let same: Vec<_> = parts.iter().filter_map(|p| p.batches.as_ref()).collect();
        b.batches = same.iter().map(|x| x.batches).sum();
        b.keys = same.iter().map(|x| x.keys).sum();
        b.mean_size = b.keys as f64 / b.batches.max(1) as f64;
        b.max_size = same.iter().map(|x| x.max_size).max().unwrap_or(0);
        b.per_key = merge_ops(same.iter().map(|x| &x.per_key));
        b.tiers_visited.clear();
        for (k, n) in same.iter().flat_map(|x| x.tiers_visited.iter()) {
            *b.tiers_visited.entry(k.clone()).or_default() += n;
        }
    }
    for (i, phase) in w.phases.iter_mut().enumerate() {
        let same: Vec<_> = parts.iter().filter_map(|p| p.phases.get(i)).collect();
        phase.concurrency = same.iter().map(|p| p.concurrency).sum();
        phase.duration_s = same.iter().map(|p| p.duration_s).fold(0.0, f64::max);
        phase.ops = same.iter().map(|p| p.ops).sum();
        phase.errors = same.iter().map(|p| p.errors).sum();
        phase.intended_rate = same.iter().map(|p| p.intended_rate).sum();
        phase.achieved_rate = same.iter().map(|p| p.achieved_rate).sum();
        phase.operations = merge_ops(same.iter().map(|p| &p.operations));
        phase.client_cpu_s = same.iter().map(|p| p.client_cpu_s).sum();
        phase.client_cores_busy = same.iter().map(|p| p.client_cores_busy).sum();
    }
    w.timeseries = merge_series(parts, start);
    w.warnings = parts
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.warnings.iter().map(move |x| format!("shard {i}: {x}")))
        .collect();
    w.error_messages = parts
        .iter()
        .flat_map(|p| p.error_messages.clone())
        .collect();
    w.other_errors = parts.iter().map(|p| p.other_errors).sum();
    w.outages = parts.iter().flat_map(|p| p.outages.clone()).collect();
    merge_origin(parts, &mut w);
    w.failure = parts.iter().find_map(|p| p.failure.clone());
    // Per-run samples cannot be added up; comparisons of a merged run use its seconds.
    w.repetitions.clear();
    w.statistics.clear();
    w.outliers = None;
    w.samples = Default::default();
    judge(&mut w);
    w
}

/// Thresholds judged again on the merged workload (their text is in every shard's document).
fn judge(w: &mut WorkloadResult) {
    // Custom commands are the operations that are not built-ins (nor `all`), indexed in name
    // order here: a threshold names them, it never sees their index.
    let commands: Vec<String> = w
        .operations
        .keys()
        .filter(|k| *k != "all" && Op::from_name(k).is_none())
        .cloned()
        .collect();
    let ops: Vec<Op> = w
        .operations
        .keys()
        .filter_map(|k| Op::from_name(k))
        .chain((0..commands.len()).map(|i| Op::Command(i as u16)))
        .collect();
    let ctx = ThresholdContext {
        tiers: &w.target,
        ops: &ops,
        commands: &commands,
    };
    let judged: Vec<_> = w
        .thresholds
        .iter()
        .map(|old| match parse(&old.text, &ctx) {
            Ok(t) => {
                let mut new = t.evaluate(w);
                new.source = old.source.clone();
                new
            }
            Err(_) => old.clone(),
        })
        .collect();
    w.thresholds = judged;
    w.passed = w.thresholds.iter().all(|t| t.passed) && w.failure.is_none();
    w.score = score(&w.thresholds);
    w.grade = w.score.map(|s| verdict_grade(s, w.passed));
}

/// The merged run's summary: thresholds counted on the whole, interruptions of any shard kept.
fn summary(merged: &ResultDocument, docs: &[ResultDocument]) -> Summary {
    let thresholds = merged.workloads.iter().map(|w| w.thresholds.len()).sum();
    let failed = merged
        .workloads
        .iter()
        .flat_map(|w| &w.thresholds)
        .filter(|t| !t.passed)
        .count();
    let scores: Vec<f64> = merged.workloads.iter().filter_map(|w| w.score).collect();
    let overall = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    let failure = docs.iter().find_map(|d| d.summary.failure.clone());
    let timed_out = docs.iter().any(|d| d.summary.timed_out);
    let interrupted = docs.iter().find_map(|d| d.summary.interrupted.clone());
    let passed = failed == 0 && failure.is_none() && !timed_out && interrupted.is_none();
    Summary {
        passed,
        thresholds,
        failed,
        score: overall,
        grade: overall.map(|s| verdict_grade(s, passed)),
        timed_out,
        interrupted,
        failure_detail: docs.iter().find_map(|d| d.summary.failure_detail.clone()),
        failure,
        measured_s: merged.workloads.iter().map(|w| w.duration_s).sum::<f64>() + 0.0,
        ..Summary::default()
    }
}
