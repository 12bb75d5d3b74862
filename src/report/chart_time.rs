//! Charts over the measured seconds of a workload (its `timeseries`): throughput, latency
//! (p50, p99, mean) and errors per tier, with the workload's phases shaded and named, and its
//! outages marked on the errors chart.

use minijinja::Error;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::chart_style::{
    BAD, Call, Drawn, GRID, HouseStyle, MUTED, Size, Unit, color, font, op_color, render,
};
use crate::metrics::result::{SecondResult, WorkloadResult};

/// How it is called, for error messages.
pub const CALL: Call = Call {
    name: "timeseries_svg",
    usage: "timeseries_svg(workload, metric, width=880, height=300), metric: \"throughput\", \"latency\", \"hit_rate\" or \"errors\"",
};

/// Its default size.
pub const SIZE: Size = Size {
    width: 880,
    height: 300,
};

/// The figures it can draw.
pub const METRICS: [&str; 4] = ["throughput", "latency", "hit_rate", "errors"];

/// One series: its name, colour, dashed or not, and (second, value) points.
struct Series {
    name: String,
    color: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

/// Reads one figure of a second.
type Figure = fn(&SecondResult) -> f64;

/// How many repetitions each second sums: a repeated workload's second k is the sum of every
/// repetition's second k (and its phases' durations are summed too).
fn repetitions(w: &WorkloadResult) -> f64 {
    w.repetitions.len().max(1) as f64
}

/// " (all N repetitions)" or "".
fn over_repetitions(w: &WorkloadResult, what: &str) -> String {
    match w.repetitions.len() {
        0 | 1 => String::new(),
        n => format!(" ({what} {n} repetitions)"),
    }
}

/// The whole seconds of a workload's time series: every chart leaves out the last second, which
/// is partial (the tail of the run: its count is no rate, and its few operations would draw a
/// spike in latency and a drop in hit rate), unless it is the only one.
fn whole_seconds(w: &WorkloadResult) -> &[SecondResult] {
    match w.timeseries.len() {
        0 | 1 => &w.timeseries,
        n => &w.timeseries[..n - 1],
    }
}

/// Completed operations per second (a run shorter than two seconds shows its overall
/// throughput), with each open-loop phase's intended rate dashed.
fn throughput_series(w: &WorkloadResult, seconds: &[SecondResult], reps: f64) -> Vec<Series> {
    let at = |s: u64| s as f64 + 0.5;
    let points = if w.timeseries.len() >= 2 {
        seconds
            .iter()
            .map(|s| (at(s.second), s.ops as f64 / reps))
            .collect()
    } else {
        vec![(0.5, w.throughput)]
    };
    let mut out = vec![Series {
        name: format!("completed ops/s{}", over_repetitions(w, "mean of")),
        color: op_color("get"),
        dashed: false,
        points,
    }];
    let mut start = 0.0;
    let mut intended = Vec::new();
    for p in &w.phases {
        let length = p.duration_s / reps;
        if let Some(rate) = p.intended_rate {
            intended.push((start, rate));
            intended.push((start + length, rate));
        }
        start += length;
    }
    if !intended.is_empty() {
        out.push(Series {
            name: "intended rate (phase mean)".into(),
            color: MUTED,
            dashed: true,
            points: intended,
        });
    }
    out
}

fn series(w: &WorkloadResult, metric: &str) -> Vec<Series> {
    let reps = repetitions(w);
    let at = |s: u64| s as f64 + 0.5;
    let seconds = whole_seconds(w);
    match metric {
        "throughput" => throughput_series(w, seconds, reps),
        "hit_rate" => w
            .tiers
            .iter()
            .enumerate()
            .map(|(k, tier)| Series {
                name: format!("{} hit rate", tier.name),
                color: color(k),
                dashed: false,
                points: seconds
                    .iter()
                    .filter_map(|s| Some((at(s.second), *s.hit_rates.get(&tier.name)?)))
                    .collect(),
            })
            .collect(),
        "latency" => {
            let pick: [(&str, RGBColor, Figure); 3] = [
                ("p99", op_color("set"), |s| s.p99_ns as f64),
                ("p50", op_color("get"), |s| s.p50_ns as f64),
                ("mean", color(4), |s| s.mean_ns),
            ];
            pick.iter()
                .map(|(name, c, f)| Series {
                    name: (*name).to_string(),
                    color: *c,
                    dashed: *name == "mean",
                    points: seconds
                        .iter()
                        .filter(|s| s.ops > 0)
                        .map(|s| (at(s.second), f(s)))
                        .collect(),
                })
                .collect()
        }
        _ => {
            let mut out = vec![Series {
                name: format!("failed operations{}", over_repetitions(w, "all")),
                color: BAD,
                dashed: false,
                points: seconds
                    .iter()
                    .map(|s| (at(s.second), s.errors as f64))
                    .collect(),
            }];
            for (k, tier) in w.tiers.iter().enumerate() {
                out.push(Series {
                    name: format!("{} calls failed", tier.name),
                    color: color(k + 1),
                    dashed: true,
                    points: seconds
                        .iter()
                        .map(|s| {
                            let n = s.tier_errors.get(&tier.name).copied().unwrap_or(0);
                            (at(s.second), n as f64)
                        })
                        .collect(),
                });
            }
            out
        }
    }
}

/// An x axis label: `2s`, `0.5s`.
fn seconds_label(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{x:.0}s")
    } else {
        format!("{x:.1}s")
    }
}

