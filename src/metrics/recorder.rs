//! Per-worker recorders: HDR histograms (nanoseconds) and counters, merged after the run.
//!
//! Each worker owns its recorder outright, so recording is a plain array increment with no lock
//! and no atomic; workers' recorders are merged with `Histogram::add` at the end. Histograms start
//! at the smallest size that keeps full resolution up to 2 µs (16 KB) and grow with the largest
//! value they hold (rarely: once per new power of two of the maximum), and an operation's
//! histograms exist only once the worker has issued it: a worker costs what it records, not
//! every operation's histogram sized for 1 ms (~90 KB each, ~6 MB a worker, 12 GiB for
//! `concurrency: 2000` before this). Memory stays flat however many operations run.

use hdrhistogram::Histogram;

pub use super::error_log::{ErrorEntry, ErrorLog};
use super::second::{SecondBucket, SeriesSink};
use crate::workload::op::Op;

pub use super::histogram::{LazyHistogram, SIGNIFICANT_DIGITS, new_histogram, record};
pub use spool::{SPOOL_FROM_WORKERS, SharedLatencies, Slot};

mod spool;

/// Latency of each operation kind, and its errors.
#[derive(Clone)]
pub struct OpRecorder {
    /// One histogram per operation, indexed by `Op::index`: the built-ins, then the custom
    /// commands; made the first time an operation of that index (or a higher one) is recorded.
    pub latency: Vec<Histogram<u64>>,
    /// Failed operations per kind (not in the histograms), indexed like `latency`.
    pub errors: Vec<u64>,
}

impl OpRecorder {
    fn new(commands: usize) -> OpRecorder {
        OpRecorder {
            latency: Vec::new(),
            errors: vec![0; Op::COUNT + commands],
        }
    }

    /// The histogram of `op` (empty for an operation never recorded).
    pub fn latency_of(&self, op: Op) -> std::borrow::Cow<'_, Histogram<u64>> {
        match self.latency.get(op.index()) {
            Some(h) => std::borrow::Cow::Borrowed(h),
            None => std::borrow::Cow::Owned(new_histogram()),
        }
    }

    /// The failed operations of `op`.
    pub fn errors_of(&self, op: Op) -> u64 {
        self.errors.get(op.index()).copied().unwrap_or(0)
    }

    /// Records a completed operation.
    #[inline]
    pub fn record(&mut self, op: Op, nanos: u64) {
        self.record_index(op.index(), nanos);
    }

    /// Records a completed operation of index `i` (`Op::index`).
    #[inline]
    pub fn record_index(&mut self, i: usize, nanos: u64) {
        if i >= self.latency.len() {
            self.grow(i);
        }
        record(&mut self.latency[i], nanos);
    }

    /// Records a failed operation.
    #[inline]
    pub fn record_error(&mut self, op: Op) {
        let i = op.index();
        if i >= self.errors.len() {
            self.grow(i);
        }
        self.errors[i] += 1;
    }

    /// Makes room for operation `i`: its histogram is made the first time it is recorded (once
    /// per kind and worker, a cold path after the timer stopped).
    #[cold]
    fn grow(&mut self, i: usize) {
        if self.latency.len() <= i {
            self.latency.resize_with(i + 1, new_histogram);
        }
        if self.errors.len() <= i {
            self.errors.resize(i + 1, 0);
        }
    }

    fn merge(&mut self, other: &OpRecorder) {
        let kinds = other.latency.len().max(other.errors.len());
        if kinds > 0 {
            self.grow(kinds - 1);
        }
        for (a, b) in self.latency.iter_mut().zip(&other.latency) {
            // Both auto-resize, so adding cannot run out of range.
            let _ = a.add(b);
        }
        for (a, b) in self.errors.iter_mut().zip(&other.errors) {
            *a += b;
        }
    }
}

