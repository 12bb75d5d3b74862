//! The validated scenario the engine runs (stage two of three).
//!
//! Everything here is resolved: defaults applied, names turned into indices, units into numbers,
//! thresholds parsed. No option the engine would have to `unwrap` is left, so the engine never
//! sees raw file types and never fails on something validation could have caught.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::tier::config::{ErrorPolicy, TierConfig, WritePolicy};
use crate::verdict::thresholds::Threshold;
use crate::workload::keys::KeyDistribution;
use crate::workload::ops::OpSource;
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
    /// Latency of one load from the simulated origin behind a stack.
    pub origin_latency: crate::tier::stack::origin::OriginLatency,
    /// Keep what was written after the run.
    pub keep: bool,
    /// Repetitions of each workload.
    pub repeat: u32,
    /// Stop the run after this long.
    pub timeout: Option<Duration>,
    /// Give a tier up after this long without a success.
    pub lost_after: Duration,
    /// The noise floor per metric for comparisons of one run per side (the scenario's
    /// `noise_floor` over the defaults).
    pub noise_floor: crate::verdict::compare::NoiseFloor,
    /// App instances kept coherent (`coherence:`), when the scenario has several.
    pub coherence: Option<crate::tier::coherence::CoherenceSettings>,
    /// The profile and overrides applied to the file.
    pub applied: super::overrides::Applied,
    /// Which share of the work this process runs (`--shard I/N`); `None` for the whole.
    pub shard: Option<super::shard::Shard>,
}

/// The scenario file a plan came from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// The path as given.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
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

/// Open-loop arrival rate, operations per second: constant, or ramping linearly from `start`
/// to `end` over the phase's duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Rate at the start of the phase.
    pub start: f64,
    /// Rate at the end of the phase.
    pub end: f64,
}

/// One measured phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Name in results.
    pub name: String,
    /// When it ends.
    pub stop: Stop,
    /// Workers: closed-loop concurrency, or the most operations in flight in open loop.
    pub concurrency: usize,
    /// Open-loop rate; `None` for closed loop.
    pub rate: Option<Rate>,
}

/// A workload ready to run.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The largest concurrency of any phase (warmup and preload use the first phase's).
    pub concurrency: usize,
    /// What validation found worth saying in the result (a capture's commands not replayed).
    pub notes: Vec<String>,
    /// Unique name.
    pub name: String,
    /// Indices into `Scenario::tiers`, in stack order.
    pub target: Vec<usize>,
    /// Write every key once before warmup.
    pub preload: bool,
    /// Where operations come from: a weighted mix or a per-key sequence.
    pub ops: OpSource,
    /// True for a stack target (`stack` or a list): reads are read-through with an origin.
    pub stacked: bool,
    /// How a stack writes.
    pub write: WritePolicy,
    /// What a tier error does inside a stack.
    pub on_error: ErrorPolicy,
    /// Check reads for stale and corrupt values.
    pub verify: bool,
    /// Count hits and misses by replaying through the in-process engines, timing nothing.
    pub simulate: bool,
    /// Unrecorded operations before measuring.
    pub warmup: u64,
    /// The measured phases, in order (one when the workload has no `phases`).
    pub phases: Vec<Phase>,
    /// Checks on the results.
    pub thresholds: Vec<Threshold>,
    /// Keys per batch operation, when the workload has batch operations.
    pub batch: Option<crate::workload::batch::BatchSizes>,
    /// The scenario's custom commands, indexed like `Op::Command` (shared by its workloads).
    pub commands: std::sync::Arc<[crate::workload::command::CustomCommand]>,
}

impl Scenario {
    /// Exactly the names this run writes: the prefix plus each key index, and the prefix plus
    /// each key of the traces its workloads replay (what the shared tiers claim and clean up).
    pub fn key_names(&self) -> crate::tier::ownership::key_names::KeyNames {
        let traces = self
            .workloads
            .iter()
            .filter_map(|w| match &w.ops {
                OpSource::Trace { path, format, .. } => Some((path.clone(), *format)),
                _ => None,
            })
            .collect();
        crate::tier::ownership::key_names::KeyNames::new(
            &self.keys.prefix,
            self.keys.count,
            traces,
            self.values.size.mean() as u64,
        )
    }
}
