//! Charts of spread and change: each repetition's figure with the mean and its 95% confidence
//! interval, and the baseline comparison as a forest plot (each metric's relative change with
//! its interval, over the shaded noise band, coloured by verdict).

use minijinja::Error;
use plotters::prelude::*;

use super::chart_bars::row_label;
use super::chart_style::{
    BAD, Call, GOOD, GRID, HouseStyle, INK, MUTED, Size, Unit, WARN, font, op_color, render,
};
use crate::metrics::comparison::{Comparison, MetricComparison, Verdict};
use crate::metrics::result::WorkloadResult;
use crate::metrics::statistics::Summary;

/// `repetitions_svg`, for error messages.
pub const REPETITIONS: Call = Call {
    name: "repetitions_svg",
    usage: "repetitions_svg(workload, metric, width=880, height=280), metric: a name in the workload's `statistics` (\"throughput\", \"all.p99_ns\", \"l1.hit_rate\", ...)",
};

/// `comparison_svg`, for error messages.
pub const COMPARISON: Call = Call {
    name: "comparison_svg",
    usage: "comparison_svg(comparison, workload=none, width=880, height=auto), comparison: the document's `comparison` (set with --baseline)",
};

/// The default size of the repetitions chart.
pub const REPETITIONS_SIZE: Size = Size {
    width: 880,
    height: 280,
};

/// A point of a chart: (x, y).
type Point = (f64, f64);

/// A workload's statistics of `metric` across its repetitions, and each repetition's figure
/// as (repetition number, value); an error when it has fewer than two or no such metric.
fn repetition_points<'a>(
    w: &'a WorkloadResult,
    metric: &str,
) -> Result<(&'a Summary, Vec<Point>), Error> {
    if w.repetitions.len() < 2 {
        return Err(REPETITIONS.error(format!(
            "workload `{}` has {} repetition(s): the chart needs `repeat: N` with N >= 2",
            w.name,
            w.repetitions.len()
        )));
    }
    let Some(stats) = w.statistics.get(metric) else {
        let known: Vec<&str> = w.statistics.keys().map(String::as_str).take(12).collect();
        return Err(REPETITIONS.error(format!(
            "workload `{}` has no statistics for `{metric}` (some it has: {})",
            w.name,
            known.join(", ")
        )));
    };
    let points = w
        .repetitions
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.get(metric).map(|v| (i as f64 + 1.0, *v)))
        .collect();
    Ok((stats, points))
}

/// One repetition's figure per point, the mean as a line and its 95% interval as a band.
pub fn repetitions(
    w: &WorkloadResult,
    metric: &str,
    size: Size,
) -> Result<minijinja::Value, Error> {
    let (stats, points) = repetition_points(w, metric)?;
    let unit = Unit::of_metric(metric);
    let lo = points.iter().map(|p| p.1).fold(stats.ci_low, f64::min);
    let hi = points.iter().map(|p| p.1).fold(stats.ci_high, f64::max);
    let pad = ((hi - lo) * 0.25).max(hi.abs() * 0.02).max(1e-9);
    let (y0, y1) = (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
        hi + pad,
    );
    let n = w.repetitions.len() as f64;
    let title = format!(
        "{}: {metric} per repetition (mean {}, 95% CI {} to {})",
        w.name,
        unit.format(stats.mean),
        unit.format(stats.ci_low),
        unit.format(stats.ci_high)
    );
    let kind = format!("repetitions-{metric}");
    render(&REPETITIONS, &kind, &title, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0.5..n + 0.5, y0..y1)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.5, stats.ci_low), (n + 0.5, stats.ci_high)],
                op_color("get").mix(0.15).filled(),
            )))?
            .label("95% confidence interval of the mean")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 18, y + 5)],
                    op_color("get").mix(0.3).filled(),
                )
            });
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(w.repetitions.len().min(20))
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    format!("#{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| unit.format(*y))
            .x_desc("repetition")
            .house_style()
            .y_labels(6)
            .draw()?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.5, stats.mean), (n + 0.5, stats.mean)],
                op_color("get").stroke_width(2),
            )))?
            .label(format!("mean {}", unit.format(stats.mean)))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], op_color("get").stroke_width(3))
            });
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 5, INK.filled())))?
            .label("one repetition")
            .legend(|(x, y)| Circle::new((x + 9, y), 4, INK.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(font(13.0))
            .draw()?;
        Ok(())
    })
}

/// An axis label of a relative change: `-20%`, `0%`, `+40%`.
fn signed_axis(v: f64) -> String {
    if (v * 100.0).abs() < 0.5 {
        "0%".to_string()
    } else {
        format!("{:+.0}%", v * 100.0)
    }
}