/// What one tier saw inside a workload.
#[derive(Clone)]
pub struct TierRecorder {
    /// Time spent in this tier's calls, per operation (recorded for stacks; a lone tier's call
    /// time is the workload's end-to-end latency).
    pub calls: OpRecorder,
    /// Lookups that found the key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Calls that failed, per second of the workload's time series.
    pub errors_per_second: Vec<u64>,
    /// Time spent waiting for a pooled connection (SQL tiers), per call that waited.
    pub pool_wait: LazyHistogram,
    /// End-to-end latency of the reads this tier served.
    pub served: LazyHistogram,
    /// Reads it served that were older than the key's last completed write (verify mode).
    pub stale: u64,
    /// How long after the key's latest completed write each stale read came (verify mode;
    /// made on the first stale read: most recorders never see one).
    pub stale_age: Option<Histogram<u64>>,
    /// Reads it served whose value belonged to another key or did not parse (verify mode).
    pub corrupt: u64,
    /// Time spent compressing values for this tier (compressed tiers).
    pub compress: LazyHistogram,
    /// Time spent decompressing what it returned.
    pub decompress: LazyHistogram,
    /// Bytes given to the compressor.
    pub bytes_raw: u64,
    /// Bytes it produced (what the tier stored).
    pub bytes_stored: u64,
    /// Batch calls and whole-batch hits (`metrics::batch`).
    pub batch: super::batch::TierBatch,
}

impl TierRecorder {
    fn new() -> TierRecorder {
        TierRecorder {
            calls: OpRecorder::new(0),
            hits: 0,
            misses: 0,
            errors: 0,
            errors_per_second: Vec::new(),
            pool_wait: LazyHistogram::default(),
            served: LazyHistogram::default(),
            stale: 0,
            stale_age: None,
            corrupt: 0,
            compress: LazyHistogram::default(),
            decompress: LazyHistogram::default(),
            bytes_raw: 0,
            bytes_stored: 0,
            batch: super::batch::TierBatch::default(),
        }
    }

    /// Counts one lookup.
    #[inline]
    pub fn count_lookup(&mut self, hit: bool) {
        if hit {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
    }
}

/// Everything one worker measured in one phase.
#[derive(Clone)]
pub struct Recorder {
    /// End-to-end latency per operation (open loop: from the intended start).
    pub ops: OpRecorder,
    /// Service time per operation in open loop (from the actual start); empty in closed loop.
    pub service: OpRecorder,
    /// Per second since the workload's measurement started.
    pub seconds: Vec<SecondBucket>,
    /// `--record-trace` part files this worker wrote.
    pub trace_parts: Vec<std::path::PathBuf>,
    /// Per target tier, in stack order.
    pub tiers: Vec<TierRecorder>,
    /// End-to-end latency of reads that every tier missed and the origin served (stacks).
    pub origin_served: LazyHistogram,
    /// How long each origin load actually waited (stacks with an origin latency), to compare
    /// with the configured distribution.
    pub origin_wait: LazyHistogram,
    /// The distinct error messages, with counts and when they were seen.
    pub error_log: ErrorLog,
    /// Raw clock reading of second 0 of the time series (set by the loop that owns this recorder).
    pub series_origin: u64,
    /// The workload's shared time series, where finished seconds go (measured phases only).
    pub series_sink: Option<std::sync::Arc<SeriesSink>>,
    /// Tenth-of-a-second windows of the first `WINDOW_HORIZON_S` seconds, by absolute window
    /// index (`window_base` is the index of the first): the samples a short run is judged by.
    /// With a `series_sink` (measured phases) only the current one: finished ones go there.
    pub windows: Vec<SecondBucket>,
    /// Index of `windows[0]` (tenths of a second since the time series' second 0).
    pub window_base: u64,
    /// Batch operations' own figures (`metrics::batch`).
    pub batch: super::batch::BatchRecorder,
    /// Stretches without a success, which outages are found in (`metrics::spells`).
    pub spells: super::spells::FailureSpells,
    /// Reads the origin served (what `origin_served` counts when this recorder keeps its own
    /// histograms): the seed of each origin load's latency.
    pub origin_reads: u64,
    /// Latencies held for the phase's shared recorder (`recorder/spool.rs`), when spooling.
    spool: Option<spool::Spool>,
}

/// Width of a sample window: a tenth of a second.
pub const WINDOW_NS: u64 = 100_000_000;
/// Windows are kept for the first 12 seconds of a workload's time series only (memory stays
/// bounded); a longer run is judged by its whole seconds.
pub const WINDOW_HORIZON_S: usize = 12;

impl Recorder {
    /// An empty recorder for a stack of `tiers` tiers (and no custom commands).
    pub fn new(tiers: usize) -> Recorder {
        Recorder::with_commands(tiers, 0)
    }

