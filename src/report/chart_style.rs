//! What every chart shares: reading a template argument back into the result document's types
//! (with an error that names the function and what it expected), the palette and fonts, axis
//! label formats, and turning a plotters drawing into one inline `<svg>` string.
//!
//! Charts are drawn by plotters' SVG backend, which writes text as `<text>` elements with a
//! generic `sans-serif` family: the browser picks the font, so no font file is read or embedded.

use std::error::Error as StdError;

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::de::DeserializeOwned;

use super::filters::format_rate;
use crate::metrics::result::WorkloadResult;
use crate::units::{format_bytes, format_nanos};

/// The drawing area a chart draws on.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What a drawing closure returns: plotters' errors, boxed.
pub type Drawn = Result<(), Box<dyn StdError>>;

/// Text and axes.
pub const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
/// Secondary text, legend borders.
pub const MUTED: RGBColor = RGBColor(0x6b, 0x72, 0x80);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
/// A held threshold, an improvement.
pub const GOOD: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
/// A failed threshold, a regression, errors.
pub const BAD: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
/// Inconclusive.
pub const WARN: RGBColor = RGBColor(0xbf, 0x87, 0x00);

/// Series colours (Tableau 10), in the order series are drawn.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xe1, 0x57, 0x59),
];

/// The `i`-th series colour.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One colour per operation kind, the same in every chart.
pub fn op_color(op: &str) -> RGBColor {
    match op {
        "get" => PALETTE[0],
        "set" => PALETTE[1],
        "delete" => PALETTE[3],
        "touch" => PALETTE[6],
        "all" => INK,
        _ => PALETTE[4],
    }
}

/// Label text of the given pixel size.
pub fn font(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

/// A chart's size in pixels (the page scales it to its column).
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A chart function: its name and how it is called, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The template function's name.
    pub name: &'static str,
    /// Its signature, as a template writes it.
    pub usage: &'static str,
}

impl Call {
    /// An error naming the function, what went wrong and how it is called.
    pub fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("{}: {message} (usage: {})", self.name, self.usage),
        )
    }

    /// The `width=` and `height=` keyword arguments, or the chart's defaults; any other keyword
    /// is an error.
    pub fn size(&self, kwargs: &Kwargs, default: Size) -> Result<Size, Error> {
        let get = |key: &str, default: u32| -> Result<u32, Error> {
            let v: Option<Value> = kwargs.get(key)?;
            match v {
                None => Ok(default),
                Some(v) => match u32::try_from(v.clone()) {
                    Ok(n) if (120..=4000).contains(&n) => Ok(n),
                    _ => Err(self.error(format!(
                        "`{key}` must be a whole number of pixels from 120 to 4000, got {v}"
                    ))),
                },
            }
        };
        let size = Size {
            width: get("width", default.width)?,
            height: get("height", default.height)?,
        };
        kwargs
            .assert_all_used()
            .map_err(|e| self.error(e.detail().unwrap_or("unknown keyword argument")))?;
        Ok(size)
    }

    /// Reads a template value back into a result-document type; `what` says what the argument
    /// should be (`a workload (an item of \`workloads\`)`).
    pub fn arg<T: DeserializeOwned>(&self, v: &Value, what: &str) -> Result<T, Error> {
        if v.is_undefined() || v.is_none() {
            return Err(self.error(format!("expected {what}, got {}", describe(v))));
        }
        let json = serde_json::to_value(v).map_err(|e| {
            self.error(format!(
                "expected {what}, got a value that is not data: {e}"
            ))
        })?;
        serde_path_to_error::deserialize(json).map_err(|e| {
            let path = e.path().to_string();
            if path == "." && matches!(v.kind(), ValueKind::Map) {
                self.error(format!("expected {what}; got a map: {}", e.inner()))
            } else if path == "." {
                self.error(format!("expected {what}, got {}", describe(v)))
            } else {
                self.error(format!("expected {what}; at `{path}`: {}", e.inner()))
            }
        })
    }

    /// The workload argument every per-workload chart takes first.
    pub fn workload(&self, v: &Value) -> Result<WorkloadResult, Error> {
        self.arg(v, "a workload (an item of `workloads`)")
    }

    /// A string argument.
    pub fn string(&self, v: &Value, what: &str) -> Result<String, Error> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.error(format!("expected {what} as a string, got {}", describe(v))))
    }
}

/// How a value reads in an error message: its kind, and the value itself when it is short.
fn describe(v: &Value) -> String {
    match v.kind() {
        ValueKind::Undefined => "an undefined value".to_string(),
        ValueKind::None => "none".to_string(),
        ValueKind::Map => "a map".to_string(),
        ValueKind::Seq => "a list".to_string(),
        kind => {
            let text = v.to_string();
            if text.len() <= 40 {
                format!("{kind} {text:?}")
            } else {
                format!("a {kind}")
            }
        }
    }
}

