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
    /// operation,ttl` lines (memcached operations; value sizes and a write's TTL kept).
    Twitter,
    /// A `redis-cli MONITOR` capture: GET, SET, SETEX, DEL, EXPIRE... become operations on
    /// their key, with the value's size; a multi-key MGET, DEL, UNLINK, EXISTS, TOUCH or MSET
    /// one operation per key; other commands are counted and not replayed.
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
    /// When it was made, in nanoseconds since the phase's first record (traces with
    /// timestamps: MONITOR captures, Twitter and oracleGeneral traces).
    pub at_ns: Option<u64>,
    /// A write's time to live in seconds, when the trace gives one (a Twitter trace's `ttl`
    /// column; 0 there means none).
    pub ttl_s: Option<u32>,
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
    /// The timestamp of the phase's first record (what `TraceRecord::at_ns` counts from).
    origin_ns: Option<u64>,
    /// Single-key lines of a split multi-key MONITOR command that the last chunk had no room
    /// for (`fill_monitor`): the next chunk starts with them.
    pending: Vec<u8>,
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
                origin_ns: None,
                pending: Vec::new(),
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
            origin_ns: None,
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
    fn take(&self, phase: usize, chunk: &mut Vec<u8>, lines: usize) -> (usize, Option<u64>) {
        chunk.clear();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.phase != Some(phase) {
            state.phase = Some(phase);
            state.ended_early = false;
            state.origin_ns = None;
        }
        if !state.opened {
            state.opened = true;
            state.reader = File::open(&self.path)
                .ok()
                .map(|f| BufReader::with_capacity(64 * 1024, f));
        }
        let state = &mut *state;
        let Some(reader) = state.reader.as_mut() else {
            return (0, state.origin_ns);
        };
        let taken = match self.format {
            TraceFormat::OracleGeneral => fill_oracle(reader, chunk, lines),
            TraceFormat::RedisMonitor => fill_monitor(reader, chunk, lines, &mut state.pending),
            _ => fill_csv(reader, chunk, lines),
        };
        match taken {
            Ok(n) if n > 0 => {
                // The phase's first chunk holds its earliest record.
                if state.origin_ns.is_none() {
                    state.origin_ns = self.first_timestamp(chunk);
                }
                (n, state.origin_ns)
            }
            // The end, or an unreadable file: either way nothing more comes this phase.
            _ => {
                state.reader = None;
                (0, state.origin_ns)
            }
        }
    }

    /// The timestamp of the first record in `chunk` that this feed replays.
    fn first_timestamp(&self, chunk: &[u8]) -> Option<u64> {
        match self.format {
            TraceFormat::OracleGeneral => chunk
                .get(..4)
                .map(|t| u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]])) * 1_000_000_000),
            text => chunk
                .split(|&b| b == b'\n')
                .filter_map(|line| std::str::from_utf8(line).ok())
                .filter(|line| self.replays(line) && formats::parse_text(text, line).is_some())
                .find_map(|line| formats::timestamp_ns(text, line)),
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
pub(super) fn fill_csv(
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

/// `fill_csv` for a MONITOR capture, with each multi-key command (`MGET a b`, `DEL a b`, `MSET
/// a 1 b 2`...) split into one single-key line per key (`formats::split_monitor`), so that a
/// line is a record and a worker's share counts keys. Lines that do not fit in `lines` wait in
/// `pending` and start the next chunk: every key is replayed once, by one worker.
pub(super) fn fill_monitor(
    reader: &mut BufReader<File>,
    chunk: &mut Vec<u8>,
    lines: usize,
    pending: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut n = take_lines(pending, chunk, lines);
    let mut split = Vec::new();
    while n < lines && chunk.len() < CHUNK_BYTES {
        let start = chunk.len();
        if fill_csv(reader, chunk, 1)? == 0 {
            break;
        }
        split.clear();
        let keys = std::str::from_utf8(&chunk[start..]).map_or(0, |line| {
            formats::split_monitor(line.trim_end(), &mut split)
        });
        if keys == 0 {
            n += 1;
            continue;
        }
        chunk.truncate(start);
        pending.extend_from_slice(&split);
        n += take_lines(pending, chunk, lines - n);
    }
    Ok(n)
}

/// Moves up to `lines` whole lines from the front of `from` to the end of `to`; how many.
fn take_lines(from: &mut Vec<u8>, to: &mut Vec<u8>, lines: usize) -> usize {
    let mut taken = 0;
    let mut end = 0;
    while taken < lines && end < from.len() {
        end += from[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(from.len() - end, |p| p + 1);
        taken += 1;
    }
    to.extend(from.drain(..end));
    taken
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
    /// The phase's first timestamp, as the feed said with the last chunk.
    origin_ns: Option<u64>,
}

/// A parsed record: where its key is, its operation, size, timestamp and ttl.
type Found = (KeyAt, Op, Option<usize>, Option<u64>, Option<u32>);

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
        let (key, op, size, at, ttl_s) = self.advance()?;
        self.remaining -= 1;
        let at_ns = at.map(|t| t.saturating_sub(self.origin_ns.unwrap_or(t)));
        let key = match key {
            KeyAt::Range(start, end) => std::str::from_utf8(&self.chunk[start..end]).ok()?,
            KeyAt::Id(id) => self.digits.format(id),
        };
        Some(TraceRecord {
            key,
            op,
            size,
            at_ns,
            ttl_s,
        })
    }

    /// Finds the next record, taking a chunk from the feed when this one is used up.
    fn advance(&mut self) -> Option<Found> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if self.pos >= self.chunk.len() {
                let want = self.remaining.min(CHUNK_LINES as u64) as usize;
                self.pos = 0;
                let (taken, origin) = self.feed.take(self.phase, &mut self.chunk, want);
                self.origin_ns = origin;
                if taken == 0 {
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
                    let at = u32::from_le_bytes(record[0..4].try_into().ok()?);
                    let id = u64::from_le_bytes(record[4..12].try_into().ok()?);
                    let size = u32::from_le_bytes(record[12..16].try_into().ok()?);
                    let at = Some(u64::from(at) * 1_000_000_000);
                    return Some((KeyAt::Id(id), Op::Get, Some(size as usize), at, None));
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
                        let at = line.and_then(|line| formats::timestamp_ns(text, line));
                        let ttl = line.and_then(|line| formats::ttl_s(text, op, line));
                        let key = KeyAt::Range(start + key.start, start + key.end);
                        return Some((key, op, size, at, ttl));
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
        at_ns: None,
        ttl_s: formats::ttl_s(format, op, line),
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
mod tests;
