//! The JSON Schemas, generated from the types by schemars, and schema validation of documents.
//!
//! `schemas/scenario.schema.json` and `schemas/results.schema.json` are these schemas, committed
//! for editors and other tools; a test fails when they drift. Validation uses the schema built
//! from the same types, so what the editor flags and what tierbench rejects cannot disagree.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::diagnostic::Problem;
use super::model::ScenarioFile;
use crate::metrics::result::ResultDocument;

/// The scenario file schema as pretty JSON.
pub fn scenario_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(ScenarioFile)).unwrap_or(Value::Null)
}

/// The result document schema as pretty JSON.
pub fn results_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(ResultDocument)).unwrap_or(Value::Null)
}

fn validator() -> Result<&'static Validator, String> {
    static VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(&scenario_schema()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Validates a scenario document against the schema; every violation becomes a problem.
pub fn check(document: &Value) -> Vec<Problem> {
    let validator = match validator() {
        Ok(v) => v,
        Err(e) => {
            return vec![Problem::new(
                "",
                format!("internal error: the schema does not compile: {e}"),
            )];
        }
    };
    let mut problems = Vec::new();
    for error in validator.iter_errors(document) {
        explain(&error, document, &mut problems);
    }
    // A misspelt required field is one mistake: its "unknown field" problem suggests the
    // missing one, so the "missing field" problem beside it is left out.
    let suggested: Vec<(String, String)> = problems
        .iter()
        .filter_map(|p| {
            let hint = p.hint.as_deref()?;
            let name = hint.strip_prefix("did you mean `")?.strip_suffix("`?")?;
            let parent = p.pointer.rsplit_once('/')?.0;
            Some((parent.to_string(), format!("missing field `{name}`")))
        })
        .collect();
    problems.retain(|p| {
        !suggested
            .iter()
            .any(|(parent, missing)| p.pointer == *parent && p.message == *missing)
    });
    problems
}

/// The JSON value a pointer names.
fn at<'a>(document: &'a Value, pointer: &str) -> Option<&'a Value> {
    document.pointer(pointer)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The hint of an unknown field: where a field of another tier kind belongs, else the allowed
/// field it is closest to, else spelling.
fn unknown_field_hint(name: &str, allowed: &[String]) -> String {
    match (name, crate::suggest::closest(name, allowed)) {
        ("store_as", _) => "`store_as` (string | hash) is a setting of `kind: redis` tiers only: \
             memory and SQL tiers keep each value as one entry; remove it here"
            .to_string(),
        (_, Some(close)) => format!("did you mean `{close}`?"),
        _ => "check the spelling; `tierbench schema` lists every field, \
              docs/reference/scenario.md describes them"
            .to_string(),
    }
}

/// Turns one schema violation into problems with a message, expectation and hint.
fn explain(error: &ValidationError<'_>, document: &Value, out: &mut Vec<Problem>) {
    let pointer = error.instance_path().as_str().to_string();
    let instance = at(document, &pointer);
    let found = instance.map_or("nothing", type_name);
    let problem = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                let allowed = instance
                    .and_then(Value::as_object)
                    .map(|_| allowed_names(error))
                    .unwrap_or_default();
                let mut p = Problem::new(
                    super::locate::push_pointer(&pointer, name),
                    format!("unknown field `{name}`"),
                );
                if !allowed.is_empty() {
                    p = p.expected(format!("one of: {}", allowed.join(", ")));
                }
                out.push(p.hint(unknown_field_hint(name, &allowed)));
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            Problem::new(pointer.clone(), format!("missing field `{name}`"))
                .hint(format!("add `{name}:` here"))
        }
        ValidationErrorKind::Type { .. } => {
            // The library says `"two" is not of types "integer", "null"`; keep the types.
            let text = error.to_string();
            let types = text
                .split_once(" is not of type")
                .map(|(_, t)| expected_types(t.trim_start_matches('s')))
                .unwrap_or_default();
            Problem::new(pointer.clone(), format!("wrong type: found {found}")).expected(types)
        }
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(|v| v.to_string()).collect())
                .unwrap_or_default();
            Problem::new(
                pointer.clone(),
                format!("{} is not allowed here", short(instance)),
            )
            .expected(format!("one of: {}", names.join(", ")))
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            return explain_alternatives(&pointer, instance, context, document, out);
        }
        ValidationErrorKind::Pattern { .. } => Problem::new(
            pointer.clone(),
            format!("{} does not have the expected form", short(instance)),
        )
        .expected(describe_expected(&pointer)),
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            Problem::new(pointer.clone(), error.to_string()).expected(format!("at least {limit}"))
        }
        ValidationErrorKind::MinItems { limit } => {
            Problem::new(pointer.clone(), format!("needs at least {limit} item(s)"))
        }
        _ => Problem::new(pointer.clone(), error.to_string()),
    };
    out.push(problem);
}

