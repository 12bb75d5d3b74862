//! One threshold's verdict in the result document, and where the threshold was written.
//!
//! Kept apart from `result` (which holds the rest of the document) so that file stays small; the
//! type is re-exported there. `source` lets CI formats point at the threshold's own line in the
//! scenario file (GitHub annotations); `margin` is the relative headroom reports sort by.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One threshold and its verdict.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdResult {
    /// The threshold as written.
    pub text: String,
    /// The metric's canonical name.
    pub metric: String,
    /// The comparison: `<`, `<=`, `>`, `>=` or `==`.
    pub op: String,
    /// The value observed (canonical unit: ns, fraction, ops/s, count); null if not measured.
    pub observed: Option<f64>,
    /// The limit in the same unit.
    pub limit: f64,
    /// The unit of `observed` and `limit`: `ns`, `ratio`, `ops/s`, `count`.
    pub unit: String,
    /// True when it held.
    pub passed: bool,
    /// Where the threshold is written in the scenario file; for a threshold the file does not
    /// state (the default `error_rate <= 1%`, one a profile or `--set` added), the workload's
    /// place. Null when unknown (documents written before it existed).
    #[serde(default)]
    pub source: Option<ThresholdSource>,
}

/// A place in the scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdSource {
    /// The scenario file, as given on the command line.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

impl ThresholdResult {
    /// The relative headroom: how far the observed value is on the right side of the limit, as
    /// a fraction of the limit (positive: held with room; negative: missed by that much). A zero
    /// limit or an `==` threshold gives 0 when it held and -1 when it failed; `None` when the
    /// metric was not measured.
    pub fn margin(&self) -> Option<f64> {
        let observed = self.observed?;
        let sign = if self.passed { 0.0 } else { -1.0 };
        if self.limit == 0.0 {
            return Some(sign);
        }
        let scale = self.limit.abs();
        match self.op.as_str() {
            "<" | "<=" => Some((self.limit - observed) / scale),
            ">" | ">=" => Some((observed - self.limit) / scale),
            _ => Some(sign),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(op: &str, observed: Option<f64>, limit: f64, passed: bool) -> ThresholdResult {
        ThresholdResult {
            text: String::new(),
            metric: String::new(),
            op: op.into(),
            observed,
            limit,
            unit: "ns".into(),
            passed,
            source: None,
        }
    }

    #[test]
    fn margins_are_relative_headroom() {
        assert_eq!(t("<", Some(50.0), 200.0, true).margin(), Some(0.75));
        assert_eq!(
            t(">", Some(0.5), 0.99, false).margin(),
            Some((0.5 - 0.99) / 0.99)
        );
        assert_eq!(t("==", Some(3.0), 0.0, false).margin(), Some(-1.0));
        assert_eq!(t("<=", Some(0.0), 0.0, true).margin(), Some(0.0));
        assert_eq!(t("<", None, 1.0, false).margin(), None);
    }
}
