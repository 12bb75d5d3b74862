//! What a tier is configured with: the tier owns these types, the scenario imports them.
//!
//! `TierConfig` is the validated, resolved setting of one tier (what `Tier::connect` takes);
//! `MemoryEngine`, `WritePolicy` and `ErrorPolicy` are written as they are in scenario files,
//! so they keep their serde and schemars derives (and their doc comments, which become the
//! scenario schema's descriptions). Keeping them here lets `scenario` depend on `tier` and never
//! the reverse.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tier::memcached::MemcachedSettings;
use crate::tier::redis::RedisSettings;
use crate::tier::sql::SqlSettings;
use crate::tier::stack::compression::Compression;

/// A tier to set up.
#[derive(Debug, Clone)]
pub struct TierConfig {
    /// Unique name.
    pub name: String,
    /// Kind-specific settings.
    pub kind: TierKindConfig,
    /// Values stored compressed.
    pub compression: Option<Compression>,
}

/// Kind-specific tier settings.
#[derive(Debug, Clone)]
pub enum TierKindConfig {
    /// An in-process cache.
    Memory {
        /// Which library.
        engine: MemoryEngine,
        /// Capacity in entries.
        max_entries: u64,
        /// Entry time to live.
        ttl: Option<Duration>,
    },
    /// A Redis server.
    Redis(RedisSettings),
    /// A memcached server.
    Memcached(MemcachedSettings),
    /// A SQL table.
    Sql(SqlSettings),
}

impl TierConfig {
    /// The kind's name as written in scenarios (`memory`).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            TierKindConfig::Memory { .. } => "memory",
            TierKindConfig::Redis(_) => "redis",
            TierKindConfig::Memcached(_) => "memcached",
            TierKindConfig::Sql(_) => "sql",
        }
    }
}

/// The in-process cache library.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemoryEngine {
    /// moka::sync::Cache: concurrent, TinyLFU admission, LRU eviction.
    #[default]
    Moka,
    /// quick_cache::sync::Cache: concurrent, S3-FIFO-like eviction (CLOCK-Pro), very fast hits.
    QuickCache,
    /// An exact LRU (the `lru` crate) behind one mutex: the classic baseline.
    Lru,
}

/// Stack write policies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WritePolicy {
    /// Write every tier.
    #[default]
    Through,
    /// Write the lowest tier and invalidate the ones above it.
    Around,
}

/// What a tier error does inside a stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorPolicy {
    /// The operation fails.
    #[default]
    Fail,
    /// The error is counted for the tier and the operation goes on without it (fallback).
    Skip,
}
