//! Profiles and overrides: one scenario, sized for a laptop, CI or a release.
//!
//! Precedence, lowest first: the file < the profile < environment variables < `--set` on the
//! command line. Everything is applied to the document *before* validation, so an override that
//! names no field, or has the wrong type, gets the same message as a mistake in the file.
//!
//! A profile is the scenario's own `profiles.NAME` (a merge patch; `workloads` and `tiers` may
//! be maps keyed by name, patching just those entries) or a built-in one, which scales operation
//! counts, durations and warmups and sets `repeat`:
//!
//! | profile | ops, durations | warmup | repeat |
//! |---|---:|---:|---:|
//! | development | × 0.1 | × 0.1 | 1 |
//! | testing | × 0.5 | × 0.5 | 1 |
//! | ci | × 1 | × 1 | 3 |
//! | production | × 5 | × 5 | 5 |

use serde_json::{Map, Value};

use super::diagnostic::Problem;
use crate::units::{format_duration, parse_duration};

/// What to apply on top of the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--profile NAME` (else `TIERBENCH_PROFILE`).
    pub profile: Option<String>,
    /// `--set PATH=VALUE`, in order.
    pub sets: Vec<String>,
}

/// Built-in profiles: (name, scale of ops and durations, scale of warmup, repeat).
pub const BUILT_IN: [(&str, f64, f64, u64); 4] = [
    ("development", 0.1, 0.1, 1),
    ("testing", 0.5, 0.5, 1),
    ("ci", 1.0, 1.0, 3),
    ("production", 5.0, 5.0, 5),
];

/// What was applied, for the result document: the profile's name and each override.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The profile, if any.
    pub profile: Option<String>,
    /// `TIERBENCH_OPS=5000`, `--set workloads.reads.ops=100`, ...
    pub overrides: Vec<String>,
}

/// Applies the profile, the environment's knobs and `--set`s to `doc`.
pub fn apply(
    doc: &mut Value,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) -> Applied {
    let mut applied = Applied::default();
    if let Some(name) = overrides
        .profile
        .clone()
        .or_else(|| env("TIERBENCH_PROFILE"))
    {
        apply_profile(doc, &name, problems);
        applied.profile = Some(name);
    }
    for (var, field) in [
        ("TIERBENCH_OPS", "ops"),
        ("TIERBENCH_DURATION", "duration"),
        ("TIERBENCH_WARMUP", "warmup"),
    ] {
        if let Some(value) = env(var) {
            set_run_knob(doc, field, super::format::typed_scalar(&value));
            applied.overrides.push(format!("{var}={value}"));
        }
    }
    if let Some(value) = env("TIERBENCH_TIMEOUT") {
        if let Some(map) = doc.as_object_mut() {
            map.insert("timeout".into(), Value::String(value.clone()));
        }
        applied.overrides.push(format!("TIERBENCH_TIMEOUT={value}"));
    }
    for set in &overrides.sets {
        match set.split_once('=') {
            Some((path, value)) if !path.trim().is_empty() => {
                let applied_value = super::format::override_value(value)
                    .and_then(|v| set_path(doc, path.trim(), v));
                match applied_value {
                    Ok(()) => applied
                        .overrides
                        .push(format!("--set {}", crate::redact::redact_url(set))),
                    Err(message) => problems.push(
                        Problem::new(
                            "",
                            format!("--set {}: {message}", crate::redact::redact_url(set)),
                        )
                        .hint(
                            "paths are dotted: defaults.ops, workloads.NAME.ops, tiers.NAME.url; \
                                 `null` unsets, [a, b] and { k: v } set lists and maps",
                        ),
                    ),
                }
            }
            _ => problems.push(
                Problem::new("", format!("--set {set}: expected PATH=VALUE"))
                    .hint("e.g. --set workloads.reads.ops=5000"),
            ),
        }
    }
    applied
}

/// Sets a run knob (`ops`, `duration`, `warmup`) under `defaults` and on every workload without
/// phases; `ops` and `duration` exclude each other, so setting one removes the other.
fn set_run_knob(doc: &mut Value, field: &str, value: Value) {
    let other = match field {
        "ops" => Some("duration"),
        "duration" => Some("ops"),
        _ => None,
    };
    let mut targets: Vec<&mut Map<String, Value>> = Vec::new();
    if let Some(map) = doc.as_object_mut() {
        let defaults = map
            .entry("defaults")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(d) = defaults.as_object_mut() {
            targets.push(d);
        }
    }
    for target in targets {
        if let Some(o) = other {
            target.remove(o);
        }
        target.insert(field.to_string(), value.clone());
    }
    if let Some(workloads) = doc.get_mut("workloads").and_then(Value::as_array_mut) {
        for w in workloads.iter_mut().filter_map(Value::as_object_mut) {
            if w.contains_key("phases") {
                continue;
            }
            let has_own = w.contains_key("ops") || w.contains_key("duration") || field == "warmup";
            if has_own {
                if let Some(o) = other {
                    w.remove(o);
                }
                w.insert(field.to_string(), value.clone());
            }
        }
    }
}

