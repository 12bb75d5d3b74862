//! Overrides: the profile, `TIERBENCH_*` variables and `--set PATH=VALUE`, on top of the file.
//!
//! Precedence, lowest first: the file < the profiles (`profiles.rs`, in the order given) <
//! environment variables < `--set` on the command line. Everything is applied to the document
//! *before* validation, so an override that names no field, or has the wrong type, gets the same
//! checks as a mistake in the file; what each override wrote is recorded in `Applied::origins`,
//! so such a mistake is reported as the override's (`--set workloads.reads.ops=abc: ...`), not at
//! a line of the file the user did not write.

use serde_json::{Map, Value};

use super::diagnostic::Problem;
use super::locate::push_pointer;
use super::origins::{Origin, Origins};
pub use super::profiles::BUILT_IN;

/// What to apply on top of the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--profile NAME[,NAME...]` (else `TIERBENCH_PROFILE`), applied in order.
    pub profile: Option<String>,
    /// `--set PATH=VALUE`, in order.
    pub sets: Vec<String>,
}

/// What was applied, for the result document: the profiles and each override.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The profile, or the comma-separated profiles in the order applied, if any.
    pub profile: Option<String>,
    /// `TIERBENCH_OPS=5000`, `--set workloads.reads.ops=100`, ...
    pub overrides: Vec<String>,
    /// Which override or profile wrote which node of the document.
    pub origins: Origins,
}

/// The `TIERBENCH_*` variables that set a run knob, and the knob.
pub const RUN_KNOBS: [(&str, &str); 3] = [
    ("TIERBENCH_OPS", "ops"),
    ("TIERBENCH_DURATION", "duration"),
    ("TIERBENCH_WARMUP", "warmup"),
];

/// Applies the profiles, the environment's knobs and `--set`s to `doc`.
pub fn apply(
    doc: &mut Value,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) -> Applied {
    let mut applied = Applied::default();
    let profile = match &overrides.profile {
        Some(list) => Some((list.clone(), format!("--profile {list}"))),
        None => env("TIERBENCH_PROFILE").map(|list| {
            let label = format!("TIERBENCH_PROFILE={list}");
            (list, label)
        }),
    };
    if let Some((list, label)) = profile {
        super::profiles::apply_profiles(doc, &list, &label, &mut applied.origins, problems);
        applied.profile = Some(list);
    }
    for (var, field) in RUN_KNOBS {
        if let Some(value) = env(var) {
            let label = format!("{var}={value}");
            for at in set_run_knob(doc, field, super::format::typed_scalar(&value)) {
                applied.origins.record(&at, Origin::Override(label.clone()));
            }
            applied.overrides.push(label);
        }
    }
    if let Some(value) = env("TIERBENCH_TIMEOUT") {
        if let Some(map) = doc.as_object_mut() {
            map.insert("timeout".into(), Value::String(value.clone()));
        }
        let label = format!("TIERBENCH_TIMEOUT={value}");
        applied
            .origins
            .record("/timeout", Origin::Override(label.clone()));
        applied.overrides.push(label);
    }
    for set in &overrides.sets {
        let label = format!("--set {}", crate::redact::redact_url(set));
        match set.split_once('=') {
            Some((path, value)) if !path.trim().is_empty() => {
                let applied_value = super::format::override_value(value)
                    .and_then(|v| set_path(doc, path.trim(), v));
                match applied_value {
                    Ok(at) => {
                        applied.origins.record(&at, Origin::Override(label.clone()));
                        applied.overrides.push(label);
                    }
                    Err(message) => problems.push(
                        Problem::new("", format!("{label}: {message}"))
                            .hint(
                                "paths are dotted: defaults.ops, workloads.NAME.ops, tiers.NAME.url; \
                                 `null` unsets, [a, b] and { k: v } set lists and maps",
                            )
                            .origin(label),
                    ),
                }
            }
            _ => problems.push(
                Problem::new("", format!("{label}: expected PATH=VALUE"))
                    .hint("e.g. --set workloads.reads.ops=5000")
                    .origin(label),
            ),
        }
    }
    applied
}

/// Sets a run knob (`ops`, `duration`, `warmup`) under `defaults` and on every workload without
/// phases; `ops` and `duration` exclude each other, so setting one removes the other. Returns
/// the pointers it wrote.
fn set_run_knob(doc: &mut Value, field: &str, value: Value) -> Vec<String> {
    let other = match field {
        "ops" => Some("duration"),
        "duration" => Some("ops"),
        _ => None,
    };
    let mut written = Vec::new();
    if let Some(map) = doc.as_object_mut() {
        let defaults = map
            .entry("defaults")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(d) = defaults.as_object_mut() {
            if let Some(o) = other {
                d.remove(o);
            }
            d.insert(field.to_string(), value.clone());
            written.push(push_pointer("/defaults", field));
        }
    }
    if let Some(workloads) = doc.get_mut("workloads").and_then(Value::as_array_mut) {
        for (i, w) in workloads.iter_mut().enumerate() {
            let Some(w) = w.as_object_mut() else {
                continue;
            };
            if w.contains_key("phases") {
                continue;
            }
            let has_own = w.contains_key("ops") || w.contains_key("duration") || field == "warmup";
            if has_own {
                if let Some(o) = other {
                    w.remove(o);
                }
                w.insert(field.to_string(), value.clone());
                written.push(format!("/workloads/{i}/{field}"));
            }
        }
    }
    written
}

/// Sets a dotted path; in `workloads` and `tiers` a segment may be an entry's name.
/// Returns the JSON pointer of the node it set.
pub(super) fn set_path(doc: &mut Value, path: &str, value: Value) -> Result<String, String> {
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
    let mut pointer = String::new();
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
                pointer = format!("{pointer}/{index}");
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
                    return Ok(push_pointer(&pointer, segment));
                }
                pointer = push_pointer(&pointer, segment);
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
            return Ok(pointer);
        }
    }
    Ok(pointer)
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
        assert_eq!(
            problems[1].origin.as_deref(),
            Some("--set novalue"),
            "reported as the override's, not at a line of the file"
        );
    }

    #[test]
    fn every_override_records_the_nodes_it_wrote() {
        let mut d = doc();
        let env = |k: &str| (k == "TIERBENCH_WARMUP").then(|| "abc".to_string());
        let o = Overrides {
            profile: Some("strict,ci".into()),
            sets: vec!["workloads.churn.mix={ get: x }".into()],
        };
        let applied = apply(&mut d, &o, &env, &mut Vec::new());
        let origin = |p: &str| applied.origins.of(p).map(|(o, _)| o);
        let warmup = Some(Origin::Override("TIERBENCH_WARMUP=abc".into()));
        assert_eq!(origin("/defaults/warmup"), warmup);
        assert_eq!(origin("/workloads/0/warmup"), warmup);
        assert_eq!(
            origin("/workloads/1/mix/get"),
            Some(Origin::Override(
                "--set workloads.churn.mix={ get: x }".into()
            ))
        );
        assert!(matches!(
            origin("/workloads/0/thresholds/0"),
            Some(Origin::Profile { name, .. }) if name == "strict"
        ));
        assert_eq!(origin("/workloads/0/mix"), None, "the file's own");
        assert_eq!(applied.profile.as_deref(), Some("strict,ci"));
        assert_eq!(d["repeat"], 3);
    }
}
