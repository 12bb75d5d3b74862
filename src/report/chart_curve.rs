//! A sweep's curves: miss ratio against cache size (log-scaled size axis), one line per
//! workload and series (engine, distribution...), the exact one-pass LRU curve dashed beside
//! the measured or simulated points, knees marked; and, for measured sweeps, p99 latency
//! against size.
//!
//! Why its own file: the other charts draw one workload; these draw across a sweep's points,
//! reading `sweep.curves` (`metrics::sweep`).

use minijinja::Error;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart_style::{Call, GRID, HouseStyle, MUTED, Size, Unit, color, font, render};
use crate::metrics::sweep::{SweepCurve, SweepResult};

/// `miss_ratio_svg`, for error messages.
pub const MISS_RATIO: Call = Call {
    name: "miss_ratio_svg",
    usage: "miss_ratio_svg(sweep, width=880, height=360)",
};

/// `sweep_latency_svg`, for error messages.
pub const LATENCY: Call = Call {
    name: "sweep_latency_svg",
    usage: "sweep_latency_svg(sweep, width=880, height=320)",
};

/// The miss-ratio chart's default size.
pub const SIZE: Size = Size {
    width: 880,
    height: 360,
};

/// The latency chart's default size.
pub const LATENCY_SIZE: Size = Size {
    width: 880,
    height: 320,
};

/// One line: its legend, colour, dashed or not, its (size, value) points and its knee.
struct Line {
    name: String,
    color: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
    knee: Option<(f64, f64)>,
}

/// A curve's legend: `reads / l1 (engine=lru zipf_exponent=0.99)`.
fn legend(c: &SweepCurve) -> String {
    let mut name = format!("{} / {}", c.workload, c.tier);
    if !c.series.is_empty() {
        name.push_str(&format!(" ({})", c.series));
    }
    if c.simulated {
        name.push_str(" simulated");
    }
    name
}

fn miss_lines(sweep: &SweepResult) -> Vec<Line> {
    let mut lines = Vec::new();
    for (k, c) in sweep.curves.iter().enumerate() {
        let points: Vec<(f64, f64)> = c
            .points
            .iter()
            .filter_map(|p| Some((p.size.max(1) as f64, p.miss_ratio?)))
            .collect();
        let knee = c
            .knee
            .and_then(|size| points.iter().copied().find(|p| p.0 == size as f64));
        lines.push(Line {
            name: legend(c),
            color: color(k),
            dashed: false,
            points,
            knee,
        });
        if let Some(exact) = &c.exact_lru {
            lines.push(Line {
                name: format!("{} exact LRU (one pass)", legend(c)),
                color: color(k),
                dashed: true,
                points: exact
                    .sizes
                    .iter()
                    .zip(&exact.miss_ratios)
                    .map(|(&s, &m)| (s.max(1) as f64, m))
                    .collect(),
                knee: None,
            });
        }
    }
    lines
}

fn latency_lines(sweep: &SweepResult) -> Vec<Line> {
    sweep
        .curves
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.simulated)
        .map(|(k, c)| Line {
            name: legend(c),
            color: color(k),
            dashed: false,
            points: c
                .points
                .iter()
                .filter_map(|p| Some((p.size.max(1) as f64, p.p99_ns? as f64)))
                .collect(),
            knee: None,
        })
        .collect()
}

