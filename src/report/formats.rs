//! Filters the CI-facing formats need (JUnit, GitHub workflow commands, GitLab's OpenMetrics,
//! CSV), and the `auto` format's choice.
//!
//! Each output language has its own quoting, and a template that gets it wrong produces a file
//! a CI system rejects or misreads; so the escaping lives here, tested, and templates only say
//! which applies:
//!
//! - `xml`: text for XML elements and attributes (`&<>"'` escaped, characters XML 1.0 forbids
//!   replaced by U+FFFD); marked safe, so the HTML auto-escaping of `.xml` templates leaves it.
//! - `workflow_data`, `workflow_property`: GitHub workflow-command escaping of a message and of
//!   a property value (`file=`, `title=`).
//! - `csv`: one RFC 4180 field (quoted when it holds `,`, `"`, CR or LF; `none` is empty).
//! - `label`: an OpenMetrics label value; `om_value`: an OpenMetrics number (`NaN`, `+Inf`).
//! - `in_unit(unit)`: a threshold's number in its unit (`ns` → `2.50ms`, `ratio` → `95.0%`,
//!   `ops/s` → `12.3k/s`, `bytes`, `count`).
//! - `margin`: a threshold's relative headroom (`ThresholdResult::margin`), `none` if unmeasured.
//! - `all_thresholds`: every workload's thresholds in one list, each with its `workload` and
//!   `margin`, failed ones first, worst (most negative margin) first.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use super::filters::{format_rate, undefined};
use crate::metrics::result::ThresholdResult;
use crate::units::{format_bytes, format_nanos};

/// Adds the filters to an environment.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("xml", |v: Value| -> Result<Value, Error> {
        Ok(Value::from_safe_string(xml_escape(&text(&v)?)))
    });
    env.add_filter("workflow_data", |v: Value| -> Result<String, Error> {
        Ok(workflow_data(&text(&v)?))
    });
    env.add_filter("workflow_property", |v: Value| -> Result<String, Error> {
        Ok(workflow_property(&text(&v)?))
    });
    env.add_filter("csv", |v: Value| -> Result<String, Error> {
        if v.is_none() {
            return Ok(String::new());
        }
        Ok(csv_field(&text(&v)?))
    });
    env.add_filter("label", |v: Value| -> Result<String, Error> {
        Ok(label_value(&text(&v)?))
    });
    env.add_filter("om_value", |v: Value| -> Result<String, Error> {
        number(&v).map(openmetrics_number)
    });
    env.add_filter(
        "in_unit",
        |v: Value, unit: String| -> Result<String, Error> {
            if v.is_none() {
                return Ok("n/a".into());
            }
            number(&v).map(|n| in_unit(n, &unit))
        },
    );
    env.add_filter("margin", |v: Value| -> Result<Value, Error> {
        Ok(threshold(&v)?.margin().map_or(Value::from(()), Value::from))
    });
    env.add_filter("all_thresholds", all_thresholds);
}

/// The format `auto` stands for: `github` under GitHub Actions (`GITHUB_ACTIONS=true`),
/// `gitlab` under GitLab CI (`GITLAB_CI` set), `text` otherwise; other formats unchanged.
pub fn resolve_auto<'a>(format: &'a str, env: &dyn Fn(&str) -> Option<String>) -> &'a str {
    if format != "auto" {
        format
    } else if env("GITHUB_ACTIONS").as_deref() == Some("true") {
        "github"
    } else if env("GITLAB_CI").is_some_and(|v| !v.is_empty()) {
        "gitlab"
    } else {
        "text"
    }
}

/// A filter input as text; undefined is an error naming the expression.
fn text(v: &Value) -> Result<String, Error> {
    if v.is_undefined() {
        return Err(undefined(v));
    }
    Ok(match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    })
}

fn number(v: &Value) -> Result<f64, Error> {
    if v.is_undefined() {
        return Err(undefined(v));
    }
    f64::try_from(v.clone()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("expected a number, got {v}"),
        )
    })
}

/// A threshold entry of the result document, read back from the template value.
fn threshold(v: &Value) -> Result<ThresholdResult, Error> {
    if v.is_undefined() {
        return Err(undefined(v));
    }
    serde_json::to_value(v)
        .and_then(serde_json::from_value)
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("expected a threshold entry (workloads[].thresholds[]): {e}"),
            )
        })
}

