//! Reading the well-formed parts of a document whose whole does not deserialize.
//!
//! When the schema finds problems, the strict model cannot be built, and the semantic checks
//! (tier references, threshold syntax, stop conditions, ...) used to wait for the next round:
//! fixing one problem revealed the next. Here each part of the document (every tier, every
//! workload, `data`, `defaults`, ...) is deserialized on its own; a node the schema or serde
//! rejects is left out (pruned) and the part read again, and a part that cannot be read at all
//! is replaced by a placeholder (a tier, `data`) or left out (a workload). The semantic checks
//! then run on what was read, and a semantic problem about a pruned node (at it, under it, or
//! at a node it belongs to) is not reported: it would only repeat or guess at the first one.

use std::collections::{HashMap, HashSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::diagnostic::Problem;
use super::locate::push_pointer;
use super::model::{
    CommandFile, DataFile, DistributionName, KeysFile, MemoryTierFile, ScenarioFile, ShapeName,
    SizeFile, TierFile, ValuesFile,
};
use crate::tier::config::MemoryEngine;
use crate::units::ByteSize;

/// Reads of one part before it is given up as unreadable.
const MAX_PRUNES_PER_PART: usize = 64;

/// The readable parts of a document.
pub(super) struct Lenient {
    /// The scenario with unreadable parts replaced or left out.
    pub(super) file: ScenarioFile,
    /// The document's index of each workload in `file.workloads`.
    pub(super) workload_index: Vec<usize>,
    /// What serde rejected where the schema had said nothing, with its place.
    pub(super) problems: Vec<Problem>,
    /// Pointers of the nodes left out.
    pruned: HashSet<String>,
    /// Every ancestor of a pruned node whose absence changes the meaning of its parent (an
    /// unknown field's does not).
    above_pruned: HashSet<String>,
    /// True when a node of `defaults` was left out (every workload inherits from it).
    defaults_pruned: bool,
}

impl Lenient {
    /// True when every part was read whole: `file` is the strict model of the document.
    pub(super) fn complete(&self) -> bool {
        self.pruned.is_empty() && self.problems.is_empty()
    }

    /// True when a semantic problem at `pointer` is about a node that was left out: at it,
    /// under it, or at a node it belongs to. A workload's stop conditions and settings also
    /// depend on `defaults`.
    pub(super) fn covers(&self, pointer: &str) -> bool {
        let hit = |p: &str| {
            self.above_pruned.contains(p) || ancestors_or_self(p).any(|a| self.pruned.contains(a))
        };
        if hit(pointer) {
            return true;
        }
        // `/workloads/3/ops` inherits `/defaults/ops`; `/workloads/3` holds them all.
        let Some(rest) = pointer.strip_prefix("/workloads/") else {
            return false;
        };
        let tail = rest.find('/').map_or("", |cut| &rest[cut..]);
        if tail.is_empty() {
            return self.defaults_pruned;
        }
        let inherited = format!("/defaults{tail}");
        ancestors_or_self(&inherited).any(|a| !a.is_empty() && self.pruned.contains(a))
    }

    fn prune(&mut self, pointer: String, harmless: bool) {
        self.defaults_pruned |= !harmless && pointer.starts_with("/defaults");
        if !harmless {
            for a in ancestors_or_self(&pointer)
                .skip(1)
                .filter(|a| !a.is_empty())
            {
                self.above_pruned.insert(a.to_string());
            }
        }
        self.pruned.insert(pointer);
    }
}

/// True when the node at `pointer` is the one at `ancestor` or under it.
fn within(pointer: &str, ancestor: &str) -> bool {
    pointer
        .strip_prefix(ancestor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `/a/b/c`, `/a/b`, `/a`, `` (the pointer first, the root last).
fn ancestors_or_self(pointer: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(pointer);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.rfind('/').map(|cut| &current[..cut]);
        Some(current)
    })
}

/// Reads every part of `document` that can be read; `schema` are the schema's problems (their
/// nodes are left out before reading).
pub(super) fn read(document: &Value, schema: &[Problem]) -> Lenient {
    let mut out = Lenient {
        file: placeholder_file(),
        workload_index: Vec::new(),
        problems: Vec::new(),
        pruned: HashSet::new(),
        above_pruned: HashSet::new(),
        defaults_pruned: false,
    };
    let Some(root) = document.as_object() else {
        out.prune(String::new(), false);
        return out;
    };
    // The schema's problems by the part they are in: `/name`, `/data`, `/tiers/0`, ...
    let mut by_part: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    for problem in schema.iter().filter(|p| !p.pointer.is_empty()) {
        // The `/` that ends the part: the second for a field, the third for a list's entry.
        let depth = match problem.pointer.split('/').nth(1) {
            Some("tiers" | "workloads") => 2,
            _ => 1,
        };
        let cut = problem
            .pointer
            .match_indices('/')
            .nth(depth)
            .map_or(problem.pointer.len(), |(i, _)| i);
        let (part, relative) = problem.pointer.split_at(cut);
        let harmless = problem.message.starts_with("unknown field");
        by_part
            .entry(part.to_string())
            .or_default()
            .push((relative.to_string(), harmless));
    }
    let mut reader = Reader {
        out: &mut out,
        by_part: &by_part,
    };
    let file = reader.scenario(root);
    out.file = file;
    out
}

struct Reader<'a> {
    out: &'a mut Lenient,
    by_part: &'a HashMap<String, Vec<(String, bool)>>,
}

