//! Thresholds: `METRIC OP VALUE` checks such as `get.p99 < 2ms` or `l1.hit_rate >= 95%`.
//!
//! They are parsed at validation time (so a typo fails before a long run, not after it) against
//! the workload's tiers and operations, and evaluated on the workload's result. Values carry the
//! unit family of their metric: durations for latency, percentages for rates, `/s` for throughput.

use std::fmt;

use crate::suggest::did_you_mean;
use crate::units::{parse_bytes, parse_duration, parse_percent, parse_rate};
use crate::workload::op::Op;

/// A latency statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// Fastest.
    Min,
    /// Mean.
    Mean,
    /// Standard deviation.
    Stddev,
    /// Slowest.
    Max,
    /// A percentile, 0..=100.
    Percentile(f64),
}

/// Which operations a latency metric covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpSelector {
    /// One built-in kind.
    One(Op),
    /// One custom command, by name.
    Command(String),
    /// All kinds together.
    All,
}

impl OpSelector {
    /// As written in a threshold: `get`, `hset_session`, `all`.
    pub fn name(&self) -> &str {
        match self {
            OpSelector::One(op) => op.name(),
            OpSelector::Command(name) => name,
            OpSelector::All => "all",
        }
    }
}

/// What a threshold measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// A latency statistic, end to end or (with a tier) of that tier's calls.
    Latency {
        /// Tier name, for time spent in one tier.
        tier: Option<String>,
        /// Operations covered.
        op: OpSelector,
        /// Statistic.
        stat: Stat,
    },
    /// A tier's hit rate.
    HitRate {
        /// Tier name.
        tier: String,
    },
    /// The share of the batch reads reaching a tier that it served whole.
    BatchFullHitRate {
        /// Tier name.
        tier: String,
    },
    /// Per-key latency of batch reads (`mget.per_key.p99`, see `metrics::batch`).
    PerKey {
        /// Statistic.
        stat: Stat,
    },
    /// End-to-end latency of reads served by a tier (or `origin`).
    ServedBy {
        /// Tier name or `origin`.
        tier: String,
        /// Statistic.
        stat: Stat,
    },
    /// A count or size a tier reports.
    TierFigure {
        /// Tier name.
        tier: String,
        /// Which figure.
        figure: TierFigure,
    },
    /// Completed operations per second.
    Throughput,
    /// Failed operations.
    Errors,
    /// Failed operations of one kind (`hset_session.errors`).
    OpErrors {
        /// Operations covered.
        op: OpSelector,
    },
    /// Failed / all operations.
    ErrorRate,
    /// Coherence across app instances: `coherence.lag.p99`, `coherence.lost`.
    Coherence(CoherenceMetric),
}

pub use coherence::CoherenceMetric;

/// Per-tier figures usable in thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierFigure {
    /// Bytes per entry (`memory_per_entry`).
    MemoryPerEntry,
    /// Entries held at the end.
    Entries,
    /// Failed calls.
    Errors,
    /// Stale reads served (verify mode).
    Stale,
    /// Corrupt reads served (verify mode).
    Corrupt,
    /// Keys the server evicted during the workload (Redis `evicted_keys`).
    Evictions,
    /// Stale reads / verified reads the tier served (verify mode).
    StaleRate,
}

impl TierFigure {
    const ALL: [(&'static str, TierFigure); 7] = [
        ("memory_per_entry", TierFigure::MemoryPerEntry),
        ("entries", TierFigure::Entries),
        ("errors", TierFigure::Errors),
        ("stale", TierFigure::Stale),
        ("corrupt", TierFigure::Corrupt),
        ("evictions", TierFigure::Evictions),
        ("stale_rate", TierFigure::StaleRate),
    ];

    /// As written in a threshold.
    pub fn name(self) -> &'static str {
        TierFigure::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
}

impl Cmp {
    /// True when `observed` compared with `limit` holds.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Cmp::Lt => observed < limit,
            Cmp::Le => observed <= limit,
            Cmp::Gt => observed > limit,
            Cmp::Ge => observed >= limit,
            Cmp::Eq => (observed - limit).abs() <= f64::EPSILON * limit.abs().max(1.0),
        }
    }
}

/// A parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written.
    pub text: String,
    /// What it measures.
    pub metric: Metric,
    /// How it compares.
    pub cmp: Cmp,
    /// The limit in the metric's canonical unit.
    pub limit: f64,
}

/// A threshold that does not parse: the message and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdError {
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (hint: {})", self.message, self.hint)
    }
}

/// What a threshold may refer to: the workload's tiers and the operations it issues.
pub struct ThresholdContext<'a> {
    /// Target tier names.
    pub tiers: &'a [String],
    /// Operations the mix issues.
    pub ops: &'a [Op],
    /// The scenario's custom command names, indexed like `Op::Command`.
    pub commands: &'a [String],
}

const STATS_HINT: &str = "stats: min, mean, stddev, max, p50, p90, p95, p99, p999, p(N)";

