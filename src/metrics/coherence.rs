//! Coherence across app instances: what keeping several in-process L1s in step cost and how
//! late it was (`coherence:` in a scenario, `tier/coherence/` does the work).
//!
//! `CoherenceCounts` is what the run gathers (counters and the lag histogram, merged across
//! repetitions); `CoherenceResult` is how the result document shows it.

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::latency::LatencyStats;
use super::recorder::new_histogram;

/// What the invalidations of one workload did, gathered by its instances' listeners.
#[derive(Debug, Clone)]
pub struct CoherenceCounts {
    /// App instances, each with its own in-process tiers.
    pub instances: usize,
    /// `none`, `pubsub` or `tracking`.
    pub invalidation: String,
    /// Invalidations sent: a PUBLISH per write (`pubsub`), or the writes Redis tracks
    /// (`tracking`: the server sends them).
    pub sent: u64,
    /// Invalidations that reached another instance of this process and dropped its copy.
    pub delivered: u64,
    /// Invalidations for another process's writes (a sharded run's other shards, or writes
    /// tierbench cannot attribute: Redis' own expiries and evictions in `tracking` mode).
    pub foreign: u64,
    /// Invalidations an instance received for its own write and ignored (NOLOOP).
    pub own: u64,
    /// Deliveries later than `late_after`.
    pub late: u64,
    /// Times an instance flushed its in-process tiers after losing its invalidation
    /// connection (invalidations sent meanwhile never reach it).
    pub flushes: u64,
    /// PUBLISH calls that failed (their invalidation reached nobody).
    pub publish_errors: u64,
    /// Bytes of invalidation messages published.
    pub bytes: u64,
    /// Reads whose value was not cached in the instance's in-process tiers because an
    /// invalidation of the key arrived while it was read from below.
    pub fills_skipped: u64,
    /// From each write's completion to the key being dropped on a peer, nanoseconds.
    pub lag: Histogram<u64>,
    /// The threshold of `late`, nanoseconds.
    pub late_after_ns: u64,
    /// Redis' tracking table at the end (`INFO`: `tracking_total_prefixes` and
    /// `tracking_total_keys`), in `tracking` mode.
    pub tracking_prefixes: Option<u64>,
    /// See `tracking_prefixes`.
    pub tracking_keys: Option<u64>,
    /// `tracking` mode: peers that never heard of a key's last write (Redis merges changes of
    /// one key within one event-loop turn, so there a lost invalidation is told per key, not
    /// by counts); `Some(None)` when the key space was too large to keep per key.
    pub unheard: Option<Option<u64>>,
}

impl CoherenceCounts {
    /// Nothing counted yet.
    pub fn new(instances: usize, invalidation: &str, late_after_ns: u64) -> CoherenceCounts {
        CoherenceCounts {
            instances,
            invalidation: invalidation.to_string(),
            sent: 0,
            delivered: 0,
            foreign: 0,
            own: 0,
            late: 0,
            flushes: 0,
            publish_errors: 0,
            bytes: 0,
            fills_skipped: 0,
            lag: new_histogram(),
            late_after_ns,
            tracking_prefixes: None,
            tracking_keys: None,
            unheard: None,
        }
    }

    /// Invalidations that should have reached a peer instance and did not: every sent one
    /// reaches each of the other instances once.
    pub fn lost(&self) -> Option<u64> {
        if let Some(unheard) = self.unheard {
            return unheard;
        }
        let expected = self.sent * self.instances.saturating_sub(1) as u64;
        Some(expected.saturating_sub(self.delivered) + self.publish_errors)
    }

