//! Chart functions for report templates: each reads part of the result document and returns
//! one inline `<svg>` (drawn by plotters' SVG backend), so the built-in HTML report and a
//! user's own template place the same charts with one call and no chart geometry of their own.
//!
//! | function | draws |
//! |---|---|
//! | `latency_spectrum_svg(w, ops=none)` | latency by percentile on HdrHistogram's log axis, per operation |
//! | `timeseries_svg(w, metric)` | `throughput`, `latency`, `hit_rate` or `errors` per second, phases shaded |
//! | `served_by_svg(w)` | share of reads each tier (or the origin) served, with p99 |
//! | `hit_rate_svg(w)` | each tier's hit rate |
//! | `thresholds_svg(w)` | each threshold's margin from its limit, held or failed |
//! | `repetitions_svg(w, metric)` | each repetition's figure, the mean and its 95% interval |
//! | `comparison_svg(comparison, workload=none)` | change against the baseline per metric, with intervals |
//! | `miss_ratio_svg(sweep)` | a sweep's miss ratio against cache size (log axis), exact LRU dashed, knees circled |
//! | `sweep_latency_svg(sweep)` | a measured sweep's p99 against cache size (log axis) |
//!
//! Every one takes `width=` and `height=` (pixels; the page scales the chart to its column).
//! A wrong argument is a template error naming the function, what it expected and its usage.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};

use super::chart_bars::{self, HIT_RATE, SERVED_BY, THRESHOLDS};
use super::chart_compare::{self, COMPARISON, REPETITIONS, REPETITIONS_SIZE};
use super::chart_curve;
use super::chart_spectrum;
use super::chart_style::Call;
use super::chart_time;
use crate::metrics::comparison::Comparison;
use crate::metrics::sweep::SweepResult;

/// The chart functions' names, for documentation and tests.
pub const FUNCTIONS: [&str; 9] = [
    "latency_spectrum_svg",
    "timeseries_svg",
    "served_by_svg",
    "hit_rate_svg",
    "thresholds_svg",
    "repetitions_svg",
    "comparison_svg",
    "miss_ratio_svg",
    "sweep_latency_svg",
];

/// Adds the chart functions to an environment.
pub fn register(env: &mut Environment<'_>) {
    env.add_function(
        "latency_spectrum_svg",
        |w: Value, ops: Option<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let call = chart_spectrum::CALL;
            let w = call.workload(&w)?;
            let ops = match ops {
                None => None,
                Some(v) if v.is_none() => None,
                Some(v) if v.as_str().is_some() => Some(vec![call.string(&v, "an operation")?]),
                Some(v) => Some(call.arg::<Vec<String>>(
                    &v,
                    "an operation name or a list of them (`\"get\"`, `[\"get\", \"set\"]`)",
                )?),
            };
            let size = call.size(&kwargs, chart_spectrum::SIZE)?;
            chart_spectrum::draw(&w, ops, size)
        },
    );
    env.add_function(
        "timeseries_svg",
        |w: Value, metric: Option<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let call = chart_time::CALL;
            let w = call.workload(&w)?;
            let Some(metric) = metric else {
                return Err(call.error("missing the metric"));
            };
            let metric = call.string(&metric, "the metric")?;
            let size = call.size(&kwargs, chart_time::SIZE)?;
            chart_time::draw(&w, &metric, size)
        },
    );
    env.add_function("served_by_svg", |w: Value, kwargs: Kwargs| {
        let w = SERVED_BY.workload(&w)?;
        let size = optional_size(&SERVED_BY, &kwargs)?;
        chart_bars::served_by(&w, size)
    });
    env.add_function("hit_rate_svg", |w: Value, kwargs: Kwargs| {
        let w = HIT_RATE.workload(&w)?;
        let size = optional_size(&HIT_RATE, &kwargs)?;
        chart_bars::hit_rate(&w, size)
    });
    env.add_function("thresholds_svg", |w: Value, kwargs: Kwargs| {
        let w = THRESHOLDS.workload(&w)?;
        let size = optional_size(&THRESHOLDS, &kwargs)?;
        chart_bars::thresholds(&w, size)
    });
    env.add_function(
        "repetitions_svg",
        |w: Value, metric: Option<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let w = REPETITIONS.workload(&w)?;
            let Some(metric) = metric else {
                return Err(REPETITIONS.error("missing the metric"));
            };
            let metric = REPETITIONS.string(&metric, "the metric")?;
            let size = REPETITIONS.size(&kwargs, REPETITIONS_SIZE)?;
            chart_compare::repetitions(&w, &metric, size)
        },
    );
    env.add_function(
        "comparison_svg",
        |c: Value, workload: Option<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let c: Comparison = COMPARISON.arg(
                &c,
                "the document's `comparison` (it is none without --baseline: guard with `{% if comparison %}`)",
            )?;
            let workload = match workload {
                Some(v) if !v.is_none() => Some(COMPARISON.string(&v, "the workload's name")?),
                _ => None,
            };
            let size = optional_size(&COMPARISON, &kwargs)?;
            chart_compare::comparison(&c, workload.as_deref(), size)
        },
    );
    const SWEEP: &str =
        "the document's `sweep` (none for a single run: guard with `{% if sweep %}`)";
    env.add_function("miss_ratio_svg", |s: Value, kwargs: Kwargs| {
        let call = chart_curve::MISS_RATIO;
        let sweep: SweepResult = call.arg(&s, SWEEP)?;
        chart_curve::miss_ratio(&sweep, call.size(&kwargs, chart_curve::SIZE)?)
    });
    env.add_function("sweep_latency_svg", |s: Value, kwargs: Kwargs| {
        let call = chart_curve::LATENCY;
        let sweep: SweepResult = call.arg(&s, SWEEP)?;
        chart_curve::latency(&sweep, call.size(&kwargs, chart_curve::LATENCY_SIZE)?)
    });
}

