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

use std::borrow::Cow;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

/// Highest value tracked before a bucket's histogram grows: 2 µs in nanoseconds (5 KB; it
/// grows with the largest latency it holds).
const INITIAL_HIGHEST_NS: u64 = 2_000;

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

/// A bucket's latency histogram: open while its second runs, packed once it is over.
#[derive(Clone)]
enum Latency {
    Open(Histogram<u64>),
    Packed(Vec<u8>),
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
            latency: Latency::Open(open_histogram()),
            reads: Vec::new(),
        }
    }

    /// An empty bucket that holds no histogram yet (a placeholder: it allocates one only when
    /// something is counted into it).
    pub fn empty() -> SecondBucket {
        SecondBucket {
            ops: 0,
            errors: 0,
            stale: 0,
            latency: Latency::Packed(Vec::new()),
            reads: Vec::new(),
        }
    }

    /// Moves the bucket out, leaving an empty placeholder.
    pub fn take(&mut self) -> SecondBucket {
        std::mem::replace(self, SecondBucket::empty())
    }

    /// The open histogram, unpacking a packed one (only after the run, or for a late record).
    fn open(&mut self) -> &mut Histogram<u64> {
        if let Latency::Packed(bytes) = &self.latency {
            self.latency = Latency::Open(unpack(bytes));
        }
        match &mut self.latency {
            Latency::Open(h) => h,
            Latency::Packed(_) => unreachable!("unpacked just above"),
        }
    }

    /// Counts one operation: completed with latency `nanos` or failed (`None`); `read` is who
    /// served it when it was a completed read.
    #[inline]
    pub fn count(&mut self, nanos: Option<u64>, read: Option<usize>) {
        match nanos {
            Some(n) => {
                self.ops += 1;
                let h = match &mut self.latency {
                    Latency::Open(h) => h,
                    Latency::Packed(_) => self.open(),
                };
                if h.record(n.max(1)).is_err() {
                    h.saturating_record(n);
                }
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
            Latency::Open(h) => h.reset(),
            Latency::Packed(bytes) => bytes.clear(),
        }
    }

    /// Packs the latency histogram (the bucket's second is over). Nothing recorded is lost.
    pub fn pack(&mut self) {
        if let Latency::Open(h) = &self.latency {
            let mut bytes = Vec::new();
            if V2Serializer::new().serialize(h, &mut bytes).is_ok() {
                bytes.shrink_to_fit();
                self.latency = Latency::Packed(bytes);
            }
        }
    }

    /// True when the bucket's histogram is packed.
    pub fn is_packed(&self) -> bool {
        matches!(self.latency, Latency::Packed(_))
    }

    /// The latency histogram (unpacked into a copy when packed).
    pub fn latency(&self) -> Cow<'_, Histogram<u64>> {
        match &self.latency {
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
        let theirs = other.latency();
        let _ = self.open().add(theirs.as_ref());
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
