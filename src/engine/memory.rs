//! Memory per entry of each target tier, from three preload fill levels, reported only when the
//! figure is reliable.
//!
//! Readings are taken after 10%, 55% and 100% of the keys are written. The figure is the slope
//! over the last 90%: (bytes₃ − bytes₁) / (entries₃ − entries₁). Its uncertainty is half the gap
//! between the two half-slopes. How many entries the slope needs depends on how exact the byte
//! count is:
//! - an in-process tier counts jemalloc's allocated bytes, exact to the byte: a few hundred
//!   entries are enough (`MIN_EXACT_ENTRIES`), so a 1,000-entry L1 reports its figure;
//! - a server's `used_memory` or a table's pages move with connection buffers and page
//!   granularity (1,000 keys on Redis gave −1.9 KiB): the slope needs `MIN_ENTRIES`; below
//!   that, a Redis tier reports the mean of Redis' own `MEMORY USAGE` over a sample of the
//!   run's keys (key, value, object header and dict entry), and others withhold the figure.
//!
//! The figure is withheld with a reason when too few entries were added, when memory did not
//! grow, or when the two halves disagree by more than the figure itself.

use super::context::WorkloadContext;

/// The fewest entries added between the first and last reading for a slope of a server's or a
/// table's bytes to be reported.
pub const MIN_ENTRIES: u64 = 10_000;

/// The same for an in-process tier, whose bytes (jemalloc's allocated) are exact.
pub const MIN_EXACT_ENTRIES: u64 = 200;

/// The figure of `tier` from its three readings: the slope where it is reliable, else (a Redis
/// tier with too few keys for the slope) its sampled `MEMORY USAGE`, else why there is none.
pub(super) async fn figure_of(
    tier: &crate::tier::Tier,
    levels: [Reading; 3],
) -> Result<Option<MemoryFigure>, String> {
    let min = if tier.is_in_process() {
        MIN_EXACT_ENTRIES
    } else {
        MIN_ENTRIES
    };
    let slope = figure_with(levels, min);
    let too_few = matches!(&slope, Err(why) if why.starts_with("too few entries"));
    if !too_few {
        return slope;
    }
    match tier.sampled_entry_bytes().await {
        Ok(Some((per_entry, sampled, method))) => Ok(Some(MemoryFigure {
            per_entry,
            entries_between: sampled,
            method,
        })),
        Ok(None) => slope,
        Err(e) => slope.map_err(|why| format!("{why}; sampling the keys failed: {e}")),
    }
}

/// Bytes per entry of a tier, with how reliable it is.
#[derive(Debug, Clone)]
pub struct MemoryFigure {
    /// Bytes per entry.
    pub per_entry: f64,
    /// Entries added between the first and last reading.
    pub entries_between: u64,
    /// Where the byte counts came from, and the figure's uncertainty.
    pub method: String,
}