/// Escapes text for XML content and attribute values; characters XML 1.0 cannot hold (C0
/// controls other than tab, LF and CR; U+FFFE, U+FFFF) become U+FFFD.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// GitHub workflow-command escaping of a message: `%`, CR and LF.
pub fn workflow_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow-command escaping of a property value: a message's, plus `:` and `,`.
pub fn workflow_property(s: &str) -> String {
    workflow_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One CSV field, quoted as RFC 4180 asks when it holds a comma, a quote, CR or LF.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// An OpenMetrics label value: backslash, double quote and line feed escaped.
pub fn label_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// An OpenMetrics number: integers without a fraction, small numbers with an exponent (`1.5e-7`),
/// `NaN`, `+Inf`, `-Inf`.
pub fn openmetrics_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else if n.abs() < 1e-3 {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

/// A number in a threshold unit, as reports show it.
pub fn in_unit(n: f64, unit: &str) -> String {
    match unit {
        "ns" => format_nanos(n),
        "ratio" => format!("{:.1}%", n * 100.0),
        "ops/s" => format_rate(n),
        "bytes" => format_bytes(n),
        "count" if n.fract() == 0.0 => format!("{}", n as i64),
        _ => format!("{n:.2}"),
    }
}

/// Every workload's thresholds, failed first and worst first, each with `workload` and `margin`.
fn all_thresholds(workloads: Value) -> Result<Value, Error> {
    if workloads.is_undefined() {
        return Err(undefined(&workloads));
    }
    let mut out = Vec::new();
    for w in workloads.try_iter()? {
        let name = w.get_attr("name")?;
        let list = w.get_attr("thresholds")?;
        if list.is_undefined() {
            return Err(undefined(&list));
        }
        for t in list.try_iter()? {
            let parsed = threshold(&t)?;
            let mut entry = serde_json::to_value(&parsed).map_err(|e| {
                Error::new(ErrorKind::InvalidOperation, format!("threshold entry: {e}"))
            })?;
            if let Some(map) = entry.as_object_mut() {
                map.insert("workload".into(), serde_json::json!(name.as_str()));
                map.insert("margin".into(), serde_json::json!(parsed.margin()));
            }
            out.push((parsed.passed, parsed.margin(), entry));
        }
    }
    // Failed before held; within each, the smallest margin first (unmeasured: worst of all).
    out.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            let m = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
            m(a.1).total_cmp(&m(b.1))
        })
    });
    let list: Vec<serde_json::Value> = out.into_iter().map(|(_, _, e)| e).collect();
    Ok(Value::from(minijinja::value::Serde(list)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_made_legal() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'>\u{1}\tz"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\tz"
        );
    }

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(workflow_data("50%\r\nnext: a, b"), "50%25%0D%0Anext: a, b");
        assert_eq!(
            workflow_property("s.yaml: a, 5%\n"),
            "s.yaml%3A a%2C 5%25%0A"
        );
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
    }

    #[test]
    fn openmetrics_values_and_labels() {
        assert_eq!(openmetrics_number(2000.0), "2000");
        assert_eq!(openmetrics_number(1.5e-7), "1.5e-7");
        assert_eq!(openmetrics_number(0.25), "0.25");
        assert_eq!(openmetrics_number(f64::NAN), "NaN");
        assert_eq!(openmetrics_number(f64::INFINITY), "+Inf");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn auto_follows_the_ci_environment() {
        let github = |k: &str| (k == "GITHUB_ACTIONS").then(|| "true".to_string());
        let gitlab = |k: &str| (k == "GITLAB_CI").then(|| "true".to_string());
        assert_eq!(resolve_auto("auto", &github), "github");
        assert_eq!(resolve_auto("auto", &gitlab), "gitlab");
        assert_eq!(resolve_auto("auto", &|_| None), "text");
        assert_eq!(resolve_auto("csv", &github), "csv");
    }

    #[test]
    fn numbers_show_in_their_unit() {
        assert_eq!(in_unit(2_500_000.0, "ns"), "2.50ms");
        assert_eq!(in_unit(0.952, "ratio"), "95.2%");
        assert_eq!(in_unit(12_345.0, "ops/s"), "12.3k/s");
        assert_eq!(in_unit(3.0, "count"), "3");
    }

    #[test]
    fn an_undefined_filter_input_is_named() {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_debug(true);
        register(&mut env);
        let err = env
            .render_str("{{ w.nope | xml }}", minijinja::context! { w => 1 })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("`w.nope` is undefined"), "{err}");
    }
}
