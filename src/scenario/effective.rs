//! The effective scenario with every default the plan fills in written out.
//!
//! `validate --print` and the result document's `scenario.effective` show what will run: a
//! user reading them should not have to know that a Redis tier's timeout is 5 s or that a
//! workload without `concurrency` runs one worker. The plan's resolved values are written into
//! the document where the file left a field out; what the file wrote stays as written. The
//! result is still a valid scenario (`validate` accepts it as it is).

use std::time::Duration;

use serde_json::{Map, Value};

use super::plan::{KeySpace, Stop, ValueConfig, Workload};
use crate::tier::config::{TierConfig, TierKindConfig};
use crate::workload::keys::KeyDistribution;
use crate::workload::values::ValueShape;

/// How long a tier may go without a success before it is given up (`lost_after`).
pub const DEFAULT_LOST_AFTER: Duration = Duration::from_secs(10);

/// Writes the plan's defaults into `value` wherever it has no field of that name.
pub(super) fn fill_defaults(
    mut value: Value,
    tiers: &[TierConfig],
    keys: &KeySpace,
    values: &ValueConfig,
    workloads: &[Workload],
) -> Value {
    let Some(root) = value.as_object_mut() else {
        return value;
    };
    fill(root, "seed", 0);
    fill(root, "keep", false);
    fill(root, "repeat", 1);
    fill(root, "lost_after", duration(DEFAULT_LOST_AFTER));
    if workloads.iter().any(|w| w.stacked)
        && let Some(origin) = object(root, "origin")
    {
        fill(origin, "latency", duration(Duration::ZERO));
    }
    if let Some(list) = root.get_mut("tiers").and_then(Value::as_array_mut) {
        for (item, tier) in list.iter_mut().zip(tiers) {
            if let Some(map) = item.as_object_mut() {
                fill_tier(map, tier);
            }
        }
    }
    if let Some(data) = object(root, "data") {
        if let Some(map) = object(data, "keys") {
            fill_keys(map, keys);
        }
        if let Some(map) = object(data, "values") {
            fill_values(map, values);
        }
    }
    if let Some(list) = root.get_mut("workloads").and_then(Value::as_array_mut) {
        for (item, workload) in list.iter_mut().zip(workloads) {
            if let Some(map) = item.as_object_mut() {
                fill_workload(map, workload);
            }
        }
    }
    value
}

fn fill(map: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    map.entry(key).or_insert_with(|| value.into());
}

/// The mapping under `key`, created when absent; `None` when the field is not a mapping.
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.entry(key)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// `10s`, `250ms`, `5us`: the shortest exact form (the file's units).
fn duration(d: Duration) -> String {
    let ns = d.as_nanos();
    match ns {
        0 => "0s".into(),
        n if n % 1_000_000_000 == 0 => format!("{}s", n / 1_000_000_000),
        n if n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}us", n / 1_000),
        n => format!("{n}ns"),
    }
}

fn name_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn fill_tier(map: &mut Map<String, Value>, tier: &TierConfig) {
    match &tier.kind {
        TierKindConfig::Memory { engine, .. } => fill(map, "engine", name_of(engine)),
        TierKindConfig::Redis(r) => {
            fill(map, "connections", r.connections);
            fill(map, "timeout", duration(r.timeout));
            fill(map, "pipeline", r.pipeline);
        }
        TierKindConfig::Memcached(m) => {
            fill(map, "connections", m.connections);
            fill(map, "timeout", duration(m.timeout));
            fill(map, "pipeline", m.pipeline);
        }
        TierKindConfig::Sql(q) => {
            fill(map, "table", q.table.clone());
            fill(map, "pool", q.pool);
            fill(map, "timeout", duration(q.timeout));
            if let Some(tls) = &q.tls
                && let Some(written) = map.get_mut("tls").and_then(Value::as_object_mut)
            {
                fill(written, "mode", name_of(&tls.effective_mode()));
            }
        }
    }
    if let Some(c) = &tier.compression
        && c.algorithm == crate::tier::stack::compression::Algorithm::Zstd
        && let Some(compression) = map.get_mut("compression").and_then(Value::as_object_mut)
    {
        fill(compression, "level", c.level);
    }
}

fn fill_keys(map: &mut Map<String, Value>, keys: &KeySpace) {
    fill(map, "prefix", keys.prefix.clone());
    let name = match keys.distribution {
        KeyDistribution::Uniform => "uniform",
        KeyDistribution::Sequential => "sequential",
        KeyDistribution::Latest => "latest",
        KeyDistribution::Zipf { exponent } => {
            fill(map, "zipf_exponent", exponent);
            "zipf"
        }
        KeyDistribution::ScrambledZipf { exponent } => {
            fill(map, "zipf_exponent", exponent);
            "scrambled_zipf"
        }
        KeyDistribution::Hotspot {
            hot_fraction,
            hot_probability,
        } => {
            fill(map, "hot_fraction", hot_fraction);
            fill(map, "hot_probability", hot_probability);
            "hotspot"
        }
        KeyDistribution::Gaussian { mean, stddev } => {
            fill(map, "mean", mean);
            fill(map, "stddev", stddev);
            "gaussian"
        }
    };
    fill(map, "distribution", name);
}

fn fill_values(map: &mut Map<String, Value>, values: &ValueConfig) {
    let shape = match values.shape {
        ValueShape::Text => "text",
        ValueShape::Binary => "binary",
        ValueShape::Json { fields, depth } => {
            fill(map, "fields", fields);
            fill(map, "depth", depth);
            "json"
        }
    };
    fill(map, "shape", shape);
    fill(map, "compressibility", values.compressibility);
}

fn fill_workload(map: &mut Map<String, Value>, w: &Workload) {
    fill(map, "write", name_of(&w.write));
    fill(map, "on_error", name_of(&w.on_error));
    fill(map, "verify", w.verify);
    fill(map, "preload", w.preload);
    fill(map, "warmup", w.warmup);
    let stop = |stop: Stop| match stop {
        Stop::Ops(n) => ("ops", Value::from(n)),
        Stop::Duration(d) => ("duration", Value::from(duration(d))),
    };
    match map.get_mut("phases").and_then(Value::as_array_mut) {
        Some(phases) => {
            for (item, phase) in phases.iter_mut().zip(&w.phases) {
                if let Some(p) = item.as_object_mut() {
                    fill(p, "name", phase.name.clone());
                    fill(p, "concurrency", phase.concurrency);
                }
            }
        }
        None => {
            if let Some(phase) = w.phases.first() {
                if !map.contains_key("ops") && !map.contains_key("duration") {
                    let (key, value) = stop(phase.stop);
                    map.insert(key.into(), value);
                }
                fill(map, "concurrency", phase.concurrency);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_the_shortest_exact_unit() {
        assert_eq!(duration(Duration::from_secs(10)), "10s");
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration(Duration::from_micros(7)), "7us");
        assert_eq!(duration(Duration::from_nanos(7)), "7ns");
        assert_eq!(duration(Duration::ZERO), "0s");
    }
}
