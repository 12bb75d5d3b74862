//! The batch figures of the result document: per-key latency, batch sizes, tiers visited, and
//! per tier the batch calls it answered and the share of batches it served whole.
//!
//! Apart from `result.rs` (at its size limit); both fields are optional there, so documents
//! from before batches, and workloads without them, read and write unchanged.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::batch::{BatchRecorder, TierBatch};
use super::latency::OpResult;

/// What a workload's batch operations measured (absent without batch operations).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchResult {
    /// Batch operations issued (all kinds) and their keys.
    pub batches: u64,
    /// Keys in those batches.
    pub keys: u64,
    /// Mean keys per batch.
    pub mean_size: f64,
    /// Largest batch.
    pub max_size: u64,
    /// Per-key latency by batch read (`mget`): for each key, the time from its batch's start
    /// until the call that produced its value returned (the tier that found it, or the origin
    /// load). Not the batch latency divided by its size; the batch latency itself is
    /// `operations.mget`. Threshold: `mget.per_key.p99`.
    pub per_key: BTreeMap<String, OpResult>,
    /// `mget` batches by how many tiers they visited (the origin counts as one), e.g.
    /// `{"1": 900, "2": 80, "4": 20}`.
    pub tiers_visited: BTreeMap<String, u64>,
}

/// What one tier saw of batch operations.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TierBatchResult {
    /// Batch reads sent to the tier (one per batch that reached it: Redis MGET, SQL SELECT ... IN).
    pub mget_calls: u64,
    /// Batch writes (Redis MSET or a SET PX pipeline, SQL multi-row upsert), promotions included.
    pub mset_calls: u64,
    /// Batch deletes (Redis DEL, SQL DELETE ... IN).
    pub mdelete_calls: u64,
    /// Keys asked of the tier by batch reads (each counted once more in `hits` or `misses`).
    pub keys_asked: u64,
    /// Batch reads in which the tier found every key asked of it.
    pub full_hits: u64,
    /// full_hits / mget_calls: the share of the batches reaching this tier that it served
    /// whole (for the first tier: of all batches). Threshold: `TIER.batch_full_hit_rate`.
    pub full_hit_rate: Option<f64>,
}

impl TierBatchResult {
    /// From a tier's merged counts; `None` when no batch call reached it.
    pub fn from_counts(b: &TierBatch) -> Option<TierBatchResult> {
        (b.mget_calls + b.mset_calls + b.mdelete_calls > 0).then(|| TierBatchResult {
            mget_calls: b.mget_calls,
            mset_calls: b.mset_calls,
            mdelete_calls: b.mdelete_calls,
            keys_asked: b.keys_asked,
            full_hits: b.full_hits,
            full_hit_rate: (b.mget_calls > 0).then(|| b.full_hits as f64 / b.mget_calls as f64),
        })
    }

    /// Adds another shard's counts.
    pub fn add(&mut self, other: &TierBatchResult) {
        self.mget_calls += other.mget_calls;
        self.mset_calls += other.mset_calls;
        self.mdelete_calls += other.mdelete_calls;
        self.keys_asked += other.keys_asked;
        self.full_hits += other.full_hits;
        self.full_hit_rate =
            (self.mget_calls > 0).then(|| self.full_hits as f64 / self.mget_calls as f64);
    }
}

impl BatchResult {
    /// From a workload's merged recorder; `op_result` summarizes a histogram; `None` when no
    /// batch ran.
    pub fn from_recorder(
        b: &BatchRecorder,
        op_result: impl Fn(&hdrhistogram::Histogram<u64>) -> OpResult,
    ) -> Option<BatchResult> {
        if b.sizes.is_empty() {
            return None;
        }
        let mut per_key = BTreeMap::new();
        if !b.per_key.is_empty() {
            per_key.insert("mget".to_string(), op_result(&b.per_key));
        }
        Some(BatchResult {
            batches: b.sizes.len(),
            keys: (b.sizes.mean() * b.sizes.len() as f64).round() as u64,
            mean_size: b.sizes.mean(),
            max_size: b.sizes.max(),
            per_key,
            tiers_visited: b
                .visited
                .iter()
                .enumerate()
                .filter(|&(_, &n)| n > 0)
                .map(|(i, &n)| (i.to_string(), n))
                .collect(),
        })
    }
}
