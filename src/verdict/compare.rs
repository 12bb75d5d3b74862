//! Baselines and verdicts: comparing a run with an earlier one.
//!
//! A result document is also the baseline format. Comparing two, each metric gets its relative
//! change with a 95% confidence interval and criterion's verdict (significant at p < 0.05 *and*
//! the interval outside a ±2% noise band). Samples are the per-repetition figures when both runs
//! were repeated, else the per-second figures of the time series. Latency up, or throughput or
//! hit rate down, is a regression. The comparison's data types, and which samples and headline
//! figure a metric has, are the result document's (`metrics`); scoring is `score`.

use std::collections::BTreeMap;

use super::rule::{MIN_SAMPLES, judge, open_on_the_bad_side, samples_to_decide};
use super::stats::{estimate, relative_change_of};
use crate::metrics::comparison::{ChangeMethod, Comparison, MetricComparison, Verdict};
use crate::metrics::figures::{headline, samples};
use crate::metrics::result::{ResultDocument, Summary, WorkloadResult};

/// How intervals and p-values are computed, as reports print it.
pub const METHOD: &str = "Welch's t-test on the logarithms of the samples (the change is the ratio of \
geometric means, and the baseline and current columns are those geometric means; its 95% interval is \
exponentiated, so it stays above -100%); Welch on the values, the interval clamped at -100%, where a \
sample is 0. Samples: repetitions when both runs have two or more (independent runs: the band is \
--noise); else one run per side, each run's windows (>= 10 windows of >= 1,000 operations) or whole \
seconds, counted as their effective number (n(1-r)/(1+r), r the lag-1 autocorrelation), and judged \
against a between-run noise floor per metric (--noise-floor), since one run's windows hold none of the \
run-to-run variance. Verdicts: regressed/improved when the whole interval lies beyond the band, \
inconclusive when the change is significant and beyond the band on the bad side but its interval reaches back inside, \
unchanged (no change, or within noise when significant) otherwise";

/// The between-run noise floor of each metric: the smallest band a comparison of one run per
/// side uses (a run's windows show none of the variance between runs: machine, server state,
/// neighbours). Defaults from A/A runs on a shared 2-core machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseFloor {
    /// `throughput`.
    pub throughput: f64,
    /// `all.mean_ns`.
    pub mean: f64,
    /// `all.p50_ns`.
    pub p50: f64,
    /// `all.p99_ns`.
    pub p99: f64,
    /// `TIER.hit_rate` (relative).
    pub hit_rate: f64,
}

impl Default for NoiseFloor {
    fn default() -> NoiseFloor {
        NoiseFloor {
            throughput: 0.05,
            mean: 0.05,
            p50: 0.05,
            p99: 0.10,
            hit_rate: 0.02,
        }
    }
}

impl NoiseFloor {
    /// The floor of `metric`.
    pub fn of(&self, metric: &str) -> f64 {
        match metric {
            "throughput" => self.throughput,
            "all.mean_ns" => self.mean,
            "all.p50_ns" => self.p50,
            "all.p99_ns" => self.p99,
            _ => self.hit_rate,
        }
    }

    /// Reads `throughput=5%,p99=10%,...` over `self` (names: throughput, mean, p50, p99,
    /// hit_rate): `--noise-floor` over the scenario's `noise_floor`.
    pub fn parse_over(
        self,
        text: &str,
        percent: impl Fn(&str) -> Result<f64, String>,
    ) -> Result<Self, String> {
        let mut floor = self;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected METRIC=PERCENT, e.g. p99=10%"))?;
            let value = percent(value.trim()).map_err(|e| format!("`{part}`: {e}"))?;
            let slot = match name.trim() {
                "throughput" => &mut floor.throughput,
                "mean" => &mut floor.mean,
                "p50" => &mut floor.p50,
                "p99" => &mut floor.p99,
                "hit_rate" => &mut floor.hit_rate,
                other => {
                    return Err(format!(
                        "`{other}` is not a compared metric (choose from: throughput, mean, p50, p99, hit_rate)"
                    ));
                }
            };
            *slot = value;
        }
        Ok(floor)
    }
}