/// How a chart's axis shows a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds.
    Nanos,
    /// Operations per second.
    Rate,
    /// A fraction shown as a percentage.
    Ratio,
    /// Bytes.
    Bytes,
    /// A plain count.
    Count,
}

impl Unit {
    /// The unit of a repetition figure or compared metric, from its name.
    pub fn of_metric(name: &str) -> Unit {
        if name.ends_with("_ns") {
            Unit::Nanos
        } else if name == "throughput" {
            Unit::Rate
        } else if name.ends_with("rate") {
            Unit::Ratio
        } else if name.ends_with("bytes") {
            Unit::Bytes
        } else {
            Unit::Count
        }
    }

    /// Formats a value for an axis label or an annotation.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Nanos => format_nanos(v),
            Unit::Rate => format_rate(v),
            Unit::Ratio => format!("{:.1}%", v * 100.0),
            Unit::Bytes => format_bytes(v),
            Unit::Count => {
                if v.abs() >= 1e4 {
                    format!("{:.1}k", v / 1e3)
                } else if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            }
        }
    }
}

/// The house style of every chart's mesh: 14 px labels, muted axis descriptions, a soft axis,
/// grid lines at the labelled ticks only.
pub trait HouseStyle {
    /// Applies it.
    fn house_style(&mut self) -> &mut Self;
}

impl<X: Ranged, Y: Ranged, DB: DrawingBackend> HouseStyle
    for plotters::chart::MeshStyle<'_, '_, X, Y, DB>
{
    fn house_style(&mut self) -> &mut Self {
        self.label_style(font(14.0))
            .axis_desc_style(font(14.0).color(&MUTED))
            .axis_style(INK.mix(0.6))
            .bold_line_style(GRID)
            .light_line_style(GRID.mix(0.0))
    }
}

/// Draws a chart and returns it as a safe string holding one `<svg>` element, marked with
/// `class="tb-chart"`, `data-chart="KIND"`, an accessible name and a `<title>` (a tooltip).
pub fn render(
    call: &Call,
    kind: &str,
    title: &str,
    size: Size,
    draw: impl FnOnce(&Area<'_>) -> Drawn,
) -> Result<Value, Error> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (size.width, size.height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| call.error(format!("could not draw the chart: {e}")))?;
        draw(&root).map_err(|e| call.error(format!("could not draw the chart: {e}")))?;
        root.present()
            .map_err(|e| call.error(format!("could not draw the chart: {e}")))?;
    }
    Ok(Value::from_safe_string(decorate(&buf, kind, title)))
}

/// Adds the class, data attribute, accessible name and title to plotters' `<svg>` element.
fn decorate(svg: &str, kind: &str, title: &str) -> String {
    let title = escape(title);
    let kind = escape(kind);
    let Some(start) = svg.find("<svg ") else {
        return svg.to_string();
    };
    let Some(end) = svg[start..].find('>').map(|i| start + i + 1) else {
        return svg.to_string();
    };
    let open = &svg[start + "<svg ".len()..end];
    format!(
        "<svg class=\"tb-chart\" data-chart=\"{kind}\" role=\"img\" aria-label=\"{title}\" {open}<title>{title}</title>{}",
        svg[end..].trim_end()
    )
}

/// Escapes text for an attribute or element content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Rounds a positive value down to a power of ten (axis bounds on a log scale).
pub fn decade_below(v: f64) -> f64 {
    10f64.powf(v.max(1.0).log10().floor())
}

/// Rounds a positive value up to a power of ten.
pub fn decade_above(v: f64) -> f64 {
    10f64.powf(v.max(1.0).log10().ceil().max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decorated_svg_names_its_chart() {
        let svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        let out = decorate(svg, "k", "a <b> & c");
        assert!(out.starts_with("<svg class=\"tb-chart\" data-chart=\"k\" role=\"img\" aria-label=\"a &lt;b&gt; &amp; c\" width=\"10\""), "{out}");
        assert!(
            out.contains("><title>a &lt;b&gt; &amp; c</title>\n<rect/>"),
            "{out}"
        );
        assert!(out.ends_with("</svg>"), "{out}");
    }

    #[test]
    fn units_format_axis_labels() {
        assert_eq!(Unit::of_metric("all.p99_ns").format(1500.0), "1.50us");
        assert_eq!(Unit::of_metric("throughput").format(12345.0), "12.3k/s");
        assert_eq!(Unit::of_metric("l1.hit_rate").format(0.5), "50.0%");
        assert_eq!(Unit::Count.format(3.0), "3");
        assert_eq!(decade_below(450.0), 100.0);
        assert_eq!(decade_above(450.0), 1000.0);
    }
}
