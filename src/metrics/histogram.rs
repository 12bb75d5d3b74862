//! The latency histograms every recorder uses: nanoseconds at 3 significant digits, starting
//! small and growing with the largest value they hold, and made only when first used.
//!
//! Apart from `recorder.rs` so the recorder's parts (batches, the time series) can use them
//! without importing the recorder that holds them.

use hdrhistogram::Histogram;

/// Significant digits kept by every histogram (0.1% resolution).
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Highest value tracked before growing: 2 µs in nanoseconds (one bucket: 16 KB per histogram).
const INITIAL_HIGHEST_NS: u64 = 2_000;

/// A fresh latency histogram in nanoseconds.
#[allow(clippy::expect_used)] // constant bounds that HdrHistogram accepts; no input reaches them
pub fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, INITIAL_HIGHEST_NS, SIGNIFICANT_DIGITS)
        .expect("static histogram bounds are valid");
    h.auto(true);
    h
}

/// A latency histogram made the first time something is recorded into it (a mutable use):
/// a worker pays 16 KB for each histogram it uses, not for those its workload never touches
/// (a Redis tier's pool waits, an uncompressed tier's compression, a lone tier's origin,
/// batches). Read while empty, it is an empty histogram.
#[derive(Clone, Default)]
pub struct LazyHistogram(Option<Histogram<u64>>);

/// What an unused `LazyHistogram` reads as.
static EMPTY: std::sync::LazyLock<Histogram<u64>> = std::sync::LazyLock::new(new_histogram);

impl std::ops::Deref for LazyHistogram {
    type Target = Histogram<u64>;
    fn deref(&self) -> &Histogram<u64> {
        self.0.as_ref().unwrap_or(&EMPTY)
    }
}

impl std::ops::DerefMut for LazyHistogram {
    fn deref_mut(&mut self) -> &mut Histogram<u64> {
        self.0.get_or_insert_with(new_histogram)
    }
}

impl LazyHistogram {
    /// Adds another's values (nothing is made when it holds none).
    pub fn merge(&mut self, other: &LazyHistogram) {
        if let Some(theirs) = &other.0 {
            // Both auto-resize, so adding cannot run out of range.
            let _ = std::ops::DerefMut::deref_mut(self).add(theirs);
        }
    }
}

/// Records one value into a histogram, growing it if needed.
#[inline]
pub fn record(h: &mut Histogram<u64>, nanos: u64) {
    if h.record(nanos.max(1)).is_err() {
        h.saturating_record(nanos);
    }
}
