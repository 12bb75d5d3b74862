//! Formatting filters for report templates: numbers stay numbers in the document, and the
//! templates say how to show them.
//!
//! - `duration`: nanoseconds → `812ns`, `3.41us`, `12.0ms`
//! - `bytes`: bytes → `512B`, `1.5KiB`
//! - `rate`: per second → `12.3k/s`
//! - `percent`: fraction → `95.2%`
//! - `seconds`: seconds → `2.00s`
//! - `signed_percent`: fraction → `+3.1%` / `-0.4%`

use minijinja::Environment;

use crate::scenario::units::{format_bytes, format_nanos};

/// Adds the filters to an environment.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("duration", |ns: Option<f64>| {
        ns.map_or_else(none, format_nanos)
    });
    env.add_filter("bytes", |b: Option<f64>| b.map_or_else(none, format_bytes));
    env.add_filter("rate", |r: Option<f64>| r.map_or_else(none, format_rate));
    env.add_filter("percent", |f: Option<f64>| {
        f.map_or_else(none, |f| format!("{:.1}%", f * 100.0))
    });
    env.add_filter("signed_percent", |f: Option<f64>| {
        f.map_or_else(none, |f| format!("{:+.1}%", f * 100.0))
    });
    env.add_filter("seconds", |s: Option<f64>| {
        s.map_or_else(none, |s| format!("{s:.2}s"))
    });
}

fn none() -> String {
    "n/a".to_string()
}

/// Formats operations per second compactly.
pub fn format_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M/s", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1}k/s", r / 1e3)
    } else {
        format!("{r:.1}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_format_units() {
        let mut env = Environment::new();
        register(&mut env);
        let out = env
            .render_str(
                "{{ 2500000 | duration }} {{ 1536 | bytes }} {{ 12345.0 | rate }} {{ 0.952 | percent }} {{ none | duration }}",
                (),
            )
            .unwrap();
        assert_eq!(out, "2.50ms 1.5KiB 12.3k/s 95.2% n/a");
    }
}
