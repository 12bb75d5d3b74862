//! Key/operation traces: replaying a recorded or public trace, and recording what a run issued.
//!
//! Two formats are read, streaming (a trace is never loaded whole): CSV lines `key,op[,size]`
//! (header optional, extra columns ignored: tierbench's own recordings replay as they are) and
//! libCacheSim's `oracleGeneral` binary format (24-byte little-endian records: u32 timestamp,
//! u64 object id, u32 object size, i64 next access; every request is a read).
//!
//! A phase reads its trace once, whatever the number of workers: one [`TraceFeed`] per workload
//! holds the open file behind a lock and hands each worker's [`TraceCursor`] the raw bytes of up
//! to [`CHUNK_LINES`] records at a time, copied into the cursor's own reused buffer; the cursor
//! parses them outside the lock and lends each record's key from that buffer. No allocation per
//! record, and memory stays bounded (a chunk per worker, a line is cut at [`MAX_LINE`] bytes)
//! whatever the trace's length. Every record is replayed by exactly one worker; which worker
//! gets which chunk depends on who asks first.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::op::Op;

mod counts;
mod formats;
mod record;
use counts::csv_workload;
pub use counts::{TraceCounts, validate_trace};
pub use record::{TraceWriter, assemble};

/// Records handed to a worker at a time (fewer when its share needs fewer).
pub const CHUNK_LINES: usize = 1024;
/// A chunk stops growing past this many bytes (lines are not split).
const CHUNK_BYTES: usize = 64 * 1024;
/// A CSV line longer than this is cut there (the rest is skipped), so no input needs more memory.
pub const MAX_LINE: usize = 64 * 1024;
/// Bytes of one oracleGeneral record.
const ORACLE_RECORD: usize = 24;

/// Trace file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// Text lines `key,op[,size]`; op is get, set, delete or touch; a header line is skipped.
    Csv,
    /// libCacheSim's oracleGeneral binary records (all reads).
    OracleGeneral,
    /// The Twitter/X production cache traces: `timestamp,key,key_size,value_size,client_id,
    /// operation,ttl` lines (memcached operations; value sizes kept, TTLs not).
    Twitter,
    /// A `redis-cli MONITOR` capture: GET, SET, SETEX, DEL, EXPIRE... become operations on
    /// their first key, with the value's size; other commands are counted and not replayed.
    RedisMonitor,
}

/// One request of a trace; the key is lent by the buffer it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRecord<'a> {
    /// The key, without the scenario's prefix.
    pub key: &'a str,
    /// The operation.
    pub op: Op,
    /// Value size for writes, when the trace gives one.
    pub size: Option<usize>,
}

/// A workload's trace, read once per phase and shared by the phase's workers.
pub struct TraceFeed {
    path: PathBuf,
    format: TraceFormat,
    /// Replay only the records of this recorded workload (a CSV's fifth column).
    only: Option<std::sync::Arc<str>>,
    state: Mutex<FeedState>,
}

struct FeedState {
    /// The phase the reader serves now.
    phase: Option<usize>,
    /// Whether the file was opened (once per feed: the warmup and the phases read on from where
    /// the one before stopped, as they were recorded).
    opened: bool,
    /// The file, `None` once it ended, failed or could not be opened.
    reader: Option<BufReader<File>>,
    /// A worker asked for records its share still needed and none were left.
    ended_early: bool,
}

impl TraceFeed {
    /// A feed of `path` (only the records of recorded workload `only`, when given); the file
    /// is opened when the warmup or the first phase asks for records.
    pub fn new(path: PathBuf, format: TraceFormat, only: Option<std::sync::Arc<str>>) -> TraceFeed {
        TraceFeed {
            path,
            format,
            only,
            state: Mutex::new(FeedState {
                phase: None,
                opened: false,
                reader: None,
                ended_early: false,
            }),
        }
    }

