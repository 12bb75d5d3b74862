//! The scenario file as written: serde + schemars types that mirror YAML/TOML one to one.
//!
//! These are the *raw* types (stage one of three): every field the user may write, with its doc
//! comment, which becomes the JSON Schema `description` that editors show. Unknown fields are
//! errors (`deny_unknown_fields`). Nothing here is interpreted: defaults, cross references and
//! unit checks that need context happen in `validate`, which turns this into a `plan::Scenario`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::units::{ByteSize, DurationValue};

/// A tierbench scenario: the tiers to set up, the data, the workloads and their thresholds.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "tierbench scenario")]
pub struct ScenarioFile {
    /// Short name of the scenario, used in reports and result files.
    pub name: String,
    /// What the scenario measures, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seed for every random choice (keys, values, operation order). The same seed issues the same
    /// operation sequence. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The cache tiers, in stack order: the first is asked first (L1).
    pub tiers: Vec<TierFile>,
    /// The key space and the values written.
    pub data: DataFile,
    /// Settings every workload inherits unless it sets its own.
    #[serde(default)]
    pub defaults: RunSettingsFile,
    /// Workloads, run one after another in this order.
    pub workloads: Vec<WorkloadFile>,
}

/// One cache tier. `kind` selects the implementation.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TierFile {
    /// An in-process cache inside tierbench (an L1).
    Memory(MemoryTierFile),
}

impl TierFile {
    /// The tier's unique name, as used by `target` and in thresholds.
    pub fn name(&self) -> &str {
        match self {
            TierFile::Memory(t) => &t.name,
        }
    }
}

/// An in-process cache.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryTierFile {
    /// Unique tier name (e.g. `l1`), used by `target` and thresholds (`l1.hit_rate`).
    pub name: String,
    /// Which in-process cache library to measure.
    #[serde(default)]
    pub engine: MemoryEngine,
    /// Capacity in entries; the engine evicts beyond it.
    pub max_entries: u64,
    /// Time to live of an entry (`30s`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationValue>,
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

/// The key space and the values.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    /// Which keys exist and how operations pick them.
    pub keys: KeysFile,
    /// What the values look like.
    pub values: ValuesFile,
}

/// Keys are `prefix` followed by a number in `0..count`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// How many distinct keys.
    pub count: u64,
    /// Prefix of every key tierbench writes; it only ever touches keys under it. Default `tierbench:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// How operations choose keys.
    #[serde(default)]
    pub distribution: DistributionName,
    /// Exponent of `zipf` and `scrambled_zipf` (> 0; default 0.99). 1.0 is classic Zipf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zipf_exponent: Option<f64>,
}

/// Key distributions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistributionName {
    /// Every key equally likely.
    #[default]
    Uniform,
    /// Exact Zipf over key ranks: key 0 is the hottest; P(rank k) ∝ 1/k^zipf_exponent.
    Zipf,
    /// Each worker walks the keys in order (its own stride), wrapping around.
    Sequential,
}

/// Values written by `set` and preload.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValuesFile {
    /// What the bytes look like.
    #[serde(default)]
    pub shape: ShapeName,
    /// Bytes per value: fixed (`256`, `1KiB`) or an inclusive range (`200..400`, `1KiB..4KiB`).
    pub size: SizeFile,
}

/// Value shapes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShapeName {
    /// Word-like ASCII text.
    Text,
    /// A valid JSON document of about the given size.
    Json,
    /// Random bytes (incompressible).
    #[default]
    Binary,
}

/// A value size: a fixed size or a `min..max` range (inclusive).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SizeFile {
    /// A fixed size in bytes.
    Fixed(ByteSize),
    /// `MIN..MAX`, each with an optional unit (`200..400`, `1KiB..4KiB`).
    Range(String),
}

impl JsonSchema for SizeFile {
    fn schema_name() -> Cow<'static, str> {
        "ValueSize".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let fixed = generator.subschema_for::<ByteSize>();
        json_schema!({
            "description": "Bytes per value: fixed (`256`, `1KiB`) or an inclusive range `MIN..MAX` (`200..400`, `1KiB..4KiB`).",
            "anyOf": [
                fixed,
                { "type": "string", "pattern": r"^\s*[0-9][0-9_.]*\s*[A-Za-z]*\s*\.\.\s*[0-9][0-9_.]*\s*[A-Za-z]*\s*$" }
            ]
        })
    }
}

/// Run settings a workload inherits from `defaults`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSettingsFile {
    /// Operations run before measuring, not recorded (per workload, split over workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u64>,
    /// Measured operations in total (split over workers). Give `ops` or `duration`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// Measure for this long instead of a fixed number of operations (`5s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationValue>,
    /// Concurrent workers, each issuing one operation at a time (closed loop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// A workload: an operation mix run against a target.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// Unique workload name.
    pub name: String,
    /// What the operations go to: a tier's name.
    pub target: TargetFile,
    /// Write every key once before warmup (not recorded), so reads start warm.
    #[serde(default)]
    pub preload: bool,
    /// Operation weights, e.g. `{ get: 95, set: 5 }`. Weights are relative; at least one > 0.
    pub mix: MixFile,
    /// Overrides `defaults.warmup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u64>,
    /// Overrides `defaults.ops`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// Overrides `defaults.duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationValue>,
    /// Overrides `defaults.concurrency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Pass/fail checks on this workload's results, `METRIC OP VALUE`:
    /// `get.p99 < 2ms`, `l1.hit_rate >= 40%`, `throughput > 10000/s`, `errors == 0`.
    /// METRIC is `[TIER.]OP.STAT` (OP: get, set, delete, all; STAT: min, mean, stddev, max, p50, p90,
    /// p95, p99, p999 or p(N)), `TIER.hit_rate`, `throughput`, `errors` or `error_rate`.
    #[serde(default)]
    pub thresholds: Vec<String>,
}

/// A workload target: one tier's name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct TargetFile(pub String);

/// Relative operation weights.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixFile {
    /// Weight of reads.
    #[serde(default)]
    pub get: u32,
    /// Weight of writes (a value from the data's value pool).
    #[serde(default)]
    pub set: u32,
    /// Weight of deletes.
    #[serde(default)]
    pub delete: u32,
}
