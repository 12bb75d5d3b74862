//! What batch operations add to a worker's recorder: the per-key latency of batch reads, how
//! many tiers each batch read visited, and per tier the batch calls it answered and the
//! batches it served whole.
//!
//! Per-key latency, precisely: for each key of an `mget`, the time from the batch's start until
//! the call that produced the key's value returned (the tier that found it, or the origin load).
//! The tiers are asked one after another, one batch call each, so a key found in L1 is ready
//! after the L1 pass, one found in Redis after the MGET, and so on: the distribution a page
//! that renders each item as soon as it has it would see (from the batch's actual start: in open
//! loop the wait before the batch began is in the batch latency, not here). It takes one clock reading per tier
//! call, not one per key. It is *not* the batch latency divided by its size.

/// Batch figures of one worker (or merged).
#[derive(Clone)]
pub struct BatchRecorder {
    /// Per-key latency of `mget` keys (see the module's doc).
    pub per_key: super::histogram::LazyHistogram,
    /// Keys per batch operation.
    pub sizes: super::histogram::LazyHistogram,
    /// `mget` batches by how many tiers they visited (index: tiers asked, the origin counting
    /// as one more).
    pub visited: Vec<u64>,
}

impl BatchRecorder {
    /// Empty, for a stack of `tiers` tiers (its histograms made when first recorded into).
    pub fn new(tiers: usize) -> BatchRecorder {
        BatchRecorder {
            per_key: Default::default(),
            sizes: Default::default(),
            visited: vec![0; tiers + 2],
        }
    }

    /// Notes one `mget` key ready `nanos` after its batch started.
    #[inline]
    pub fn key_ready(&mut self, nanos: u64) {
        // As `recorder::record`: the histogram grows past its range rather than failing.
        if self.per_key.record(nanos.max(1)).is_err() {
            self.per_key.saturating_record(nanos);
        }
    }

    /// Adds another worker's figures.
    pub fn merge(&mut self, other: &BatchRecorder) {
        self.per_key.merge(&other.per_key);
        self.sizes.merge(&other.sizes);
        if self.visited.len() < other.visited.len() {
            self.visited.resize(other.visited.len(), 0);
        }
        for (a, b) in self.visited.iter_mut().zip(&other.visited) {
            *a += b;
        }
    }
}

/// What one tier saw of batch operations.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TierBatch {
    /// Batch read calls made to the tier (for Redis: MGET commands; SQL: SELECT ... IN).
    pub mget_calls: u64,
    /// Batch write calls (MSET or a SET PX pipeline; one multi-row upsert), promotions included.
    pub mset_calls: u64,
    /// Batch delete calls (DEL; DELETE ... IN).
    pub mdelete_calls: u64,
    /// Keys asked of the tier by batch reads.
    pub keys_asked: u64,
    /// Batch reads in which the tier found every key asked of it.
    pub full_hits: u64,
}

impl TierBatch {
    /// Adds another worker's counts.
    pub fn merge(&mut self, other: &TierBatch) {
        self.mget_calls += other.mget_calls;
        self.mset_calls += other.mset_calls;
        self.mdelete_calls += other.mdelete_calls;
        self.keys_asked += other.keys_asked;
        self.full_hits += other.full_hits;
    }
}
