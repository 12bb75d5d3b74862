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

/// A stretch of whole seconds in which at least half of a workload's operations failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outage {
    /// The tiers with errors in it.
    pub tiers: Vec<String>,
    /// Its first second (of the workload's time series).
    pub start_s: u64,
    /// Its length in seconds.
    pub length_s: u64,
    /// Failed operations in it.
    pub errors: u64,
}

/// Finds the outages in a time series of (completed, failed) operations per second.
pub fn outages(seconds: &[(u64, u64)]) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    let mut current: Option<(u64, u64, u64)> = None;
    for (i, &(ops, errors)) in seconds.iter().enumerate() {
        let down = errors > 0 && errors >= ops;
        match (&mut current, down) {
            (Some((_, len, errs)), true) => {
                *len += 1;
                *errs += errors;
            }
            (None, true) => current = Some((i as u64, 1, errors)),
            (Some(_), false) => out.extend(current.take()),
            (None, false) => {}
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_runs_of_mostly_failed_seconds() {
        let series = [(100, 0), (10, 90), (0, 50), (100, 1), (0, 3)];
        assert_eq!(outages(&series), vec![(1, 2, 140), (4, 1, 3)]);
        assert!(outages(&[(5, 0), (0, 0)]).is_empty());
    }
}
