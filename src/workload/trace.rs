//! Key/operation traces: replaying a recorded or public trace, and recording what a run issued.
//!
//! Two formats are read, streaming (a trace is never loaded whole): CSV lines `key,op[,size]`
//! (header optional, extra columns ignored: tierbench's own recordings replay as they are) and
//! libCacheSim's `oracleGeneral` binary format (24-byte little-endian records: u32 timestamp,
//! u64 object id, u32 object size, i64 next access; every request is a read). Each worker reads
//! the file itself and takes every `workers`-th record, so replay needs no shared state.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::op::Op;

/// Trace file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// Text lines `key,op[,size]`; op is get, set, delete or touch; a header line is skipped.
    Csv,
    /// libCacheSim's oracleGeneral binary records (all reads).
    OracleGeneral,
}

/// One request of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// The key, without the scenario's prefix.
    pub key: String,
    /// The operation.
    pub op: Op,
    /// Value size for writes, when the trace gives one.
    pub size: Option<usize>,
}

/// Reads one worker's share of a trace: records `worker`, `worker + workers`, ...
pub struct TraceReader {
    source: Source,
    worker: usize,
    workers: usize,
    position: usize,
    line: String,
}

enum Source {
    Csv(BufReader<File>),
    Oracle(BufReader<File>),
}

impl TraceReader {
    /// Opens `path` for `worker` of `workers`.
    pub fn open(
        path: &Path,
        format: TraceFormat,
        worker: usize,
        workers: usize,
    ) -> std::io::Result<TraceReader> {
        let file = BufReader::with_capacity(64 * 1024, File::open(path)?);
        Ok(TraceReader {
            source: match format {
                TraceFormat::Csv => Source::Csv(file),
                TraceFormat::OracleGeneral => Source::Oracle(file),
            },
            worker,
            workers: workers.max(1),
            position: 0,
            line: String::new(),
        })
    }

    /// The next record of this worker's share; `None` at the end of the trace. Lines that do not
    /// parse are skipped (they are counted by `validate_trace` before a run).
    pub fn next_record(&mut self) -> Option<TraceRecord> {
        loop {
            let record = self.read_any()?;
            let mine = self.position % self.workers == self.worker;
            if let Some(r) = record {
                self.position += 1;
                if mine {
                    return Some(r);
                }
            }
        }
    }

    /// Reads the next record of anyone: `Some(None)` for a line to skip, `None` at the end.
    fn read_any(&mut self) -> Option<Option<TraceRecord>> {
        match &mut self.source {
            Source::Csv(reader) => {
                self.line.clear();
                match reader.read_line(&mut self.line) {
                    Ok(0) | Err(_) => None,
                    Ok(_) => Some(parse_csv_line(&self.line)),
                }
            }
            Source::Oracle(reader) => {
                let mut buf = [0u8; 24];
                reader.read_exact(&mut buf).ok()?;
                let id = u64::from_le_bytes(buf[4..12].try_into().ok()?);
                let size = u32::from_le_bytes(buf[12..16].try_into().ok()?);
                Some(Some(TraceRecord {
                    key: id.to_string(),
                    op: Op::Get,
                    size: Some(size as usize),
                }))
            }
        }
    }
}

/// Parses `key,op[,size,...]`; `None` for a header, blank or malformed line.
pub fn parse_csv_line(line: &str) -> Option<TraceRecord> {
    let mut fields = line.trim_end_matches(['\n', '\r']).split(',');
    let key = fields.next()?.trim();
    let op = Op::from_name(fields.next()?.trim())?;
    let size = fields.next().and_then(|s| s.trim().parse().ok());
    (!key.is_empty()).then(|| TraceRecord {
        key: key.to_string(),
        op,
        size,
    })
}