fn err(message: impl Into<String>, hint: impl Into<String>) -> ThresholdError {
    ThresholdError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Parses `METRIC OP VALUE`, checking names against `ctx`.
pub fn parse(text: &str, ctx: &ThresholdContext<'_>) -> Result<Threshold, ThresholdError> {
    let (lhs, cmp, rhs) = split_comparison(text).ok_or_else(|| {
        err(
            format!("`{text}` has no comparison"),
            "write METRIC OP VALUE with OP one of < <= > >= ==, e.g. `get.p99 < 2ms`",
        )
    })?;
    let metric = parse_metric(lhs.trim(), ctx)?;
    let limit = parse_limit(&metric, rhs.trim())?;
    if matches!(
        metric,
        Metric::HitRate { .. }
            | Metric::BatchFullHitRate { .. }
            | Metric::ErrorRate
            | Metric::TierFigure {
                figure: TierFigure::StaleRate,
                ..
            }
    ) && !(0.0..=1.0).contains(&limit)
    {
        return Err(err(
            format!(
                "`{}` is outside 0%..100%: a rate cannot reach it",
                rhs.trim()
            ),
            "rates are percentages between 0% and 100% (95%) or fractions between 0 and 1 (0.95)",
        ));
    }
    Ok(Threshold {
        text: text.trim().to_string(),
        metric,
        cmp,
        limit,
    })
}

fn split_comparison(text: &str) -> Option<(&str, Cmp, &str)> {
    for (token, cmp) in [
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("==", Cmp::Eq),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
    ] {
        if let Some(i) = text.find(token) {
            return Some((&text[..i], cmp, &text[i + token.len()..]));
        }
    }
    None
}

/// Splits on dots outside parentheses: `l1.get.p(99.9)` → `l1`, `get`, `p(99.9)`.
fn segments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '.' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    // `p98.5` is one statistic (as `p(98.5)` is), not `p98` and a part `5`.
    let mut joined: Vec<&str> = Vec::with_capacity(out.len());
    for part in out {
        match joined.last_mut() {
            Some(last)
                if is_percentile(last)
                    && !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let from = last.as_ptr() as usize - text.as_ptr() as usize;
                *last = &text[from..from + last.len() + 1 + part.len()];
            }
            _ => joined.push(part),
        }
    }
    joined
}