fn apply_profile(doc: &mut Value, name: &str, problems: &mut Vec<Problem>) {
    if let Some(patch) = doc.get("profiles").and_then(|p| p.get(name)).cloned() {
        merge_profile(doc, &patch);
        return;
    }
    match BUILT_IN.iter().find(|(n, ..)| *n == name) {
        Some(&(_, scale, warmup_scale, repeat)) => scale_document(doc, scale, warmup_scale, repeat),
        None => {
            let mut names: Vec<String> = BUILT_IN.iter().map(|(n, ..)| n.to_string()).collect();
            if let Some(own) = doc.get("profiles").and_then(Value::as_object) {
                names.extend(own.keys().cloned());
            }
            problems.push(
                Problem::new("/profiles", format!("unknown profile `{name}`"))
                    .expected(format!("one of: {}", names.join(", ")))
                    .hint("define it under `profiles:` or choose a built-in one"),
            );
        }
    }
}

/// RFC 7386 merge patch, except that `workloads` and `tiers` may be maps keyed by name.
fn merge_profile(doc: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    for (key, value) in patch {
        match (key.as_str(), value) {
            ("workloads" | "tiers", Value::Object(by_name)) => {
                if let Some(list) = doc.get_mut(key).and_then(Value::as_array_mut) {
                    for item in list.iter_mut() {
                        let name = item.get("name").and_then(Value::as_str).map(str::to_string);
                        if let Some(p) = name.and_then(|n| by_name.get(&n)) {
                            merge(item, p);
                        }
                    }
                }
            }
            _ => {
                if let Some(map) = doc.as_object_mut() {
                    let slot = map.entry(key.clone()).or_insert(Value::Null);
                    merge(slot, value);
                }
            }
        }
    }
}

fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Scales every `ops`, `duration` and `warmup` (defaults, workloads, phases) and sets `repeat`.
fn scale_document(doc: &mut Value, scale: f64, warmup_scale: f64, repeat: u64) {
    fn scale_map(map: &mut Map<String, Value>, scale: f64, warmup_scale: f64) {
        if let Some(n) = map.get("ops").and_then(Value::as_u64) {
            map.insert(
                "ops".into(),
                Value::from(((n as f64 * scale).round() as u64).max(1)),
            );
        }
        if let Some(n) = map.get("warmup").and_then(Value::as_u64) {
            map.insert(
                "warmup".into(),
                Value::from((n as f64 * warmup_scale).round() as u64),
            );
        }
        if let Some(d) = map
            .get("duration")
            .and_then(Value::as_str)
            .and_then(|d| parse_duration(d).ok())
        {
            let scaled = d.mul_f64(scale).max(std::time::Duration::from_millis(1));
            map.insert("duration".into(), Value::String(format_duration(scaled)));
        }
    }
    if let Some(d) = doc.get_mut("defaults").and_then(Value::as_object_mut) {
        scale_map(d, scale, warmup_scale);
    }
    if let Some(workloads) = doc.get_mut("workloads").and_then(Value::as_array_mut) {
        for w in workloads.iter_mut().filter_map(Value::as_object_mut) {
            scale_map(w, scale, warmup_scale);
            if let Some(phases) = w.get_mut("phases").and_then(Value::as_array_mut) {
                for p in phases.iter_mut().filter_map(Value::as_object_mut) {
                    scale_map(p, scale, warmup_scale);
                }
            }
        }
    }
    if let Some(map) = doc.as_object_mut() {
        map.insert("repeat".into(), Value::from(repeat));
    }
}