impl Reader<'_> {
    fn scenario(&mut self, root: &Map<String, Value>) -> ScenarioFile {
        let mut file = placeholder_file();
        file.name = self.field(root, "name").unwrap_or_default();
        file.description = self.field(root, "description").flatten();
        file.seed = self.field(root, "seed").flatten();
        file.data = self
            .field(root, "data")
            .unwrap_or_else(|| self.missing("/data", placeholder_data()));
        file.defaults = self.field(root, "defaults").unwrap_or_default();
        file.origin = self.field(root, "origin").unwrap_or_default();
        file.keep = self.field(root, "keep").unwrap_or_default();
        file.repeat = self.field(root, "repeat").flatten();
        file.timeout = self.field(root, "timeout").flatten();
        file.lost_after = self.field(root, "lost_after").flatten();
        file.noise_floor = self.field(root, "noise_floor").flatten();
        file.coherence = self.field(root, "coherence").flatten();
        file.profiles = self.field(root, "profiles").flatten();
        if let Some(commands) = root.get("commands").and_then(Value::as_object) {
            for (name, item) in commands {
                // An unreadable command keeps its name (a mix naming it is not a second
                // problem); its placeholder's own problems are covered by the prune.
                let at = push_pointer("/commands", name);
                let command = self
                    .part::<CommandFile>(item.clone(), &at)
                    .unwrap_or(CommandFile::Args(Vec::new()));
                file.commands.insert(name.clone(), command);
            }
        }
        let mut named = true;
        match root.get("tiers").and_then(Value::as_array) {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("/tiers/{i}");
                    let tier = self.part::<TierFile>(item.clone(), &at).or_else(|| {
                        let name = item.get("name").and_then(Value::as_str);
                        named &= name.is_some();
                        name.map(placeholder_tier)
                    });
                    file.tiers.extend(tier);
                }
            }
            None => named = false,
        }
        match root.get("workloads").and_then(Value::as_array) {
            // Without every tier's name, targets and thresholds cannot be checked.
            Some(items) if named => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(w) = self.part(item.clone(), &format!("/workloads/{i}")) {
                        file.workloads.push(w);
                        self.out.workload_index.push(i);
                    }
                }
            }
            _ => self.out.prune("/workloads".into(), false),
        }
        file
    }

    /// A top-level field, read on its own; `None` when absent or unreadable.
    fn field<T: DeserializeOwned>(&mut self, root: &Map<String, Value>, key: &str) -> Option<T> {
        match root.get(key) {
            Some(v) => self.part(v.clone(), &push_pointer("", key)),
            // Absent: what the type makes of nothing (its default; none for a required one).
            None => serde_json::from_value(Value::Null).ok(),
        }
    }

    /// A placeholder for a part that is required and absent or unreadable.
    fn missing<T>(&mut self, at: &str, placeholder: T) -> T {
        self.out.prune(at.to_string(), false);
        placeholder
    }

    /// Reads the part at `at`: first without the nodes the schema rejected, then leaving out
    /// what serde rejects, one node at a time. `None` (and the part pruned) when the part itself
    /// cannot be read.
    fn part<T: DeserializeOwned>(&mut self, mut value: Value, at: &str) -> Option<T> {
        let by_part = self.by_part;
        let known = by_part.get(at).map(Vec::as_slice).unwrap_or_default();
        // Relative pointers of what was left out: a serde error at, under or above one of them
        // follows from it (a required field left out) and is not reported again.
        let mut removed_here = Vec::new();
        for (relative, harmless) in known {
            match remove(&mut value, relative) {
                Some(removed) => {
                    self.out.prune(format!("{at}{removed}"), *harmless);
                    removed_here.push(removed);
                }
                None => {
                    self.out.prune(at.to_string(), false);
                    return None;
                }
            }
        }
        for _ in 0..MAX_PRUNES_PER_PART {
            let error = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
                Ok(t) => return Some(t),
                Err(e) => e,
            };
            let relative = path_to_pointer(&error.path().to_string());
            let follows = removed_here
                .iter()
                .any(|k| within(k, &relative) || within(&relative, k));
            if !follows {
                // Something the schema allows and the model does not: say so, as before.
                self.out.problems.push(
                    Problem::new(format!("{at}{relative}"), error.inner().to_string())
                        .hint("see `tierbench schema` for the field's form"),
                );
            }
            match remove(&mut value, &relative) {
                Some(removed) => {
                    self.out.prune(format!("{at}{removed}"), false);
                    removed_here.push(removed);
                }
                None => break,
            }
        }
        self.out.prune(at.to_string(), false);
        None
    }
}

