//! Thresholds on coherence across app instances: `coherence.lag.p99 < 5ms`,
//! `coherence.lost == 0` (the result document's `coherence`).

use super::stat::parse_stat;
use super::{Stat, ThresholdError, err};
use crate::suggest::did_you_mean;

/// A coherence figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoherenceMetric {
    /// From a write's completion to its key being dropped on a peer instance.
    Lag(Stat),
    /// Invalidations sent.
    Sent,
    /// Invalidations that reached a peer.
    Delivered,
    /// Invalidations that never reached a peer.
    Lost,
    /// Deliveries later than `late_after`.
    Late,
    /// In-process tiers flushed after a lost invalidation connection.
    Flushes,
}

const COUNTS: [(&str, CoherenceMetric); 5] = [
    ("sent", CoherenceMetric::Sent),
    ("delivered", CoherenceMetric::Delivered),
    ("lost", CoherenceMetric::Lost),
    ("late", CoherenceMetric::Late),
    ("flushes", CoherenceMetric::Flushes),
];

const HINT: &str = "coherence metrics: coherence.lag.STAT (coherence.lag.p99), coherence.sent, \
                    coherence.delivered, coherence.lost, coherence.late, coherence.flushes";

/// Parses what follows `coherence.`.
pub(super) fn parse(parts: &[&str]) -> Result<CoherenceMetric, ThresholdError> {
    match parts {
        ["lag", stat] => Ok(CoherenceMetric::Lag(parse_stat(stat)?)),
        [name] => COUNTS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                let names: Vec<&str> = COUNTS.iter().map(|(n, _)| *n).chain(["lag"]).collect();
                err(
                    format!(
                        "`coherence.{name}` is not a coherence metric{}",
                        did_you_mean(name, &names)
                    ),
                    HINT,
                )
            }),
        _ => Err(err(
            format!("`coherence.{}` is not a coherence metric", parts.join(".")),
            HINT,
        )),
    }
}

impl CoherenceMetric {
    /// As written after `coherence.`.
    pub fn name(self) -> String {
        match self {
            CoherenceMetric::Lag(stat) => {
                format!("lag.{}", stat.name())
            }
            other => COUNTS
                .iter()
                .find(|(_, m)| *m == other)
                .map_or(String::new(), |(n, _)| (*n).to_string()),
        }
    }
}