/// Sets a dotted path; in `workloads` and `tiers` a segment may be an entry's name.
fn set_path(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "`{path}` has an empty segment (a leading, trailing or doubled `.`)"
        ));
    }
    // The part of the path walked so far, as users wrote it.
    let place = |i: usize| match i {
        0 => "the document".to_string(),
        _ => format!("`{}`", segments[..i].join(".")),
    };
    let mut node = doc;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        node = match node {
            Value::Array(items) => {
                let named = items
                    .iter()
                    .position(|item| item.get("name").and_then(Value::as_str) == Some(segment));
                let index = match segment.parse::<usize>() {
                    Ok(n) if n < items.len() => n,
                    Ok(n) => named.ok_or_else(|| {
                        format!(
                            "{} has {} entries: no index {n} and no entry named `{segment}`",
                            place(i),
                            items.len()
                        )
                    })?,
                    Err(_) => named
                        .ok_or_else(|| format!("no entry named `{segment}` in {}", place(i)))?,
                };
                &mut items[index]
            }
            Value::Object(map) => {
                if last {
                    // `null` unsets: the field takes its default (or, for ops and duration, the
                    // other one can be set).
                    if value.is_null() {
                        map.remove(*segment);
                    } else {
                        map.insert(segment.to_string(), value);
                    }
                    return Ok(());
                }
                map.entry(segment.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
            }
            _ => return Err(format!("{} is not a mapping or a list", place(i))),
        };
        if last {
            if value.is_null() {
                return Err(format!(
                    "{} is a list entry: `null` unsets fields, not entries",
                    place(i + 1)
                ));
            }
            *node = value;
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "name": "x",
            "tiers": [{"name": "l2", "kind": "redis", "url": "redis://a"}],
            "defaults": {"ops": 1000, "warmup": 100},
            "workloads": [
                {"name": "reads", "target": "l2", "mix": {"get": 1}, "thresholds": ["get.p99 < 2ms"]},
                {"name": "churn", "target": "l2", "duration": "10s", "mix": {"set": 1}}
            ],
            "profiles": {"strict": {"workloads": {"reads": {"thresholds": ["get.p99 < 1ms"]}}, "defaults": {"ops": 5}}}
        })
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn null_unsets_a_field_and_flow_values_replace_lists() {
        let mut d = doc();
        set_path(&mut d, "defaults.ops", Value::Null).unwrap();
        assert!(d["defaults"].get("ops").is_none());
        let list = crate::scenario::format::override_value("[get.p99 < 5ms]").unwrap();
        set_path(&mut d, "workloads.reads.thresholds", list).unwrap();
        assert_eq!(d["workloads"][0]["thresholds"], json!(["get.p99 < 5ms"]));
        assert!(set_path(&mut d, "workloads.0", Value::Null).is_err());
    }

    #[test]
    fn precedence_is_file_profile_environment_command_line() {
        let mut d = doc();
        let env = |k: &str| (k == "TIERBENCH_OPS").then(|| "700".to_string());
        let o = Overrides {
            profile: Some("development".into()),
            sets: vec![
                "defaults.ops=900".into(),
                "tiers.l2.url=redis://:pw@b".into(),
            ],
        };
        let mut problems = Vec::new();
        let applied = apply(&mut d, &o, &env, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(d["defaults"]["ops"], 900, "the command line wins");
        assert_eq!(
            d["workloads"][1]["ops"], 700,
            "the environment beats the profile"
        );
        assert!(d["workloads"][1].get("duration").is_none());
        assert_eq!(d["defaults"]["warmup"], 10, "the profile scaled the file");
        assert_eq!(d["repeat"], 1);
        assert_eq!(d["tiers"][0]["url"], "redis://:pw@b");
        assert_eq!(
            applied.overrides,
            vec![
                "TIERBENCH_OPS=700",
                "--set defaults.ops=900",
                "--set tiers.l2.url=redis://:***@b"
            ]
        );
    }

    #[test]
    fn scenario_profiles_patch_workloads_by_name() {
        let mut d = doc();
        let o = Overrides {
            profile: Some("strict".into()),
            sets: Vec::new(),
        };
        apply(&mut d, &o, &no_env, &mut Vec::new());
        assert_eq!(d["workloads"][0]["thresholds"][0], "get.p99 < 1ms");
        assert_eq!(d["defaults"]["ops"], 5);
        assert_eq!(d["defaults"]["warmup"], 100);
    }

    #[test]
    fn built_in_profiles_scale_durations_and_unknown_ones_are_problems() {
        let mut d = doc();
        apply(
            &mut d,
            &Overrides {
                profile: Some("production".into()),
                sets: vec![],
            },
            &no_env,
            &mut Vec::new(),
        );
        assert_eq!(d["workloads"][1]["duration"], "50.0s");
        assert_eq!(d["repeat"], 5);
        let mut problems = Vec::new();
        apply(
            &mut doc(),
            &Overrides {
                profile: Some("turbo".into()),
                sets: vec![],
            },
            &no_env,
            &mut problems,
        );
        assert!(problems[0].message.contains("unknown profile `turbo`"));
        assert!(
            problems[0]
                .expected
                .as_deref()
                .unwrap_or("")
                .contains("strict")
        );
    }

    #[test]
    fn bad_set_paths_are_problems() {
        let mut problems = Vec::new();
        let o = Overrides {
            profile: None,
            sets: vec!["workloads.nope.ops=1".into(), "novalue".into()],
        };
        apply(&mut doc(), &o, &no_env, &mut problems);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("no entry named `nope`"));
    }
}
