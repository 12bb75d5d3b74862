//! Latency in the result document: one operation kind's counts and statistics (`OpResult`),
//! with the whole HDR histogram kept (V2 + DEFLATE, base64).
//!
//! Apart from `result.rs` so that parts of the document kept in their own files (batch
//! figures, `batch_result.rs`) can use these types without an import loop; `result.rs`
//! re-exports them.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One operation kind's counts and latency.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OpResult {
    /// Completed operations.
    pub count: u64,
    /// Failed operations.
    pub errors: u64,
    /// Latency of the completed ones.
    pub latency: LatencyStats,
}

/// Latency statistics in nanoseconds, with the histogram they came from. In the document an
/// empty histogram's statistics are `null` (nothing was measured), never 0 ns: see
/// [`LatencyDoc`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "LatencyDoc", from = "LatencyDoc")]
pub struct LatencyStats {
    /// Fastest.
    pub min_ns: u64,
    /// Arithmetic mean.
    pub mean_ns: f64,
    /// Standard deviation.
    pub stddev_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Slowest.
    pub max_ns: u64,
    /// The HDR histogram (nanoseconds, 3 significant digits), V2 + DEFLATE encoding, base64.
    pub histogram: String,
}

/// How [`LatencyStats`] reads in the result document: every statistic is `null` when the
/// histogram is empty (an operation kind or a served-by row with no completed operation), so
/// neither a report nor a script mistakes "not measured" for 0 ns.
#[derive(Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "LatencyStats")]
struct LatencyDoc {
    /// Fastest (null: nothing measured).
    min_ns: Option<u64>,
    /// Arithmetic mean (null: nothing measured).
    mean_ns: Option<f64>,
    /// Standard deviation (null: nothing measured).
    stddev_ns: Option<f64>,
    /// Median (null: nothing measured).
    p50_ns: Option<u64>,
    /// 90th percentile (null: nothing measured).
    p90_ns: Option<u64>,
    /// 95th percentile (null: nothing measured).
    p95_ns: Option<u64>,
    /// 99th percentile (null: nothing measured).
    p99_ns: Option<u64>,
    /// 99.9th percentile (null: nothing measured).
    p999_ns: Option<u64>,
    /// Slowest (null: nothing measured).
    max_ns: Option<u64>,
    /// The HDR histogram (nanoseconds, 3 significant digits), V2 + DEFLATE encoding, base64.
    histogram: String,
}

impl From<LatencyStats> for LatencyDoc {
    fn from(s: LatencyStats) -> Self {
        let measured = s.is_measured();
        let u = |v: u64| measured.then_some(v);
        let f = |v: f64| measured.then_some(v);
        LatencyDoc {
            min_ns: u(s.min_ns),
            mean_ns: f(s.mean_ns),
            stddev_ns: f(s.stddev_ns),
            p50_ns: u(s.p50_ns),
            p90_ns: u(s.p90_ns),
            p95_ns: u(s.p95_ns),
            p99_ns: u(s.p99_ns),
            p999_ns: u(s.p999_ns),
            max_ns: u(s.max_ns),
            histogram: s.histogram,
        }
    }
}

impl From<LatencyDoc> for LatencyStats {
    fn from(d: LatencyDoc) -> Self {
        LatencyStats {
            min_ns: d.min_ns.unwrap_or(0),
            mean_ns: d.mean_ns.unwrap_or(0.0),
            stddev_ns: d.stddev_ns.unwrap_or(0.0),
            p50_ns: d.p50_ns.unwrap_or(0),
            p90_ns: d.p90_ns.unwrap_or(0),
            p95_ns: d.p95_ns.unwrap_or(0),
            p99_ns: d.p99_ns.unwrap_or(0),
            p999_ns: d.p999_ns.unwrap_or(0),
            max_ns: d.max_ns.unwrap_or(0),
            histogram: d.histogram,
        }
    }
}

impl JsonSchema for LatencyStats {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        LatencyDoc::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        LatencyDoc::json_schema(generator)
    }
}

impl LatencyStats {
    /// Summarizes a histogram (all zeros when it is empty).
    pub fn from_histogram(h: &Histogram<u64>) -> LatencyStats {
        let empty = h.is_empty();
        let q = |p: f64| if empty { 0 } else { h.value_at_quantile(p) };
        LatencyStats {
            min_ns: if empty { 0 } else { h.min() },
            mean_ns: if empty { 0.0 } else { h.mean() },
            stddev_ns: if empty { 0.0 } else { h.stdev() },
            p50_ns: q(0.50),
            p90_ns: q(0.90),
            p95_ns: q(0.95),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: if empty { 0 } else { h.max() },
            histogram: encode_histogram(h),
        }
    }

    /// Whether anything was measured: an empty histogram summarizes to all zeros, and no
    /// real operation takes 0 ns from first to last.
    pub fn is_measured(&self) -> bool {
        self.max_ns > 0 || self.min_ns > 0
    }

    /// Decodes the stored histogram.
    pub fn histogram(&self) -> Result<Histogram<u64>, String> {
        decode_histogram(&self.histogram)
    }
}

/// Encodes a histogram as base64 of its V2 + DEFLATE serialization.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Err(_) => String::new(),
    }
}

/// Decodes what `encode_histogram` wrote.
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram does not decode: {e:?}"))
}
