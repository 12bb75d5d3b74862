//! From a parsed document to a runnable `Scenario`: schema, strict model, then semantic checks.
//!
//! Every check appends to one list of problems instead of returning at the first, so a user sees
//! everything wrong with a file at once. Only when the list is empty is a plan built.

use std::collections::HashSet;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::diagnostic::{Diagnostics, Problem, unique};
use super::format::Document;
use super::model::{DataFile, DistributionName, ScenarioFile, ShapeName, SizeFile, TierFile};
use super::plan::{KeySpace, Scenario, Source, ValueConfig, Workload};
use super::schema;
use crate::tier::compression::{Algorithm, Compression};
use crate::tier::config::{MemoryEngine, TierConfig, TierKindConfig};
use crate::tier::redis::RedisSettings;
use crate::tier::sql::SqlSettings;
use crate::units::parse_bytes;
use crate::workload::keys::KeyDistribution;
use crate::workload::values::{SizeSpec, ValueShape};

/// Default key prefix: every key tierbench writes starts with it.
pub const DEFAULT_PREFIX: &str = "tierbench:";
/// Default table of SQL tiers.
pub const DEFAULT_TABLE: &str = "tierbench_cache";

/// Validates a document and builds the plan; `bytes` are the file's bytes (for its SHA-256).
pub fn validate(document: Document, bytes: &[u8]) -> Result<Scenario, Diagnostics> {
    let Document {
        value,
        mut diagnostics,
    } = document;
    let mut found = std::mem::take(&mut diagnostics.problems);
    found.extend(schema::check(&value));
    diagnostics.problems = unique(found);
    if !diagnostics.problems.is_empty() {
        return Err(diagnostics);
    }
    let file: ScenarioFile = match serde_path_to_error::deserialize(value.clone()) {
        Ok(f) => f,
        Err(e) => {
            let pointer = path_to_pointer(&e.path().to_string());
            diagnostics.problems.push(
                Problem::new(pointer, e.inner().to_string())
                    .hint("see `tierbench schema` for the field's form"),
            );
            return Err(diagnostics);
        }
    };
    let mut problems = Vec::new();
    let mut tiers = check_tiers(&file.tiers, &mut problems);
    for (i, (tier, raw)) in tiers.iter_mut().zip(&file.tiers).enumerate() {
        if let Some(c) = raw.compression() {
            let level = c.level.unwrap_or(3);
            match c.algorithm {
                Algorithm::Zstd if !(1..=22).contains(&level) => problems.push(
                    Problem::new(
                        format!("/tiers/{i}/compression/level"),
                        format!("zstd level {level} is outside 1..=22"),
                    )
                    .hint("3 is zstd's default; 19 and above are slow"),
                ),
                Algorithm::Lz4 if c.level.is_some() => problems.push(
                    Problem::new(format!("/tiers/{i}/compression/level"), "lz4 has no levels")
                        .hint("remove `level`"),
                ),
                _ => {}
            }
            tier.compression = Some(Compression {
                algorithm: c.algorithm,
                level,
            });
        }
    }
    for tier in &mut tiers {
        if let TierKindConfig::Sql(sql) = &mut tier.kind {
            sql.keep = file.keep;
        }
    }
    let (keys, values) = check_data(&file.data, &mut problems);
    let dir = diagnostics
        .file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let workloads = super::workload_checks::check_workloads(&file, &dir, &mut problems);
    if !problems.is_empty() {
        diagnostics.problems = unique(problems);
        return Err(diagnostics);
    }
    let (Some(keys), Some(values)) = (keys, values) else {
        return Err(diagnostics);
    };
    let value = show_default_thresholds(value, &workloads);
    Ok(Scenario {
        name: file.name,
        description: file.description,
        seed: file.seed.unwrap_or(0),
        source: Source {
            path: diagnostics.file.clone(),
            sha256: hex(&Sha256::digest(bytes)),
        },
        effective: redact_urls(value),
        tiers,
        keys,
        values,
        workloads,
        origin_latency: file.origin.latency.unwrap_or_default(),
        keep: file.keep,
        repeat: file.repeat.unwrap_or(1).max(1),
        timeout: file.timeout.map(|t| t.0),
        lost_after: file.lost_after.map_or(Duration::from_secs(10), |t| t.0),
        applied: Default::default(),
    })
}

/// Writes the default error threshold into the effective scenario's workloads that carry it, so
/// `validate --print` and the results show every threshold that is checked.
fn show_default_thresholds(
    mut value: serde_json::Value,
    workloads: &[Workload],
) -> serde_json::Value {
    use super::workload_checks::DEFAULT_ERROR_THRESHOLD;
    let Some(files) = value.get_mut("workloads").and_then(|w| w.as_array_mut()) else {
        return value;
    };
    for (file, workload) in files.iter_mut().zip(workloads) {
        if !workload
            .thresholds
            .iter()
            .any(|t| t.text == DEFAULT_ERROR_THRESHOLD)
        {
            continue;
        }
        let Some(map) = file.as_object_mut() else {
            continue;
        };
        let list = map
            .entry("thresholds")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let Some(list) = list.as_array_mut()
            && !list
                .iter()
                .any(|t| t.as_str() == Some(DEFAULT_ERROR_THRESHOLD))
        {
            list.push(DEFAULT_ERROR_THRESHOLD.into());
        }
    }
    value
}

