//! The scenario file as written: serde + schemars types that mirror YAML/TOML one to one.
//!
//! These are the *raw* types (stage one of three): every field the user may write, with its doc
//! comment, which becomes the JSON Schema `description` that editors show. Unknown fields are
//! errors (`deny_unknown_fields`). Nothing here is interpreted: defaults, cross references and
//! unit checks that need context happen in `validate`, which turns this into a `plan::Scenario`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::tier::config::{ErrorPolicy, WritePolicy};
use crate::units::{ByteSize, DurationValue};

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
    /// The simulated backing store a stack loads from when every tier misses.
    #[serde(default)]
    pub origin: OriginFile,
    /// Custom Redis commands by name, used in `mix` and `sequence` like built-in operations
    /// and reported under their name: `{ hset_session: ["HSET", "{key}", "field:{field}",
    /// "{value}"] }`. The first argument must be `{key}` (the operation's key, under the
    /// prefix); `{value}` is the operation's value, `{field}` a field index in `0..fields`.
    /// A workload using one must target a lone, non-cluster Redis tier.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub commands: std::collections::BTreeMap<String, CommandFile>,
    /// Keep what tierbench wrote (keys, rows, its table) after the run. Default: clean up.
    #[serde(default)]
    pub keep: bool,
    /// Run each workload this many times; every headline metric then carries its mean, standard
    /// deviation and 95% confidence interval across repetitions. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Stop the run after this long (`10m`): results so far are written, exit code 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationValue>,
    /// Give a tier up when no operation of a worker succeeded for this long (`10s` by default):
    /// the workload ends, the run exits 3 with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_after: Option<DurationValue>,
    /// The smallest band, per metric, within which a comparison of one run per side against a
    /// baseline calls a change noise: `{ throughput: 5%, p99: 10% }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_floor: Option<super::model_verdict::NoiseFloorFile>,
    /// Several app instances, each with its own in-process tiers over the shared Redis and SQL
    /// tiers, kept coherent by invalidations: `{ instances: 4, invalidation: pubsub }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coherence: Option<crate::tier::coherence::config::CoherenceFile>,
    /// Named patches over this scenario, selected with `--profile NAME` or `TIERBENCH_PROFILE`.
    /// A patch is merged into the scenario; under it, `workloads` and `tiers` may be maps keyed
    /// by name that patch those entries only (thresholds included). Built-in profiles:
    /// development, testing, ci, production.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// A grid of runs: dotted paths as `--set` takes them (`tiers.l1.max_entries`) to the values
    /// each takes. Every combination is a full run with the same seed, validated before any runs;
    /// axes in path order, the last varying fastest; thresholds hold per point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<std::collections::BTreeMap<String, Vec<serde_json::Value>>>,
}

pub use super::model_batch::BatchFile;
pub use super::model_tiers::{
    CompressionFile, MemcachedTierFile, MemoryTierFile, OriginFile, RedisTierFile, SqlTierFile,
    TierFile,
};

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
    /// `hotspot`: the share of keys that are hot, in (0, 1); default 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_fraction: Option<f64>,
    /// `hotspot`: the share of operations that go to the hot keys, in (0, 1); default 0.8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_probability: Option<f64>,
    /// `gaussian`: the centre, as a fraction of the key space; default 0.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// `gaussian`: the standard deviation, as a fraction of the key space; default 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stddev: Option<f64>,
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
    /// YCSB's "zipfian": Zipf ranks scattered over the key space by a hash. Its head is much
    /// flatter than exact `zipf`'s (hot keys are spread out and ranks collide), so expect lower
    /// hit rates than `zipf` with the same exponent.
    ScrambledZipf,
    /// `hot_fraction` of the keys receive `hot_probability` of the operations (both uniform inside).
    Hotspot,
    /// Each worker walks the keys in order (its own stride), wrapping around.
    Sequential,
    /// Recently written keys are hottest (YCSB's "latest"): a Zipf distance back from the
    /// worker's last written key.
    Latest,
    /// Normal around `mean` with `stddev` (fractions of the key space); draws outside are redrawn.
    Gaussian,
}

/// Values written by `set` and preload.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValuesFile {
    /// What the bytes look like.
    #[serde(default)]
    pub shape: ShapeName,
    /// Bytes per value: fixed (`256`, `1KiB`), an inclusive range (`200..400`, `1KiB..4KiB`), or
    /// weighted sizes (`{ 64: 50, 1KiB: 40, 64KiB: 10 }`).
    pub size: SizeFile,
    /// Share of each value a compressor can remove, 0.0 (default: as incompressible as the shape
    /// allows) to 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressibility: Option<f64>,
    /// `json`: fields per object, 1 to 256 (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 256))]
    pub fields: Option<u32>,
    /// `json`: nesting depth, 1 = flat, up to 32 (default 1); the last field of each object
    /// holds the next level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32))]
    pub depth: Option<u32>,
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
    /// Sizes with relative weights: `{ 64: 50, 1KiB: 40, 64KiB: 10 }`.
    Weighted(std::collections::BTreeMap<String, u32>),
}