/// One reading per tier: (bytes, entries, method), `None` where the tier cannot tell.
pub(super) type Reading = Option<(u64, u64, &'static str)>;

/// Reads every tier's bytes and entries.
pub(super) async fn readings(ctx: &WorkloadContext) -> Vec<Reading> {
    let mut out = Vec::with_capacity(ctx.stack.len());
    for (i, tier) in ctx.stack.tiers().iter().enumerate() {
        let bytes = tier.memory_bytes().await.ok();
        let mut entries = tier.entries().await.ok().flatten();
        // The process's bytes hold every app instance's copy of an in-process tier: count
        // every copy's entries beside them.
        if tier.is_in_process() {
            for other in ctx.instances.iter().skip(1) {
                let more = other.tiers()[i].entries().await.ok().flatten();
                entries = entries.zip(more).map(|(a, b)| a + b);
            }
        }
        out.push(match (bytes, entries) {
            (Some((b, method)), Some(e)) => Some((b, e, method)),
            _ => None,
        });
    }
    out
}

/// The figure from three readings of a server's or a table's bytes, or why there is none
/// (`Ok(None)`: the tier cannot tell).
#[cfg(test)]
fn figure(levels: [Reading; 3]) -> Result<Option<MemoryFigure>, String> {
    figure_with(levels, MIN_ENTRIES)
}

/// The figure from three readings when the slope needs at least `min` entries added.
fn figure_with(levels: [Reading; 3], min: u64) -> Result<Option<MemoryFigure>, String> {
    let [Some(a), Some(b), Some(c)] = levels else {
        return Ok(None);
    };
    let ((b1, e1, method), (b2, e2, _), (b3, e3, _)) = (a, b, c);
    let added = e3.saturating_sub(e1);
    // Entries stopped growing in the second half: the tier is full (a size limit below the
    // key count), so more keys cannot help and the second half says nothing.
    let full = e3 <= e2;
    if added < min {
        let keys = min + min / 5;
        let hint = if full {
            format!(
                "the tier holds at most ~{e3} entries (its size limit): give it room for {keys} \
                 or more to measure memory per entry"
            )
        } else {
            format!("use {keys} keys or more")
        };
        return Err(format!(
            "too few entries to measure: {added} added between the readings; at least \
             {min} are needed ({hint})"
        ));
    }
    if full {
        return Err(format!(
            "the tier was full (~{e3} entries) before the last reading, so the figure's \
             uncertainty cannot be measured: give it room for every key (a size limit above the \
             key count) to measure memory per entry"
        ));
    }
    let slope = |(b1, e1): (u64, u64), (b2, e2): (u64, u64)| {
        (e2 > e1).then(|| (b2 as f64 - b1 as f64) / (e2 - e1) as f64)
    };
    let per_entry = slope((b1, e1), (b3, e3)).unwrap_or(0.0);
    if per_entry <= 0.0 {
        return Err(format!(
            "memory did not grow while {added} entries were added ({b1} then {b3} bytes)"
        ));
    }
    let (first, second) = (slope((b1, e1), (b2, e2)), slope((b2, e2), (b3, e3)));
    let noise = match (first, second) {
        (Some(x), Some(y)) => (x - y).abs() / 2.0,
        _ => 0.0,
    };
    if noise * 2.0 > per_entry {
        return Err(format!(
            "the noise exceeds the signal: the two halves of the fill gave {:.0} B and {:.0} B \
             per entry",
            first.unwrap_or(0.0),
            second.unwrap_or(0.0)
        ));
    }
    Ok(Some(MemoryFigure {
        per_entry,
        entries_between: added,
        method: format!(
            "{method}, difference between fill levels 10% and 100% over the entries added; \
             ± {noise:.0} B (half the gap between the two halves' slopes)"
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(bytes: u64, entries: u64) -> Reading {
        Some((bytes, entries, "test"))
    }

    #[test]
    fn a_steady_slope_is_reported_with_its_uncertainty() {
        let f = figure([
            r(1_000_000, 2_000),
            r(2_100_000, 11_000),
            r(3_000_000, 20_000),
        ])
        .unwrap()
        .unwrap();
        assert!((f.per_entry - 2_000_000.0 / 18_000.0).abs() < 1e-9);
        assert_eq!(f.entries_between, 18_000);
        assert!(f.method.contains("± 11 B"), "{}", f.method);
    }

    #[test]
    fn unreliable_figures_are_withheld_with_a_reason() {
        let few = figure([r(5_000_000, 100), r(4_000_000, 550), r(4_900_000, 1_000)]);
        assert!(
            few.unwrap_err()
                .contains("too few entries to measure: 900 added")
        );
        let shrank = figure([
            r(5_000_000, 2_000),
            r(4_000_000, 11_000),
            r(4_900_000, 20_000),
        ]);
        assert!(shrank.unwrap_err().contains("did not grow"));
        let noisy = figure([
            r(1_000_000, 2_000),
            r(1_000_100, 11_000),
            r(3_000_000, 20_000),
        ]);
        assert!(noisy.unwrap_err().contains("noise exceeds the signal"));
        assert!(figure([None, r(1, 1), r(2, 2)]).unwrap().is_none());
        // A size-limited tier: entries stop growing, and more keys would not help.
        let capped = figure([r(1_000_000, 500), r(2_000_000, 5_000), r(2_100_000, 5_000)]);
        let err = capped.unwrap_err();
        assert!(
            err.contains("at most ~5000 entries (its size limit)"),
            "{err}"
        );
        let full = figure([
            r(1_000_000, 3_000),
            r(9_000_000, 15_000),
            r(9_100_000, 15_000),
        ]);
        assert!(full.unwrap_err().contains("uncertainty cannot be measured"));
    }
}