/// Removes the node at the relative `pointer` from `value`; a node inside a list takes the
/// list with it (its siblings' indices must not shift, or later problems would point at the
/// wrong ones). Returns the pointer of what was removed; `None` when that is `value` itself.
fn remove(value: &mut Value, pointer: &str) -> Option<String> {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    // Cut the path at the first list it goes into.
    let mut cut = segments.len();
    let mut node = Some(&*value);
    for (i, segment) in segments.iter().enumerate() {
        node = match node {
            Some(Value::Object(map)) => map.get(segment),
            _ => None,
        };
        if matches!(node, Some(Value::Array(_))) && i + 1 < segments.len() {
            cut = i + 1;
            break;
        }
    }
    let removed = segments[..cut]
        .iter()
        .fold(String::new(), |p, s| push_pointer(&p, s));
    let (last, parents) = segments[..cut].split_last()?;
    let mut map = value.as_object_mut()?;
    for segment in parents {
        match map.get_mut(segment).and_then(Value::as_object_mut) {
            Some(m) => map = m,
            None => return Some(removed),
        }
    }
    map.remove(last);
    Some(removed)
}

/// `workloads[1].mix.get` (serde_path_to_error's form) → `/workloads/1/mix/get`.
pub(super) fn path_to_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for segment in path.split('.') {
        let (name, rest) = segment.split_once('[').unwrap_or((segment, ""));
        if !name.is_empty() {
            out = push_pointer(&out, name);
        }
        for index in rest.split('[') {
            let index = index.trim_end_matches(']');
            if !index.is_empty() {
                out.push('/');
                out.push_str(index);
            }
        }
    }
    out
}

fn placeholder_file() -> ScenarioFile {
    ScenarioFile {
        name: String::new(),
        description: None,
        seed: None,
        tiers: Vec::new(),
        data: placeholder_data(),
        defaults: Default::default(),
        workloads: Vec::new(),
        origin: Default::default(),
        commands: Default::default(),
        keep: false,
        repeat: None,
        timeout: None,
        lost_after: None,
        noise_floor: None,
        coherence: None,
        profiles: None,
        sweep: None,
    }
}

