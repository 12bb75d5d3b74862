//! Checks of a trace workload: the file opens and holds records, which of a recording's
//! workloads it replays (its `workload` column), and how many records that leaves for a
//! workload that replays to the end.

use std::sync::Arc;

use super::diagnostic::Problem;
use super::model::{ScenarioFile, TraceFile, WorkloadFile};
use super::plan::Stop;
use crate::workload::ops::OpSource;
use crate::workload::trace::{TraceFormat, validate_trace};

/// The workload's operations from its trace, the records it replays, and a note listing a
/// capture's commands that are not replayed (never dropped without a word).
pub(super) fn resolve_trace(
    w: &WorkloadFile,
    trace: &TraceFile,
    base: &str,
    dir: &std::path::Path,
    problems: &mut Vec<Problem>,
) -> Option<(OpSource, u64, Option<String>)> {
    let path = dir.join(&trace.path);
    let format = trace.format.unwrap_or(TraceFormat::Csv);
    let counts = match validate_trace(&path, format) {
        Ok(counts) => counts,
        Err(message) => {
            problems.push(
                Problem::new(format!("{base}/trace/path"), message)
                    .hint("paths are relative to the scenario file; formats: csv, oracle_general"),
            );
            return None;
        }
    };
    // A recording replays per workload: the one named, or the one of this workload's name.
    let only = match &trace.workload {
        Some(name) if counts.workloads.contains_key(name) => Some(name.clone()),
        Some(name) => {
            let names: Vec<&str> = counts.workloads.keys().map(String::as_str).collect();
            problems.push(
                Problem::new(
                    format!("{base}/trace/workload"),
                    format!("the trace records no workload `{name}`"),
                )
                .hint(match names.as_slice() {
                    [] => "the trace has no `workload` column: remove `workload`".to_string(),
                    names => format!("its workloads: {}", names.join(", ")),
                }),
            );
            return None;
        }
        None => counts
            .workloads
            .contains_key(&w.name)
            .then(|| w.name.clone()),
    };
    let records = only
        .as_ref()
        .and_then(|name| counts.workloads.get(name).copied())
        .unwrap_or(counts.total);
    let speed_permille = speed(w, trace, format, base, problems)?;
    let source = OpSource::Trace {
        path,
        format,
        only: only.map(Arc::from),
        speed_permille,
    };
    let skipped = (!counts.skipped.is_empty()).then(|| {
        let lines: u64 = counts.skipped.values().sum();
        let listed: Vec<String> = counts
            .skipped
            .iter()
            .map(|(command, n)| format!("{command} {n}"))
            .collect();
        format!(
            "trace {}: {lines} lines of commands with no cache operation were not replayed ({})",
            trace.path,
            listed.join(", ")
        )
    });
    Some((source, records, skipped))
}

/// `trace.speed` in thousandths (`Ok(None)`: as fast as the loop runs); `None` after a problem.
fn speed(
    w: &WorkloadFile,
    trace: &TraceFile,
    format: TraceFormat,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Option<Option<u32>> {
    let Some(text) = trace.speed.as_deref().map(str::trim) else {
        return Some(None);
    };
    if text == "max" {
        return Some(None);
    }
    let at = format!("{base}/trace/speed");
    let factor = text
        .strip_suffix('x')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite() && (0.001..=1000.0).contains(f));
    let Some(factor) = factor else {
        problems.push(
            Problem::new(&at, format!("`{text}` is not a speed"))
                .expected("a factor of the trace's own pace, 0.001x to 1000x, or `max`")
                .hint("`1x` replays as captured, `2x` twice as fast"),
        );
        return None;
    };
    if format == TraceFormat::Csv {
        problems.push(
            Problem::new(&at, "a CSV trace has no timestamps to pace it by").hint(
                "remove `speed`, or replay a MONITOR capture, a Twitter or an oracleGeneral trace",
            ),
        );
        return None;
    }
    if w.rate.is_some() || w.phases.iter().flatten().any(|p| p.rate.is_some()) {
        problems.push(
            Problem::new(
                &at,
                "`speed` paces the replay by the trace's timestamps; `rate` paces it too",
            )
            .hint("keep one of them"),
        );
        return None;
    }
    Some(Some((factor * 1000.0).round() as u32))
}

/// The stop of a trace workload with neither `ops` nor `duration`: every record after the
/// warmup's.
pub(super) fn to_the_end(
    file: &ScenarioFile,
    w: &WorkloadFile,
    base: &str,
    records: u64,
    problems: &mut Vec<Problem>,
) -> Option<Stop> {
    let warmup = w.warmup.or(file.defaults.warmup).unwrap_or(0);
    if records > warmup {
        return Some(Stop::Ops(records - warmup));
    }
    problems.push(
        Problem::new(
            format!("{base}/warmup"),
            format!("the warmup takes {warmup} records and the trace holds {records}: none is left to measure"),
        )
        .hint("lower `warmup`, or set `ops:` or `duration:`"),
    );
    None
}
