//! Values with units, as people write them in scenario files: `2ms`, `1.5s`, `1KiB`, `20k/s`, `95%`.
//!
//! Each unit family has a newtype that deserializes from a string (or a bare number where that is
//! unambiguous) and describes itself to the JSON Schema with a pattern, so editors flag a bad unit
//! before tierbench runs. The same parsers serve the threshold grammar and the report filters, which
//! is why this is a leaf module at the crate root: it imports nothing of the crate, and the
//! scenario, verdict and report stages all use it.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number as written before its unit.
struct Number {
    /// Its value.
    value: f64,
    /// Its exact value when it is a whole number (digits only), for exact scaling.
    whole: Option<u128>,
}

impl Number {
    /// `self × factor` as a `u64`, exact for whole numbers; `None` past `u64::MAX` (a cast
    /// would silently saturate) or when negative.
    fn scaled(&self, factor: u64) -> Option<u64> {
        match self.whole {
            Some(w) => w
                .checked_mul(u128::from(factor))
                .and_then(|v| u64::try_from(v).ok()),
            None => {
                let v = (self.value * factor as f64).round();
                (0.0..U64_LIMIT).contains(&v).then_some(v as u64)
            }
        }
    }
}

/// 2^64 as a float: the first value a `u64` cannot hold.
const U64_LIMIT: f64 = 18_446_744_073_709_551_616.0;

/// Splits `"12.5ms"` into `(12.5, "ms")`; the unit part is trimmed.
fn split_number(text: &str) -> Option<(Number, &str)> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || c == '_' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(end);
    let digits = number.replace('_', "");
    let value: f64 = digits.parse().ok()?;
    let whole = if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    };
    value
        .is_finite()
        .then_some((Number { value, whole }, unit.trim()))
}

/// Parses a duration such as `250us`, `2ms`, `1.5s`, `2m`. A bare number is rejected: the unit is required.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (n, unit) = split_number(text).ok_or_else(|| format!("`{text}` is not a duration"))?;
    let nanos_per: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" => {
            return Err(format!(
                "`{text}` has no unit; write e.g. `{text}ms` or `{text}s`"
            ));
        }
        other => {
            return Err(format!(
                "`{other}` is not a duration unit (use ns, us, ms, s, m, h)"
            ));
        }
    };
    if n.value < 0.0 {
        return Err(format!("`{text}` is negative"));
    }
    n.scaled(nanos_per)
        .map(Duration::from_nanos)
        .ok_or_else(|| format!("`{text}` is too long: durations go up to 584 years (2^64 ns)"))
}

/// Parses a byte size: `256`, `256B`, `1KiB`, `1.5MiB`, `4KB` (KB = 1000 bytes, KiB = 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let (n, unit) = split_number(text).ok_or_else(|| format!("`{text}` is not a size"))?;
    let factor: u64 = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "`{other}` is not a size unit (use B, KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    if n.value < 0.0 {
        return Err(format!("`{text}` is negative"));
    }
    n.scaled(factor)
        .ok_or_else(|| format!("`{text}` is too large: sizes go up to 16 EiB (2^64 bytes)"))
}

/// Parses a rate in operations per second: `5000/s`, `20k/s`, `1.5M/s`, or a bare number.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let body = text.trim();
    let body = body.strip_suffix("/s").unwrap_or(body);
    let (n, unit) = split_number(body).ok_or_else(|| format!("`{text}` is not a rate"))?;
    let factor = match unit {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        other => {
            return Err(format!(
                "`{other}` is not a rate multiplier (use k or M, e.g. 20k/s)"
            ));
        }
    };
    let rate = n.value * factor;
    if rate.is_finite() {
        Ok(rate)
    } else {
        Err(format!("`{text}` is too large a rate"))
    }
}