fn placeholder_data() -> DataFile {
    DataFile {
        keys: KeysFile {
            count: 1,
            prefix: None,
            distribution: DistributionName::Uniform,
            zipf_exponent: None,
            hot_fraction: None,
            hot_probability: None,
            mean: None,
            stddev: None,
        },
        values: ValuesFile {
            shape: ShapeName::Binary,
            size: SizeFile::Fixed(ByteSize(1)),
            compressibility: None,
            fields: None,
            depth: None,
        },
    }
}

/// Stands for an unreadable tier whose name is known, so workloads can still name it.
fn placeholder_tier(name: &str) -> TierFile {
    TierFile::Memory(MemoryTierFile {
        name: name.to_string(),
        engine: MemoryEngine::default(),
        max_entries: 1,
        ttl: None,
        compression: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serde_paths_become_pointers() {
        assert_eq!(
            path_to_pointer("workloads[1].mix.get"),
            "/workloads/1/mix/get"
        );
        assert_eq!(path_to_pointer("tiers[0]"), "/tiers/0");
        assert_eq!(path_to_pointer("."), "");
    }

    #[test]
    fn a_node_in_a_list_takes_its_list_with_it() {
        let mut v = json!({"t": [1, "x", 3], "ops": "a"});
        assert_eq!(remove(&mut v, "/t/1").as_deref(), Some("/t"));
        assert_eq!(v, json!({"ops": "a"}));
        let mut v = json!({"d": {"ops": "a", "k": 1}});
        assert_eq!(remove(&mut v, "/d/ops").as_deref(), Some("/d/ops"));
        assert_eq!(v, json!({"d": {"k": 1}}));
        assert_eq!(
            remove(&mut v, "/nothing/here").as_deref(),
            Some("/nothing/here")
        );
        assert_eq!(remove(&mut v, ""), None);
        assert_eq!(remove(&mut json!(5), "/a"), None);
    }

    fn doc() -> Value {
        json!({
            "name": "x",
            "tiers": [{"name": "l1", "kind": "memory", "max_entries": "many"}],
            "data": {"keys": {"count": 10}, "values": {"size": 8}},
            "defaults": {"ops": "lots"},
            "workloads": [
                {"name": "a", "target": "l1", "mix": {"get": 1}, "opz": 1, "thresholds": ["x < 1"]},
                {"name": "b", "mix": {"get": 1}},
                {"name": "c", "target": "l1", "mix": {"get": 1}, "ops": 5}
            ]
        })
    }

    #[test]
    fn broken_parts_are_left_out_and_the_rest_is_read() {
        let schema = vec![
            Problem::new("/tiers/0/max_entries", "wrong type"),
            Problem::new("/defaults/ops", "wrong type"),
            Problem::new("/workloads/0/opz", "unknown field `opz`"),
            Problem::new("/workloads/1", "missing field `target`"),
        ];
        let l = read(&doc(), &schema);
        assert!(!l.complete());
        assert_eq!(l.file.tiers[0].name(), "l1", "a placeholder keeps the name");
        assert_eq!(l.workload_index, vec![0, 2]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        // A threshold of a workload with an unknown field is still checked ...
        assert!(!l.covers("/workloads/0/thresholds/0"));
        assert!(
            !l.above_pruned.contains("/workloads/0"),
            "an unknown field changes nothing"
        );
        // ... what depends on a node left out is not.
        assert!(l.covers("/tiers/0/max_entries"));
        assert!(l.covers("/workloads/1"));
        assert!(l.covers("/workloads/2"), "inherits the broken defaults");
        assert!(l.covers("/workloads/2/ops"));
        assert!(!l.covers("/workloads/2/thresholds/0"));
        assert!(l.covers("/defaults"));
    }

    #[test]
    fn garbage_is_read_without_panicking() {
        for v in [
            json!(null),
            json!([1]),
            json!({"tiers": 3, "workloads": {"a": 1}}),
            json!({"data": [], "name": 5}),
        ] {
            let l = read(
                &v,
                &[Problem::new("", "x"), Problem::new("/tiers/9/x", "y")],
            );
            assert!(!l.complete() || l.file.workloads.is_empty());
        }
    }
}