/// `p` followed by digits only (`p98`).
fn is_percentile(part: &str) -> bool {
    part.strip_prefix('p')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_metric(text: &str, ctx: &ThresholdContext<'_>) -> Result<Metric, ThresholdError> {
    let parts = segments(text);
    let tier_hint = || match ctx.tiers {
        [] => "the workload's `target` names no tier yet: fix it first".to_string(),
        tiers => format!("tiers of this workload: {}", tiers.join(", ")),
    };
    let check_tier = |name: &str| -> Result<String, ThresholdError> {
        if ctx.tiers.iter().any(|t| t == name) {
            Ok(name.to_string())
        } else {
            Err(err(
                format!("`{name}` is not a tier of this workload"),
                tier_hint(),
            ))
        }
    };
    match parts.as_slice() {
        ["coherence", rest @ ..] if !ctx.tiers.iter().any(|t| t == "coherence") => {
            coherence::parse(rest).map(Metric::Coherence)
        }
        ["throughput"] => Ok(Metric::Throughput),
        ["served_by", tier, stat] => Ok(Metric::ServedBy {
            tier: if *tier == "origin" {
                "origin".to_string()
            } else {
                check_tier(tier)?
            },
            stat: stat::parse_stat(stat)?,
        }),
        [op, "errors"] if !ctx.tiers.iter().any(|t| t == op) => Ok(Metric::OpErrors {
            op: parse_op(op, ctx)?,
        }),
        [tier, figure] if TierFigure::ALL.iter().any(|(n, _)| n == figure) => {
            Ok(Metric::TierFigure {
                tier: check_tier(tier)?,
                figure: TierFigure::ALL
                    .iter()
                    .find(|(n, _)| n == figure)
                    .map(|(_, f)| *f)
                    .unwrap_or(TierFigure::Entries),
            })
        }
        ["errors"] => Ok(Metric::Errors),
        ["error_rate"] => Ok(Metric::ErrorRate),
        [tier, "hit_rate"] => Ok(Metric::HitRate {
            tier: check_tier(tier)?,
        }),
        [tier, "batch_full_hit_rate"] => Ok(Metric::BatchFullHitRate {
            tier: check_tier(tier)?,
        }),
        ["mget", "per_key", stat] => {
            parse_op("mget", ctx)?; // the workload must issue mget
            Ok(Metric::PerKey {
                stat: stat::parse_stat(stat)?,
            })
        }
        [tier, figure] if ctx.tiers.contains(&tier.to_string()) => {
            let names: Vec<&str> = ["hit_rate", "batch_full_hit_rate"]
                .into_iter()
                .chain(TierFigure::ALL.iter().map(|(n, _)| *n))
                .chain([
                    "get", "set", "delete", "touch", "mget", "mset", "mdelete", "all",
                ])
                .collect();
            Err(err(
                format!(
                    "`{figure}` is not a metric of tier `{tier}`{}",
                    did_you_mean(figure, &names)
                ),
                "tier metrics: TIER.hit_rate, TIER.batch_full_hit_rate, TIER.memory_per_entry, TIER.entries, TIER.errors, TIER.evictions, \
                 TIER.stale, TIER.stale_rate, TIER.corrupt, or TIER.OP.STAT (l2.get.p99)",
            ))
        }
        [op, stat] => Ok(Metric::Latency {
            tier: None,
            op: parse_op(op, ctx)?,
            stat: stat::parse_stat(stat)?,
        }),
        [tier, op, stat] => Ok(Metric::Latency {
            tier: Some(check_tier(tier)?),
            op: parse_op(op, ctx)?,
            stat: stat::parse_stat(stat)?,
        }),
        _ => Err(err(
            format!("`{text}` is not a metric"),
            "metrics: [TIER.]OP.STAT (get.p99), served_by.TIER.STAT, TIER.hit_rate, TIER.memory_per_entry, \
             TIER.entries, TIER.errors, TIER.evictions, TIER.stale, TIER.stale_rate, TIER.corrupt, throughput, errors, error_rate, \
             coherence.lag.STAT, coherence.lost",
        )),
    }
}

fn parse_op(name: &str, ctx: &ThresholdContext<'_>) -> Result<OpSelector, ThresholdError> {
    if name == "all" {
        return Ok(OpSelector::All);
    }
    if let Some(i) = ctx.commands.iter().position(|c| c == name) {
        return match ctx.ops.contains(&Op::Command(i as u16)) {
            true => Ok(OpSelector::Command(name.to_string())),
            false => Err(err(
                format!("this workload issues no `{name}` commands"),
                "give the command a weight in `mix` (or a step in `sequence`), or use `all`",
            )),
        };
    }
    match Op::from_name(name) {
        Some(op) if ctx.ops.contains(&op) => Ok(OpSelector::One(op)),
        Some(op) => Err(err(
            format!("this workload's mix issues no `{}` operations", op.name()),
            "give the operation a weight in `mix`, or use `all`",
        )),
        None => Err(err(
            format!(
                "`{name}` is not an operation or tier here{}",
                did_you_mean(
                    name,
                    &crate::workload::command::BUILT_IN_NAMES
                        .into_iter()
                        .chain(["all", "throughput", "errors", "error_rate", "served_by"])
                        .chain(ctx.commands.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                )
            ),
            format!(
                "operations: get, set, delete, touch, mget, mset, mdelete, all{}; tiers of this workload: {}",
                ctx.commands
                    .iter()
                    .filter(|c| Op::from_name(c).is_none())
                    .map(|c| format!(", {c}"))
                    .collect::<String>(),
                ctx.tiers.join(", ")
            ),
        )),
    }
}

fn parse_limit(metric: &Metric, text: &str) -> Result<f64, ThresholdError> {
    let (result, hint) = match metric {
        Metric::Latency { .. } | Metric::ServedBy { .. } | Metric::PerKey { .. } => (
            parse_duration(text).map(|d| d.as_nanos() as f64),
            "latency limits are durations: 500us, 2ms, 1s",
        ),
        Metric::HitRate { .. }
        | Metric::BatchFullHitRate { .. }
        | Metric::ErrorRate
        | Metric::TierFigure {
            figure: TierFigure::StaleRate,
            ..
        } => (
            parse_percent(text),
            "rates are percentages (95%) or fractions (0.95)",
        ),
        Metric::Coherence(CoherenceMetric::Lag(_)) => (
            parse_duration(text).map(|d| d.as_nanos() as f64),
            "lag limits are durations: 5ms, 50ms",
        ),
        Metric::Coherence(_) => (
            text.parse::<u64>()
                .map(|n| n as f64)
                .map_err(|_| format!("`{text}` is not a whole number")),
            "invalidations are counted: coherence.lost == 0",
        ),
        Metric::Throughput => (
            parse_rate(text),
            "throughput limits are rates: 10000/s, 20k/s",
        ),
        Metric::TierFigure {
            figure: TierFigure::MemoryPerEntry,
            ..
        } => (
            parse_bytes(text).map(|b| b as f64),
            "sizes are bytes: 512B, 1KiB",
        ),
        Metric::Errors | Metric::OpErrors { .. } | Metric::TierFigure { .. } => (
            text.parse::<u64>()
                .map(|n| n as f64)
                .map_err(|_| format!("`{text}` is not a whole number")),
            "errors are counted: errors == 0",
        ),
    };
    result.map_err(|m| err(m, hint))
}

mod coherence;
mod stat;
#[cfg(test)]
mod tests;