/// Parses a ratio written as a percentage (`95%`) or a fraction (`0.95`); returns the fraction.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let (n, unit) = split_number(text).ok_or_else(|| format!("`{text}` is not a percentage"))?;
    let n = n.value;
    match unit {
        "%" => Ok(n / 100.0),
        "" if (0.0..=1.0).contains(&n) => Ok(n),
        "" => Err(format!(
            "`{text}` is ambiguous: write `{text}%` or a fraction between 0 and 1"
        )),
        other => Err(format!("`{other}` is not a percentage unit (use %)")),
    }
}

/// A duration written with a unit (`2ms`, `5s`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(DurationValue)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for DurationValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl JsonSchema for DurationValue {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration with a unit: ns, us, ms, s, m or h (e.g. `250us`, `2ms`, `1.5s`).",
            "type": "string",
            "pattern": r"^\s*[0-9][0-9_]*(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|min|h)\s*$"
        })
    }
}

/// Formats a duration compactly with the largest unit that keeps a readable number.
pub fn format_duration(d: Duration) -> String {
    format_nanos(d.as_nanos() as f64)
}

/// Formats nanoseconds as `812ns`, `3.41us`, `12.0ms`, `1.50s`.
pub fn format_nanos(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "us")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    if unit == "ns" {
        format!("{value:.0}{unit}")
    } else if value < 10.0 {
        format!("{value:.2}{unit}")
    } else if value < 100.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.0}{unit}")
    }
}

/// Formats a byte count with binary units (`512B`, `1.5KiB`).
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

/// A size in bytes: a bare integer or a string with a unit (`1KiB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => parse_bytes(&t)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size in bytes: an integer, or a number with a unit B, KiB, MiB, GiB, KB, MB, GB (e.g. `1KiB`).",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": r"^\s*[0-9][0-9_]*(\.[0-9]+)?\s*(B|KiB|MiB|GiB|KB|kB|MB|GB)?\s*$" }
            ]
        })
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("2ms"), Ok(Duration::from_millis(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 250us "), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("100ns"), Ok(Duration::from_nanos(100)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .contains("not a duration unit")
        );
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(
            parse_duration("18446744073709551616ns")
                .unwrap_err()
                .contains("too long")
        );
        assert_eq!(
            parse_duration("584y").unwrap_err(),
            "`y` is not a duration unit (use ns, us, ms, s, m, h)"
        );
    }

    #[test]
    fn sizes_rates_and_percentages_parse() {
        assert_eq!(parse_bytes("1KiB"), Ok(1024));
        assert_eq!(parse_bytes("4KB"), Ok(4000));
        assert_eq!(parse_bytes("256"), Ok(256));
        assert_eq!(parse_bytes("1.5MiB"), Ok(1_572_864));
        assert!(parse_bytes("3 bananas").is_err());
        assert!(
            parse_bytes("17179869184GiB")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(
            parse_bytes("17179869183GiB"),
            Ok(18_446_744_072_635_809_792)
        );
        assert_eq!(parse_rate("20k/s"), Ok(20_000.0));
        assert_eq!(parse_rate("5000/s"), Ok(5000.0));
        assert_eq!(parse_rate("1.5M/s"), Ok(1_500_000.0));
        assert_eq!(parse_rate("300"), Ok(300.0));
        let huge = format!("2{}k/s", "0".repeat(305));
        assert!(parse_rate(&huge).unwrap_err().contains("too large"));
        assert_eq!(
            parse_duration("712641503813ms").map(|d| d.as_nanos()),
            Ok(712_641_503_813_000_000),
            "whole numbers scale exactly"
        );
        assert_eq!(parse_percent("95%"), Ok(0.95));
        assert_eq!(parse_percent("0.5"), Ok(0.5));
        assert!(parse_percent("95").unwrap_err().contains("ambiguous"));
    }

    #[test]
    fn formatting_picks_readable_units() {
        assert_eq!(format_nanos(812.0), "812ns");
        assert_eq!(format_nanos(3_410.0), "3.41us");
        assert_eq!(format_nanos(12_000_000.0), "12.0ms");
        assert_eq!(format_nanos(1_500_000_000.0), "1.50s");
        assert_eq!(format_bytes(512.0), "512B");
        assert_eq!(format_bytes(1536.0), "1.5KiB");
    }
}
