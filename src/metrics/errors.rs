//! What went wrong during a workload, as plain data in the result document: the distinct error
//! messages (deduplicated, with counts and when they were seen), the outages they add up to, and
//! why a workload or the run ended early.
//!
//! A benchmark that CI trusts must show its failures where its numbers are: every report renders
//! these next to the figures they qualify.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One distinct error message of a tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorMessage {
    /// The tier that failed.
    pub tier: String,
    /// The message, as the tier or its server gave it.
    pub message: String,
    /// How many failed calls gave it.
    pub count: u64,
    /// First second of the time series it was seen in.
    pub first_s: u64,
    /// Last second it was seen in.
    pub last_s: u64,
}

/// A stretch in which no operation of a workload succeeded and operations failed: what the
/// client saw of a server that went away (`metrics::spells`), to a tenth of a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outage {
    /// The tiers with errors in it.
    pub tiers: Vec<String>,
    /// When it began, in seconds since the workload's measurement started.
    pub start_s: f64,
    /// Its length in seconds.
    pub length_s: f64,
    /// Failed operations in it.
    pub errors: u64,
}
