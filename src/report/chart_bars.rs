//! Horizontal bar charts of one workload: who served the reads (`served_by`), each tier's hit
//! rate, and each threshold's margin (`ThresholdResult::margin`: how far the observed value is
//! from its limit, relative to the limit; positive when it held).

use minijinja::Error;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart_style::{
    BAD, Call, GOOD, HouseStyle, INK, MUTED, Size, Unit, color, font, render,
};
use crate::metrics::result::WorkloadResult;
use crate::units::format_nanos;

/// `served_by_svg`, for error messages.
pub const SERVED_BY: Call = Call {
    name: "served_by_svg",
    usage: "served_by_svg(workload, width=880, height=auto)",
};

/// `hit_rate_svg`, for error messages.
pub const HIT_RATE: Call = Call {
    name: "hit_rate_svg",
    usage: "hit_rate_svg(workload, width=880, height=auto)",
};

/// `thresholds_svg`, for error messages.
pub const THRESHOLDS: Call = Call {
    name: "thresholds_svg",
    usage: "thresholds_svg(workload, width=880, height=auto)",
};

/// The default width of these charts.
pub const WIDTH: u32 = 880;

/// The default height for `rows` bars.
pub fn height(rows: usize) -> u32 {
    (rows.max(1) as u32 * 36 + 78).min(4000)
}

/// One bar: its row label, where it starts and ends, its colour, and the note after it.
pub struct Bar {
    /// Row label (left of the axis).
    pub label: String,
    /// Start and end on the x axis; none draws no bar, only the note.
    pub span: Option<(f64, f64)>,
    /// Fill.
    pub color: RGBColor,
    /// Text after the bar.
    pub note: String,
}

/// A bar chart: one row per bar, top to bottom, over `x` (formatted by `unit`), with a line
/// at zero when the range spans it.
#[allow(clippy::too_many_arguments)] // each is one plain aspect of the chart
pub fn bars(
    call: &Call,
    kind: &str,
    title: &str,
    size: Size,
    rows: &[Bar],
    x: (f64, f64),
    unit: Unit,
    x_desc: &str,
) -> Result<minijinja::Value, Error> {
    let n = rows.len().max(1);
    let longest = rows
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(4);
    let label_area = (16 + longest * 8).clamp(60, (size.width / 3) as usize) as u32;
    // Notes go right of the bars, into the margin (a bar reaches at most the axis' end).
    let longest_note = rows
        .iter()
        .map(|b| b.note.chars().count())
        .max()
        .unwrap_or(0);
    let note_area = (24 + longest_note * 6).clamp(24, (size.width / 2) as usize) as u32;
    let names: Vec<String> = rows.iter().rev().map(|b| b.label.clone()).collect();
    let (x0, x1) = x;
    render(call, kind, title, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_right(note_area)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(x0..x1, -0.5..n as f64 - 0.5)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .x_label_formatter(&|v| unit.format(*v))
            .y_label_formatter(&|v| row_label(&names, *v))
            .x_desc(x_desc)
            .house_style()
            .x_labels(8)
            .draw()?;
        if x0 < 0.0 && x1 > 0.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                INK.stroke_width(1),
            )))?;
        }
        let note_style = font(13.0).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, b) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let mut end = 0f64.max(x0);
            if let Some((a, e)) = b.span {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y - 0.3), (e, y + 0.3)],
                    b.color.filled(),
                )))?;
                end = a.max(e);
            }
            chart.draw_series(std::iter::once(Text::new(
                b.note.clone(),
                (end + (x1 - x0) * 0.01, y),
                note_style.clone(),
            )))?;
        }
        Ok(())
    })
}

/// The label of the row at `v` on the y axis (rows sit on whole numbers, the top one last).
pub fn row_label(names: &[String], v: f64) -> String {
    if (v - v.round()).abs() > 0.01 || v < -0.01 {
        return String::new();
    }
    names.get(v.round() as usize).cloned().unwrap_or_default()
}