    /// Adds another repetition's counts.
    pub fn absorb(&mut self, other: &CoherenceCounts) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.foreign += other.foreign;
        self.own += other.own;
        self.late += other.late;
        self.flushes += other.flushes;
        self.publish_errors += other.publish_errors;
        self.bytes += other.bytes;
        self.fills_skipped += other.fills_skipped;
        let _ = self.lag.add(&other.lag);
        self.tracking_prefixes = other.tracking_prefixes.or(self.tracking_prefixes);
        self.tracking_keys = other.tracking_keys.or(self.tracking_keys);
        self.unheard = match (self.unheard, other.unheard) {
            (Some(Some(a)), Some(Some(b))) => Some(Some(a + b)),
            (Some(None), _) | (_, Some(None)) => Some(None),
            (a, b) => a.or(b),
        };
    }

    /// The result document's view, `ops` being the workload's completed operations.
    pub fn result(&self, ops: u64) -> CoherenceResult {
        let commands = match self.invalidation.as_str() {
            "pubsub" => self.sent,
            _ => 0,
        };
        CoherenceResult {
            instances: self.instances,
            invalidation: self.invalidation.clone(),
            sent: self.sent,
            delivered: self.delivered,
            lost: self.lost(),
            late: self.late,
            late_after_ns: self.late_after_ns,
            foreign: self.foreign,
            own: self.own,
            flushes: self.flushes,
            publish_errors: self.publish_errors,
            extra_commands_per_op: (ops > 0).then(|| commands as f64 / ops as f64),
            bytes: self.bytes,
            fills_skipped: self.fills_skipped,
            tracking_prefixes: self.tracking_prefixes,
            tracking_keys: self.tracking_keys,
            lag: LatencyStats::from_histogram(&self.lag),
        }
    }
}

/// How the app instances of a workload stayed coherent (absent without `coherence:`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CoherenceResult {
    /// App instances in this process, each with its own in-process tiers.
    pub instances: usize,
    /// How a write on one instance reached the others: `none`, `pubsub` or `tracking`.
    pub invalidation: String,
    /// Invalidations sent: one PUBLISH per write (`pubsub`); the writes Redis tracks
    /// (`tracking`).
    pub sent: u64,
    /// Invalidations that reached a peer instance and dropped its copy.
    pub delivered: u64,
    /// Invalidations that never reached a peer, counted after the workload's listeners
    /// drained: `pubsub`, `sent` × (instances − 1) − `delivered` plus failed PUBLISH calls;
    /// `tracking`, per key, the peers that never heard of its last write (Redis merges changes
    /// of one key within one event-loop turn). Null when the key space is too large to tell.
    pub lost: Option<u64>,
    /// Deliveries later than `late_after_ns` after the write completed.
    pub late: u64,
    /// What counts as late, nanoseconds (`coherence.late_after`, default 50 ms).
    pub late_after_ns: u64,
    /// Invalidations for writes of another process (other shards) or of Redis itself (expiry,
    /// eviction), which no instance here made.
    pub foreign: u64,
    /// Invalidations an instance received for its own write and ignored (as NOLOOP does).
    pub own: u64,
    /// Times an instance flushed its in-process tiers after losing its invalidation connection.
    pub flushes: u64,
    /// PUBLISH calls that failed.
    pub publish_errors: u64,
    /// Extra Redis commands per completed operation that coherence cost (PUBLISH).
    pub extra_commands_per_op: Option<f64>,
    /// Bytes of invalidation messages published.
    pub bytes: u64,
    /// Reads not cached in the instance's in-process tiers because an invalidation of the key
    /// arrived while it was read from below (the value may predate the change).
    pub fills_skipped: u64,
    /// Redis' `tracking_total_prefixes` at the end (`tracking`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_prefixes: Option<u64>,
    /// Redis' `tracking_total_keys` at the end (`tracking`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_keys: Option<u64>,
    /// From a write's completion to its key being dropped on a peer instance.
    pub lag: LatencyStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_counts_every_peer_a_sent_invalidation_missed() {
        let mut c = CoherenceCounts::new(4, "pubsub", 50_000_000);
        c.sent = 10;
        c.delivered = 28;
        c.publish_errors = 1;
        assert_eq!(c.lost(), Some(2 + 1));
        c.delivered = 40;
        assert_eq!(
            c.lost(),
            Some(1),
            "extra deliveries never make lost negative"
        );
        c.unheard = Some(Some(0));
        assert_eq!(c.lost(), Some(0), "tracking tells lost per key");
        let r = c.result(100);
        assert_eq!(r.extra_commands_per_op, Some(0.1));
    }
}