impl JsonSchema for SizeFile {
    fn schema_name() -> Cow<'static, str> {
        "ValueSize".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let fixed = generator.subschema_for::<ByteSize>();
        json_schema!({
            "description": "Bytes per value: fixed (`256`, `1KiB`), an inclusive range `MIN..MAX` (`200..400`, `1KiB..4KiB`), or weighted sizes (`{ 64: 50, 1KiB: 40 }`).",
            "anyOf": [
                fixed,
                { "type": "string", "pattern": r"^\s*[0-9][0-9_.]*\s*[A-Za-z]*\s*\.\.\s*[0-9][0-9_.]*\s*[A-Za-z]*\s*$" },
                {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": { "pattern": r"^\s*[0-9][0-9_.]*\s*(B|KiB|MiB|GiB|KB|kB|MB|GB)?\s*$" },
                    "additionalProperties": { "type": "integer", "minimum": 0 }
                }
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
    /// Measured operations in total (split over workers). Give `ops` or `duration`, not both; a
    /// trace workload with neither replays its trace to the end (after its warmup).
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
    /// What the operations go to: a tier's name (that tier alone), `stack` (every tier in
    /// declared order, read-through), or a list of tier names (that sub-stack, in that order).
    pub target: TargetFile,
    /// How a stack writes: `through` (every tier, the default) or `around` (the lowest tier,
    /// invalidating the ones above).
    #[serde(default)]
    pub write: WritePolicy,
    /// What a failing tier inside a stack does to an operation: `fail` (the default: the operation
    /// fails) or `skip` (the tier's error is counted and a read falls through to the next tier).
    #[serde(default)]
    pub on_error: ErrorPolicy,
    /// Check every read for stale or corrupt values: values carry their key and a write version,
    /// and a read older than the key's last completed write is `stale`.
    #[serde(default)]
    pub verify: bool,
    /// Write every key once before warmup (not recorded), so reads start warm.
    #[serde(default)]
    pub preload: bool,
    /// Count hits and misses by replaying the requests through the tiers' real in-process engines,
    /// timing nothing (no latency). Target tiers must be `kind: memory`; no latency thresholds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulate: bool,
    /// Operation weights, e.g. `{ get: 95, set: 5 }`, custom commands by their name
    /// (`{ hset_session: 3, get: 7 }`). Weights are relative; at least one > 0.
    /// Give `mix` or `sequence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<MixFile>,
    /// A per-key lifecycle instead of a mix: each step picks a key and runs these operations on
    /// it in order, e.g. `[set, get, touch, get, delete]` (a session's life); custom commands
    /// by their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Vec<StepName>>,
    /// Replay a key/operation trace instead of a mix (keys get the scenario's prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceFile>,
    /// Keys per batch operation (`mget`, `mset`, `mdelete`): `20`, or sizes with weights
    /// `{ 10: 70, 50: 25, 200: 5 }`. Required when the mix or sequence has a batch operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<super::model_batch::BatchFile>,
    /// Overrides `defaults.warmup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u64>,
    /// Overrides `defaults.ops`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// Overrides `defaults.duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationValue>,
    /// Overrides `defaults.concurrency`. With a `rate`, the most operations in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Open loop: operations are issued at this rate whatever the latency (`5000/s`), or at a rate
    /// ramping linearly over the duration (`1000/s..20000/s`). Latency counts from each
    /// operation's intended start, so a stall shows in every operation it delayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Phases run one after another, each with its own length and load (closed loop with a
    /// `concurrency`, or open loop with a `rate`); replaces the workload's `ops`/`duration`/`rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<PhaseFile>>,
    /// Pass/fail checks on this workload's results, `METRIC OP VALUE`:
    /// `get.p99 < 2ms`, `l1.hit_rate >= 40%`, `throughput > 10000/s`, `errors == 0`.
    /// METRIC is `[TIER.]OP.STAT` (OP: get, set, delete, touch, mget, mset, mdelete, a custom
    /// command's name, all; STAT: min, mean, stddev, max, p50, p90, p95, p99, p999 or p(N)),
    /// `OP.errors`, `served_by.TIER.STAT` (end-to-end latency of reads served by TIER or
    /// `origin`), `TIER.hit_rate`, `TIER.entries`, `TIER.memory_per_entry`, `TIER.errors`,
    /// `TIER.stale`, `TIER.corrupt`, `throughput`, `errors` or `error_rate`.
    #[serde(default)]
    pub thresholds: Vec<String>,
}

/// A trace to replay.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceFile {
    /// The trace file, relative to the scenario file.
    pub path: String,
    /// Its format: `csv` (`key,op[,size]` lines, the default) or `oracle_general` (libCacheSim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<crate::workload::trace::TraceFormat>,
    /// A recording's workload to replay (its `workload` column). Default: the records of the
    /// recorded workload with this workload's name when the trace has one, else every record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Replay at the trace's own pace, from its timestamps: `1x` as captured, `2x` twice as
    /// fast, `0.5x` half (MONITOR captures, Twitter and oracleGeneral traces). Each request's
    /// latency counts from when it was due. Without it (or `max`), as fast as the loop runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<String>,
}

/// One phase of a workload.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseFile {
    /// Name shown in results (default `phase-N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Operations in this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// Length of this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationValue>,
    /// Workers (closed loop) or the most operations in flight (open loop); default: the workload's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Open-loop rate (`5000/s`) or ramp (`1000/s..20000/s`, needs `duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
}

/// A workload target.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TargetFile {
    /// A tier's name, or `stack` for every tier in declared order.
    One(String),
    /// Tier names, in stack order.
    Many(Vec<String>),
}

