//! Reading a scenario file: YAML or TOML by extension, into one JSON tree, with `${VAR}` expansion.
//!
//! Both syntaxes become the same `serde_json::Value`, so the JSON Schema, the strict model and the
//! semantic checks see one thing. The text is kept to map JSON pointers back to `line:column`.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use super::diagnostic::{Diagnostics, Problem};
use super::locate::{Location, Locations, offset_to_location, push_pointer};
use super::yaml_budget::{MAX_YAML_NODES, TOO_MANY_NODES, bounded_yaml};

/// The two syntaxes a scenario may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `.yaml` or `.yml`.
    Yaml,
    /// `.toml`.
    Toml,
}

impl Syntax {
    /// The syntax named by a file's extension.
    pub fn of(path: &Path) -> Option<Syntax> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Syntax::Yaml),
            "toml" => Some(Syntax::Toml),
            _ => None,
        }
    }
}

/// The largest scenario accepted, in bytes. Scenarios are hand-written text of a few KiB; the
/// limit keeps a wrong path (`/dev/zero`, a trace) from filling memory before parsing starts.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// A parsed scenario document: its tree, its text and where each node is.
#[derive(Debug, Clone)]
pub struct Document {
    /// The tree after `${VAR}` expansion.
    pub value: Value,
    /// Diagnostics frame (file, text, locations) with no problems yet.
    pub diagnostics: Diagnostics,
}

fn empty_diagnostics(path: &Path, source: String, locations: Locations) -> Diagnostics {
    Diagnostics {
        file: path.to_path_buf(),
        source,
        locations,
        problems: Vec::new(),
        origins: Default::default(),
    }
}

/// Reads and parses `path`. On failure the diagnostics say why (unreadable, bad syntax, unset variable).
pub fn read_document(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Document, Box<Diagnostics>> {
    let source = match read_capped(path) {
        Ok(s) => s,
        Err(e) => {
            let mut d = empty_diagnostics(path, String::new(), Locations::default());
            d.problems.push(
                Problem::new("", format!("cannot read the file: {e}"))
                    .hint("check the path; scenarios are .yaml, .yml or .toml files"),
            );
            return Err(Box::new(d));
        }
    };
    parse_document(path, source, env)
}

/// Reads a text file, at most one byte more than `MAX_FILE_BYTES` (so `parse_document` can
/// say the file is too big without reading all of it).
fn read_capped(path: &Path) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        // Too big: the text itself no longer matters, only its length.
        bytes.truncate(MAX_FILE_BYTES + 1);
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Parses scenario text; `path` names the file in messages and selects the syntax.
pub fn parse_document(
    path: &Path,
    source: String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Document, Box<Diagnostics>> {
    let Some(syntax) = Syntax::of(path) else {
        let mut d = empty_diagnostics(path, source, Locations::default());
        d.problems.push(
            Problem::new("", "unknown file type")
                .expected("a .yaml, .yml or .toml file")
                .hint("rename the file with the extension of its syntax"),
        );
        return Err(Box::new(d));
    };
    if source.len() > MAX_FILE_BYTES {
        let mut d = empty_diagnostics(path, String::new(), Locations::default());
        d.problems.push(
            Problem::new(
                "",
                format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20),
            )
            .expected("a scenario of a few KiB")
            .hint("operations to replay belong in a `trace:` file, which is read as it runs"),
        );
        return Err(Box::new(d));
    }
    let parsed = match syntax {
        Syntax::Yaml => parse_yaml(&source),
        Syntax::Toml => parse_toml(&source),
    };
    let value = match parsed {
        Ok(v) => v,
        Err(ParseFailure {
            message,
            location,
            hint,
        }) => {
            let mut locations = Locations::default();
            if let Some(loc) = location {
                locations.insert("", loc);
            }
            let mut d = empty_diagnostics(path, source, locations);
            let what = match syntax {
                Syntax::Yaml => "YAML",
                Syntax::Toml => "TOML",
            };
            d.problems
                .push(Problem::new("", format!("invalid {what}: {message}")).hint(
                    hint.unwrap_or_else(|| format!("fix the {what} syntax at the marked place")),
                ));
            return Err(Box::new(d));
        }
    };
    let locations = match syntax {
        Syntax::Yaml => Locations::from_yaml(&source),
        Syntax::Toml => Locations::from_toml(&source),
    };
    let mut diagnostics = empty_diagnostics(path, source, locations);
    let mut value = value;
    expand_env(&mut value, "", env, &mut diagnostics.problems);
    if diagnostics.problems.is_empty() {
        Ok(Document { value, diagnostics })
    } else {
        Err(Box::new(diagnostics))
    }
}

/// Why a text did not parse: the message, where, and a hint when the syntax is not the problem.
#[derive(Debug)]
struct ParseFailure {
    message: String,
    location: Option<Location>,
    hint: Option<String>,
}

impl ParseFailure {
    fn new(message: String, location: Option<Location>) -> ParseFailure {
        ParseFailure {
            message,
            location,
            hint: None,
        }
    }
}

fn parse_yaml(source: &str) -> Result<Value, ParseFailure> {
    let yaml = bounded_yaml(source, MAX_YAML_NODES).map_err(|e| {
        let location = e.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        let message = e.to_string();
        // The library appends " at line L column C"; the location is shown separately.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        // Both are alias expansion out of bounds: ours, and the library's own jump count.
        let aliases =
            message.contains(TOO_MANY_NODES) || message.contains("repetition limit exceeded");
        let hint = aliases.then(|| {
            "every alias (`*name`) copies its anchored node: use fewer aliases, or smaller anchored nodes"
                .to_string()
        });
        ParseFailure {
            message,
            location,
            hint,
        }
    })?;
    yaml_to_json(yaml).map_err(|m| ParseFailure::new(m, None))
}

/// Converts YAML to JSON; scalar mapping keys (`64: 50`) become strings, as in TOML and JSON.
fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("mapping keys must be scalars, found {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

fn parse_toml(source: &str) -> Result<Value, ParseFailure> {
    let table: toml::Table = toml::from_str(source).map_err(|e| {
        let location = e.span().map(|span| offset_to_location(source, span.start));
        ParseFailure::new(e.message().to_string(), location)
    })?;
    serde_json::to_value(table).map_err(|e| ParseFailure::new(e.to_string(), None))
}

/// Replaces `${VAR}` and `${VAR:-default}` in every string. A string that is exactly one reference
/// takes the type of what it expands to (`ops: ${OPS:-1000}` becomes the number 1000).
fn expand_env(
    value: &mut Value,
    pointer: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::String(s) if s.contains("${") => match expand_str(s, env) {
            Ok(expanded) => {
                let whole = s.trim().starts_with("${")
                    && s.trim().ends_with('}')
                    && s.matches("${").count() == 1;
                *value = if whole {
                    typed_scalar(&expanded)
                } else {
                    Value::String(expanded)
                };
            }
            Err(e) => problems.push(e.at(pointer)),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_env(item, &format!("{pointer}/{i}"), env, problems);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                expand_env(v, &push_pointer(pointer, k), env, problems);
            }
        }
        _ => {}
    }
}

