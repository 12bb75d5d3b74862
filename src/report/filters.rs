//! Formatting filters for report templates: numbers stay numbers in the document, and the
//! templates say how to show them.
//!
//! - `duration`: nanoseconds → `812ns`, `3.41us`, `12.0ms`
//! - `bytes`: bytes → `512B`, `1.5KiB`
//! - `rate`: per second → `12.3k/s`
//! - `percent`: fraction → `95.2%`
//! - `seconds`: seconds → `2.00s`
//! - `signed_percent`: fraction → `+3.1%` / `-0.4%`
//! - `op_names`: an `operations` map → its names in display order: the built-in operations,
//!   then custom commands by name, then `all`

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use crate::units::{format_bytes, format_nanos};

/// Adds the filters to an environment.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("duration", |v: Value| show(&v, format_nanos));
    env.add_filter("bytes", |v: Value| show(&v, format_bytes));
    env.add_filter("rate", |v: Value| show(&v, format_rate));
    env.add_filter("percent", |v: Value| {
        show(&v, |f| format!("{:.1}%", f * 100.0))
    });
    env.add_filter("signed_percent", |v: Value| {
        show(&v, |f| format!("{:+.1}%", f * 100.0))
    });
    env.add_filter("seconds", |v: Value| show(&v, |s| format!("{s:.2}s")));
    env.add_filter("p_value", |v: Value| show(&v, format_p_value));
    env.add_filter("op_names", op_names);
}

/// A p-value with its precision: `< 0.001` below it, else three decimals (never "0.0").
pub fn format_p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// The keys of an `operations` map in display order: built-ins in their order, custom commands
/// by name, `all` last.
fn op_names(v: Value) -> Result<Vec<String>, Error> {
    if v.is_undefined() {
        return Err(undefined(&v));
    }
    let mut keys: Vec<String> = v
        .try_iter()?
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    let builtin = ["get", "set", "delete", "touch", "mget", "mset", "mdelete"];
    let rank = |k: &str| match builtin.iter().position(|b| *b == k) {
        Some(i) => (0, i),
        None if k == "all" => (2, 0),
        None => (1, 0),
    };
    keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    Ok(keys)
}

/// Formats a number; `none` shows as `n/a`; an undefined value or a non-number is an error
/// (a misspelt field must not render as `n/a`).
fn show(v: &Value, format: impl Fn(f64) -> String) -> Result<String, Error> {
    if v.is_undefined() {
        return Err(undefined(v));
    }
    if v.is_none() {
        return Ok("n/a".to_string());
    }
    f64::try_from(v.clone()).map(format).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("expected a number, got {v}"),
        )
    })
}

/// The error for an undefined filter input. Looking into the undefined value makes minijinja's
/// own error, which remembers where the value came from, so the message names the expression
/// (`w.nope` is undefined) rather than only the filter.
pub fn undefined(v: &Value) -> Error {
    match v.get_attr("") {
        Err(e) => e,
        Ok(_) => Error::new(ErrorKind::UndefinedError, "the filter's input is undefined"),
    }
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
