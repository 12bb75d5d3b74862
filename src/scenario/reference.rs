//! The scenario reference (docs/reference/scenario.md), written from the generated JSON Schema.
//!
//! Why from the schema: the schema is generated from the model's types and doc comments, so a
//! reference written from it names every field with its type, default and allowed values as the
//! loader accepts them, and cannot drift from the code (tests/schemas.rs compares the committed
//! file with this output, as it does the schemas).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

/// The Markdown reference of a scenario schema: the top level, then every definition in the
/// order they are first reached from it.
pub fn reference_markdown(schema: &Value) -> String {
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    let mut out = String::new();
    out.push_str(
        "# Scenario reference\n\n\
         Every field of a scenario file (YAML or TOML), with its type, default and allowed values. \
         Generated from `schemas/scenario.schema.json`, which the code generates \
         (`UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites both); do not edit by hand.\n\n\
         Durations are written `250ms`, `2s`, `1m`; sizes `512B`, `4KiB`, `1MiB`; rates `5000/s`. \
         A string value may use `${VAR}` or `${VAR:-default}` to read the environment.\n\n",
    );
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    collect_refs(schema, &mut order, &mut seen, &defs);
    section(&mut out, "Scenario", schema, 2);
    for name in &order {
        if let Some(def) = defs.get(name) {
            section(&mut out, name, def, 2);
        }
    }
    out
}

/// The definitions `value` refers to, depth first, each once.
fn collect_refs(value: &Value, order: &mut Vec<String>, seen: &mut BTreeSet<String>, defs: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(ref_name)
                && seen.insert(name.to_string())
            {
                order.push(name.to_string());
                if let Some(def) = defs.get(name) {
                    collect_refs(def, order, seen, defs);
                }
            }
            for (key, child) in map {
                if key != "$defs" {
                    collect_refs(child, order, seen, defs);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_refs(v, order, seen, defs)),
        _ => {}
    }
}

fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/$defs/")
}

/// One heading: the description, then the fields, the allowed values or the accepted forms.
fn section(out: &mut String, name: &str, schema: &Value, level: usize) {
    let _ = writeln!(out, "{} {name}\n", "#".repeat(level));
    if let Some(text) = schema.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{}\n", text.trim());
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        fields(out, schema, props);
    } else if let Some(values) = allowed_values(schema) {
        let _ = writeln!(out, "| value | meaning |\n|---|---|");
        for (value, meaning) in values {
            let _ = writeln!(out, "| {value} | {} |", cell(&meaning));
        }
        out.push('\n');
    } else if let Some(forms) = schema
        .get("anyOf")
        .or(schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        out.push_str("Written as one of:\n\n");
        for form in forms {
            let described = form
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let _ = writeln!(out, "- {}{}", type_of(form), dash(described));
            if let Some(props) = form.get("properties").and_then(Value::as_object) {
                out.push('\n');
                fields(out, form, props);
            }
        }
        out.push('\n');
    } else {
        let _ = writeln!(out, "Type: {}.\n", type_of(schema));
    }
    if let Some(examples) = schema.get("examples").and_then(Value::as_array) {
        for example in examples {
            let _ = writeln!(out, "Example: `{example}`\n");
        }
    }
}

/// The table of an object's fields.
fn fields(out: &mut String, schema: &Value, props: &serde_json::Map<String, Value>) {
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "| field | type | default | description |\n|---|---|---|---|"
    );
    for (field, prop) in props {
        let default = match prop.get("default") {
            Some(value) => format!("`{value}`"),
            None if required.contains(field.as_str()) => "required".to_string(),
            None => String::new(),
        };
        let text = prop
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let _ = writeln!(
            out,
            "| `{field}` | {} | {default} | {} |",
            cell(&type_of(prop)),
            cell(text)
        );
    }
    out.push('\n');
}

/// The values of an enumeration (`enum`, or `oneOf`/`anyOf` of constants), with their meaning.
fn allowed_values(schema: &Value) -> Option<Vec<(String, String)>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .map(|v| (format!("`{v}`"), String::new()))
                .collect(),
        );
    }
    let forms = schema.get("oneOf").or(schema.get("anyOf"))?.as_array()?;
    forms
        .iter()
        .map(|form| {
            let meaning = form
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let value = match (form.get("const"), form.get("enum")) {
                (Some(c), _) => format!("`{c}`"),
                (None, Some(Value::Array(values))) if values.len() == 1 => {
                    format!("`{}`", values[0])
                }
                _ => return None,
            };
            Some((value, meaning.to_string()))
        })
        .collect()
}

/// A schema's type in words, with links to definitions.
fn type_of(schema: &Value) -> String {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(ref_name)
    {
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(c) = schema.get("const") {
        return format!("`{c}`");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        return values.join(" or ");
    }
    if let Some(forms) = schema
        .get("anyOf")
        .or(schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        let forms: Vec<String> = forms
            .iter()
            .filter(|f| f.get("type").and_then(Value::as_str) != Some("null"))
            .map(type_of)
            .collect();
        return forms.join(" or ");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => return "any".to_string(),
    };
    let words: Vec<String> = types.iter().map(|t| type_word(t, schema)).collect();
    words.join(" or ")
}

fn type_word(t: &str, schema: &Value) -> String {
    match t {
        "array" => match schema.get("items") {
            Some(items) => format!("list of {}", type_of(items)),
            None => "list".to_string(),
        },
        "object" => match schema.get("additionalProperties") {
            Some(Value::Object(_)) => format!(
                "map of name to {}",
                type_of(&schema["additionalProperties"])
            ),
            _ => "object".to_string(),
        },
        other => other.to_string(),
    }
}

fn dash(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(
            ": {}",
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    }
}

/// Text fit for one table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}