/// Operation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpName {
    /// Read.
    Get,
    /// Write.
    Set,
    /// Remove.
    Delete,
    /// Refresh the time to live.
    Touch,
    /// Read a batch of keys (one call per tier; see `batch`).
    Mget,
    /// Write a batch of keys.
    Mset,
    /// Remove a batch of keys.
    Mdelete,
}

/// Relative operation weights: built-in operations and custom commands by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct MixFile(pub std::collections::BTreeMap<String, u32>);

impl JsonSchema for MixFile {
    fn schema_name() -> Cow<'static, str> {
        "Mix".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let weight = |d: &str| json_schema!({ "type": "integer", "minimum": 0, "description": d });
        json_schema!({
            "description": "Relative operation weights, e.g. `{ get: 95, set: 5 }`; a custom command (declared under `commands`) by its name.",
            "type": "object",
            "properties": {
                "get": weight("Weight of reads."),
                "set": weight("Weight of writes (a value from the data's value pool)."),
                "delete": weight("Weight of deletes."),
                "touch": weight("Weight of touches (refresh a key's time to live)."),
                "mget": weight("Weight of batch reads (`batch` keys each, one call per tier)."),
                "mset": weight("Weight of batch writes."),
                "mdelete": weight("Weight of batch deletes.")
            },
            "propertyNames": { "pattern": "^[a-z][a-z0-9_]*$" },
            "additionalProperties": weight("Weight of the custom command of this name (declared under `commands`).")
        })
    }
}

/// A step of a `sequence`: a built-in operation or a custom command's name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct StepName(pub String);

impl JsonSchema for StepName {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let builtin = generator.subschema_for::<OpName>();
        json_schema!({
            "description": "A built-in operation, or the name of a custom command declared under `commands`.",
            "anyOf": [
                builtin,
                { "type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "A custom command's name." }
            ]
        })
    }
}

/// A custom Redis command: its arguments, or its arguments with settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CommandFile {
    /// The command name, then its arguments: `["HSET", "{key}", "field:{field}", "{value}"]`.
    Args(Vec<String>),
    /// The command with settings: `{ command: ["HINCRBY", "{key}", "f{field}", "1"], fields: 16 }`.
    Full(CommandSpecFile),
}

/// A custom command with settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandSpecFile {
    /// The command name, then its arguments.
    pub command: Vec<String>,
    /// How many field indices `{field}` ranges over (`0..fields`, uniform); required when an
    /// argument uses `{field}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub fields: Option<u32>,
}

impl CommandFile {
    /// The arguments, the command name first.
    pub fn args(&self) -> &[String] {
        match self {
            CommandFile::Args(a) => a,
            CommandFile::Full(f) => &f.command,
        }
    }

    /// The pointer suffix of argument `i` (`/3` or `/command/3`).
    pub fn arg_pointer(&self, i: usize) -> String {
        match self {
            CommandFile::Args(_) => format!("/{i}"),
            CommandFile::Full(_) => format!("/command/{i}"),
        }
    }

    /// `fields`, when given.
    pub fn fields(&self) -> Option<u32> {
        match self {
            CommandFile::Args(_) => None,
            CommandFile::Full(f) => f.fields,
        }
    }
}
