//! `sweep:` — a grid of runs from one scenario, and simulate mode's checks.
//!
//! Why its own file: a sweep is the override machinery applied many times. Each point of the
//! grid is the scenario with a few `--set PATH=VALUE`s (`overrides::set_path`, the same paths
//! and the same addressing of list entries by name), validated like any scenario, so a point
//! that cannot run is found before the first one runs. The grid is taken out of the document
//! before validation: the base scenario (the file with its profiles and overrides) is validated
//! first, then every point; a point's problems name the point.
//!
//! Axes are taken in path order (the document's maps are sorted), the last varying fastest, so
//! with a size axis (`...max_entries`, sorted after `...engine`) consecutive points draw one
//! curve per engine.

use serde_json::Value;

use super::diagnostic::{Diagnostics, Problem};
use super::format::Document;
use super::origins::Origin;
use super::overrides::set_path;
use super::plan::{Scenario, Stop};
use crate::tier::config::TierKindConfig;
use crate::verdict::thresholds::Metric;
use crate::workload::ops::OpSource;

/// The most points a sweep may have (a typo of a long list should not start a day of runs).
pub const MAX_POINTS: usize = 10_000;

/// One axis of the grid: a path and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The dotted path, as `--set` takes it.
    pub path: String,
    /// The values it takes, in order.
    pub values: Vec<Value>,
}

/// One point of the grid, planned.
#[derive(Debug, Clone)]
pub struct Point {
    /// Each axis's value at this point, in axis order.
    pub values: Vec<(String, Value)>,
    /// `max_entries=1000 engine=lru`: the axes' last segments (whole paths where two share
    /// one) and values.
    pub label: String,
    /// The scenario at this point, validated.
    pub scenario: Scenario,
}

/// A planned sweep.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The axes, in order.
    pub axes: Vec<Axis>,
    /// Every combination, the last axis varying fastest.
    pub points: Vec<Point>,
}

/// Takes `sweep` out of the document and reads its axes; problems of its shape go to `problems`.
pub(super) fn take(document: &mut Value, problems: &mut Vec<Problem>) -> Vec<Axis> {
    let Some(raw) = document.as_object_mut().and_then(|m| m.remove("sweep")) else {
        return Vec::new();
    };
    let Value::Object(map) = raw else {
        problems.push(
            Problem::new(
                "/sweep",
                "`sweep` must be a mapping of paths to lists of values",
            )
            .expected("a mapping")
            .hint("e.g. sweep: { tiers.l1.max_entries: [1000, 10000] }"),
        );
        return Vec::new();
    };
    let mut axes = Vec::new();
    for (path, values) in map {
        let at = super::locate::push_pointer("/sweep", &path);
        match values {
            Value::Array(values) if !values.is_empty() => axes.push(Axis { path, values }),
            _ => problems.push(
                Problem::new(
                    at,
                    format!("sweep `{path}`: expected a non-empty list of values"),
                )
                .expected("a list")
                .hint("e.g. tiers.l1.max_entries: [1000, 10000]"),
            ),
        }
    }
    let points = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    if points.is_none_or(|n| n > MAX_POINTS) {
        problems.push(
            Problem::new(
                "/sweep",
                format!("the sweep has more than {MAX_POINTS} points"),
            )
            .hint("sweep fewer values, or split the grid into several scenarios"),
        );
        axes.clear();
    }
    axes
}