/// Reads an expanded value as a YAML scalar so that numbers and booleans keep their type.
/// Anything that is not one plain node stays a string: a value is never expanded as a document.
pub fn typed_scalar(text: &str) -> Value {
    match bounded_yaml(text, 1) {
        Ok(v @ (serde_yaml::Value::Number(_) | serde_yaml::Value::Bool(_))) => {
            yaml_to_json(v).unwrap_or_else(|_| Value::String(text.to_string()))
        }
        _ => Value::String(text.to_string()),
    }
}

/// A `--set` value: `null` (or `~`) unsets the field; a YAML flow list or map (`[a, b]`,
/// `{ get: 9, set: 1 }`) replaces it whole (at most 10,000 nodes); anything else is a plain
/// scalar as in `typed_scalar`.
pub fn override_value(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed == "null" || trimmed == "~" {
        return Ok(Value::Null);
    }
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return bounded_yaml(trimmed, 10_000)
            .map_err(|e| e.to_string())
            .and_then(|v| yaml_to_json(v).map_err(|e| e.to_string()))
            .map_err(|e| {
                format!("`{trimmed}` is not a YAML flow list or map ({e}); e.g. [a, b] or {{ get: 9, set: 1 }}")
            });
    }
    Ok(typed_scalar(trimmed))
}

struct ExpandError {
    message: String,
    hint: String,
}

impl ExpandError {
    fn at(self, pointer: &str) -> Problem {
        Problem::new(pointer, self.message)
            .expected("a set environment variable, or a default: ${VAR:-default}")
            .hint(self.hint)
    }
}

fn expand_str(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(ExpandError {
                message: "unterminated `${` in a variable reference".into(),
                hint: "close the reference with `}`".into(),
            });
        };
        let body = &after[..end];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(ExpandError {
                message: format!("`${{{body}}}` is not a variable reference"),
                hint: "write ${NAME} or ${NAME:-default}; names are letters, digits and _".into(),
            });
        }
        match (env(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(ExpandError {
                    message: format!("environment variable `{name}` is not set"),
                    hint: format!("export {name}=..., or give a default: ${{{name}:-value}}"),
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.local".into()),
            "OPS" => Some("5000".into()),
            _ => None,
        }
    }

    #[test]
    fn variables_expand_with_defaults_and_types() {
        let mut v = json!({"url": "redis://${HOST}:${PORT:-6379}", "ops": "${OPS}", "n": "${MISSING:-true}"});
        let mut problems = Vec::new();
        expand_env(&mut v, "", &env, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(
            v,
            json!({"url": "redis://db.local:6379", "ops": 5000, "n": true})
        );
    }

    #[test]
    fn unset_variables_are_problems_with_their_path() {
        let mut v = json!({"tiers": [{"url": "${NOPE}"}]});
        let mut problems = Vec::new();
        expand_env(&mut v, "", &env, &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pointer, "/tiers/0/url");
        assert!(problems[0].message.contains("`NOPE` is not set"));
    }

    #[test]
    fn override_values_unset_and_take_flow_collections() {
        assert_eq!(override_value("null"), Ok(Value::Null));
        assert_eq!(override_value("[1, b]"), Ok(json!([1, "b"])));
        assert_eq!(
            override_value("{ get: 9, set: 1 }"),
            Ok(json!({"get": 9, "set": 1}))
        );
        assert_eq!(override_value("5s"), Ok(json!("5s")));
        assert!(override_value("[1, ").is_err());
    }

    #[test]
    fn typed_scalars_are_plain_scalars_only() {
        assert_eq!(typed_scalar("5000"), json!(5000));
        assert_eq!(typed_scalar("true"), json!(true));
        assert_eq!(typed_scalar("[1, 2]"), json!("[1, 2]"));
        assert_eq!(typed_scalar("!tag 5"), json!("!tag 5"));
        assert_eq!(typed_scalar("&a [*a]"), json!("&a [*a]"));
    }

    #[test]
    fn yaml_integer_keys_become_strings() {
        let v = parse_yaml("size: { 64: 50, 1KiB: 40 }").unwrap();
        assert_eq!(v, json!({"size": {"64": 50, "1KiB": 40}}));
    }
}
