//! The validated scenario the engine runs (stage two of three).
//!
//! Everything here is resolved: defaults applied, names turned into indices, units into numbers,
//! thresholds parsed. No option the engine would have to `unwrap` is left, so the engine never
//! sees raw file types and never fails on something validation could have caught.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::scenario::model::MemoryEngine;
use crate::thresholds::Threshold;
use crate::workload::keys::KeyDistribution;
use crate::workload::ops::OpMix;
use crate::workload::values::{SizeSpec, ValueShape};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Seed for every random choice.
    pub seed: u64,
    /// Where it came from.
    pub source: Source,
    /// The effective scenario as JSON (after variable expansion), recorded in results.
    pub effective: serde_json::Value,
    /// Tiers in stack order.
    pub tiers: Vec<TierConfig>,
    /// The key space.
    pub keys: KeySpace,
    /// The values written.
    pub values: ValueConfig,
    /// Workloads in run order.
    pub workloads: Vec<Workload>,
}

/// The scenario file a plan came from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// The path as given.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// A tier to set up.
#[derive(Debug, Clone)]
pub struct TierConfig {
    /// Unique name.
    pub name: String,
    /// Kind-specific settings.
    pub kind: TierKindConfig,
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
}

impl TierConfig {
    /// The kind's name as written in scenarios (`memory`).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            TierKindConfig::Memory { .. } => "memory",
        }
    }
}

/// Keys: `prefix` + index, index in `0..count`, chosen by `distribution`.
#[derive(Debug, Clone)]
pub struct KeySpace {
    /// Number of keys.
    pub count: u64,
    /// Prefix of every key.
    pub prefix: String,
    /// How keys are chosen.
    pub distribution: KeyDistribution,
}

/// Values written by set and preload.
#[derive(Debug, Clone)]
pub struct ValueConfig {
    /// What the bytes look like.
    pub shape: ValueShape,
    /// How large they are.
    pub size: SizeSpec,
    /// How compressible (0.0..=1.0).
    pub compressibility: f64,
}

/// When a workload's measured phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many operations in total.
    Ops(u64),
    /// After this much time.
    Duration(Duration),
}

/// A workload ready to run.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Unique name.
    pub name: String,
    /// Indices into `Scenario::tiers`, in stack order.
    pub target: Vec<usize>,
    /// Write every key once before warmup.
    pub preload: bool,
    /// Operation weights.
    pub mix: OpMix,
    /// Unrecorded operations before measuring.
    pub warmup: u64,
    /// When measuring stops.
    pub stop: Stop,
    /// Closed-loop workers.
    pub concurrency: usize,
    /// Checks on the results.
    pub thresholds: Vec<Threshold>,
}