    /// A worker's cursor for `phase` (phases run one after another, each going on from where
    /// the one before stopped), allowed to take at most `share` records: a worker that stops at its share of the
    /// operations leaves no record taken and unreplayed.
    pub fn cursor(&self, phase: usize, share: u64) -> TraceCursor<'_> {
        TraceCursor {
            feed: self,
            phase,
            remaining: share,
            chunk: Vec::new(),
            pos: 0,
            digits: itoa::Buffer::new(),
        }
    }

    /// True when, in `phase`, the trace ended before a worker had its share of operations (the
    /// phase then stopped early); false while it has not, or for another phase than the last.
    pub fn ended_early(&self, phase: usize) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.phase == Some(phase) && state.ended_early
    }

    /// Replaces `chunk` with the next `lines` records' raw bytes of `phase`; returns how many
    /// lines (CSV, blank and malformed ones included) or records (oracleGeneral) it holds.
    fn take(&self, phase: usize, chunk: &mut Vec<u8>, lines: usize) -> usize {
        chunk.clear();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.phase != Some(phase) {
            state.phase = Some(phase);
            state.ended_early = false;
        }
        if !state.opened {
            state.opened = true;
            state.reader = File::open(&self.path)
                .ok()
                .map(|f| BufReader::with_capacity(64 * 1024, f));
        }
        let Some(reader) = state.reader.as_mut() else {
            return 0;
        };
        let taken = match self.format {
            TraceFormat::OracleGeneral => fill_oracle(reader, chunk, lines),
            _ => fill_csv(reader, chunk, lines),
        };
        match taken {
            Ok(n) if n > 0 => n,
            // The end, or an unreadable file: either way nothing more comes this phase.
            _ => {
                state.reader = None;
                0
            }
        }
    }

    /// Whether a CSV line belongs to what this feed replays: every line, or those of the
    /// recorded workload it replays.
    fn replays(&self, line: &str) -> bool {
        match &self.only {
            None => true,
            Some(only) => csv_workload(line) == Some(only),
        }
    }

    /// Notes that a worker's share outlasted the trace.
    fn note_ended_early(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ended_early = true;
    }
}

/// Appends up to `lines` whole lines (each cut at `MAX_LINE` bytes and ending in `\n`).
fn fill_csv(
    reader: &mut BufReader<File>,
    chunk: &mut Vec<u8>,
    lines: usize,
) -> std::io::Result<usize> {
    let mut n = 0;
    while n < lines && chunk.len() < CHUNK_BYTES {
        let read = (&mut *reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', chunk)?;
        if read == 0 {
            break;
        }
        n += 1;
        if chunk.last() != Some(&b'\n') {
            if read == MAX_LINE {
                reader.skip_until(b'\n')?;
            }
            chunk.push(b'\n');
        }
    }
    Ok(n)
}

/// Appends up to `records` whole oracleGeneral records (a truncated last one is dropped).
fn fill_oracle(
    reader: &mut BufReader<File>,
    chunk: &mut Vec<u8>,
    records: usize,
) -> std::io::Result<usize> {
    chunk.resize(records * ORACLE_RECORD, 0);
    let mut filled = 0;
    while filled < chunk.len() {
        match reader.read(&mut chunk[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    chunk.truncate(filled - filled % ORACLE_RECORD);
    Ok(chunk.len() / ORACLE_RECORD)
}

/// One worker's records of a phase: chunks taken from the [`TraceFeed`], parsed in place.
pub struct TraceCursor<'f> {
    feed: &'f TraceFeed,
    phase: usize,
    /// Records this worker may still take.
    remaining: u64,
    /// The current chunk's raw bytes (reused).
    chunk: Vec<u8>,
    /// Where the next record starts in `chunk`.
    pos: usize,
    /// An oracleGeneral key's digits.
    digits: itoa::Buffer,
}

/// Where a parsed record's key is.
enum KeyAt {
    /// Bytes of the chunk (CSV).
    Range(usize, usize),
    /// An object id, written in decimal (oracleGeneral).
    Id(u64),
}

impl TraceCursor<'_> {
    /// The next record of this worker; `None` when its share is done or the trace has ended.
    /// Lines that do not parse are skipped (`validate_trace` counts the records before a run).
    pub fn next_record(&mut self) -> Option<TraceRecord<'_>> {
        let (key, op, size) = self.advance()?;
        self.remaining -= 1;
        let key = match key {
            KeyAt::Range(start, end) => std::str::from_utf8(&self.chunk[start..end]).ok()?,
            KeyAt::Id(id) => self.digits.format(id),
        };
        Some(TraceRecord { key, op, size })
    }

    /// Finds the next record, taking a chunk from the feed when this one is used up.
    fn advance(&mut self) -> Option<(KeyAt, Op, Option<usize>)> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if self.pos >= self.chunk.len() {
                let want = self.remaining.min(CHUNK_LINES as u64) as usize;
                self.pos = 0;
                if self.feed.take(self.phase, &mut self.chunk, want) == 0 {
                    self.remaining = 0;
                    self.feed.note_ended_early();
                    return None;
                }
            }
            let rest = &self.chunk[self.pos..];
            match self.feed.format {
                TraceFormat::OracleGeneral => {
                    let record = rest.get(..ORACLE_RECORD)?;
                    self.pos += ORACLE_RECORD;
                    let id = u64::from_le_bytes(record[4..12].try_into().ok()?);
                    let size = u32::from_le_bytes(record[12..16].try_into().ok()?);
                    return Some((KeyAt::Id(id), Op::Get, Some(size as usize)));
                }
                text => {
                    let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                    let start = self.pos;
                    self.pos += len + 1;
                    let line = std::str::from_utf8(&rest[..len]).ok();
                    let parsed = line
                        .filter(|line| self.feed.replays(line))
                        .and_then(|line| formats::parse_text(text, line));
                    if let Some((key, op, size)) = parsed {
                        return Some((KeyAt::Range(start + key.start, start + key.end), op, size));
                    }
                }
            }
        }
    }
}

