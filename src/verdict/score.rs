//! Scores and grades: how comfortably a workload's thresholds held, as one number and a letter.
//!
//! A threshold that passes with room to spare scores higher than one that barely passes; a
//! failure scores by how far it missed. `app` writes the mean score and its grade into the result
//! document next to the thresholds' pass/fail.

use crate::metrics::result::ThresholdResult;

/// The score of one threshold, 0..100: a pass scores 80 plus up to 20 for headroom (the relative
/// distance from the limit, capped at 100%); a failure scores 50 × (1 − how far past the limit,
/// relative), at least 0. `==` scores 100 or 0.
pub fn threshold_score(t: &ThresholdResult) -> f64 {
    let Some(observed) = t.observed else {
        return 0.0;
    };
    let scale = t.limit.abs().max(f64::MIN_POSITIVE);
    let headroom = match t.op.as_str() {
        "<" | "<=" => (t.limit - observed) / scale,
        ">" | ">=" => (observed - t.limit) / scale,
        _ => return if t.passed { 100.0 } else { 0.0 },
    };
    let headroom = if t.limit == 0.0 {
        if t.passed { 1.0 } else { -1.0 }
    } else {
        headroom
    };
    if t.passed {
        80.0 + 20.0 * headroom.clamp(0.0, 1.0)
    } else {
        50.0 * (1.0 - headroom.abs()).clamp(0.0, 1.0)
    }
}

/// The mean threshold score, `None` without thresholds.
pub fn score(thresholds: &[ThresholdResult]) -> Option<f64> {
    (!thresholds.is_empty())
        .then(|| thresholds.iter().map(threshold_score).sum::<f64>() / thresholds.len() as f64)
}

/// A (>= 90), B (>= 80), C (>= 70), D (>= 60), F.
pub fn grade(score: f64) -> String {
    match score {
        s if s >= 90.0 => "A",
        s if s >= 80.0 => "B",
        s if s >= 70.0 => "C",
        s if s >= 60.0 => "D",
        _ => "F",
    }
    .to_string()
}

/// The grade of a verdict: the score's letter when it passed, F when it did not (a failed
/// threshold, an error, a regression): the grade never contradicts the verdict, and the score
/// still tells how close the thresholds came.
pub fn verdict_grade(score: f64, passed: bool) -> String {
    if passed { grade(score) } else { "F".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_verdict_is_graded_f_whatever_its_score() {
        assert_eq!(verdict_grade(94.0, true), "A");
        assert_eq!(verdict_grade(94.0, false), "F");
        assert_eq!(verdict_grade(10.0, true), "F");
    }

    fn t(op: &str, observed: f64, limit: f64, passed: bool) -> ThresholdResult {
        ThresholdResult {
            text: String::new(),
            metric: String::new(),
            op: op.into(),
            observed: Some(observed),
            limit,
            unit: "ns".into(),
            passed,
            source: None,
        }
    }

    #[test]
    fn threshold_scores_reward_headroom_and_punish_misses() {
        assert_eq!(threshold_score(&t("<", 50.0, 100.0, true)), 90.0);
        assert_eq!(threshold_score(&t("<", 0.0, 100.0, true)), 100.0);
        assert_eq!(threshold_score(&t("<", 99.9, 100.0, true)).round(), 80.0);
        assert_eq!(threshold_score(&t("<", 150.0, 100.0, false)), 25.0);
        assert_eq!(threshold_score(&t("<", 300.0, 100.0, false)), 0.0);
        assert_eq!(threshold_score(&t(">=", 0.96, 0.95, true)).round(), 80.0);
        assert_eq!(threshold_score(&t("==", 0.0, 0.0, true)), 100.0);
        assert_eq!(score(&[]), None);
        assert_eq!(grade(95.0), "A");
        assert_eq!(grade(80.0), "B");
        assert_eq!(grade(10.0), "F");
    }
}