/// The colour and word of a verdict.
pub fn verdict_style(v: Verdict) -> (RGBColor, &'static str) {
    match v {
        Verdict::Improved => (GOOD, "improved"),
        Verdict::Regressed => (BAD, "regressed"),
        Verdict::Inconclusive => (WARN, "inconclusive"),
        Verdict::WithinNoise => (MUTED, "within noise"),
        Verdict::NoChange => (MUTED, "no change"),
    }
}

/// The comparison's rows: every metric, or those of `workload` (an error naming the
/// workloads it has when it has none of that name).
fn comparison_rows<'a>(
    c: &'a Comparison,
    workload: Option<&str>,
) -> Result<Vec<&'a MetricComparison>, Error> {
    let rows: Vec<&MetricComparison> = c
        .metrics
        .iter()
        .filter(|m| workload.is_none_or(|w| m.workload == w))
        .collect();
    if let Some(name) = workload
        && rows.is_empty()
    {
        let mut known: Vec<&str> = c.metrics.iter().map(|m| m.workload.as_str()).collect();
        known.dedup();
        return Err(COMPARISON.error(format!(
            "the comparison has no workload `{name}` (it has: {})",
            known.join(", ")
        )));
    }
    Ok(rows)
}

/// A metric's relative change (its estimate when it has one).
fn relative(m: &MetricComparison) -> f64 {
    match m.change {
        Some(ch) => ch.relative,
        None if m.baseline != 0.0 => (m.current - m.baseline) / m.baseline.abs(),
        None => 0.0,
    }
}

/// The x range of the changes and their intervals (at least twice the noise band either
/// side), clipped to -100%..+400%.
fn change_range(c: &Comparison, rows: &[&MetricComparison]) -> (f64, f64) {
    let mut lo = -2.0 * c.noise;
    let mut hi = 2.0 * c.noise;
    for m in rows {
        let p = relative(m);
        let (a, b) = m.change.map(|ch| (ch.ci_low, ch.ci_high)).unwrap_or((p, p));
        lo = lo.min(a.min(p));
        hi = hi.max(b.max(p));
    }
    (lo.max(-1.0), hi.min(4.0))
}

/// The forest plot of a comparison, all workloads or the one named.
pub fn comparison(
    c: &Comparison,
    workload: Option<&str>,
    size: Option<Size>,
) -> Result<minijinja::Value, Error> {
    let rows = comparison_rows(c, workload)?;
    let many = rows.iter().any(|m| m.workload != rows[0].workload);
    let label = |m: &MetricComparison| {
        if many {
            format!("{} · {}", m.workload, m.metric)
        } else {
            m.metric.clone()
        }
    };
    let (lo, hi) = change_range(c, &rows);
    let pad = (hi - lo) * 0.08;
    let (x0, x1) = (lo - pad, hi + pad + (hi - lo) * 0.3);
    let n = rows.len().max(1);
    let names: Vec<String> = rows.iter().rev().map(|m| label(m)).collect();
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(6);
    let size = size.unwrap_or(Size {
        width: 880,
        height: (n as u32 * 34 + 84).min(4000),
    });
    let label_area = (16 + longest * 8).clamp(80, (size.width / 3) as usize) as u32;
    let title = format!(
        "change against the baseline, with 95% intervals (noise band ±{:.1}%)",
        c.noise * 100.0
    );
    render(&COMPARISON, "comparison", &title, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(x0..x1, -0.5..n as f64 - 0.5)?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(-c.noise, -0.5), (c.noise, n as f64 - 0.5)],
            RGBColor(0xf3, 0xf4, 0xf6).filled(),
        )))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .x_label_formatter(&|v| signed_axis(*v))
            .y_label_formatter(&|v| row_label(&names, *v))
            .x_desc("relative change (current vs baseline); shaded: the noise band")
            .house_style()
            .x_labels(8)
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            INK.stroke_width(1),
        )))?;
        let note_style = font(13.0).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        for (i, m) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let (col, word) = verdict_style(m.verdict);
            let p = relative(m).clamp(lo, hi);
            let right = match m.change {
                Some(ch) => {
                    let (a, b) = (ch.ci_low.clamp(lo, hi), ch.ci_high.clamp(lo, hi));
                    chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                        y,
                        a,
                        p,
                        b,
                        col.stroke_width(2),
                        10,
                    )))?;
                    b.max(p)
                }
                None => p,
            };
            chart.draw_series(std::iter::once(Circle::new((p, y), 5, col.filled())))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{word} {:+.1}%", relative(m) * 100.0),
                (right + (x1 - x0) * 0.015, y),
                note_style.clone().color(&col),
            )))?;
        }
        Ok(())
    })
}
