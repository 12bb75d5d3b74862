//! From a parsed document to a runnable `Scenario`: schema, model, then semantic checks.
//!
//! Every check appends to one list of problems instead of returning at the first, so a user sees
//! everything wrong with a file at once, schema and semantic problems together. Only when the
//! list is empty is a plan built.

use std::collections::HashSet;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::diagnostic::{Diagnostics, Problem, unique};
use super::format::Document;
use super::model::{ScenarioFile, TierFile};
use super::plan::{KeySpace, Scenario, Source, ValueConfig, Workload};
use super::schema;
use crate::tier::config::{MemoryEngine, TierConfig, TierKindConfig};
use crate::tier::redis::RedisSettings;
use crate::tier::sql::SqlSettings;
use crate::tier::stack::compression::{Algorithm, Compression};

pub use super::data_checks::DEFAULT_PREFIX;
use super::effective::DEFAULT_LOST_AFTER;
/// Default table of SQL tiers.
pub const DEFAULT_TABLE: &str = "tierbench_cache";

/// Validates a document and builds the plan; `bytes` are the file's bytes (for its SHA-256).
///
/// The schema's problems and the semantic checks' come in one round: when the document does
/// not match the schema, the semantic checks run on the parts that still read
/// (`lenient`), so fixing one problem does not reveal the next.
pub fn validate(document: Document, bytes: &[u8]) -> Result<Scenario, Box<Diagnostics>> {
    let Document {
        value,
        mut diagnostics,
    } = document;
    let mut found = std::mem::take(&mut diagnostics.problems);
    let schema_problems = schema::check(&value);
    let lenient = super::lenient::read(&value, &schema_problems);
    found.extend(schema_problems);
    found.extend(lenient.problems.iter().cloned());
    let dir = diagnostics
        .file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let mut problems = Vec::new();
    let checked = check(&lenient.file, &lenient.workload_index, &dir, &mut problems);
    if !found.is_empty() || !lenient.complete() {
        found.extend(problems.into_iter().filter(|p| !lenient.covers(&p.pointer)));
        if found.is_empty() {
            found.push(Problem::new("", "the scenario is invalid"));
        }
        diagnostics.problems = unique(found);
        return Err(Box::new(diagnostics));
    }
    if !problems.is_empty() {
        diagnostics.problems = unique(problems);
        return Err(Box::new(diagnostics));
    }
    let file = lenient.file;
    let Checked {
        noise_floor,
        coherence,
        tiers,
        keys: Some(keys),
        values: Some(values),
        workloads,
    } = checked
    else {
        return Err(Box::new(diagnostics));
    };
    let effective = super::effective::fill_defaults(
        show_default_thresholds(value, &workloads),
        &tiers,
        &keys,
        &values,
        &workloads,
    );
    Ok(Scenario {
        name: file.name,
        description: file.description,
        seed: file.seed.unwrap_or(0),
        source: Source {
            path: diagnostics.file.clone(),
            sha256: hex(&Sha256::digest(bytes)),
        },
        effective: redact_urls(effective),
        tiers,
        keys,
        values,
        workloads,
        origin_latency: file.origin.latency.unwrap_or_default(),
        keep: file.keep,
        repeat: file.repeat.unwrap_or(1).max(1),
        timeout: file.timeout.map(|t| t.0),
        lost_after: file.lost_after.map_or(DEFAULT_LOST_AFTER, |t| t.0),
        noise_floor,
        coherence,
        applied: Default::default(),
        shard: None,
    })
}

/// What the semantic checks make of a (possibly partial) scenario.
struct Checked {
    noise_floor: crate::verdict::compare::NoiseFloor,
    coherence: Option<crate::tier::coherence::CoherenceSettings>,
    tiers: Vec<TierConfig>,
    keys: Option<KeySpace>,
    values: Option<ValueConfig>,
    workloads: Vec<Workload>,
}

