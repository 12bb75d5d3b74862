//! One second of a workload's time series (or one tenth-of-a-second sample window), and how a
//! finished second is kept small.
//!
//! Each worker keeps a latency histogram per second of its time series. Open, such a histogram
//! is an array of counts of 5–18 KB (it starts at 2 µs and grows with its largest latency); kept
//! that way, a 30-minute run with 8 workers would hold ~200 MB of them, growing by the second.
//! So when a worker moves on to a new second, the finished one is packed into HdrHistogram's V2
//! encoding (run-length zeros, varint counts: a few hundred bytes), once per second, off the
//! per-operation path; it is unpacked only to merge or summarize it after the run. Memory then
//! stays flat over a long run. Sample windows (a tenth of a second each, the first 12 seconds)
//! of a measured phase go to the workload's shared windows when the next one begins, and the
//! worker reuses its bucket: a worker holds one open window, not 120 (a warmup packs them).
//! A bucket holds its first 256 latencies as plain values and makes a histogram only beyond:
//! with thousands of workers each window holds a few operations, which then cost neither a
//! histogram per worker nor a whole-array add when handed to the shared series.

use std::borrow::Cow;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

/// Highest value tracked before a bucket's histogram grows: 2 µs in nanoseconds (5 KB; it
/// grows with the largest latency it holds).
const INITIAL_HIGHEST_NS: u64 = 2_000;

/// Latencies a bucket keeps as plain values before it makes a histogram of them (2 KB). With
/// many workers each worker's window and second hold only a few operations: kept as values,
/// they cost no histogram per worker, and handing them to the workload's shared series records
/// those few values instead of adding a whole counts array (which, ten times a second per
/// worker, was what thousands of workers spent their time on).
const FEW: usize = 256;

/// One second (or window) of a time series.
#[derive(Clone)]
pub struct SecondBucket {
    /// Operations completed in it.
    pub ops: u64,
    /// Operations failed in it.
    pub errors: u64,
    /// Verified reads in it that were stale (verify mode).
    pub stale: u64,
    /// Their latency (2 significant digits: enough for a chart, a tenth of the memory).
    latency: Latency,
    /// Reads completed in it by who served them: index `i` for the stack's tier `i`, the last
    /// index for nobody (the origin, or a lone tier's miss); grown on the first read of a kind.
    /// Tier `i`'s hit rate is `reads[i] / reads[i..].sum()`.
    pub reads: Vec<u64>,
}

/// A bucket's latencies: a few plain values, or a histogram, open while its second runs and
/// packed once it is over.
#[derive(Clone)]
enum Latency {
    Few(Vec<u64>),
    Open(Histogram<u64>),
    Packed(Vec<u8>),
}

fn histogram_of(values: &[u64]) -> Histogram<u64> {
    let mut h = open_histogram();
    for &v in values {
        record(&mut h, v);
    }
    h
}

fn record(h: &mut Histogram<u64>, nanos: u64) {
    if h.record(nanos.max(1)).is_err() {
        h.saturating_record(nanos);
    }
}

#[allow(clippy::expect_used)] // constant bounds that HdrHistogram accepts
fn open_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, INITIAL_HIGHEST_NS, 2)
        .expect("static histogram bounds are valid");
    h.auto(true);
    h
}

fn unpack(bytes: &[u8]) -> Histogram<u64> {
    if bytes.is_empty() {
        return open_histogram();
    }
    match Deserializer::new().deserialize::<u64, _>(&mut &bytes[..]) {
        Ok(mut h) => {
            h.auto(true);
            h
        }
        // Bytes this module wrote itself: unreadable only if memory was corrupted.
        Err(_) => open_histogram(),
    }
}

impl Default for SecondBucket {
    fn default() -> SecondBucket {
        SecondBucket::new()
    }
}

impl SecondBucket {
    /// An empty bucket.
    pub fn new() -> SecondBucket {
        SecondBucket {
            ops: 0,
            errors: 0,
            stale: 0,
            latency: Latency::Few(Vec::new()),
            reads: Vec::new(),
        }
    }

    /// An empty bucket that holds nothing yet (a placeholder: it allocates only when
    /// something is counted into it).
    pub fn empty() -> SecondBucket {
        SecondBucket::new()
    }

    /// Moves the bucket out, leaving an empty placeholder.
    pub fn take(&mut self) -> SecondBucket {
        std::mem::replace(self, SecondBucket::empty())
    }

    /// The open histogram: made of the few values so far, or unpacked from a packed one
    /// (only after the run, or for a late record).
    fn open(&mut self) -> &mut Histogram<u64> {
        let opened = match &self.latency {
            Latency::Few(values) => Some(histogram_of(values)),
            Latency::Packed(bytes) => Some(unpack(bytes)),
            Latency::Open(_) => None,
        };
        if let Some(h) = opened {
            self.latency = Latency::Open(h);
        }
        match &mut self.latency {
            Latency::Open(h) => h,
            _ => unreachable!("opened just above"),
        }
    }

