//! The scenario's `coherence:` section: how many app instances share the remote tiers, and how
//! a write on one reaches the others' in-process tiers.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::units::DurationValue;

/// How a write on one app instance reaches the other instances' in-process tiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Invalidation {
    /// Nothing: an instance keeps what it holds until its time to live or eviction.
    #[default]
    None,
    /// The writer publishes the key on a channel under tierbench's prefix after its write
    /// completes; every instance subscribes and drops the key.
    Pubsub,
    /// Redis' server-assisted client-side caching (`CLIENT TRACKING ... BCAST PREFIX`, RESP3
    /// push messages): Redis itself tells every instance which keys under the prefix changed.
    Tracking,
}

impl Invalidation {
    /// As written in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            Invalidation::None => "none",
            Invalidation::Pubsub => "pubsub",
            Invalidation::Tracking => "tracking",
        }
    }
}

/// `coherence:` as written: `{ instances: 4, invalidation: pubsub }`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoherenceFile {
    /// App instances in this process (1 to 64). Each keeps its own copy of every in-process
    /// tier; Redis and SQL tiers are shared. Workers are spread evenly over the instances.
    pub instances: u32,
    /// How a write reaches the other instances: `none`, `pubsub` or `tracking` (default `none`).
    #[serde(default)]
    pub invalidation: Invalidation,
    /// The Redis tier that carries the invalidations (default: the scenario's only Redis tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// An invalidation delivered later than this after its write counts as late (default
    /// `50ms`, the original suite's cache coordination target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_after: Option<DurationValue>,
}

/// The checked `coherence:` section.
#[derive(Debug, Clone)]
pub struct CoherenceSettings {
    /// App instances (at least 1).
    pub instances: usize,
    /// How writes reach the other instances.
    pub invalidation: Invalidation,
    /// Index of the Redis tier carrying invalidations (`pubsub`, `tracking`).
    pub via: Option<usize>,
    /// What counts as a late delivery.
    pub late_after: Duration,
}

/// Most app instances one process runs.
pub const MAX_INSTANCES: u32 = 64;
/// Default of `late_after`.
pub const DEFAULT_LATE_AFTER: Duration = Duration::from_millis(50);