/// Draws one figure of a workload's time series.
/// A time chart's plotting area, seconds against the metric.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The axes' ends: the run's length in seconds (at least its phases'), and the metric's top
/// with room above it (a hit rate's is 1).
fn extent(w: &WorkloadResult, series: &[Series], metric: &str) -> (f64, f64) {
    let x_max = w
        .timeseries
        .last()
        .map(|s| s.second as f64 + 1.0)
        .unwrap_or(1.0)
        .max(w.phases.iter().map(|p| p.duration_s).sum::<f64>() / repetitions(w))
        .max(1.0);
    let y_top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let y_max = if metric == "hit_rate" {
        1.0
    } else if y_top > 0.0 {
        y_top * 1.15
    } else {
        1.0
    };
    (x_max, y_max)
}

/// Each phase's name and span, when there are several, to shade behind the lines.
fn phase_bands(w: &WorkloadResult, x_max: f64) -> Vec<(String, f64, f64)> {
    let mut bands = Vec::new();
    if w.phases.len() > 1 {
        let mut start = 0.0;
        for p in &w.phases {
            let length = p.duration_s / repetitions(w);
            bands.push((p.name.clone(), start, (start + length).min(x_max)));
            start += length;
        }
    }
    bands
}

/// The phases' bands, alternately shaded and named, and the outages in red.
fn draw_bands(
    chart: &mut Chart<'_, '_>,
    bands: &[(String, f64, f64)],
    outages: &[(f64, f64)],
    x_max: f64,
    y_max: f64,
) -> Drawn {
    for (k, (name, a, b)) in bands.iter().enumerate() {
        let shade = if k % 2 == 0 {
            RGBColor(0xf3, 0xf4, 0xf6)
        } else {
            WHITE
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*a, 0.0), (*b, y_max)],
            shade.filled(),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(*a, 0.0), (*a, y_max)],
            MUTED.mix(0.5),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            name.clone(),
            (*a + x_max * 0.005, y_max * 0.98),
            font(13.0).color(&MUTED),
        )))?;
    }
    for (a, b) in outages {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*a, 0.0), (*b, y_max)],
            BAD.mix(0.12).filled(),
        )))?;
    }
    Ok(())
}

/// The series' lines (dashed or solid, with points when there are few seconds) and legends.
fn draw_lines(chart: &mut Chart<'_, '_>, series: &[Series], few: bool) -> Drawn {
    for s in series {
        let c = s.color;
        let style = c.stroke_width(2);
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))?
        } else {
            chart.draw_series(LineSeries::new(s.points.iter().copied(), style))?
        };
        drawn
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        if few && !s.dashed {
            chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, c.filled())))?;
        }
    }
    Ok(())
}

pub fn draw(w: &WorkloadResult, metric: &str, size: Size) -> Result<minijinja::Value, Error> {
    if !METRICS.contains(&metric) {
        return Err(CALL.error(format!(
            "unknown metric `{metric}` (choose from: {})",
            METRICS.join(", ")
        )));
    }
    let series = series(w, metric);
    let unit = match metric {
        "throughput" => Unit::Rate,
        "latency" => Unit::Nanos,
        "hit_rate" => Unit::Ratio,
        _ => Unit::Count,
    };
    let (x_max, y_max) = extent(w, &series, metric);
    let empty = series.iter().all(|s| s.points.is_empty());
    let bands = phase_bands(w, x_max);
    let outages: Vec<(f64, f64)> = if metric == "errors" {
        w.outages
            .iter()
            .map(|o| (o.start_s, o.start_s + o.length_s))
            .collect()
    } else {
        Vec::new()
    };
    let what = match metric {
        "throughput" => "throughput per second",
        "latency" => "latency per second (p50, p99, mean)",
        "hit_rate" => "hit rate per second, per tier",
        _ => "errors per second, per tier",
    };
    let merged = if metric == "throughput" {
        "mean of"
    } else {
        "merged over"
    };
    let title = format!("{}: {what}{}", w.name, over_repetitions(w, merged));
    let few = w.timeseries.len() <= 40;
    render(
        &CALL,
        &format!("timeseries-{metric}"),
        &title,
        size,
        |root| {
            let mut chart = ChartBuilder::on(root)
                .margin(14)
                .margin_right(24)
                .x_label_area_size(40)
                .y_label_area_size(72)
                .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
            draw_bands(&mut chart, &bands, &outages, x_max, y_max)?;
            chart
                .configure_mesh()
                .x_label_formatter(&|x| seconds_label(*x))
                .y_label_formatter(&|y| unit.format(*y))
                .x_desc("seconds since measuring started")
                .house_style()
                .x_labels(12)
                .y_labels(6)
                .draw()?;
            if empty {
                root.draw_text(
                    "no per-second figures in this result document",
                    &font(16.0).color(&MUTED),
                    (size.width as i32 / 2 - 170, size.height as i32 / 2),
                )?;
            }
            draw_lines(&mut chart, &series, few)?;
            chart
                .configure_series_labels()
                .position(if metric == "hit_rate" {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .background_style(WHITE.mix(0.9))
                .border_style(GRID)
                .label_font(font(14.0))
                .draw()?;
            Ok(())
        },
    )
}