/// `"integer", "null"` → `an integer (or leave the field out)`: the schema's type names as
/// a user reads them.
fn expected_types(list: &str) -> String {
    let mut optional = false;
    let mut names = Vec::new();
    for name in list.split(',').map(|n| n.trim().trim_matches('"')) {
        names.push(match name {
            "null" => {
                optional = true;
                continue;
            }
            "integer" => "an integer",
            "number" => "a number",
            "string" => "a string",
            "boolean" => "true or false",
            "array" => "a list",
            "object" => "a mapping",
            other => other,
        });
    }
    let mut out = names.join(" or ");
    if optional {
        out.push_str(" (or leave the field out)");
    }
    out
}

/// For `oneOf`/`anyOf`: tagged enums (report the branch whose `kind` the user chose, or the
/// kinds there are), enums of constants (list them), other alternatives (say what is expected).
fn explain_alternatives(
    pointer: &str,
    instance: Option<&Value>,
    context: &[Vec<ValidationError<'static>>],
    document: &Value,
    out: &mut Vec<Problem>,
) {
    let kind_pointer = format!("{pointer}/kind");
    let constant = |e: &ValidationError<'_>, at: &str| match e.kind() {
        ValidationErrorKind::Constant { expected_value } if e.instance_path().as_str() == at => {
            Some(expected_value.to_string())
        }
        _ => None,
    };
    if instance.and_then(|v| v.get("kind")).is_some() {
        let mut kinds = Vec::new();
        let mut chosen = Vec::new();
        for branch in context {
            match branch.iter().find_map(|e| constant(e, &kind_pointer)) {
                Some(kind) => kinds.push(kind),
                None => chosen.push(branch),
            }
        }
        if let [branch] = chosen.as_slice() {
            for e in branch.iter() {
                explain(e, document, out);
            }
            return;
        }
        if chosen.is_empty() {
            let found = instance
                .and_then(|v| v.get("kind"))
                .map(Value::to_string)
                .unwrap_or_default();
            out.push(
                Problem::new(kind_pointer, format!("unknown kind {found}"))
                    .expected(format!("one of: {}", kinds.join(", "))),
            );
            return;
        }
    }
    // Alternatives of another type entirely (an Option's `null`, a number-or-string) say nothing
    // about what the user meant; if one alternative remains, its errors are the real ones.
    let relevant: Vec<&Vec<ValidationError<'static>>> = context
        .iter()
        .filter(|branch| {
            !matches!(branch.as_slice(), [e] if matches!(e.kind(), ValidationErrorKind::Type { .. })
                && e.instance_path().as_str() == pointer)
        })
        .collect();
    if let [branch] = relevant.as_slice()
        && !branch
            .iter()
            .all(|e| e.instance_path().as_str() == pointer && constant(e, pointer).is_some())
    {
        for e in branch.iter() {
            explain(e, document, out);
        }
        return;
    }
    let consts: Vec<String> = context
        .iter()
        .filter_map(|branch| match branch.as_slice() {
            [e] => constant(e, pointer),
            _ => None,
        })
        .collect();
    if !consts.is_empty() && consts.len() == context.len() {
        out.push(
            Problem::new(pointer, format!("{} is not allowed here", short(instance)))
                .expected(format!("one of: {}", consts.join(", "))),
        );
        return;
    }
    out.push(
        Problem::new(
            pointer,
            format!("{} is not a valid value here", short(instance)),
        )
        .expected(describe_expected(pointer)),
    );
}