    /// Notes one completed operation's latency.
    #[inline]
    fn note(&mut self, nanos: u64) {
        match &mut self.latency {
            Latency::Few(values) if values.len() < FEW => {
                if values.capacity() == 0 {
                    values.reserve_exact(FEW);
                }
                values.push(nanos);
            }
            Latency::Open(h) => record(h, nanos),
            _ => record(self.open(), nanos),
        }
    }

    /// Counts one operation: completed with latency `nanos` or failed (`None`); `read` is who
    /// served it when it was a completed read.
    #[inline]
    pub fn count(&mut self, nanos: Option<u64>, read: Option<usize>) {
        match nanos {
            Some(n) => {
                self.ops += 1;
                self.note(n);
            }
            None => self.errors += 1,
        }
        if let Some(at) = read {
            if at >= self.reads.len() {
                self.reads.resize(at + 1, 0);
            }
            self.reads[at] += 1;
        }
    }

    /// Empties the bucket for reuse, keeping its histogram's memory (an open one is zeroed).
    pub fn clear(&mut self) {
        self.ops = 0;
        self.errors = 0;
        self.stale = 0;
        self.reads.iter_mut().for_each(|r| *r = 0);
        match &mut self.latency {
            Latency::Few(values) => values.clear(),
            Latency::Open(h) => h.reset(),
            Latency::Packed(bytes) => bytes.clear(),
        }
    }

    /// Packs the latency histogram (the bucket's second is over). Nothing recorded is lost.
    pub fn pack(&mut self) {
        let packed = {
            let h = match &self.latency {
                Latency::Packed(_) => return,
                Latency::Few(values) if values.is_empty() => None,
                Latency::Few(values) => Some(Cow::Owned(histogram_of(values))),
                Latency::Open(h) => Some(Cow::Borrowed(h)),
            };
            let mut bytes = Vec::new();
            match h {
                Some(h)
                    if V2Serializer::new()
                        .serialize(h.as_ref(), &mut bytes)
                        .is_err() =>
                {
                    return;
                }
                _ => bytes.shrink_to_fit(),
            }
            bytes
        };
        self.latency = Latency::Packed(packed);
    }

    /// True when the bucket's histogram is packed.
    pub fn is_packed(&self) -> bool {
        matches!(self.latency, Latency::Packed(_))
    }

    /// The latency histogram (unpacked into a copy when packed).
    pub fn latency(&self) -> Cow<'_, Histogram<u64>> {
        match &self.latency {
            Latency::Few(values) => Cow::Owned(histogram_of(values)),
            Latency::Open(h) => Cow::Borrowed(h),
            Latency::Packed(bytes) => Cow::Owned(unpack(bytes)),
        }
    }

    /// Adds another bucket of the same second or window; the sum stays packed when either was.
    pub fn absorb(&mut self, other: &SecondBucket) {
        let packed = self.is_packed() || other.is_packed();
        self.absorb_open(other);
        if packed {
            self.pack();
        }
    }

    /// Adds another bucket of the same second or window, leaving the sum open (for the few
    /// buckets one recorder gathers from many workers: no pack and unpack per worker).
    pub fn absorb_open(&mut self, other: &SecondBucket) {
        self.ops += other.ops;
        self.errors += other.errors;
        self.stale += other.stale;
        match &other.latency {
            Latency::Few(values) => values.iter().for_each(|&v| self.note(v)),
            _ => {
                let theirs = other.latency();
                let _ = self.open().add(theirs.as_ref());
            }
        }
        if self.reads.len() < other.reads.len() {
            self.reads.resize(other.reads.len(), 0);
        }
        for (a, b) in self.reads.iter_mut().zip(&other.reads) {
            *a += b;
        }
    }

    /// Tier `tier`'s hit rate among the reads that reached it, if any did.
    pub fn hit_rate(&self, tier: usize) -> Option<f64> {
        let reached: u64 = self.reads.iter().skip(tier).sum();
        (reached > 0).then(|| self.reads.get(tier).copied().unwrap_or(0) as f64 / reached as f64)
    }
}

/// The workload's time series, shared by its workers: when a worker's second is over it adds
/// the bucket here (a lock once a second per worker, never per operation), so a long run keeps
/// one packed histogram per second, not one per worker and second.
///
/// Finished sample windows (tenths of a second, the first 12 seconds) come here too, kept open
/// and indexed by absolute window: at most 120 for the workload, while each worker reuses one.
#[derive(Default)]
pub struct SeriesSink {
    seconds: std::sync::Mutex<Vec<SecondBucket>>,
    windows: std::sync::Mutex<Vec<SecondBucket>>,
}