/// How strict a comparison is.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Half-width of the noise band, as a fraction (0.02 = ±2%).
    pub noise: f64,
    /// Significance level (0.05).
    pub significance: f64,
    /// Accept inconclusive metrics (`--allow-inconclusive`); by default they fail.
    pub allow_inconclusive: bool,
    /// Fail on a regression (cleared by `--no-fail-on-regression`).
    pub fail_on_regression: bool,
    /// The band's floor per metric when each side is one run (`--noise-floor`).
    pub floor: NoiseFloor,
}

impl Default for Rule {
    fn default() -> Rule {
        Rule {
            noise: 0.02,
            significance: 0.05,
            allow_inconclusive: false,
            fail_on_regression: true,
            floor: NoiseFloor::default(),
        }
    }
}

/// Why two result documents cannot be compared: workloads on one side only, or no metric in
/// common. Names the workloads; the caller names the files.
pub fn incompatibility(baseline: &ResultDocument, current: &ResultDocument) -> Option<String> {
    let names = |d: &ResultDocument| {
        d.workloads
            .iter()
            .map(|w| w.name.clone())
            .collect::<Vec<_>>()
    };
    let (old, new) = (names(baseline), names(current));
    let only_old: Vec<&String> = old.iter().filter(|n| !new.contains(n)).collect();
    let only_new: Vec<&String> = new.iter().filter(|n| !old.contains(n)).collect();
    let list = |v: &[&String]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut problems = Vec::new();
    if !only_old.is_empty() {
        problems.push(format!("only in the baseline: {}", list(&only_old)));
    }
    if !only_new.is_empty() {
        problems.push(format!("only in the current run: {}", list(&only_new)));
    }
    if old.iter().all(|n| !new.contains(n)) {
        problems.push("no workload (so no metric) in common".into());
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Why a finished run (complete: not failed, timed out or interrupted) cannot be compared with
/// the baseline file `name`, if it cannot: the message, also written into its summary as the
/// run's failure.
pub fn cannot_compare(
    baseline: &ResultDocument,
    current: &mut ResultDocument,
    comparison: &Comparison,
    name: &str,
) -> Option<String> {
    let s = &current.summary;
    if s.failure.is_some() || s.timed_out || s.interrupted.is_some() {
        return None;
    }
    let problem = incompatibility(baseline, current).or_else(|| {
        comparison
            .metrics
            .is_empty()
            .then(|| "no metric in common".to_string())
    })?;
    let message = format!(
        "cannot compare with the baseline {name}: {problem} (this run: {})",
        current.scenario.path
    );
    current.summary.passed = false;
    current.summary.grade = current.summary.grade.as_ref().map(|_| "F".to_string());
    current.summary.failure = Some(message.clone());
    Some(message)
}

/// What the samples of a workload's metric are.
fn sample_kind(w: &WorkloadResult, metric: &str) -> String {
    if w.repetitions.len() >= 2 {
        "repetitions"
    } else if w.samples.of(metric).is_some() {
        "windows"
    } else {
        "seconds"
    }
    .into()
}

/// The metrics compared for a workload, each with whether a larger value is better.
pub(super) fn compared_metrics(w: &WorkloadResult) -> Vec<(String, bool)> {
    let mut names = vec![
        ("throughput".to_string(), true),
        ("all.mean_ns".to_string(), false),
        ("all.p50_ns".to_string(), false),
        ("all.p99_ns".to_string(), false),
    ];
    names.extend(
        w.tiers
            .iter()
            .map(|t| (format!("{}.hit_rate", t.name), true)),
    );
    names
}

/// Counts of regressed, improved and inconclusive metrics, and the one-line summary.
pub(super) fn verdict_counts(metrics: &[MetricComparison]) -> (usize, usize, usize, String) {
    let count = |v: Verdict| metrics.iter().filter(|m| m.verdict == v).count();
    let (regressions, improvements) = (count(Verdict::Regressed), count(Verdict::Improved));
    let inconclusive = count(Verdict::Inconclusive);
    let summary = format!(
        "{} metric{} compared: {regressions} regressed, {improvements} improved, {inconclusive} inconclusive, {} within noise, {} no change",
        metrics.len(),
        if metrics.len() == 1 { "" } else { "s" },
        count(Verdict::WithinNoise),
        count(Verdict::NoChange)
    );
    (regressions, improvements, inconclusive, summary)
}

/// A comparison of `metrics` against `baseline` (what it was compared with), with its counts,
/// summary and recommendations: every way of comparing ends here.
pub(super) fn assemble(
    baseline: String,
    rule: Rule,
    metrics: Vec<MetricComparison>,
    method: &str,
    warnings: Vec<String>,
) -> Comparison {
    let (regressions, improvements, inconclusive, summary) = verdict_counts(&metrics);
    let recommendations = recommend(&metrics);
    Comparison {
        baseline,
        noise: rule.noise,
        significance: rule.significance,
        metrics,
        regressions,
        improvements,
        inconclusive,
        method: method.into(),
        summary,
        recommendations,
        warnings,
    }
}

/// Compares `current` with `baseline`, workload by workload (matched by name).
pub fn compare(baseline: &ResultDocument, current: &ResultDocument, rule: Rule) -> Comparison {
    let mut metrics = Vec::new();
    for w in &current.workloads {
        let Some(old) = baseline.workloads.iter().find(|b| b.name == w.name) else {
            continue;
        };
        for (metric, higher_is_better) in compared_metrics(w) {
            let (Some(b), Some(c)) = (headline(old, &metric), headline(w, &metric)) else {
                continue;
            };
            // Repetitions only when both runs have them: the same kind of sample on each side.
            let both_repeated = old.repetitions.len() >= 2 && w.repetitions.len() >= 2;
            let pick = |x: &WorkloadResult| {
                if both_repeated || x.repetitions.len() < 2 {
                    (samples(x, &metric), sample_kind(x, &metric))
                } else {
                    let mut single = x.clone();
                    single.repetitions.clear();
                    (samples(&single, &metric), sample_kind(&single, &metric))
                }
            };
            let ((sb, kb), (sc, kc)) = (pick(old), pick(w));
            let n = [sb.len(), sc.len()];
            // One run per side: its windows are neighbours in time (autocorrelated) and hold
            // none of the variance between runs, so they count for fewer samples and the band
            // is at least the metric's between-run noise floor.
            let one_run = kb != "repetitions" || kc != "repetitions";
            let band = if one_run {
                rule.noise.max(rule.floor.of(&metric))
            } else {
                rule.noise
            };
            let change = relative_change_of(&sb, &sc, one_run);
            let v = match change {
                Some(ch) => judge(&ch, rule.significance, band, higher_is_better),
                // No samples, or a baseline of 0: nothing can be said about a real difference.
                None if (c - b).abs() > band * b.abs().max(f64::MIN_POSITIVE) => {
                    Verdict::Inconclusive
                }
                None => Verdict::NoChange,
            };
            // A rate's change within the band in points is no change, whatever its relative size
            // (0.002% to 0.001% is -50% of nothing).
            let v = if v == Verdict::Inconclusive
                && metric.ends_with("hit_rate")
                && (c - b).abs() <= band
            {
                Verdict::NoChange
            } else {
                v
            };
            // The baseline and current columns are what the change compares: the samples'
            // (geometric) means, not the whole runs' figures.
            let (baseline, current, estimator) = match change {
                Some(ch) if ch.method != ChangeMethod::None => {
                    let what = if ch.method == ChangeMethod::LogWelch {
                        "geometric mean"
                    } else {
                        "mean"
                    };
                    (
                        estimate(&sb, ch.method),
                        estimate(&sc, ch.method),
                        format!("{what} of the {kb} / {kc}"),
                    )
                }
                _ => (b, c, "the whole run's figure".to_string()),
            };
            metrics.push(MetricComparison {
                workload: w.name.clone(),
                metric,
                baseline,
                current,
                change,
                verdict: v,
                samples: n,
                sample_kind: [kb, kc],
                higher_is_better,
                band,
                estimator,
            });
        }
    }
    let warnings = super::compare_warnings::warnings(baseline, current, &metrics);
    let what = format!(
        "{} (sha256 {}, started {})",
        baseline.scenario.name,
        baseline.scenario.sha256.get(..12).unwrap_or_default(),
        baseline.started_at
    );
    assemble(what, rule, metrics, METHOD, warnings)
}

/// Writes a comparison's verdict into the run's summary (`baseline` names the baseline file);
/// true when it fails the run: a regression (unless not failing on them), or an inconclusive
/// metric (unless allowed).
pub fn apply(summary: &mut Summary, comparison: &Comparison, baseline: &str, rule: Rule) -> bool {
    let fails = (comparison.regressions > 0 && rule.fail_on_regression)
        || (comparison.inconclusive > 0 && !rule.allow_inconclusive);
    summary.baseline = Some(baseline.to_string());
    summary.compared = comparison.metrics.len();
    summary.regressed = comparison.regressions > 0;
    summary.regressions = comparison.regressions;
    summary.inconclusive = comparison.inconclusive;
    summary.verdict_failed = fails;
    if fails {
        summary.passed = false;
        summary.grade = summary.grade.as_ref().map(|_| "F".to_string());
    }
    fails
}

pub(super) fn recommend(metrics: &[MetricComparison]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for m in metrics.iter().filter(|m| m.verdict == Verdict::Regressed) {
        let text = if m.metric.ends_with("_ns") {
            format!(
                "`{}` is slower: compare its tiers' call times (TIER.get.p99) and served_by figures to find which tier slowed",
                m.workload
            )
        } else if m.metric.ends_with("hit_rate") {
            format!(
                "`{}`: {} fell: check capacity, TTL and the key distribution",
                m.workload, m.metric
            )
        } else {
            format!(
                "`{}` does less work per second: look for a slower tier or a saturated pool",
                m.workload
            )
        };
        seen.entry(text).or_insert(());
    }
    out.extend(seen.into_keys());
    out.extend(
        metrics
            .iter()
            .filter(|m| m.verdict == Verdict::Inconclusive)
            .map(inconclusive_advice),
    );
    let open: Vec<String> = metrics
        .iter()
        .filter(|m| matches!(m.verdict, Verdict::NoChange | Verdict::WithinNoise))
        .filter_map(|m| {
            let c = m.change.as_ref()?;
            // A rate moving less than the band in points is settled (0.1% to 0.05% is -50% of
            // nothing).
            let points = m.metric.ends_with("hit_rate") && (m.current - m.baseline).abs() <= m.band;
            if points || !open_on_the_bad_side(c, m.band, m.higher_is_better) {
                return None;
            }
            let need = samples_to_decide(
                c,
                m.samples[0].min(m.samples[1]),
                m.band,
                m.higher_is_better,
            )?;
            Some(format!(
                "`{}` {} (~{need} {} per side)",
                m.workload, m.metric, m.sample_kind[1]
            ))
        })
        .collect();
    if !open.is_empty() {
        out.push(format!(
            "no regression shown, and no equivalence either: the interval of {} still reaches past \
             the band on the bad side; that many samples would show it inside",
            open.join(", ")
        ));
    }
    if !metrics.iter().any(|m| m.verdict == Verdict::Inconclusive)
        && metrics
            .iter()
            .any(|m| m.samples[0] < MIN_SAMPLES || m.samples[1] < MIN_SAMPLES)
    {
        out.push(
            "few samples per side: use `repeat: 5` or a longer `duration` for tighter intervals"
                .into(),
        );
    }
    if metrics.iter().any(|m| m.verdict == Verdict::WithinNoise) {
        out.push(
            "some changes are significant but inside the noise band: not worth acting on alone"
                .into(),
        );
    }
    out
}

/// What would decide an inconclusive metric: how many more samples, in the unit its side
/// has (repetitions, rounds, seconds), and that `--allow-inconclusive` accepts it.
fn inconclusive_advice(m: &MetricComparison) -> String {
    let n = m.samples[0].min(m.samples[1]);
    let decide = m
        .change
        .as_ref()
        .and_then(|c| samples_to_decide(c, n, m.band, m.higher_is_better));
    let how = match decide {
        Some(need) if m.sample_kind[0] == "repetitions" => {
            format!("about {need} repetitions per side (`repeat: {need}`) would decide it")
        }
        Some(need) if m.sample_kind[0] == "rounds" => {
            format!("about {need} rounds (`--rounds {need}`) would decide it")
        }
        Some(need) => format!(
            "about {need} {} per side would decide it: run longer, or repeat both sides \
             (`--profile ci`), or use `tierbench ab`",
            m.sample_kind[1]
        ),
        None => "more samples per side would decide it (`repeat: 5` on both sides)".into(),
    };
    format!(
        "inconclusive: `{}` {}: the change is beyond the ±{:.0}% band on the bad side but its \
         interval reaches back inside; {how}; `--allow-inconclusive` accepts it",
        m.workload,
        m.metric,
        m.band * 100.0
    )
}