/// Names of the properties allowed where an `additionalProperties` error occurred.
fn allowed_names(error: &ValidationError<'_>) -> Vec<String> {
    let schema = scenario_schema();
    let path = error.schema_path().as_str();
    let Some(parent) = path.strip_suffix("/additionalProperties") else {
        return Vec::new();
    };
    resolve(&schema, parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Follows a schema path through `$ref`s (`/properties/tiers/items/$ref/properties`).
fn resolve<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = root;
    for segment in path.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment == "$ref" {
            let target = node.get("$ref")?.as_str()?.strip_prefix('#')?;
            node = root.pointer(target)?;
            continue;
        }
        node = match node {
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => node.get(&segment)?,
        };
    }
    // The node itself may be a reference.
    if let Some(target) = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        return root.pointer(target);
    }
    Some(node)
}

/// A readable description of what a unit-bearing field expects, from its name.
fn describe_expected(pointer: &str) -> String {
    let last = pointer.rsplit('/').next().unwrap_or_default();
    match last {
        "duration" | "ttl" | "timeout" | "lost_after" => {
            "a duration with a unit: 250us, 2ms, 5s".into()
        }
        "size" => "a size in bytes (256, 1KiB) or a range (200..400, 1KiB..4KiB)".into(),
        "latency" => "a duration with a unit (250us, 2ms, 5s; units: ns, us, ms, s, m, h), \
                      `{ p50: 5ms, p99: 40ms }` or `{ uniform: 2ms..8ms }`"
            .into(),
        "warmup" | "ops" => "a whole number of operations".into(),
        "rate" => "a rate: 5000/s, 20k/s, or a ramp 1000/s..5000/s".into(),
        _ => "a value of the documented form (see `tierbench schema`)".into(),
    }
}

fn short(v: Option<&Value>) -> String {
    match v {
        Some(v) => {
            let s = v.to_string();
            if s.len() > 40 {
                format!("{}…", &s[..s.floor_char_boundary(40)])
            } else {
                s
            }
        }
        None => "the value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schema_compiles() {
        assert!(validator().is_ok());
    }

    #[test]
    fn unknown_fields_list_the_allowed_ones() {
        let doc = json!({"name": "x", "tiers": [], "data": {"keys": {"count": 1, "colour": 1}, "values": {"size": 1}}, "workloads": []});
        let problems = check(&doc);
        let p = problems
            .iter()
            .find(|p| p.pointer == "/data/keys/colour")
            .expect("reported");
        assert!(
            p.expected.as_deref().unwrap_or("").contains("distribution"),
            "{p:?}"
        );
    }

    #[test]
    fn unknown_tier_kinds_list_the_kinds() {
        let doc = json!({"name": "x", "tiers": [{"name": "a", "kind": "valkey"}], "data": {"keys": {"count": 1}, "values": {"size": 1}}, "workloads": []});
        let problems = check(&doc);
        let p = problems
            .iter()
            .find(|p| p.pointer == "/tiers/0/kind")
            .expect("reported");
        assert!(
            p.expected.as_deref().unwrap_or("").contains("\"memory\"")
                && p.expected
                    .as_deref()
                    .unwrap_or("")
                    .contains("\"memcached\""),
            "{p:?}"
        );
    }

    #[test]
    fn types_read_as_words() {
        assert_eq!(
            expected_types(r#""null", "integer""#),
            "an integer (or leave the field out)"
        );
        assert_eq!(expected_types(r#""string""#), "a string");
        let doc = json!({"name": "x", "tiers": [], "data": {"keys": {"count": "many"}, "values": {"size": 1}}, "workloads": []});
        let p = check(&doc)
            .into_iter()
            .find(|p| p.pointer == "/data/keys/count")
            .expect("reported");
        assert_eq!(p.expected.as_deref(), Some("an integer"));
    }
}