/// The semantic checks: tiers, compression, data, workloads. `workload_index` is the
/// document's index of each of `file.workloads` (the ones that could be read).
fn check(
    file: &ScenarioFile,
    workload_index: &[usize],
    dir: &std::path::Path,
    problems: &mut Vec<Problem>,
) -> Checked {
    let mut tiers = check_tiers(&file.tiers, problems);
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
    let (keys, values) = super::data_checks::check_data(&file.data, problems);
    super::hash_checks::check_hash_tiers(file, &mut tiers, values.as_ref(), problems);
    super::memcached_checks::check_memcached_data(
        file,
        &mut tiers,
        keys.as_ref(),
        values.as_ref(),
        problems,
    );
    let commands = super::command_checks::check_commands(file, problems);
    let workloads =
        super::workload_checks::check_workloads(file, workload_index, dir, &commands, problems);
    let noise_floor = file
        .noise_floor
        .as_ref()
        .map_or_else(Default::default, |f| f.resolve(problems));
    let coherence = super::coherence_checks::check_coherence(file, &tiers, &workloads, problems);
    Checked {
        noise_floor,
        coherence,
        tiers,
        keys,
        values,
        workloads,
    }
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
        out.push(match tier {
            TierFile::Memory(m) => memory_tier(i, name, m, problems),
            TierFile::Redis(r) => redis_tier(i, name, r, problems),
            TierFile::Memcached(m) => super::memcached_checks::memcached_tier(i, name, m, problems),
            TierFile::Sql(q) => sql_tier(i, name, q, problems),
        });
    }
    out
}

/// A memory tier's checks and configuration.
fn memory_tier(
    i: usize,
    name: &str,
    m: &super::model::MemoryTierFile,
    problems: &mut Vec<Problem>,
) -> TierConfig {
    if m.ttl.is_some() && m.engine != MemoryEngine::Moka {
        problems.push(
            Problem::new(
                format!("/tiers/{i}/ttl"),
                "only the moka engine supports a ttl",
            )
            .hint("remove `ttl` or use `engine: moka`"),
        );
    }
    TierConfig {
        name: name.to_string(),
        compression: None,
        kind: TierKindConfig::Memory {
            engine: m.engine,
            max_entries: m.max_entries,
            ttl: m.ttl.map(|t| t.0),
        },
    }
}

/// A Redis tier's checks (URL, TLS, pipeline, cluster, connections) and configuration.
fn redis_tier(
    i: usize,
    name: &str,
    r: &super::model::RedisTierFile,
    problems: &mut Vec<Problem>,
) -> TierConfig {
    if !["redis://", "rediss://", "unix://", "redis+unix://"]
        .iter()
        .any(|scheme| r.url.starts_with(scheme))
    {
        problems.push(
            Problem::new(format!("/tiers/{i}/url"), "not a Redis URL")
                .expected("redis://host:port[/db], rediss://... or unix:///path/to/socket")
                .hint("e.g. url: ${TIERBENCH_REDIS_URL:-redis://127.0.0.1:6379}"),
        );
    }
    if let Some(tls) = &r.tls {
        if !r.url.starts_with("rediss://") {
            problems.push(
                Problem::new(format!("/tiers/{i}/tls"), "TLS settings need TLS")
                    .expected("a `rediss://` URL")
                    .hint("write the URL as rediss://host:port, or remove `tls`"),
            );
        }
        super::tls_checks::check_tls_files(
            i,
            [&tls.ca_file, &tls.cert_file, &tls.key_file],
            problems,
        );
    }
    if r.pipeline == Some(0) {
        problems.push(Problem::new(
            format!("/tiers/{i}/pipeline"),
            "a pipeline carries at least 1 operation",
        ));
    }
    let cluster = r.cluster.unwrap_or(false);
    cluster_problems(i, r, cluster, problems);
    if r.connections == Some(0) {
        problems.push(Problem::new(
            format!("/tiers/{i}/connections"),
            "needs at least 1 connection",
        ));
    }
    TierConfig {
        name: name.to_string(),
        compression: None,
        kind: TierKindConfig::Redis(RedisSettings {
            url: r.url.clone(),
            connections: r.connections.unwrap_or(2).max(1) as usize,
            timeout: r.timeout.map_or(Duration::from_secs(5), |t| t.0),
            ttl: r.ttl.map(|t| t.0),
            pipeline: r.pipeline.unwrap_or(1).max(1) as usize,
            tls: r.tls.clone(),
            cluster,
            seeds: r.seeds.clone().unwrap_or_default(),
            hash: None,
        }),
    }
}

