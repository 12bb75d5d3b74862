//! The exact names a run writes, known before its first write: the one list every guard,
//! cleanup and count of a shared server goes through.
//!
//! tierbench is pointed at servers and databases that hold other people's data, so it never
//! works by pattern ("every key starting with the prefix"): a prefix like `user:` would catch
//! `user:17` of the user. A run writes exactly `prefix + index` for `index` in `0..count`, and
//! `prefix + key` for each key of the traces it replays (custom commands and hashes touch the
//! operation's key only). Before the first write each shared tier checks that none of these
//! names exists (`claim`); at the end it deletes exactly these names. Both cost O(the run's
//! names), never O(the server's keys): no SCAN, no LIKE.
//!
//! The marker a run leaves while it goes on records this key space (`MarkerRecord`), so a later
//! run removes an interrupted run's names exactly, and a foreign key under the same prefix still
//! stops it.

use std::collections::HashSet;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::workload::trace::{TraceFormat, parse_line};

/// Names handed out at a time (one pipelined round of TYPE or UNLINK, one SQL `IN` list).
pub const NAME_BATCH: usize = 500;

/// The names one run writes.
#[derive(Debug, Clone)]
pub struct KeyNames {
    prefix: String,
    count: u64,
    traces: Vec<(PathBuf, TraceFormat)>,
    /// SHA-256 (hex, first 16 digits) over the traces' bytes; empty without traces.
    traces_digest: String,
    /// The values' mean size, bytes (for the memory a key space needs).
    mean_value_bytes: u64,
}

impl KeyNames {
    /// `prefix + 0..count` and `prefix + ` every key of `traces`.
    pub fn new(
        prefix: &str,
        count: u64,
        traces: Vec<(PathBuf, TraceFormat)>,
        mean_value_bytes: u64,
    ) -> KeyNames {
        let traces_digest = digest(&traces);
        KeyNames {
            prefix: prefix.to_string(),
            count,
            traces,
            traces_digest,
            mean_value_bytes,
        }
    }

    /// The generated names alone (`prefix + 0..count`), e.g. what an earlier run's marker records.
    pub fn generated(prefix: &str, count: u64) -> KeyNames {
        KeyNames::new(prefix, count, Vec::new(), 0)
    }

    /// The prefix every name starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How many generated names (`prefix + 0..count`).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The values' mean size in bytes.
    pub fn mean_value_bytes(&self) -> u64 {
        self.mean_value_bytes
    }

    /// The mean length of a generated name, bytes.
    pub fn mean_name_bytes(&self) -> u64 {
        let digits = self.count.max(1).ilog10() as u64 + 1;
        self.prefix.len() as u64 + digits
    }

    /// The marker's record of this key space, written by run `token`.
    pub fn record(&self, token: &str) -> MarkerRecord {
        MarkerRecord {
            run: token.to_string(),
            count: Some(self.count),
            traces: self.traces_digest.clone(),
            kept: false,
        }
    }

    /// The key space an earlier run's marker records, under this prefix: its generated names,
    /// and this run's trace names when it replayed the same traces. A marker that does not
    /// record its count (written by an older tierbench) stands for this run's own names.
    pub fn recorded_by(&self, marker: &MarkerRecord) -> (KeyNames, bool) {
        let Some(count) = marker.count else {
            return (self.clone(), true);
        };
        let same_traces = marker.traces == self.traces_digest;
        let traces = if same_traces {
            self.traces.clone()
        } else {
            Vec::new()
        };
        let names = KeyNames::new(&self.prefix, count, traces, self.mean_value_bytes);
        (names, same_traces || marker.traces.is_empty())
    }

    /// Every name, in batches of at most [`NAME_BATCH`], each name once.
    pub fn batches(&self) -> NameBatches<'_> {
        NameBatches {
            names: self,
            next_index: 0,
            trace: 0,
            reader: None,
            seen: HashSet::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

/// The SHA-256 of the traces' bytes (hex, 16 digits); empty without traces, `unreadable` when
/// one cannot be read (validation has read them all: it does not happen in a run).
fn digest(traces: &[(PathBuf, TraceFormat)]) -> String {
    if traces.is_empty() {
        return String::new();
    }
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (path, _) in traces {
        let Ok(mut file) = File::open(path) else {
            return "unreadable".into();
        };
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hash.update(&buf[..n]),
                Err(_) => return "unreadable".into(),
            }
        }
    }
    hash.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hands out a key space's names in batches, streaming the traces (never loaded whole).
pub struct NameBatches<'a> {
    names: &'a KeyNames,
    next_index: u64,
    trace: usize,
    reader: Option<BufReader<File>>,
    /// Hashes of the trace names handed out (a trace repeats its keys): each name goes once.
    seen: HashSet<u64>,
    hasher: std::collections::hash_map::RandomState,
}