/// The grid's points, the last axis varying fastest.
fn combinations(axes: &[Axis]) -> Vec<Vec<(String, Value)>> {
    let mut out = vec![Vec::new()];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut p: Vec<(String, Value)> = prefix.clone();
                    p.push((axis.path.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    out
}

/// The label of a point: each axis's last path segment (or whole path where two axes share
/// it) with its value.
pub fn label(values: &[(String, Value)]) -> String {
    let last = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    values
        .iter()
        .map(|(path, v)| {
            let shared = values.iter().filter(|(p, _)| last(p) == last(path)).count() > 1;
            let name = if shared { path.clone() } else { last(path) };
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{name}={v}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Plans every point of the grid from the (valid) base document: each point's values set like
/// `--set`s, then validated. All problems of all points, each naming its point.
pub(super) fn plan(
    base: &Document,
    bytes: &[u8],
    axes: Vec<Axis>,
    base_applied: &super::overrides::Applied,
) -> Result<SweepPlan, Box<Diagnostics>> {
    let mut points = Vec::new();
    let mut problems = Vec::new();
    for (n, values) in combinations(&axes).into_iter().enumerate() {
        let label = label(&values);
        let name = format!("sweep point {} ({label})", n + 1);
        let mut document = base.clone();
        let mut set_problems = Vec::new();
        let mut written = Vec::new();
        for (path, value) in &values {
            let origin = Origin::Override(format!("sweep {path}={value}"));
            match set_path(&mut document.value, path, value.clone()) {
                Ok(at) => {
                    document.diagnostics.origins.record(&at, origin.clone());
                    written.push((at, origin));
                }
                Err(message) => set_problems.push(
                    Problem::new("/sweep", format!("sweep `{path}`: {message}"))
                        .hint("paths are dotted as for --set: tiers.NAME.max_entries, data.keys.zipf_exponent"),
                ),
            }
        }
        if !set_problems.is_empty() {
            problems.extend(set_problems);
            continue;
        }
        match super::validate::validate(document, bytes) {
            Ok(mut scenario) => {
                scenario.applied = base_applied.clone();
                let checks = simulation_problems(&scenario);
                if checks.is_empty() {
                    points.push(Point {
                        values,
                        label,
                        scenario,
                    });
                }
                problems.extend(checks.into_iter().map(|p| prefixed(p, &name)));
            }
            Err(d) => problems.extend(d.problems.into_iter().map(|mut p| {
                // A problem in a value the point set is the sweep's, not the file's line.
                let from = written
                    .iter()
                    .find(|(at, _)| p.pointer == *at || p.pointer.starts_with(&format!("{at}/")));
                if let (Some((_, Origin::Override(label))), None) = (from, &p.origin) {
                    p.origin = Some(label.clone());
                }
                prefixed(p, &name)
            })),
        }
    }
    if problems.is_empty() {
        return Ok(SweepPlan { axes, points });
    }
    let mut diagnostics = base.diagnostics.clone();
    diagnostics.problems = super::diagnostic::unique(problems);
    Err(Box::new(diagnostics))
}

fn prefixed(mut p: Problem, point: &str) -> Problem {
    p.message = format!("{point}: {}", p.message);
    p
}

/// What stops a scenario's `simulate: true` workloads from being simulated: a target tier that
/// is not in-process, a threshold on latency (nothing is timed), a closed-loop phase that ends
/// after a duration (a simulation has no clock).
pub fn simulation_problems(scenario: &Scenario) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, w) in scenario.workloads.iter().enumerate() {
        if !w.simulate {
            continue;
        }
        let at = format!("/workloads/{i}/simulate");
        for &t in &w.target {
            let tier = &scenario.tiers[t];
            if !matches!(tier.kind, TierKindConfig::Memory { .. }) {
                problems.push(
                    Problem::new(
                        &at,
                        format!(
                            "workload `{}` is simulated but tier `{}` is {}: only in-process \
                             tiers (kind: memory) can be simulated",
                            w.name,
                            tier.name,
                            tier.kind_name()
                        ),
                    )
                    .hint("target memory tiers only, or measure this workload (simulate: false)"),
                );
            }
        }
        for t in &w.thresholds {
            if matches!(
                t.metric,
                Metric::Latency { .. } | Metric::ServedBy { .. } | Metric::Throughput
            ) {
                problems.push(
                    Problem::new(
                        &at,
                        format!(
                            "workload `{}` is simulated: threshold `{}` needs timing, and a \
                             simulation times nothing",
                            w.name, t.text
                        ),
                    )
                    .hint("keep hit-rate, entries and error thresholds, or measure this workload"),
                );
            }
        }
        let trace = matches!(w.ops, OpSource::Trace { .. });
        for phase in &w.phases {
            if let (Stop::Duration(_), None, false) = (phase.stop, phase.rate, trace) {
                problems.push(
                    Problem::new(
                        &at,
                        format!(
                            "workload `{}` is simulated but its phase `{}` runs for a duration \
                             in closed loop: a simulation has no clock to count operations by",
                            w.name, phase.name
                        ),
                    )
                    .hint("give the workload `ops` instead of `duration`"),
                );
            }
        }
    }
    problems
}