    /// An empty recorder for a stack of `tiers` tiers and a scenario of `commands` custom
    /// commands (their error counts are sized up front; histograms come with the first record).
    pub fn with_commands(tiers: usize, commands: usize) -> Recorder {
        Recorder {
            ops: OpRecorder::new(commands),
            service: OpRecorder::new(commands),
            seconds: Vec::new(),
            trace_parts: Vec::new(),
            tiers: (0..tiers).map(|_| TierRecorder::new()).collect(),
            origin_served: LazyHistogram::default(),
            origin_wait: LazyHistogram::default(),
            error_log: ErrorLog::default(),
            series_origin: 0,
            series_sink: None,
            windows: Vec::new(),
            window_base: 0,
            batch: super::batch::BatchRecorder::new(tiers),
            spells: super::spells::FailureSpells::default(),
            origin_reads: 0,
            spool: None,
        }
    }

    /// Adds another worker's measurements.
    pub fn merge(&mut self, other: &Recorder) {
        self.ops.merge(&other.ops);
        self.service.merge(&other.service);
        self.trace_parts.extend(other.trace_parts.iter().cloned());
        if self.seconds.len() < other.seconds.len() {
            self.seconds
                .resize_with(other.seconds.len(), SecondBucket::empty);
        }
        for (a, b) in self.seconds.iter_mut().zip(&other.seconds) {
            a.absorb(b);
        }
        for (a, b) in self.tiers.iter_mut().zip(&other.tiers) {
            a.calls.merge(&b.calls);
            a.hits += b.hits;
            a.misses += b.misses;
            a.errors += b.errors;
            add_series(&mut a.errors_per_second, &b.errors_per_second);
            a.pool_wait.merge(&b.pool_wait);
            a.served.merge(&b.served);
            a.stale += b.stale;
            if let Some(theirs) = &b.stale_age {
                let _ = a.stale_age.get_or_insert_with(new_histogram).add(theirs);
            }
            a.corrupt += b.corrupt;
            a.compress.merge(&b.compress);
            a.decompress.merge(&b.decompress);
            a.bytes_raw += b.bytes_raw;
            a.bytes_stored += b.bytes_stored;
            a.batch.merge(&b.batch);
        }
        self.batch.merge(&other.batch);
        self.origin_served.merge(&other.origin_served);
        self.origin_wait.merge(&other.origin_wait);
        self.error_log.merge(&other.error_log);
        self.spells.merge(&other.spells);
        self.origin_reads += other.origin_reads;
        self.merge_windows(other);
    }

    /// Adds another recorder's windows, aligned by absolute window index.
    fn merge_windows(&mut self, other: &Recorder) {
        self.absorb_windows(other.window_base, &other.windows);
    }

    /// Adds `windows`, the first of which is absolute window `base` (the workload's shared
    /// windows come with base 0).
    pub fn absorb_windows(&mut self, base: u64, windows: &[SecondBucket]) {
        if windows.is_empty() {
            return;
        }
        if self.windows.is_empty() {
            self.windows = windows.to_vec();
            self.window_base = base;
            return;
        }
        if base < self.window_base {
            let shift = (self.window_base - base) as usize;
            let mut grown: Vec<SecondBucket> = (0..shift).map(|_| SecondBucket::empty()).collect();
            grown.append(&mut self.windows);
            self.windows = grown;
            self.window_base = base;
        }
        let offset = (base - self.window_base) as usize;
        if self.windows.len() < offset + windows.len() {
            self.windows
                .resize_with(offset + windows.len(), SecondBucket::empty);
        }
        // Workers' finished windows may come packed; their sum stays open (one recorder's 120).
        for (a, b) in self.windows[offset..].iter_mut().zip(windows) {
            a.absorb_open(b);
        }
    }

