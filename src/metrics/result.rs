//! The result document (stage three of three): what a run measured, as JSON.
//!
//! It is the one format tierbench writes: reports are templates over it, `--baseline` reads it,
//! and its JSON Schema (`schemas/results.schema.json`) is generated from these types. Latencies
//! are nanoseconds; every histogram is kept whole (HdrHistogram V2 + DEFLATE, base64) so a run
//! can be re-analysed or merged later without re-running it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::comparison::Comparison;
use super::errors::{ErrorMessage, Outage};
pub use super::latency::{LatencyStats, OpResult, decode_histogram, encode_histogram};
pub use super::samples::WindowSamples;
use super::statistics::{Outliers, Summary as StatSummary};
pub use super::threshold::{ThresholdResult, ThresholdSource};

/// Version of this document's layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "tierbench results")]
pub struct ResultDocument {
    /// Layout version of this document (1).
    pub schema_version: u32,
    /// Version of tierbench that wrote it.
    pub tierbench_version: String,
    /// The scenario that ran.
    pub scenario: ScenarioInfo,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time of the whole run, in seconds (setup and cleanup included).
    pub duration_s: f64,
    /// The machine it ran on.
    pub host: HostInfo,
    /// tierbench's own process.
    pub process: ProcessInfo,
    /// How latency was measured, in a sentence (reports print it).
    pub latency_method: String,
    /// Per workload, in run order.
    pub workloads: Vec<WorkloadResult>,
    /// Threshold counts over all workloads.
    pub summary: Summary,
    /// The profile applied, if any.
    pub profile: Option<String>,
    /// Overrides applied, in order (`TIERBENCH_OPS=...`, `--set ...`), passwords redacted.
    pub overrides: Vec<String>,
    /// Against `--baseline`: each metric's change and verdict. Computed when comparing.
    pub comparison: Option<Comparison>,
    /// What setup found and did: leftovers of an interrupted run removed, per tier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A shard's run (`--shard I/N`): which shard, and the common start; a merged document
    /// lists every shard it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// A sweep's grid, its points and curves (`metrics::sweep`); null for a single run.
    #[serde(default)]
    pub sweep: Option<super::sweep::SweepResult>,
    /// True in the documents a run writes before its last workload has ended (the JSON file
    /// is rewritten after each workload); absent from the finished document. `merge` never
    /// adds a document still in progress (`--wait` waits for it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_progress: bool,
}

/// Which shard(s) a document holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardInfo {
    /// The shards in this document (one for a shard's own run, all of them once merged).
    pub indices: Vec<usize>,
    /// How many shards ran the scenario.
    pub count: usize,
    /// The common start the shards waited for (RFC 3339), if one was given.
    pub start_at: Option<String>,
}

/// The scenario, identified.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioInfo {
    /// Its name.
    pub name: String,
    /// Its description (null when it has none).
    #[serde(default)]
    pub description: Option<String>,
    /// The file, as given on the command line.
    pub path: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// The seed used.
    pub seed: u64,
    /// The effective scenario (variables expanded), as JSON.
    pub effective: serde_json::Value,
}

/// The host, from sysinfo.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostInfo {
    /// Operating system name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// CPU model.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: usize,
    /// Total memory in bytes.
    pub memory_bytes: u64,
}

/// tierbench's own process.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProcessInfo {
    /// Highest resident set size sampled during the run (sampled after each phase), bytes.
    pub peak_rss_bytes: u64,
    /// CPU time (user + system) used by the process, seconds.
    pub cpu_time_s: f64,
}

/// A run-time failure and where it happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunFailure {
    /// `setup` (a tier could not be set up), `measure` (a workload could not go on) or `trace`
    /// (the recorded trace could not be written).
    pub phase: String,
    /// The tier that failed, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The workload it happened in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// What happened (the same text as `summary.failure`).
    pub message: String,
}

/// Threshold totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Summary {
    /// True when every threshold held (and the run completed).
    pub passed: bool,
    /// Thresholds checked.
    pub thresholds: usize,
    /// Thresholds that failed.
    pub failed: usize,
    /// Mean of the workloads' scores; null when none has thresholds.
    pub score: Option<f64>,
    /// Grade of that score.
    pub grade: Option<String>,
    /// Set when the run was stopped by its timeout: results cover what ran before it.
    pub timed_out: bool,
    /// Set when the run was interrupted (`SIGINT`, `SIGTERM`): results cover what ran before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// The run-time failure that ended the run (a tier lost, a setup failure), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The same failure, where it happened: its phase, tier and workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_detail: Option<RunFailure>,
    /// Seconds of measurement the results cover (all workloads).
    #[serde(default)]
    pub measured_s: f64,
    /// With `--baseline` (or in `tierbench compare`): the baseline compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Metrics compared with the baseline.
    pub compared: usize,
    /// True when a metric regressed against the baseline.
    pub regressed: bool,
    /// Metrics judged regressed against the baseline.
    pub regressions: usize,
    /// Metrics beyond the noise band that too few samples could not judge.
    pub inconclusive: usize,
    /// True when the baseline verdict fails the run (exit 5 if the thresholds held).
    pub verdict_failed: bool,
}