impl NameBatches<'_> {
    /// Replaces `out` with the next batch; false when every name has been handed out.
    pub fn next_batch(&mut self, out: &mut Vec<String>) -> std::io::Result<bool> {
        out.clear();
        let names = self.names;
        while out.len() < NAME_BATCH && self.next_index < names.count {
            out.push(format!("{}{}", names.prefix, self.next_index));
            self.next_index += 1;
        }
        while out.len() < NAME_BATCH && self.trace < names.traces.len() {
            if !self.next_trace_name(out)? {
                self.trace += 1;
                self.reader = None;
            }
        }
        Ok(!out.is_empty())
    }

    /// Adds the current trace's next new name to `out`; false at the trace's end.
    fn next_trace_name(&mut self, out: &mut Vec<String>) -> std::io::Result<bool> {
        let (path, format) = &self.names.traces[self.trace];
        if self.reader.is_none() {
            self.reader = Some(BufReader::with_capacity(64 * 1024, File::open(path)?));
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(false);
        };
        loop {
            let key = match format {
                TraceFormat::Csv | TraceFormat::Twitter | TraceFormat::RedisMonitor => {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(false);
                    }
                    match parse_line(*format, &line) {
                        Some(record) => record.key.to_string(),
                        None => continue,
                    }
                }
                TraceFormat::OracleGeneral => {
                    let mut record = [0u8; 24];
                    if let Err(e) = reader.read_exact(&mut record) {
                        return match e.kind() {
                            std::io::ErrorKind::UnexpectedEof => Ok(false),
                            _ => Err(e),
                        };
                    }
                    let mut id = [0u8; 8];
                    id.copy_from_slice(&record[4..12]);
                    u64::from_le_bytes(id).to_string()
                }
            };
            // A trace key that is a generated index was handed out with the generated names.
            if key
                .parse::<u64>()
                .is_ok_and(|i| i < self.names.count && i.to_string() == key)
            {
                continue;
            }
            if self.seen.insert(self.hasher.hash_one(&key)) {
                out.push(format!("{}{key}", self.names.prefix));
                return Ok(true);
            }
        }
    }
}

/// What a run's marker records: which run wrote it and the key space that run writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MarkerRecord {
    /// The run token (`marker::run_token`) of the run that wrote it.
    pub run: String,
    /// The run's generated key count; `None` in a marker of an older tierbench.
    pub count: Option<u64>,
    /// The digest of the traces it replayed (empty: none).
    pub traces: String,
    /// The run ended with `keep: true`: its names were left on purpose.
    pub kept: bool,
}

impl MarkerRecord {
    /// The record's fields, in the order `from_values` reads them.
    pub const FIELDS: [&'static str; 4] = ["run", "count", "traces", "kept"];

    /// Reads a record from the values of [`MarkerRecord::FIELDS`] (a Redis `HMGET`'s reply).
    pub fn from_values(values: &[Option<String>]) -> Option<Self> {
        MarkerRecord::from_fields(
            MarkerRecord::FIELDS
                .iter()
                .zip(values)
                .filter_map(|(f, v)| Some((*f, v.as_deref()?))),
        )
    }

    /// The record as field/value pairs (a Redis hash's fields, or the lines of a SQL value).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("run", self.run.clone())];
        if let Some(count) = self.count {
            out.push(("count", count.to_string()));
        }
        out.push(("traces", self.traces.clone()));
        if self.kept {
            out.push(("kept", "1".into()));
        }
        out
    }

    /// Reads a record from field/value pairs; `None` when it names no run.
    pub fn from_fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let mut record = MarkerRecord::default();
        for (field, value) in pairs {
            match field {
                "run" => record.run = value.to_string(),
                "count" => record.count = value.parse().ok(),
                "traces" => record.traces = value.to_string(),
                "kept" => record.kept = value == "1",
                _ => {}
            }
        }
        (!record.run.is_empty()).then_some(record)
    }

    /// The record as text: one `field=value` line each (a SQL marker row's value).
    pub fn to_text(&self) -> String {
        self.fields()
            .iter()
            .map(|(f, v)| format!("{f}={v}\n"))
            .collect()
    }

    /// Reads [`MarkerRecord::to_text`]'s form.
    pub fn from_text(text: &str) -> Option<Self> {
        MarkerRecord::from_fields(text.lines().filter_map(|l| l.split_once('=')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(names: &KeyNames) -> Vec<String> {
        let mut out = Vec::new();
        let mut batches = names.batches();
        let mut batch = Vec::new();
        while batches.next_batch(&mut batch).unwrap() {
            assert!(batch.len() <= NAME_BATCH);
            out.extend(batch.iter().cloned());
        }
        out
    }

    #[test]
    fn generated_names_are_the_prefix_and_each_index_once() {
        let names = KeyNames::generated("user:", 1203);
        let got = all(&names);
        assert_eq!(got.len(), 1203);
        assert_eq!(got[0], "user:0");
        assert_eq!(got[1202], "user:1202");
        assert_eq!(names.mean_name_bytes(), 5 + 4);
    }

    #[test]
    fn trace_names_come_once_and_skip_generated_indices() {
        let dir = std::env::temp_dir().join(format!("tb-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(&path, "key,op\na,get\nb,set,10\na,get\n3,get\n03,get\n").unwrap();
        let names = KeyNames::new("p:", 5, vec![(path, TraceFormat::Csv)], 10);
        let got = all(&names);
        assert_eq!(
            got,
            ["p:0", "p:1", "p:2", "p:3", "p:4", "p:a", "p:b", "p:03"]
        );
        let record = names.record("run 1");
        assert_eq!(record.traces.len(), 16);
        assert_eq!(
            MarkerRecord::from_text(&record.to_text()),
            Some(record.clone())
        );
        let (earlier, complete) = names.recorded_by(&record);
        assert!(complete);
        assert_eq!(all(&earlier), got);
        let other = MarkerRecord {
            traces: "ffff".into(),
            count: Some(2),
            ..record
        };
        let (earlier, complete) = names.recorded_by(&other);
        assert!(!complete, "another trace's names cannot be listed");
        assert_eq!(all(&earlier), ["p:0", "p:1"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_marker_without_a_count_stands_for_this_runs_names() {
        let names = KeyNames::generated("p:", 3);
        let old = MarkerRecord::from_fields([("run", "tierbench pid 1")]).unwrap();
        assert_eq!(old.count, None);
        assert_eq!(all(&names.recorded_by(&old).0), ["p:0", "p:1", "p:2"]);
        assert_eq!(MarkerRecord::from_fields([("count", "3")]), None);
    }
}
