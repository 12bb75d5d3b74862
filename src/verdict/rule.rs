//! The verdict rule: from a change's 95% interval and a noise band to regressed, improved,
//! inconclusive, within noise or no change, and how many more samples would settle a change
//! still open. Every comparison (two documents, a named baseline's history, an interleaved A/B)
//! judges with it, so a verdict means the same whichever way it was reached (docs/verdicts.md).

use crate::metrics::comparison::{Change, ChangeMethod, Verdict};

/// Fewer samples than this on a side make a test weak: its interval is wide, and recommendations
/// say to repeat or run longer.
pub const MIN_SAMPLES: usize = 5;

/// The verdict on a change against a noise band of ±`band` (a fraction), from its 95% interval:
///
/// - **regressed** / **improved**: the whole interval lies beyond the band, on the bad / the
///   good side;
/// - **inconclusive**: the change is significant (p < `significance`) and beyond the band on
///   the bad side, but its interval reaches back inside: worse, not shown to be worse than the
///   band (more samples decide). It fails a comparison unless allowed. A change that is not
///   even significant is noise as far as the samples can tell: requiring significance keeps the
///   false alarms of identical runs near `significance`;
/// - **within noise** / **no change**: the change lies inside the band on the bad side (or is
///   an improvement not wholly beyond the band): nothing to act on, so an improvement is never a
///   failure; "within noise" when the change is also significant at `significance`. When the
///   interval still reaches past the band on the bad side, equivalence is not shown either, and
///   the recommendations say how many more samples would show it (`samples_to_decide`).
///
/// A point change without an interval (fewer than two samples on a side) cannot be judged
/// beyond the band: inconclusive on the bad side, no change otherwise.
pub fn judge(change: &Change, significance: f64, band: f64, higher_is_better: bool) -> Verdict {
    // Badness: positive is worse. Its interval is [best, worst].
    let sign = if higher_is_better { -1.0 } else { 1.0 };
    let (a, b) = (sign * change.ci_low, sign * change.ci_high);
    let (best, worst) = (a.min(b), a.max(b));
    let estimate = sign * change.relative;
    if change.method == ChangeMethod::None {
        return if estimate > band {
            Verdict::Inconclusive
        } else {
            Verdict::NoChange
        };
    }
    if best > band {
        Verdict::Regressed
    } else if worst < -band {
        Verdict::Improved
    } else if estimate > band && change.p_value < significance {
        Verdict::Inconclusive
    } else if change.p_value < significance {
        Verdict::WithinNoise
    } else {
        Verdict::NoChange
    }
}

/// True when a change's interval reaches past the band on the bad side: no regression beyond
/// the band is shown, and no equivalence either.
pub fn open_on_the_bad_side(change: &Change, band: f64, higher_is_better: bool) -> bool {
    let sign = if higher_is_better { -1.0 } else { 1.0 };
    (sign * change.ci_low).max(sign * change.ci_high) > band
}

/// How many samples per side would settle a change whose interval reaches past the band on the
/// bad side: the interval's half-width shrinks as 1/√n, and it must shrink to the distance
/// between the change and the band's bad edge (for a change inside the band: equivalence
/// shown), or between the change and that edge from beyond (a regression shown).
pub fn samples_to_decide(
    change: &Change,
    n: usize,
    band: f64,
    higher_is_better: bool,
) -> Option<usize> {
    let sign = if higher_is_better { -1.0 } else { 1.0 };
    let half = (change.ci_high - change.ci_low) / 2.0;
    let room = (band - sign * change.relative).abs();
    if change.method == ChangeMethod::None || room <= 1e-9 || half <= 0.0 {
        return None;
    }
    Some(((n as f64) * (half / room).powi(2)).ceil() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::stats::relative_change;

    #[test]
    fn a_point_change_beyond_the_band_on_the_bad_side_is_inconclusive() {
        let one = relative_change(&[10.0], &[4.0]).unwrap();
        assert_eq!(judge(&one, 0.05, 0.02, true), Verdict::Inconclusive);
        assert_eq!(judge(&one, 0.05, 0.02, false), Verdict::NoChange);
        let tiny = relative_change(&[10.0], &[10.1]).unwrap();
        assert_eq!(judge(&tiny, 0.05, 0.02, true), Verdict::NoChange);
    }

    #[test]
    fn verdicts_regress_beyond_the_band_and_never_fail_an_improvement() {
        let c = |relative: f64, lo: f64, hi: f64, p: f64| Change {
            relative,
            ci_low: lo,
            ci_high: hi,
            p_value: p,
            method: ChangeMethod::Welch,
        };
        let v = |ch: Change, up_is_good: bool| judge(&ch, 0.05, 0.05, up_is_good);
        // Latency +10% [+6%, +14%] beyond a 5% band: regressed; throughput +10%: improved.
        assert_eq!(v(c(0.10, 0.06, 0.14, 0.001), false), Verdict::Regressed);
        assert_eq!(v(c(0.10, 0.06, 0.14, 0.001), true), Verdict::Improved);
        // A p99 that improved 2.2% [-9%, +4.6%]: its bad end is inside the band: no failure.
        assert_eq!(v(c(-0.022, -0.09, 0.046, 0.5), false), Verdict::NoChange);
        // Throughput -3% [-8%, +2%]: inside the band, nothing shown: no change (the interval
        // still reaches past the band: the recommendations say how many samples would settle it).
        assert_eq!(v(c(-0.03, -0.08, 0.02, 0.3), true), Verdict::NoChange);
        assert!(open_on_the_bad_side(
            &c(-0.03, -0.08, 0.02, 0.3),
            0.05,
            true
        ));
        // Throughput -8% [-14%, -2%]: likely worse, not shown beyond the band: inconclusive.
        assert_eq!(v(c(-0.08, -0.14, -0.02, 0.01), true), Verdict::Inconclusive);
        // Significant but small: within noise.
        assert_eq!(v(c(0.02, 0.01, 0.03, 0.01), false), Verdict::WithinNoise);
        // Improvement straddling the good edge: never inconclusive.
        assert_eq!(v(c(0.06, 0.0, 0.12, 0.04), true), Verdict::WithinNoise);
        let needed = samples_to_decide(&c(-0.03, -0.08, 0.02, 0.3), 10, 0.05, true).unwrap();
        assert_eq!(
            needed, 63,
            "half-width 5% must shrink to the 2% of room left"
        );
    }
}
