//! The file model of a workload's batch size (`batch: 20`, or `batch: { 10: 70, 50: 25 }`).
//!
//! Its own file so the workload model (`model.rs`) only gains one field; the checks that turn
//! it into `workload::batch::BatchSizes` are in `batch_checks.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Keys per batch operation (mget, mset, mdelete): a fixed size, or sizes with relative
/// weights, e.g. `{ 10: 70, 50: 25, 200: 5 }` (70% of batches have 10 keys). 1 to 1000.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum BatchFile {
    /// Every batch has this many keys.
    Fixed(u32),
    /// Size → weight.
    Weighted(BTreeMap<String, u32>),
}