/// One workload's measurements.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WorkloadResult {
    /// Workload name.
    pub name: String,
    /// Target tiers, in stack order.
    pub target: Vec<String>,
    /// How the load was generated: `closed_loop`, `open_loop`, or `mixed` (phases of both).
    pub mode: String,
    /// True for a stack target (read-through with an origin); false for a lone tier.
    pub stacked: bool,
    /// Workers.
    pub concurrency: usize,
    /// Measured wall time, seconds.
    pub duration_s: f64,
    /// Operations completed (errors excluded).
    pub ops: u64,
    /// Completed operations per second of measured time.
    pub throughput: f64,
    /// Failed operations.
    pub errors: u64,
    /// errors / (ops + errors).
    pub error_rate: f64,
    /// Per operation kind (`get`, `set`, `delete`, `touch`) and `all` combined.
    pub operations: BTreeMap<String, OpResult>,
    /// End-to-end latency of reads by who served them: a tier's name, or `origin` when every
    /// tier missed (stacks). An L1 miss served by L2 is `served_by.l2`.
    pub served_by: BTreeMap<String, OpResult>,
    /// Batch operations' figures (absent without batch operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batches: Option<super::batch_result::BatchResult>,
    /// Per target tier.
    pub tiers: Vec<TierResult>,
    /// Open loop: service time (from each operation's actual start) per operation kind. Latency
    /// in `operations` counts from the intended start. Empty in closed loop.
    pub service: BTreeMap<String, OpResult>,
    /// Each phase's own figures, in order.
    pub phases: Vec<PhaseResult>,
    /// Per second of measured time: throughput, errors, p50 and p99 (for charts).
    pub timeseries: Vec<SecondResult>,
    /// Warnings about the run itself (the load generator could not keep up, a noisy run).
    pub warnings: Vec<String>,
    /// With `repeat: N` > 1: each repetition's headline figures (the rest of this result merges
    /// all repetitions).
    pub repetitions: Vec<RepetitionFigures>,
    /// Mean, standard deviation and 95% confidence interval (Student's t) across repetitions of
    /// every figure in `repetitions` (same names).
    pub statistics: BTreeMap<String, StatSummary>,
    /// Tukey outliers among the per-second throughput samples (reported, never dropped).
    pub outliers: Option<Outliers>,
    /// Per-window samples of the measured period: what a comparison uses without repetitions.
    #[serde(default, skip_serializing_if = "WindowSamples::is_empty")]
    pub samples: WindowSamples,
    /// 0..100 from the thresholds: how many held and by what margin (see the README); null
    /// without thresholds.
    pub score: Option<f64>,
    /// A (>= 90), B (>= 80), C (>= 70), D (>= 60) or F, from the score.
    pub grade: Option<String>,
    /// Each threshold and its verdict.
    pub thresholds: Vec<ThresholdResult>,
    /// True when every threshold of this workload held.
    pub passed: bool,
    /// The distinct error messages of its tiers, with counts and when they were seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_messages: Vec<ErrorMessage>,
    /// Errors whose message was not kept (beyond the distinct messages kept per workload).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_errors: u64,
    /// Stretches of seconds in which at least half of the operations failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<Outage>,
    /// A stack's simulated origin: the configured latency and what the loads waited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<OriginResult>,
    /// App instances kept coherent (`coherence:` in the scenario): invalidations and their lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coherence: Option<super::coherence::CoherenceResult>,
    /// Why the workload ended early (a tier lost for good), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Wall-clock time (Unix milliseconds) when measuring began: second 0 of `timeseries`. The
    /// measured window is `started_ms` plus `duration_s`; shards are merged on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One repetition's figures, by metric name: `throughput`, `error_rate`, `OP.STAT_ns` for every
/// operation (and `all`) and statistic (mean, p50, p90, p99, p999, max), `TIER.hit_rate`,
/// `TIER.OP.p99_ns` (time in a stack tier's calls) and `served_by.TIER.p99_ns`.
pub type RepetitionFigures = BTreeMap<String, f64>;

/// One phase of a workload.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PhaseResult {
    /// Phase name.
    pub name: String,
    /// `closed_loop` or `open_loop`.
    pub mode: String,
    /// Workers (closed loop) or most operations in flight (open loop).
    pub concurrency: usize,
    /// Wall time, seconds.
    pub duration_s: f64,
    /// Operations completed.
    pub ops: u64,
    /// Operations failed.
    pub errors: u64,
    /// Open loop: the rate asked for (mean over a ramp), operations per second.
    pub intended_rate: Option<f64>,
    /// Operations issued (completed + failed) per second.
    pub achieved_rate: f64,
    /// Per operation kind and `all`.
    pub operations: BTreeMap<String, OpResult>,
    /// CPU time tierbench itself used during the phase, seconds (all its threads).
    #[serde(default)]
    pub client_cpu_s: Option<f64>,
    /// Cores tierbench kept busy on average (`client_cpu_s` / wall time).
    #[serde(default)]
    pub client_cores_busy: Option<f64>,
}