/// Draws `lines` over a log-scaled size axis.
fn draw(
    call: &Call,
    kind: &str,
    title: &str,
    size: Size,
    lines: &[Line],
    unit: Unit,
    y_max: f64,
) -> Result<minijinja::Value, Error> {
    let sizes = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let x_min = sizes.clone().fold(f64::INFINITY, f64::min);
    let x_max = sizes.fold(0.0, f64::max);
    let (x_min, x_max) = if x_min.is_finite() && x_max > x_min {
        (x_min * 0.8, x_max * 1.25)
    } else {
        (1.0, 10.0)
    };
    let empty = lines.iter().all(|l| l.points.is_empty());
    render(call, kind, title, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| Unit::Count.format(*x))
            .y_label_formatter(&|y| unit.format(*y))
            .x_desc("cache size, entries (log scale)")
            .house_style()
            .y_labels(6)
            .draw()?;
        if empty {
            root.draw_text(
                "no curve in this sweep (sweep a tier's max_entries)",
                &font(16.0).color(&MUTED),
                (size.width as i32 / 2 - 190, size.height as i32 / 2),
            )?;
        }
        for line in lines.iter().filter(|l| !l.points.is_empty()) {
            let c = line.color;
            let style = c.stroke_width(2);
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(
                    line.points.iter().copied(),
                    6,
                    4,
                    style,
                ))?
            } else {
                chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?;
                chart.draw_series(line.points.iter().map(|p| Circle::new(*p, 3, c.filled())))?
            };
            drawn.label(line.name.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
            });
            if let Some(knee) = line.knee {
                chart.draw_series(std::iter::once(Circle::new(knee, 7, c.stroke_width(2))))?;
                // Right of the knee, or left of it in the chart's right part, so that the
                // label never runs past the plot's edge.
                let right_part = (knee.0 / x_min).ln() > 0.6 * (x_max / x_min).ln();
                let (x, side) = if right_part {
                    (knee.0 / 1.05, HPos::Right)
                } else {
                    (knee.0 * 1.05, HPos::Left)
                };
                chart.draw_series(std::iter::once(Text::new(
                    format!("knee {}", Unit::Count.format(knee.0)),
                    (x, (knee.1 + y_max * 0.04).min(y_max * 0.97)),
                    font(12.0).color(&c).pos(Pos::new(side, VPos::Top)),
                )))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(font(13.0))
            .draw()?;
        Ok(())
    })
}

/// Miss ratio against cache size: every curve of the sweep, exact LRU curves dashed, knees
/// circled.
pub fn miss_ratio(sweep: &SweepResult, size: Size) -> Result<minijinja::Value, Error> {
    let lines = miss_lines(sweep);
    draw(
        &MISS_RATIO,
        "miss-ratio",
        "miss ratio against cache size",
        size,
        &lines,
        Unit::Ratio,
        1.0,
    )
}

/// p99 latency of all operations against cache size, for the measured curves.
pub fn latency(sweep: &SweepResult, size: Size) -> Result<minijinja::Value, Error> {
    let lines = latency_lines(sweep);
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    draw(
        &LATENCY,
        "sweep-latency",
        "p99 latency (all operations) against cache size",
        size,
        &lines,
        Unit::Nanos,
        if top > 0.0 { top * 1.15 } else { 1.0 },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sweep::{CurvePoint, ExactCurve};

    fn sweep() -> SweepResult {
        let point = |size, hit: f64, p99| CurvePoint {
            size,
            point: 0,
            hit_rate: Some(hit),
            miss_ratio: Some(1.0 - hit),
            p99_ns: Some(p99),
            throughput: Some(1e6),
        };
        SweepResult {
            curves: vec![SweepCurve {
                workload: "reads".into(),
                tier: "l1".into(),
                series: "engine=lru".into(),
                engine: Some("lru".into()),
                simulated: false,
                points: vec![point(100, 0.3, 900), point(1000, 0.7, 800)],
                knee: Some(1000),
                exact_lru: Some(ExactCurve {
                    sizes: vec![1, 10, 100, 1000],
                    miss_ratios: vec![0.99, 0.9, 0.7, 0.3],
                    lookups: 10,
                    max_distance: 1000,
                }),
            }],
            ..SweepResult::default()
        }
    }

    #[test]
    fn the_curve_chart_draws_each_curve_its_exact_lru_and_the_knee() {
        let svg = miss_ratio(&sweep(), SIZE).unwrap().to_string();
        assert!(svg.contains("data-chart=\"miss-ratio\""), "{svg}");
        assert!(svg.contains("exact LRU (one pass)"));
        assert!(svg.contains("knee 1000"));
        // The knee is the largest size: its label ends at the knee instead of running past
        // the plot's right edge.
        let label = svg.find("knee 1000").unwrap();
        let tag = &svg[svg[..label].rfind("<text").unwrap()..label];
        assert!(tag.contains("text-anchor=\"end\""), "{tag}");
        let svg = latency(&sweep(), LATENCY_SIZE).unwrap().to_string();
        assert!(svg.contains("reads / l1 (engine=lru)"));
    }

    #[test]
    fn a_sweep_without_curves_says_so() {
        let svg = miss_ratio(&SweepResult::default(), SIZE)
            .unwrap()
            .to_string();
        assert!(svg.contains("no curve in this sweep"));
    }
}
