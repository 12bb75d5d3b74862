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

/// Latency statistics in nanoseconds, with the histogram they came from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
