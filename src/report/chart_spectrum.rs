//! The latency percentile spectrum, HdrHistogram's own plot: x is the percentile on a
//! `1 / (1 − p)` log axis (labelled 50%, 90%, 99%, 99.9%, ...), y the latency on a log axis, one
//! line per operation. It is read from the whole histograms the result document keeps, so the
//! tail is drawn as measured, not interpolated from a few stored percentiles.

use minijinja::Error;
use plotters::prelude::*;

use super::chart_style::{
    Call, GRID, INK, MUTED, Size, decade_above, decade_below, font, op_color, render,
};
use crate::metrics::result::{OpResult, WorkloadResult};
use crate::units::format_nanos;

/// How it is called, for error messages.
pub const CALL: Call = Call {
    name: "latency_spectrum_svg",
    usage: "latency_spectrum_svg(workload, ops=none, width=880, height=400), ops: an operation name or a list of them (default: every operation but `all`)",
};

/// Its default size.
pub const SIZE: Size = Size {
    width: 880,
    height: 400,
};

/// One line of the chart: (1 / (1 − p), latency ns) points.
struct Line {
    op: String,
    count: u64,
    points: Vec<(f64, f64)>,
}

/// The points of one operation's spectrum, from its histogram.
fn line(op: &str, result: &OpResult) -> Result<Line, Error> {
    let h = result
        .latency
        .histogram()
        .map_err(|e| CALL.error(format!("operation `{op}`: {e}")))?;
    let count = h.len();
    let cap = count.max(2) as f64;
    let mut points = Vec::new();
    for v in h.iter_quantiles(4) {
        let q = v.quantile_iterated_to();
        let x = if q >= 1.0 {
            cap
        } else {
            (1.0 / (1.0 - q)).min(cap)
        };
        let y = (h.highest_equivalent(v.value_iterated_to()) as f64).max(1.0);
        points.push((x, y));
    }
    Ok(Line {
        op: op.to_string(),
        count,
        points,
    })
}

/// Labels the `1 / (1 − p)` axis as a percentile: 1 → 0%, 2 → 50%, 10 → 90%, 1000 → 99.9%.
pub fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".to_string();
    }
    let p = 100.0 * (1.0 - 1.0 / x);
    let decimals = (x.log10().round() as i32 - 2).max(0) as usize;
    format!("{p:.decimals$}%")
}

/// The operations to draw: those named, or every one but `all` (or `all` alone if it is the
/// only one).
fn chosen(w: &WorkloadResult, ops: Option<Vec<String>>) -> Result<Vec<String>, Error> {
    let Some(ops) = ops else {
        let mut names: Vec<String> = w
            .operations
            .iter()
            .filter(|(name, r)| name.as_str() != "all" && r.count > 0)
            .map(|(name, _)| name.clone())
            .collect();
        if names.is_empty() && w.operations.contains_key("all") {
            names.push("all".to_string());
        }
        return Ok(names);
    };
    for op in &ops {
        if !w.operations.contains_key(op) {
            let known: Vec<&str> = w.operations.keys().map(String::as_str).collect();
            return Err(CALL.error(format!(
                "workload `{}` has no operation `{op}` (it has: {})",
                w.name,
                known.join(", ")
            )));
        }
    }
    Ok(ops)
}

/// Draws the spectrum of the chosen operations of a workload.
pub fn draw(
    w: &WorkloadResult,
    ops: Option<Vec<String>>,
    size: Size,
) -> Result<minijinja::Value, Error> {
    let ops = chosen(w, ops)?;
    let mut lines = Vec::new();
    for op in &ops {
        if let Some(result) = w.operations.get(op) {
            let l = line(op, result)?;
            if !l.points.is_empty() {
                lines.push(l);
            }
        }
    }
    let title = format!(
        "{}: latency by percentile ({})",
        w.name,
        if ops.is_empty() {
            "no operations".to_string()
        } else {
            ops.join(", ")
        }
    );
    // The axis ends a little after the rarest percentile measured (1 / (1 − p) = the count).
    let x_max = lines.iter().map(|l| l.count as f64).fold(100.0, f64::max) * 1.25;
    let y_min = decade_below(
        lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(f64::INFINITY, f64::min)
            .min(1e9),
    );
    let y_max = decade_above(
        lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(10.0, f64::max)
            * 1.05,
    );
    let mut keys = vec![1.0, 2.0];
    let mut k = 10.0;
    while k <= x_max {
        keys.push(k);
        k *= 10.0;
    }
    render(&CALL, "latency-spectrum", &title, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(
                (1.0..x_max).log_scale().with_key_points(keys),
                (y_min..y_max).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| format_nanos(*y))
            .x_desc("percentile")
            .y_desc("latency")
            .label_style(font(14.0))
            .axis_desc_style(font(14.0).color(&MUTED))
            .axis_style(INK.mix(0.6))
            .bold_line_style(GRID)
            .light_line_style(GRID.mix(0.5))
            .draw()?;
        if lines.is_empty() {
            root.draw_text(
                "no completed operations",
                &font(16.0).color(&MUTED),
                (size.width as i32 / 2 - 90, size.height as i32 / 2),
            )?;
        }
        for l in &lines {
            let c = op_color(&l.op);
            let style = c.stroke_width(2);
            chart
                .draw_series(LineSeries::new(l.points.iter().copied(), style))?
                .label(format!("{} ({} ops)", l.op, l.count))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
        }
        if !lines.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(GRID)
                .label_font(font(14.0))
                .draw()?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_reads_as_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(100000.0), "99.999%");
    }
}