/// The effective scenario with every URL's password replaced: it goes into results and output.
fn redact_urls(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains("://") => Value::String(crate::redact::redact_url(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_urls).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, redact_urls(v))).collect())
        }
        other => other,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `workloads[1].mix.get` (serde_path_to_error's form) → `/workloads/1/mix/get`.
fn path_to_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for segment in path.split('.') {
        let (name, rest) = segment.split_once('[').unwrap_or((segment, ""));
        if !name.is_empty() {
            out = super::locate::push_pointer(&out, name);
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

fn check_tiers(tiers: &[TierFile], problems: &mut Vec<Problem>) -> Vec<TierConfig> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, tier) in tiers.iter().enumerate() {
        let name = tier.name();
        if !seen.insert(name) {
            problems.push(
                Problem::new(
                    format!("/tiers/{i}/name"),
                    format!("tier name `{name}` is used twice"),
                )
                .hint("give every tier a unique name (l1, l2, l3)"),
            );
        }
        if name == "stack" || name == "served_by" {
            problems.push(
                Problem::new(
                    format!("/tiers/{i}/name"),
                    format!("`{name}` is a reserved word"),
                )
                .hint("choose another tier name, such as l1"),
            );
        }
        match tier {
            TierFile::Memory(m) => {
                if m.ttl.is_some() && m.engine != MemoryEngine::Moka {
                    problems.push(
                        Problem::new(
                            format!("/tiers/{i}/ttl"),
                            "only the moka engine supports a ttl",
                        )
                        .hint("remove `ttl` or use `engine: moka`"),
                    );
                }
                out.push(TierConfig {
                    name: name.to_string(),
                    compression: None,
                    kind: TierKindConfig::Memory {
                        engine: m.engine,
                        max_entries: m.max_entries,
                        ttl: m.ttl.map(|t| t.0),
                    },
                });
            }
            TierFile::Redis(r) => {
                if !["redis://", "rediss://", "unix://", "redis+unix://"]
                    .iter()
                    .any(|scheme| r.url.starts_with(scheme))
                {
                    problems.push(
                        Problem::new(format!("/tiers/{i}/url"), "not a Redis URL")
                            .expected(
                                "redis://host:port[/db], rediss://... or unix:///path/to/socket",
                            )
                            .hint("e.g. url: ${TIERBENCH_REDIS_URL:-redis://127.0.0.1:6379}"),
                    );
                }
                if r.pipeline == Some(0) {
                    problems.push(Problem::new(
                        format!("/tiers/{i}/pipeline"),
                        "a pipeline carries at least 1 operation",
                    ));
                }
                if r.connections == Some(0) {
                    problems.push(Problem::new(
                        format!("/tiers/{i}/connections"),
                        "needs at least 1 connection",
                    ));
                }
                out.push(TierConfig {
                    name: name.to_string(),
                    compression: None,
                    kind: TierKindConfig::Redis(RedisSettings {
                        url: r.url.clone(),
                        connections: r.connections.unwrap_or(2).max(1) as usize,
                        timeout: r.timeout.map_or(Duration::from_secs(5), |t| t.0),
                        ttl: r.ttl.map(|t| t.0),
                        pipeline: r.pipeline.unwrap_or(1).max(1) as usize,
                    }),
                });
            }
            TierFile::Sql(q) => {
                if ![
                    "sqlite:",
                    "postgres://",
                    "postgresql://",
                    "mysql://",
                    "mariadb://",
                ]
                .iter()
                .any(|scheme| q.url.starts_with(scheme))
                {
                    problems.push(
                        Problem::new(format!("/tiers/{i}/url"), "not a supported database URL")
                            .expected("sqlite:path.db, sqlite::memory:, postgres://user@host/db or mysql://user@host/db"),
                    );
                }
                let table = q.table.clone().unwrap_or_else(|| DEFAULT_TABLE.to_string());
                let identifier = table.len() <= 64
                    && table.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !identifier {
                    problems.push(
                        Problem::new(format!("/tiers/{i}/table"), format!("`{table}` is not a plain table name"))
                            .expected("letters, digits and _, starting with a letter or _, at most 64 characters"),
                    );
                }
                if q.pool == Some(0) {
                    problems.push(Problem::new(
                        format!("/tiers/{i}/pool"),
                        "needs at least 1 connection",
                    ));
                }
                if q.timeout.is_some_and(|t| t.0.is_zero()) {
                    problems.push(
                        Problem::new(
                            format!("/tiers/{i}/timeout"),
                            "a timeout of 0 fails every operation",
                        )
                        .hint("e.g. timeout: 5s"),
                    );
                }
                out.push(TierConfig {
                    name: name.to_string(),
                    compression: None,
                    kind: TierKindConfig::Sql(SqlSettings {
                        url: q.url.clone(),
                        table,
                        pool: q.pool.unwrap_or(4).max(1),
                        timeout: q.timeout.map_or(Duration::from_secs(5), |t| t.0),
                        ttl: q.ttl.map(|t| t.0),
                        keep: false,
                    }),
                });
            }
        }
    }
    out
}

fn check_data(
    data: &DataFile,
    problems: &mut Vec<Problem>,
) -> (Option<KeySpace>, Option<ValueConfig>) {
    let keys = &data.keys;
    let d = keys.distribution;
    for (field, value, applies) in [
        (
            "zipf_exponent",
            keys.zipf_exponent.is_some(),
            matches!(d, DistributionName::Zipf | DistributionName::ScrambledZipf),
        ),
        (
            "hot_fraction",
            keys.hot_fraction.is_some(),
            d == DistributionName::Hotspot,
        ),
        (
            "hot_probability",
            keys.hot_probability.is_some(),
            d == DistributionName::Hotspot,
        ),
        ("mean", keys.mean.is_some(), d == DistributionName::Gaussian),
        (
            "stddev",
            keys.stddev.is_some(),
            d == DistributionName::Gaussian,
        ),
    ] {
        if value && !applies {
            problems.push(
                Problem::new(format!("/data/keys/{field}"), format!("`{field}` does not apply to this distribution"))
                    .hint("zipf_exponent: zipf, scrambled_zipf; hot_fraction, hot_probability: hotspot; mean, stddev: gaussian"),
            );
        }
    }
    let exponent = keys.zipf_exponent.unwrap_or(0.99);
    let distribution = match d {
        DistributionName::Uniform => KeyDistribution::Uniform,
        DistributionName::Sequential => KeyDistribution::Sequential,
        DistributionName::Latest => KeyDistribution::Latest,
        DistributionName::Zipf => KeyDistribution::Zipf { exponent },
        DistributionName::ScrambledZipf => KeyDistribution::ScrambledZipf { exponent },
        DistributionName::Hotspot => KeyDistribution::Hotspot {
            hot_fraction: keys.hot_fraction.unwrap_or(0.2),
            hot_probability: keys.hot_probability.unwrap_or(0.8),
        },
        DistributionName::Gaussian => KeyDistribution::Gaussian {
            mean: keys.mean.unwrap_or(0.5),
            stddev: keys.stddev.unwrap_or(0.1),
        },
    };
    let mut key_space = None;
    match distribution.validate(keys.count) {
        Ok(()) => {
            key_space = Some(KeySpace {
                count: keys.count,
                prefix: keys
                    .prefix
                    .clone()
                    .unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
                distribution,
            });
        }
        Err(message) => problems.push(
            Problem::new("/data/keys", message)
                .hint("see the `keys` section of `tierbench schema`"),
        ),
    }
    let shape = match data.values.shape {
        ShapeName::Text => ValueShape::Text,
        ShapeName::Json => {
            let (shape, bad) = ValueShape::json(data.values.fields, data.values.depth);
            let at = |(name, m)| Problem::new(format!("/data/values/{name}"), m);
            problems.extend(bad.into_iter().map(at));
            shape
        }
        ShapeName::Binary => ValueShape::Binary,
    };
    let size = match parse_size(&data.values.size) {
        Ok(size) => size,
        Err(message) => {
            problems.push(
                Problem::new("/data/values/size", message)
                    .expected("a size (256, 1KiB) or an inclusive range MIN..MAX (200..400)"),
            );
            return (key_space, None);
        }
    };
    let compressibility = data.values.compressibility.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&compressibility) {
        problems.push(
            Problem::new(
                "/data/values/compressibility",
                format!("{compressibility} is outside 0.0..1.0"),
            )
            .expected("a fraction: 0.0 (incompressible) to 1.0"),
        );
    }
    (
        key_space,
        Some(ValueConfig {
            shape,
            size,
            compressibility,
        }),
    )
}

fn parse_size(size: &SizeFile) -> Result<SizeSpec, String> {
    let spec = match size {
        SizeFile::Fixed(b) => SizeSpec::Fixed(usize::try_from(b.0).map_err(|e| e.to_string())?),
        SizeFile::Range(text) => {
            let (lo, hi) = text
                .split_once("..")
                .ok_or_else(|| format!("`{text}` is not a range"))?;
            let (min, max) = (parse_bytes(lo)?, parse_bytes(hi)?);
            if min > max {
                return Err(format!("range `{text}` is empty: {min} > {max}"));
            }
            SizeSpec::Range {
                min: min as usize,
                max: max as usize,
            }
        }
        SizeFile::Weighted(map) => SizeSpec::Weighted(
            map.iter()
                .map(|(size, &weight)| parse_bytes(size).map(|b| (b as usize, weight)))
                .collect::<Result<_, _>>()?,
        ),
    };
    spec.validate()?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_paths_become_pointers() {
        assert_eq!(
            path_to_pointer("workloads[1].mix.get"),
            "/workloads/1/mix/get"
        );
        assert_eq!(path_to_pointer("tiers[0]"), "/tiers/0");
        assert_eq!(path_to_pointer("."), "");
    }
}