/// `width=`/`height=` for a chart whose default height depends on its rows: none when neither
/// is given.
fn optional_size(call: &Call, kwargs: &Kwargs) -> Result<Option<super::chart_style::Size>, Error> {
    let given = kwargs.has("width") || kwargs.has("height");
    let size = call.size(
        kwargs,
        super::chart_style::Size {
            width: chart_bars::WIDTH,
            height: 0,
        },
    )?;
    Ok(given.then_some(super::chart_style::Size {
        width: size.width,
        height: if size.height == 0 { 300 } else { size.height },
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn env() -> Environment<'static> {
        let mut env = Environment::new();
        super::super::filters::register(&mut env);
        register(&mut env);
        env
    }

    fn workload() -> Value {
        let doc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/results/small.json"
            ))
            .unwrap(),
        )
        .unwrap();
        Value::from(minijinja::value::Serde(doc["workloads"][0].clone()))
    }

    #[test]
    fn every_chart_of_a_workload_is_one_svg_element() {
        let env = env();
        for call in [
            "latency_spectrum_svg(w)",
            "latency_spectrum_svg(w, [\"get\", \"all\"], width=600)",
            "timeseries_svg(w, \"throughput\")",
            "timeseries_svg(w, \"latency\")",
            "timeseries_svg(w, \"errors\")",
            "timeseries_svg(w, \"hit_rate\")",
            "served_by_svg(w)",
            "hit_rate_svg(w)",
            "thresholds_svg(w, height=200)",
        ] {
            let out = env
                .render_str(
                    &format!("{{{{ {call} }}}}"),
                    minijinja::context! { w => workload() },
                )
                .unwrap();
            assert!(
                out.starts_with("<svg class=\"tb-chart\""),
                "{call}: {}",
                &out[..60.min(out.len())]
            );
            assert_eq!(out.matches("<svg").count(), 1, "{call}");
            assert!(out.ends_with("</svg>"), "{call}");
        }
    }

    #[test]
    fn a_wrong_argument_names_the_function_and_what_it_expected() {
        let env = env();
        let err = |src: &str| {
            env.render_str(src, minijinja::context! { w => workload() })
                .unwrap_err()
                .to_string()
        };
        let e = err("{{ latency_spectrum_svg(\"get\") }}");
        assert!(
            e.contains("latency_spectrum_svg: expected a workload"),
            "{e}"
        );
        assert!(e.contains("got string \"get\""), "{e}");
        let e = err("{{ latency_spectrum_svg(w, \"put\") }}");
        assert!(
            e.contains("no operation `put` (it has: all, get, set)"),
            "{e}"
        );
        let e = err("{{ timeseries_svg(w, \"p42\") }}");
        assert!(
            e.contains("unknown metric `p42` (choose from: throughput, latency, hit_rate, errors)"),
            "{e}"
        );
        let e = err("{{ timeseries_svg(w, \"latency\", widht=3) }}");
        assert!(e.contains("widht"), "{e}");
        let e = err("{{ hit_rate_svg(w, width=5) }}");
        assert!(
            e.contains("`width` must be a whole number of pixels"),
            "{e}"
        );
        let e = err("{{ repetitions_svg(w, \"throughput\") }}");
        assert!(e.contains("has 0 repetition(s)"), "{e}");
        let e = err("{{ comparison_svg(none) }}");
        assert!(
            e.contains("comparison_svg: expected the document's `comparison`"),
            "{e}"
        );
        let e = err("{{ served_by_svg({\"name\": \"x\"}) }}");
        assert!(
            e.contains("expected a workload (an item of `workloads`)"),
            "{e}"
        );
        assert!(e.contains("missing field"), "{e}");
    }
}