/// Parses `key,op[,size,...]`; `None` for a header, blank or malformed line.
pub fn parse_csv_line(line: &str) -> Option<TraceRecord<'_>> {
    parse_line(TraceFormat::Csv, line)
}

/// Parses one line of a text trace (`csv`, `twitter`, `redis_monitor`); `None` for a line that
/// is no request to replay.
pub fn parse_line(format: TraceFormat, line: &str) -> Option<TraceRecord<'_>> {
    let (key, op, size) = formats::parse_text(format, line)?;
    Some(TraceRecord {
        key: &line[key],
        op,
        size,
    })
}

/// The share of an open-loop phase's `ops` operations that `worker` of `workers` runs: every
/// `workers`-th, from its own index.
pub fn interleaved_share(ops: u64, worker: usize, workers: usize) -> u64 {
    let (worker, workers) = (worker as u64, workers.max(1) as u64);
    if ops > worker {
        (ops - worker - 1) / workers + 1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_parse_and_headers_are_skipped() {
        assert_eq!(parse_csv_line("key,op,size\n"), None);
        assert_eq!(
            parse_csv_line(" user:1 ,set,128,0,w\r\n"),
            Some(TraceRecord {
                key: "user:1",
                op: Op::Set,
                size: Some(128)
            })
        );
        assert_eq!(parse_csv_line("k,get").map(|r| r.op), Some(Op::Get));
        assert_eq!(parse_csv_line(""), None);
        assert_eq!(parse_csv_line("k,fetch"), None);
    }

    /// Every record of `feed`'s phase, taken by `workers` cursors in turn with these shares.
    fn drain(feed: &TraceFeed, phase: usize, shares: &[u64]) -> Vec<Vec<(String, Op)>> {
        let mut cursors: Vec<_> = shares.iter().map(|&s| feed.cursor(phase, s)).collect();
        let mut out = vec![Vec::new(); shares.len()];
        let mut live = true;
        while live {
            live = false;
            for (c, got) in cursors.iter_mut().zip(&mut out) {
                if let Some(r) = c.next_record() {
                    got.push((r.key.to_string(), r.op));
                    live = true;
                }
            }
        }
        out
    }

    #[test]
    fn workers_share_one_reading_of_a_csv_trace_and_together_issue_all_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("key,op\n");
        for i in 0..5000 {
            text.push_str(&format!(
                "k{i},{}\n",
                if i % 3 == 0 { "set,9" } else { "get" }
            ));
            if i % 1000 == 0 {
                text.push_str("garbage\n\n");
            }
        }
        text.push_str("last,delete"); // no final newline
        std::fs::write(&path, &text).unwrap();
        let feed = TraceFeed::new(path.clone(), TraceFormat::Csv, None);
        let parts = drain(&feed, 1, &[u64::MAX, u64::MAX, u64::MAX]);
        assert!(
            parts.iter().all(|p| !p.is_empty()),
            "every worker got chunks"
        );
        let mut all: Vec<_> = parts.concat();
        assert_eq!(all.len(), 5001);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 5001, "each record once");
        assert!(all.contains(&("last".into(), Op::Delete)));
        assert!(feed.ended_early(1));
        // The next phase goes on where the last stopped: here, at the end.
        assert_eq!(drain(&feed, 2, &[10, 10]).concat().len(), 0);
        assert!(feed.ended_early(2));
        // Shares cap what each worker takes, and a phase takes up where the one before stopped.
        let feed = TraceFeed::new(path.clone(), TraceFormat::Csv, None);
        let first = drain(&feed, 0, &[1000, 1000]).concat();
        let rest = drain(&feed, 1, &[1500, 1501]).concat();
        assert_eq!((first.len(), rest.len()), (2000, 3001));
        assert!(!feed.ended_early(1), "the shares took exactly the trace");
        let mut both: Vec<_> = first.into_iter().chain(rest).collect();
        both.sort();
        both.dedup();
        assert_eq!(both.len(), 5001, "no record twice, none left out");
        assert_eq!(
            validate_trace(&path, TraceFormat::Csv).map(|c| c.total),
            Ok(5001)
        );
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_one_still_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let long = "x".repeat(3 * MAX_LINE);
        std::fs::write(&path, format!("a,get\n{long},get\nb,set,{long}\nc,touch\n")).unwrap();
        let feed = TraceFeed::new(path, TraceFormat::Csv, None);
        let got = drain(&feed, 0, &[u64::MAX]).concat();
        let keys: Vec<_> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn shares_split_an_open_loop_phase() {
        assert_eq!(interleaved_share(10, 0, 3), 4);
        assert_eq!(interleaved_share(10, 1, 3), 3);
        assert_eq!(interleaved_share(10, 2, 3), 3);
        assert_eq!(interleaved_share(2, 2, 3), 0);
        assert_eq!(interleaved_share(u64::MAX, 1, 2), u64::MAX / 2);
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
        bytes.extend_from_slice(&[1, 2, 3]); // a truncated record is dropped
        std::fs::write(&path, bytes).unwrap();
        let feed = TraceFeed::new(path.clone(), TraceFormat::OracleGeneral, None);
        let mut r = feed.cursor(0, u64::MAX);
        assert_eq!(
            r.next_record().map(|x| (x.key.to_string(), x.op, x.size)),
            Some(("42".into(), Op::Get, Some(100)))
        );
        assert_eq!(r.next_record().map(|x| x.key.to_string()), Some("7".into()));
        assert_eq!(r.next_record(), None);
        assert_eq!(
            validate_trace(&path, TraceFormat::OracleGeneral).map(|c| c.total),
            Ok(2)
        );
        assert!(validate_trace(&dir.path().join("missing"), TraceFormat::Csv).is_err());
    }

    #[test]
    fn a_recording_replays_one_workload_s_records_and_counts_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.csv");
        std::fs::write(
            &path,
            "key,op,size,worker,workload\na,get,1,0,reads\nb,set,9,1,writes\nc,get,1,0,reads\n",
        )
        .unwrap();
        let counts = validate_trace(&path, TraceFormat::Csv).unwrap();
        assert_eq!(counts.total, 3);
        assert_eq!(counts.workloads.get("reads"), Some(&2));
        assert_eq!(counts.workloads.get("writes"), Some(&1));
        let feed = TraceFeed::new(path, TraceFormat::Csv, Some("reads".into()));
        let keys: Vec<String> = drain(&feed, 0, &[u64::MAX])
            .concat()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["a", "c"]);
    }
}