/// Checks a trace before a run: it opens, and holds at least one record. Returns the count of
/// records (streaming through the file once).
pub fn validate_trace(path: &Path, format: TraceFormat) -> Result<u64, String> {
    let mut reader = TraceReader::open(path, format, 0, 1)
        .map_err(|e| format!("cannot read trace {}: {e}", path.display()))?;
    let mut count = 0u64;
    while reader.next_record().is_some() {
        count += 1;
    }
    if count == 0 {
        return Err(format!(
            "trace {} holds no record (expected `key,op[,size]` lines or oracleGeneral records)",
            path.display()
        ));
    }
    Ok(count)
}

/// Writes what one worker issued, as CSV lines that replay as a trace.
pub struct TraceWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl TraceWriter {
    /// A writer for one worker's part, next to the final file.
    pub fn create(
        base: &Path,
        workload: usize,
        phase: usize,
        worker: usize,
    ) -> std::io::Result<TraceWriter> {
        let path = part_path(base, workload, phase, worker);
        Ok(TraceWriter {
            out: BufWriter::with_capacity(64 * 1024, File::create(&path)?),
            path,
        })
    }

    /// Records one operation (outside the timed interval).
    #[inline]
    pub fn write(&mut self, key: &str, op: Op, size: usize, worker: usize, workload: &str) {
        let _ = writeln!(self.out, "{key},{},{size},{worker},{workload}", op.name());
    }

    /// Flushes and returns the part's path.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        self.out.flush()?;
        Ok(self.path)
    }
}

fn part_path(base: &Path, workload: usize, phase: usize, worker: usize) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".part-{workload:04}-{phase:04}-{worker:06}"));
    PathBuf::from(name)
}

/// Concatenates the parts (in workload, phase, worker order) into `base` with a header, and
/// removes them.
pub fn assemble(base: &Path, mut parts: Vec<PathBuf>) -> std::io::Result<()> {
    parts.sort();
    let mut out = BufWriter::new(File::create(base)?);
    writeln!(out, "key,op,size,worker,workload")?;
    for part in &parts {
        std::io::copy(&mut File::open(part)?, &mut out)?;
        std::fs::remove_file(part)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_parse_and_headers_are_skipped() {
        assert_eq!(parse_csv_line("key,op,size\n"), None);
        assert_eq!(
            parse_csv_line("user:1,set,128,0,w\n"),
            Some(TraceRecord {
                key: "user:1".into(),
                op: Op::Set,
                size: Some(128)
            })
        );
        assert_eq!(parse_csv_line("k,get").map(|r| r.op), Some(Op::Get));
        assert_eq!(parse_csv_line(""), None);
        assert_eq!(parse_csv_line("k,fetch"), None);
    }

    #[test]
    fn workers_split_a_csv_trace_and_together_issue_all_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "key,op\na,get\nb,set\nc,delete\nd,get\ne,touch\n").unwrap();
        let mut all = Vec::new();
        for w in 0..2 {
            let mut r = TraceReader::open(&path, TraceFormat::Csv, w, 2).unwrap();
            while let Some(rec) = r.next_record() {
                all.push((w, rec.key));
            }
        }
        assert_eq!(
            all,
            vec![
                (0, "a".into()),
                (0, "c".into()),
                (0, "e".into()),
                (1, "b".into()),
                (1, "d".into())
            ]
        );
        assert_eq!(validate_trace(&path, TraceFormat::Csv), Ok(5));
    }

    #[test]
    fn oracle_general_records_are_reads_of_their_object_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.oracleGeneral.bin");
        let mut bytes = Vec::new();
        for (ts, id, size) in [(1u32, 42u64, 100u32), (2, 7, 200)] {
            bytes.extend_from_slice(&ts.to_le_bytes());
            bytes.extend_from_slice(&id.to_le_bytes());
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(&(-1i64).to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let mut r = TraceReader::open(&path, TraceFormat::OracleGeneral, 0, 1).unwrap();
        assert_eq!(
            r.next_record().map(|x| (x.key, x.op, x.size)),
            Some(("42".into(), Op::Get, Some(100)))
        );
        assert_eq!(r.next_record().map(|x| x.key), Some("7".into()));
        assert_eq!(r.next_record(), None);
        assert!(validate_trace(&dir.path().join("missing"), TraceFormat::Csv).is_err());
    }
}