/// One second of the time series.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SecondResult {
    /// Seconds since measuring started.
    pub second: u64,
    /// Operations completed in it.
    pub ops: u64,
    /// Operations failed in it.
    pub errors: u64,
    /// Mean latency, ns.
    pub mean_ns: f64,
    /// Median latency, ns.
    pub p50_ns: u64,
    /// 99th percentile latency, ns.
    pub p99_ns: u64,
    /// Verified reads in it that were stale, every tier (verify mode; absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stale: u64,
    /// Failed calls per tier in it (tiers without errors left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tier_errors: BTreeMap<String, u64>,
    /// Hit rate (0..1) per tier among the reads completed in it that reached the tier (tiers
    /// no read reached left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hit_rates: BTreeMap<String, f64>,
}

/// What one tier saw during a workload.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TierResult {
    /// Tier name.
    pub name: String,
    /// Tier kind (`memory`).
    pub kind: String,
    /// Lookups that found the key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// hits / (hits + misses); null when there were no lookups.
    pub hit_rate: Option<f64>,
    /// Calls to this tier that failed.
    pub errors: u64,
    /// Entries held at the end of the workload (keys under the prefix), when the tier can tell.
    pub entries: Option<u64>,
    /// Memory per entry, measured during preload; null without preload or when entries did not grow.
    pub memory: Option<MemoryResult>,
    /// Time spent waiting for a pooled connection (SQL tiers), apart from the query time.
    pub pool_wait: Option<OpResult>,
    /// End-to-end latency of the reads this tier served.
    pub served: OpResult,
    /// Verified reads this tier served that were older than the key's last completed write.
    pub stale: u64,
    /// Verified reads this tier served that held another key's value or no stamp.
    pub corrupt: u64,
    /// `stale` / the verified reads this tier served (absent when it served none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_rate: Option<f64>,
    /// How long after the key's latest completed write each stale read came (absent without
    /// stale reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_age: Option<LatencyStats>,
    /// For a compressed tier: the ratio and the time compression took, apart from the tier's.
    pub compression: Option<CompressionResult>,
    /// Time spent in this tier's calls, per operation kind.
    pub operations: BTreeMap<String, OpResult>,
    /// Batch calls, and batches served whole (absent without batch operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<super::batch_result::TierBatchResult>,
    /// Keys the server evicted during the workload (Redis `INFO stats` `evicted_keys`, after
    /// minus before; a cluster's primaries summed); absent for tiers that do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evictions: Option<u64>,
    /// A Redis Cluster tier: each primary's `INFO commandstats` calls over the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<super::nodes::NodeCounts>>,
}

/// What compression did for a tier.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CompressionResult {
    /// `zstd-LEVEL` or `lz4`.
    pub algorithm: String,
    /// Bytes given to the compressor.
    pub bytes_raw: u64,
    /// Bytes it produced.
    pub bytes_stored: u64,
    /// bytes_raw / bytes_stored; null before anything was compressed.
    pub ratio: Option<f64>,
    /// Time spent compressing, per value.
    pub compress: OpResult,
    /// Time spent decompressing, per value.
    pub decompress: OpResult,
}

/// Memory per entry, and how it was obtained.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MemoryResult {
    /// Bytes per entry.
    pub per_entry_bytes: f64,
    /// Entries added between the two readings the figure comes from.
    pub entries_measured: u64,
    /// How the byte counts were read.
    pub method: String,
}

/// A stack's simulated origin over one workload: what each load was configured to wait and
/// what it waited, so a report shows the distribution reproduced (or not).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OriginResult {
    /// The configured latency as written: `5ms`, `log-normal p50 5ms p99 40ms`, `uniform 2ms..8ms`.
    pub configured: String,
    /// The configured distribution's median, in nanoseconds.
    pub planned_p50_ns: u64,
    /// The configured distribution's 99th percentile, in nanoseconds.
    pub planned_p99_ns: u64,
    /// Origin loads (one per read every tier missed; one per batch of such keys).
    pub loads: u64,
    /// How long the loads waited, measured.
    pub wait: LatencyStats,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::recorder::new_histogram;

    #[test]
    fn histograms_round_trip_through_base64() {
        let mut h = new_histogram();
        for v in [120, 340, 5_000, 2_000_000] {
            h.record(v).unwrap();
        }
        let stats = LatencyStats::from_histogram(&h);
        let back = stats.histogram().unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.max(), h.max());
        assert_eq!(stats.min_ns, 120);
    }

    #[test]
    fn empty_histograms_summarize_to_zero() {
        let stats = LatencyStats::from_histogram(&new_histogram());
        assert_eq!(stats.max_ns, 0);
        assert_eq!(stats.mean_ns, 0.0);
        assert!(stats.histogram().unwrap().is_empty());
    }
}