/// Reads served per source (a tier, or `origin` when every tier missed), in stack order.
pub fn served_by(w: &WorkloadResult, size: Option<Size>) -> Result<minijinja::Value, Error> {
    let mut names: Vec<&String> = w
        .target
        .iter()
        .filter(|t| w.served_by.contains_key(*t))
        .collect();
    names.extend(w.served_by.keys().filter(|k| !w.target.contains(k)));
    let total: u64 = w.served_by.values().map(|r| r.count).sum();
    let rows: Vec<Bar> = names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let r = w.served_by.get(*name)?;
            let share = if total > 0 {
                r.count as f64 / total as f64
            } else {
                0.0
            };
            Some(Bar {
                label: (*name).clone(),
                span: Some((0.0, share)),
                color: if name.as_str() == "origin" {
                    MUTED
                } else {
                    color(i)
                },
                note: format!(
                    "{:.1}% · {} reads · p99 {}",
                    share * 100.0,
                    r.count,
                    format_nanos(r.latency.p99_ns as f64)
                ),
            })
        })
        .collect();
    let size = size.unwrap_or(Size {
        width: WIDTH,
        height: height(rows.len()),
    });
    let title = format!("{}: who served the reads ({total} reads)", w.name);
    bars(
        &SERVED_BY,
        "served-by",
        &title,
        size,
        &rows,
        (0.0, 1.0),
        Unit::Ratio,
        "share of reads",
    )
}

/// Each target tier's hit rate.
pub fn hit_rate(w: &WorkloadResult, size: Option<Size>) -> Result<minijinja::Value, Error> {
    let rows: Vec<Bar> = w
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| Bar {
            label: t.name.clone(),
            span: t.hit_rate.map(|r| (0.0, r)),
            color: color(i),
            note: match t.hit_rate {
                Some(r) => format!(
                    "{:.1}% · {} of {} lookups",
                    r * 100.0,
                    t.hits,
                    t.hits + t.misses
                ),
                None => "no lookups".to_string(),
            },
        })
        .collect();
    let size = size.unwrap_or(Size {
        width: WIDTH,
        height: height(rows.len()),
    });
    let title = format!("{}: hit rate per tier", w.name);
    bars(
        &HIT_RATE,
        "hit-rate",
        &title,
        size,
        &rows,
        (0.0, 1.0),
        Unit::Ratio,
        "hit rate",
    )
}

/// The unit a threshold's values are in.
pub fn threshold_unit(unit: &str) -> Unit {
    match unit {
        "ns" => Unit::Nanos,
        "ratio" => Unit::Ratio,
        "ops/s" => Unit::Rate,
        "bytes" => Unit::Bytes,
        _ => Unit::Count,
    }
}

/// Each threshold's margin, clamped to ±100%, green when it held and red when it failed.
pub fn thresholds(w: &WorkloadResult, size: Option<Size>) -> Result<minijinja::Value, Error> {
    let rows: Vec<Bar> = w
        .thresholds
        .iter()
        .map(|t| {
            let unit = threshold_unit(&t.unit);
            let observed = t
                .observed
                .map(|v| unit.format(v))
                .unwrap_or_else(|| "n/a".into());
            let verdict = if t.passed { "held" } else { "FAILED" };
            let m = t.margin();
            // `==` and zero limits have no relative headroom: 0 when held, -100% when not.
            let relative = t.limit != 0.0 && t.op != "==";
            Bar {
                label: t.text.clone(),
                span: m.map(|m| (0.0, m.clamp(-1.0, 1.0))),
                color: if t.passed { GOOD } else { BAD },
                note: match m {
                    Some(m) if relative => {
                        format!(
                            "{verdict} · margin {} · observed {observed}",
                            signed_percent(m)
                        )
                    }
                    _ => format!("{verdict} · observed {observed}"),
                },
            }
        })
        .collect();
    let size = size.unwrap_or(Size {
        width: WIDTH,
        height: height(rows.len()),
    });
    let title = format!("{}: threshold margins (observed vs limit)", w.name);
    bars(
        &THRESHOLDS,
        "thresholds",
        &title,
        size,
        &rows,
        (-1.0, 1.0),
        Unit::Ratio,
        "margin: distance from the limit, relative to it (clamped to ±100%)",
    )
}

/// A margin as `+12.5%`; beyond +1000% as `> +1000%` (a limit far from what was observed).
fn signed_percent(f: f64) -> String {
    if f > 10.0 {
        "> +1000%".to_string()
    } else {
        format!("{:+.1}%", f * 100.0)
    }
}
