//! What a trace holds, counted before a run: its records, and for a recording each workload's
//! (what a trace workload replays to its end, and which records are its own).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::formats::{monitor_command, parse_text};
use super::{CHUNK_LINES, TraceFeed, TraceFormat, fill_csv, fill_monitor};

/// What a trace holds: its records, and for a recording, each workload's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceCounts {
    /// Records in the whole trace.
    pub total: u64,
    /// Records per recorded workload (a CSV's fifth column, `workload`), when it has one.
    pub workloads: std::collections::BTreeMap<String, u64>,
    /// A MONITOR capture's commands that are not replayed, with how many lines each.
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// Checks a trace before a run: it opens, and holds at least one record. Counts its records,
/// and each recorded workload's, streaming through the file once in bounded memory.
pub fn validate_trace(path: &Path, format: TraceFormat) -> Result<TraceCounts, String> {
    let file =
        File::open(path).map_err(|e| format!("cannot read trace {}: {e}", path.display()))?;
    let mut counts = TraceCounts::default();
    match format {
        TraceFormat::Csv | TraceFormat::Twitter | TraceFormat::RedisMonitor => {
            // Read as a run reads it: lines cut at `MAX_LINE`, a chunk at a time.
            let mut reader = BufReader::with_capacity(64 * 1024, file);
            let mut chunk = Vec::new();
            let mut pending = Vec::new();
            loop {
                chunk.clear();
                let lines = match format {
                    TraceFormat::RedisMonitor => {
                        fill_monitor(&mut reader, &mut chunk, CHUNK_LINES, &mut pending)
                    }
                    _ => fill_csv(&mut reader, &mut chunk, CHUNK_LINES),
                }
                .map_err(|e| format!("cannot read trace {}: {e}", path.display()))?;
                if lines == 0 {
                    break;
                }
                for line in chunk.split(|&b| b == b'\n') {
                    if let Ok(text) = std::str::from_utf8(line) {
                        count_line(&mut counts, format, text);
                    }
                }
            }
        }
        TraceFormat::OracleGeneral => {
            let feed = TraceFeed::new(path.to_path_buf(), format, None);
            let mut cursor = feed.cursor(0, u64::MAX);
            while cursor.next_record().is_some() {
                counts.total += 1;
            }
        }
    }
    if counts.total == 0 {
        return Err(format!(
            "trace {} holds no record (expected `key,op[,size]` lines or oracleGeneral records)",
            path.display()
        ));
    }
    Ok(counts)
}

/// Counts one line of a text trace: a record (and its recorded workload's), or a MONITOR
/// command that is not replayed.
fn count_line(counts: &mut TraceCounts, format: TraceFormat, text: &str) {
    if parse_text(format, text).is_some() {
        counts.total += 1;
        if let Some(workload) =
            csv_workload(text).filter(|w| format == TraceFormat::Csv && !w.is_empty())
        {
            *counts.workloads.entry(workload.to_string()).or_default() += 1;
        }
    } else if format == TraceFormat::RedisMonitor
        && let Some(command) = monitor_command(text)
    {
        *counts.skipped.entry(command).or_default() += 1;
    }
}

/// A CSV line's fifth column (`key,op,size,worker,workload`, as tierbench records), trimmed.
pub(super) fn csv_workload(line: &str) -> Option<&str> {
    Some(
        line.trim_end_matches(['\n', '\r'])
            .split(',')
            .nth(4)?
            .trim(),
    )
}
