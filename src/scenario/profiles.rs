//! Profiles: one scenario, sized for a laptop, CI or a release (`--profile a,b`).
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
//!
//! Several profiles, comma-separated, apply in order: a later one wins where both set a field.
//! What a scenario profile writes is recorded in `Origins`, so a mistake in it is shown at the
//! profile's own lines of the file.

use serde_json::{Map, Value};

use super::diagnostic::Problem;
use super::locate::push_pointer;
use super::origins::{Origin, Origins};
use crate::suggest::did_you_mean;
use crate::units::{format_duration, parse_duration};

/// Built-in profiles: (name, scale of ops and durations, scale of warmup, repeat).
pub const BUILT_IN: [(&str, f64, f64, u64); 4] = [
    ("development", 0.1, 0.1, 1),
    ("testing", 0.5, 0.5, 1),
    ("ci", 1.0, 1.0, 3),
    ("production", 5.0, 5.0, 5),
];

/// Applies the comma-separated profiles of `list` in order. `label` names where the list came
/// from (`--profile a,b`, `TIERBENCH_PROFILE=a,b`) in problems.
pub(super) fn apply_profiles(
    doc: &mut Value,
    list: &str,
    label: &str,
    origins: &mut Origins,
    problems: &mut Vec<Problem>,
) {
    for name in list.split(',').map(str::trim) {
        if name.is_empty() {
            problems.push(
                Problem::new("", format!("an empty profile name in `{list}`"))
                    .expected("profile names separated by commas: ci or development,strict")
                    .origin(label),
            );
            continue;
        }
        apply_profile(doc, name, label, origins, problems);
    }
}

fn apply_profile(
    doc: &mut Value,
    name: &str,
    label: &str,
    origins: &mut Origins,
    problems: &mut Vec<Problem>,
) {
    if let Some(patch) = doc.get("profiles").and_then(|p| p.get(name)).cloned() {
        merge_profile(doc, name, &patch, origins, problems);
        return;
    }
    if let Some(&(_, scale, warmup_scale, repeat)) = BUILT_IN.iter().find(|(n, ..)| *n == name) {
        scale_document(doc, scale, warmup_scale, repeat);
        return;
    }
    let mut names: Vec<String> = BUILT_IN.iter().map(|(n, ..)| n.to_string()).collect();
    if let Some(own) = doc.get("profiles").and_then(Value::as_object) {
        names.extend(own.keys().cloned());
    }
    problems.push(
        Problem::new(
            "",
            format!("unknown profile `{name}`{}", did_you_mean(name, &names)),
        )
        .expected(format!("one of: {}", names.join(", ")))
        .hint("define it under `profiles:` in the scenario, or choose a built-in one")
        .origin(label),
    );
}

/// RFC 7386 merge patch, except that `workloads` and `tiers` may be maps keyed by name.
fn merge_profile(
    doc: &mut Value,
    profile: &str,
    patch: &Value,
    origins: &mut Origins,
    problems: &mut Vec<Problem>,
) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    let home = push_pointer("/profiles", profile);
    let mut merger = Merger { profile, origins };
    for (key, value) in patch {
        let from = push_pointer(&home, key);
        match (key.as_str(), value) {
            ("workloads" | "tiers", Value::Object(by_name)) => {
                let Some(list) = doc.get_mut(key).and_then(Value::as_array_mut) else {
                    continue;
                };
                let names: Vec<String> = list
                    .iter()
                    .filter_map(|item| item.get("name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect();
                for (i, item) in list.iter_mut().enumerate() {
                    let name = item.get("name").and_then(Value::as_str).map(str::to_string);
                    if let Some((name, p)) = name.and_then(|n| by_name.get(&n).map(|p| (n, p))) {
                        let at = format!("/{key}/{i}");
                        merger.merge(item, p, &at, &push_pointer(&from, &name));
                    }
                }
                for name in by_name.keys().filter(|n| !names.contains(n)) {
                    problems.push(
                        Problem::new(
                            push_pointer(&from, name),
                            format!(
                                "profile `{profile}` patches {} `{name}`, which the scenario does not have{}",
                                &key[..key.len() - 1],
                                did_you_mean(name, &names)
                            ),
                        )
                        .expected(format!("one of: {}", names.join(", "))),
                    );
                }
            }
            _ => {
                if let Some(map) = doc.as_object_mut() {
                    let slot = map.entry(key.clone()).or_insert(Value::Null);
                    merger.merge(slot, value, &push_pointer("", key), &from);
                }
            }
        }
    }
}

/// Merges a scenario profile's patch, recording where each value it writes comes from.
struct Merger<'a> {
    profile: &'a str,
    origins: &'a mut Origins,
}