impl std::fmt::Debug for SeriesSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesSink").finish_non_exhaustive()
    }
}

impl SeriesSink {
    /// Adds a finished bucket as second `index`; it is kept packed.
    pub fn add(&self, index: usize, bucket: &SecondBucket) {
        let Ok(mut seconds) = self.seconds.lock() else {
            return;
        };
        let second = at(&mut seconds, index);
        second.absorb(bucket);
        second.pack();
    }

    /// Copies of the seconds from `from` on that are complete: all but the newest (a worker
    /// hands a second in when its next one begins, so the newest may still be missing a
    /// worker's share). The live dashboard reads them once a second.
    pub fn finished_from(&self, from: usize) -> Vec<SecondBucket> {
        let Ok(seconds) = self.seconds.lock() else {
            return Vec::new();
        };
        let end = seconds.len().saturating_sub(1);
        seconds
            .get(from..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// Adds a finished sample window as absolute window `index` (kept open).
    pub fn add_window(&self, index: usize, bucket: &SecondBucket) {
        let Ok(mut windows) = self.windows.lock() else {
            return;
        };
        at(&mut windows, index).absorb_open(bucket);
    }

    /// The windows collected (the first is absolute window 0), emptying the sink.
    pub fn take_windows(&self) -> Vec<SecondBucket> {
        self.windows
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// Adds everything collected to `into`, second by second, and empties the sink.
    pub fn drain_into(&self, into: &mut Vec<SecondBucket>) {
        let Ok(mut seconds) = self.seconds.lock() else {
            return;
        };
        if into.len() < seconds.len() {
            into.resize_with(seconds.len(), SecondBucket::empty);
        }
        for (a, b) in into.iter_mut().zip(seconds.drain(..)) {
            a.absorb(&b);
        }
    }
}

/// Bucket `index` of a series, grown with empty placeholders to reach it.
fn at(series: &mut Vec<SecondBucket>, index: usize) -> &mut SecondBucket {
    if index >= series.len() {
        series.resize_with(index + 1, SecondBucket::empty);
    }
    &mut series[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket of a few values and one past `FEW` give the histogram of every value recorded,
    /// whether read, absorbed into another or packed.
    #[test]
    fn few_values_count_as_a_histogram_would() {
        let mut direct = open_histogram();
        let (mut few, mut many) = (SecondBucket::new(), SecondBucket::new());
        for i in 0..(FEW as u64 + 10) {
            let ns = 1_000 + i * 37;
            record(&mut direct, ns);
            many.count(Some(ns), None);
            if i < 5 {
                few.count(Some(ns), None);
            }
        }
        assert!(matches!(few.latency, Latency::Few(_)));
        assert!(matches!(many.latency, Latency::Open(_)));
        assert_eq!(*many.latency(), direct);
        let mut sum = SecondBucket::new();
        sum.absorb_open(&many);
        sum.absorb_open(&few);
        assert_eq!(sum.ops, FEW as u64 + 15);
        assert_eq!(sum.latency().len(), FEW as u64 + 15);
        few.pack();
        assert!(few.is_packed());
        assert_eq!(few.latency().len(), 5);
        assert_eq!(
            few.latency().max(),
            direct.highest_equivalent(1_000 + 4 * 37)
        );
    }

    #[test]
    fn packing_keeps_every_count_and_shrinks_the_bucket() {
        let mut b = SecondBucket::new();
        for i in 1..=10_000u64 {
            b.count(Some(1_000 + (i * 7919) % 3_000_000), Some((i % 3) as usize));
        }
        b.count(None, None);
        let before = b.latency().into_owned();
        b.pack();
        let Latency::Packed(bytes) = &b.latency else {
            panic!("not packed")
        };
        assert!(bytes.len() < 4_096, "{} bytes packed", bytes.len());
        let after = b.latency().into_owned();
        assert_eq!(after.len(), before.len());
        assert_eq!(
            after.value_at_quantile(0.99),
            before.value_at_quantile(0.99)
        );
        assert_eq!(after.max(), before.max());
        assert_eq!((b.ops, b.errors), (10_000, 1));

        // A packed bucket still absorbs and counts; sums stay exact.
        let mut other = SecondBucket::new();
        other.count(Some(5_000_000_000), Some(0));
        b.absorb(&other);
        assert!(b.is_packed());
        assert_eq!(b.latency().len(), before.len() + 1);
        assert_eq!(b.reads, vec![3_334, 3_334, 3_333]);
        b.count(Some(10), None);
        assert_eq!(b.latency().len(), before.len() + 2);
    }
}