/// A SQL tier's checks (URL, table name, TLS, pool, timeout) and configuration.
fn sql_tier(
    i: usize,
    name: &str,
    q: &super::model::SqlTierFile,
    problems: &mut Vec<Problem>,
) -> TierConfig {
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
            Problem::new(format!("/tiers/{i}/url"), "not a supported database URL").expected(
                "sqlite:path.db, sqlite::memory:, postgres://user@host/db or mysql://user@host/db",
            ),
        );
    }
    let table = q.table.clone().unwrap_or_else(|| DEFAULT_TABLE.to_string());
    let identifier = table.len() <= 64
        && table.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        problems.push(
            Problem::new(
                format!("/tiers/{i}/table"),
                format!("`{table}` is not a plain table name"),
            )
            .expected("letters, digits and _, starting with a letter or _, at most 64 characters"),
        );
    }
    if let Some(tls) = &q.tls {
        if q.url.starts_with("sqlite:") {
            problems.push(
                Problem::new(format!("/tiers/{i}/tls"), "SQLite has no TLS")
                    .expected("a postgres:// or mysql:// URL")
                    .hint("SQLite is a local file: remove `tls`"),
            );
        }
        super::tls_checks::check_tls_files(
            i,
            [&tls.ca_file, &tls.cert_file, &tls.key_file],
            problems,
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
    TierConfig {
        name: name.to_string(),
        compression: None,
        kind: TierKindConfig::Sql(SqlSettings {
            url: q.url.clone(),
            table,
            pool: q.pool.unwrap_or(4).max(1),
            timeout: q.timeout.map_or(Duration::from_secs(5), |t| t.0),
            ttl: q.ttl.map(|t| t.0),
            keep: false,
            tls: q.tls.clone(),
        }),
    }
}

/// What `cluster: true` rules out: unix sockets (a cluster announces TCP addresses), seeds of
/// another scheme than the URL's (one TLS mode for every node), and `seeds` without `cluster`.
fn cluster_problems(
    i: usize,
    r: &super::model::RedisTierFile,
    cluster: bool,
    problems: &mut Vec<Problem>,
) {
    if !cluster {
        if r.seeds.is_some() {
            problems.push(
                Problem::new(
                    format!("/tiers/{i}/seeds"),
                    "`seeds` are for a Redis Cluster",
                )
                .hint("add `cluster: true`, or remove `seeds`"),
            );
        }
        return;
    }
    let scheme = if r.url.starts_with("rediss://") {
        "rediss://"
    } else {
        "redis://"
    };
    let urls = std::iter::once((format!("/tiers/{i}/url"), &r.url)).chain(
        r.seeds
            .iter()
            .flatten()
            .enumerate()
            .map(|(j, s)| (format!("/tiers/{i}/seeds/{j}"), s)),
    );
    for (pointer, url) in urls {
        if !url.starts_with(scheme) {
            problems.push(
                Problem::new(
                    pointer,
                    format!("a cluster seed must be a {scheme} URL, like the tier's `url`"),
                )
                .expected(format!("{scheme}[user:password@]host:port"))
                .hint(
                    "unix sockets are not supported with `cluster: true`, and every node of a \
                     cluster speaks TLS (rediss://) or none does",
                ),
            );
        }
    }
}