impl Merger<'_> {
    fn merge(&mut self, target: &mut Value, patch: &Value, at: &str, from: &str) {
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
                            let slot = t.entry(k.clone()).or_insert(Value::Null);
                            self.merge(slot, v, &push_pointer(at, k), &push_pointer(from, k));
                        }
                    }
                }
            }
            other => {
                *target = other.clone();
                self.origins.record(
                    at,
                    Origin::Profile {
                        name: self.profile.to_string(),
                        pointer: from.to_string(),
                    },
                );
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "defaults": {"ops": 1000, "warmup": 100},
            "workloads": [{"name": "reads", "ops": 10, "thresholds": ["get.p99 < 2ms"]}],
            "profiles": {
                "strict": {"workloads": {"reads": {"thresholds": ["get.p99 < 1ms"]}}, "repeat": 2},
                "small": {"defaults": {"ops": 7}, "repeat": 4}
            }
        })
    }

    fn apply(list: &str) -> (Value, Origins, Vec<Problem>) {
        let (mut d, mut origins, mut problems) = (doc(), Origins::default(), Vec::new());
        apply_profiles(&mut d, list, "--profile", &mut origins, &mut problems);
        (d, origins, problems)
    }

    #[test]
    fn profiles_apply_in_order_and_the_later_one_wins() {
        let (d, _, problems) = apply("strict,small");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(d["repeat"], 4, "small comes last");
        assert_eq!(d["defaults"]["ops"], 7);
        assert_eq!(d["workloads"][0]["thresholds"][0], "get.p99 < 1ms");
        let (d, _, _) = apply("small,strict");
        assert_eq!(d["repeat"], 2, "strict comes last");
        // A built-in after a scenario profile scales what the scenario profile set.
        let (d, _, _) = apply("small, production");
        assert_eq!(d["defaults"]["ops"], 35);
        assert_eq!(d["workloads"][0]["ops"], 50);
        assert_eq!(d["repeat"], 5);
        let (d, _, _) = apply("production,small");
        assert_eq!(
            d["defaults"]["ops"], 7,
            "the scenario profile's value, set last"
        );
        assert_eq!(d["repeat"], 4);
    }

    #[test]
    fn what_a_scenario_profile_writes_points_at_the_profile() {
        let (_, origins, _) = apply("strict");
        let (origin, at) = origins.of("/workloads/0/thresholds/0").unwrap();
        assert_eq!(
            origin,
            Origin::Profile {
                name: "strict".into(),
                pointer: "/profiles/strict/workloads/reads/thresholds".into()
            }
        );
        assert_eq!(
            at.as_deref(),
            Some("/profiles/strict/workloads/reads/thresholds/0")
        );
    }

    #[test]
    fn unknown_and_empty_names_are_problems_with_suggestions() {
        let (_, _, problems) = apply("strct,,ci");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0].message,
            "unknown profile `strct` (did you mean `strict`?)"
        );
        assert_eq!(
            problems[0].expected.as_deref(),
            Some("one of: development, testing, ci, production, small, strict")
        );
        assert_eq!(problems[0].origin.as_deref(), Some("--profile"));
        assert!(problems[1].message.contains("empty profile name"));
        let (mut d, mut origins, mut problems) = (doc(), Origins::default(), Vec::new());
        d["profiles"]["strict"]["workloads"] = json!({"raeds": {"ops": 1}});
        apply_profiles(&mut d, "strict", "--profile", &mut origins, &mut problems);
        assert_eq!(
            problems[0].message,
            "profile `strict` patches workload `raeds`, which the scenario does not have (did you mean `reads`?)"
        );
        assert_eq!(problems[0].pointer, "/profiles/strict/workloads/raeds");
    }
}