    /// Counts a failed call of tier `tier`: its total, its second, and its message. Errors are
    /// off the fast path: comparing the message with the few distinct ones seen is fine here.
    pub fn note_tier_error(
        &mut self,
        tier: usize,
        message: &dyn std::fmt::Display,
        clock: &quanta::Clock,
    ) {
        // A recorder outside the time series (preload) counts its errors in second 0.
        let second = match self.series_origin {
            0 => 0,
            origin => (clock.delta_as_nanos(origin, clock.raw()) / 1_000_000_000) as usize,
        };
        let t = &mut self.tiers[tier];
        t.errors += 1;
        if second >= t.errors_per_second.len() {
            t.errors_per_second.resize(second + 1, 0);
        }
        t.errors_per_second[second] += 1;
        self.error_log.note(tier, message, second);
    }

    /// Counts an operation that completed in tenth `tenth` of a second of the time series: in
    /// its second and, early in the run, its window (a new second or window allocates its bucket:
    /// once per bucket, not per operation). The loop computes `tenth` from the clock reading it
    /// already took at the operation's end.
    #[inline]
    pub fn record_tick(&mut self, tenth: usize, nanos: Option<u64>, read: Option<usize>) {
        let second = tenth / 10;
        if second >= self.seconds.len() {
            self.second_over();
            self.seconds.resize_with(second + 1, SecondBucket::empty);
        }
        self.seconds[second].count(nanos, read);
        match nanos {
            Some(_) => self.spells.succeeded(tenth),
            None => self.spells.failed(tenth),
        }
        if second < WINDOW_HORIZON_S {
            self.record_window(tenth as u64, nanos, read);
        }
    }

    /// Counts a stale read in the second of `tenth` (after `record_tick` counted its operation).
    pub fn count_stale(&mut self, tenth: usize) {
        if let Some(bucket) = self.seconds.get_mut(tenth / 10) {
            bucket.stale += 1;
        }
    }

    /// A new second begins: the last one is over. It goes to the workload's shared series when
    /// there is one, else it is packed in place (once a second, see `second.rs`).
    #[cold]
    fn second_over(&mut self) {
        let index = self.seconds.len().wrapping_sub(1);
        let Some(last) = self.seconds.last_mut() else {
            return;
        };
        match &self.series_sink {
            Some(sink) => sink.add(index, &last.take()),
            None => last.pack(),
        }
    }

    /// A new window begins at absolute `index`: the last one is over. In a measured phase it
    /// goes to the workload's shared windows and its bucket is cleared and reused for `index`
    /// (no allocation, no packing: once a tenth of a second per worker); otherwise it is packed
    /// in place. Returns `index`'s place in `windows`.
    #[cold]
    fn window_over(&mut self, index: u64) -> usize {
        if let Some(sink) = &self.series_sink
            && let [last] = self.windows.as_mut_slice()
        {
            sink.add_window(self.window_base as usize, last);
            last.clear();
            self.window_base = index;
            return 0;
        }
        if let Some(last) = self.windows.last_mut() {
            last.pack();
        }
        let i = (index - self.window_base) as usize;
        self.windows.resize_with(i + 1, SecondBucket::empty);
        i
    }

    /// Counts an operation in the tenth-of-a-second window it completed in.
    #[inline]
    fn record_window(&mut self, index: u64, nanos: Option<u64>, read: Option<usize>) {
        if self.windows.is_empty() {
            self.window_base = index;
        }
        let Some(mut i) = index.checked_sub(self.window_base).map(|i| i as usize) else {
            return;
        };
        if i >= self.windows.len() {
            i = self.window_over(index);
        }
        self.windows[i].count(nanos, read);
    }

    /// Operations completed successfully, all kinds.
    pub fn completed(&self) -> u64 {
        self.ops.latency.iter().map(Histogram::len).sum()
    }

    /// Failed operations, all kinds.
    pub fn errors(&self) -> u64 {
        self.ops.errors.iter().sum()
    }
}

/// Adds a per-second series into another, growing it as needed.
fn add_series(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

#[cfg(test)]
mod tests;
