//! From a parsed document to a runnable `Scenario`: schema, strict model, then semantic checks.
//!
//! Every check appends to one list of problems instead of returning at the first, so a user sees
//! everything wrong with a file at once. Only when the list is empty is a plan built.

use std::collections::HashSet;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::diagnostic::{Diagnostics, Problem};
use super::format::Document;
use super::model::{
    DataFile, DistributionName, MemoryEngine, OpName, ScenarioFile, ShapeName, SizeFile,
    TargetFile, TierFile, WorkloadFile,
};
use super::plan::{
    KeySpace, Phase, Rate, Scenario, Source, Stop, TierConfig, TierKindConfig, ValueConfig,
    Workload,
};
use super::schema;
use super::units::{parse_bytes, parse_rate};
use crate::thresholds::{self, ThresholdContext};
use crate::tier::compression::{Algorithm, Compression};
use crate::tier::redis::RedisSettings;
use crate::tier::sql::SqlSettings;
use crate::workload::keys::KeyDistribution;
use crate::workload::ops::{Op, OpMix, OpSource};
use crate::workload::trace::{TraceFormat, validate_trace};
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
    for problem in schema::check(&value) {
        if !diagnostics.problems.contains(&problem) {
            diagnostics.problems.push(problem);
        }
    }
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
    let workloads = check_workloads(&file, &dir, &mut problems);
    if !problems.is_empty() {
        let mut unique: Vec<Problem> = Vec::new();
        for p in problems {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        diagnostics.problems = unique;
        return Err(diagnostics);
    }
    let (Some(keys), Some(values)) = (keys, values) else {
        return Err(diagnostics);
    };
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
        origin_latency: file.origin.latency.map_or(Duration::ZERO, |d| d.0),
        keep: file.keep,
        repeat: file.repeat.unwrap_or(1).max(1),
        timeout: file.timeout.map(|t| t.0),
        applied: Default::default(),
    })
}

/// The effective scenario with every URL's password replaced: it goes into results and output.
fn redact_urls(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains("://") => Value::String(crate::tier::redact_url(&s)),
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
            out = super::diagnostic::push_pointer(&out, name);
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
                out.push(TierConfig {
                    name: name.to_string(),
                    compression: None,
                    kind: TierKindConfig::Sql(SqlSettings {
                        url: q.url.clone(),
                        table,
                        pool: q.pool.unwrap_or(4).max(1),
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
        ShapeName::Json => ValueShape::Json {
            fields: 4,
            depth: 1,
        },
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

fn check_workloads(
    file: &ScenarioFile,
    dir: &std::path::Path,
    problems: &mut Vec<Problem>,
) -> Vec<Workload> {
    let mut seen = HashSet::new();
    let tier_names: Vec<&str> = file.tiers.iter().map(TierFile::name).collect();
    let mut out = Vec::new();
    for (i, w) in file.workloads.iter().enumerate() {
        let base = format!("/workloads/{i}");
        if !seen.insert(w.name.as_str()) {
            problems.push(
                Problem::new(
                    format!("{base}/name"),
                    format!("workload name `{}` is used twice", w.name),
                )
                .hint("give every workload a unique name"),
            );
        }
        let (target, stacked) = resolve_target(&w.target, &tier_names, &base, problems);
        let source = resolve_ops(w, &base, dir, problems);
        let concurrency = w.concurrency.or(file.defaults.concurrency).unwrap_or(1);
        if concurrency == 0 {
            problems.push(Problem::new(
                format!("{base}/concurrency"),
                "concurrency must be at least 1",
            ));
        }
        let phases = resolve_phases(file, w, &base, concurrency.max(1) as usize, problems);
        let names: Vec<String> = target.iter().map(|&t| tier_names[t].to_string()).collect();
        let ops: Vec<Op> = source.as_ref().map(OpSource::ops).unwrap_or_default();
        let ctx = ThresholdContext {
            tiers: &names,
            ops: &ops,
        };
        let mut parsed = Vec::new();
        for (j, text) in w.thresholds.iter().enumerate() {
            match thresholds::parse(text, &ctx) {
                Ok(t) => parsed.push(t),
                Err(e) => problems.push(
                    Problem::new(
                        format!("{base}/thresholds/{j}"),
                        format!("threshold `{text}`: {}", e.message),
                    )
                    .hint(e.hint),
                ),
            }
        }
        if let (Some(phases), Some(ops)) = (phases, source) {
            out.push(Workload {
                concurrency: phases.iter().map(|p| p.concurrency).max().unwrap_or(1),
                name: w.name.clone(),
                target,
                preload: w.preload,
                ops,
                stacked,
                write: w.write,
                on_error: w.on_error,
                verify: w.verify,
                warmup: w.warmup.or(file.defaults.warmup).unwrap_or(0),
                phases,
                thresholds: parsed,
            });
        }
    }
    if file.workloads.is_empty() {
        problems.push(Problem::new("/workloads", "no workloads").hint("add at least one workload"));
    }
    out
}

/// The measured phases: the workload's `phases`, or one phase from its `ops`/`duration`/`rate`.
fn resolve_phases(
    file: &ScenarioFile,
    w: &WorkloadFile,
    base: &str,
    concurrency: usize,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Phase>> {
    let Some(list) = &w.phases else {
        let stop = resolve_stop(file, w, base, problems)?;
        let rate = w
            .rate
            .as_deref()
            .and_then(|r| resolve_rate(r, stop, &format!("{base}/rate"), problems));
        if w.rate.is_some() && rate.is_none() {
            return None;
        }
        return Some(vec![Phase {
            name: "main".into(),
            stop,
            concurrency,
            rate,
        }]);
    };
    if w.ops.is_some() || w.duration.is_some() || w.rate.is_some() {
        problems.push(
            Problem::new(
                base,
                "`phases` replaces the workload's `ops`, `duration` and `rate`",
            )
            .hint("move them into the phases"),
        );
    }
    if list.is_empty() {
        problems.push(Problem::new(format!("{base}/phases"), "no phases"));
        return None;
    }
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let at = format!("{base}/phases/{i}");
        let stop = match (p.ops, p.duration) {
            (Some(n), None) if n > 0 => Stop::Ops(n),
            (None, Some(d)) if !d.0.is_zero() => Stop::Duration(d.0),
            _ => {
                problems.push(
                    Problem::new(
                        &at,
                        "a phase needs exactly one of `ops` (> 0) or `duration` (> 0)",
                    )
                    .hint("e.g. `{ duration: 10s, rate: 5000/s }`"),
                );
                continue;
            }
        };
        let rate = match &p.rate {
            Some(r) => match resolve_rate(r, stop, &format!("{at}/rate"), problems) {
                Some(rate) => Some(rate),
                None => continue,
            },
            None => None,
        };
        if p.concurrency == Some(0) {
            problems.push(Problem::new(
                format!("{at}/concurrency"),
                "concurrency must be at least 1",
            ));
        }
        out.push(Phase {
            name: p.name.clone().unwrap_or_else(|| format!("phase-{}", i + 1)),
            stop,
            concurrency: p.concurrency.map_or(concurrency, |c| c.max(1) as usize),
            rate,
        });
    }
    (out.len() == list.len()).then_some(out)
}

/// `5000/s` or a ramp `1000/s..20000/s` (a ramp needs a duration to ramp over).
fn resolve_rate(
    text: &str,
    stop: Stop,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Rate> {
    let parsed = match text.split_once("..") {
        Some((a, b)) => {
            parse_rate(a).and_then(|start| parse_rate(b).map(|end| Rate { start, end }))
        }
        None => parse_rate(text).map(|r| Rate { start: r, end: r }),
    };
    match parsed {
        Ok(rate) if rate.start > 0.0 && rate.end > 0.0 => {
            if rate.start != rate.end && !matches!(stop, Stop::Duration(_)) {
                problems.push(
                    Problem::new(pointer, "a ramping rate needs a `duration` to ramp over")
                        .hint("give the phase `duration:` instead of `ops:`"),
                );
                return None;
            }
            Some(rate)
        }
        Ok(_) => {
            problems.push(Problem::new(pointer, "a rate must be positive"));
            None
        }
        Err(message) => {
            problems.push(
                Problem::new(pointer, message)
                    .expected("a rate (`5000/s`, `20k/s`) or a ramp (`1000/s..20000/s`)"),
            );
            None
        }
    }
}

/// `stack`, a tier name, or a list of tier names → tier indices and whether it is a stack.
fn resolve_target(
    target: &TargetFile,
    tiers: &[&str],
    base: &str,
    problems: &mut Vec<Problem>,
) -> (Vec<usize>, bool) {
    let (names, stacked): (Vec<(String, String)>, bool) = match target {
        TargetFile::One(name) if name == "stack" => return ((0..tiers.len()).collect(), true),
        TargetFile::One(name) => (vec![(format!("{base}/target"), name.clone())], false),
        TargetFile::Many(list) => (
            list.iter()
                .enumerate()
                .map(|(i, n)| (format!("{base}/target/{i}"), n.clone()))
                .collect(),
            true,
        ),
    };
    if names.is_empty() {
        problems.push(Problem::new(
            format!("{base}/target"),
            "the target lists no tier",
        ));
    }
    let mut out = Vec::new();
    for (pointer, name) in names {
        match tiers.iter().position(|&t| t == name) {
            Some(t) if out.contains(&t) => problems.push(
                Problem::new(pointer, format!("tier `{name}` is listed twice"))
                    .hint("list each tier once, top first"),
            ),
            Some(t) => out.push(t),
            None => problems.push(
                Problem::new(pointer, format!("unknown tier `{name}`"))
                    .expected("the name of a tier declared under `tiers`, or `stack`")
                    .hint(format!("declared tiers: {}", tiers.join(", "))),
            ),
        }
    }
    (out, stacked)
}

/// `mix` or `sequence`, exactly one.
fn resolve_ops(
    w: &WorkloadFile,
    base: &str,
    dir: &std::path::Path,
    problems: &mut Vec<Problem>,
) -> Option<OpSource> {
    if let Some(trace) = &w.trace {
        if w.mix.is_some() || w.sequence.is_some() {
            problems.push(
                Problem::new(base, "`trace` replaces `mix` and `sequence`")
                    .hint("keep one of them"),
            );
            return None;
        }
        if w.verify {
            problems.push(
                Problem::new(
                    format!("{base}/verify"),
                    "verify mode needs generated keys, not a trace",
                )
                .hint("remove `verify` or the trace"),
            );
        }
        let path = dir.join(&trace.path);
        let format = trace.format.unwrap_or(TraceFormat::Csv);
        return match validate_trace(&path, format) {
            Ok(_) => Some(OpSource::Trace { path, format }),
            Err(message) => {
                problems.push(
                    Problem::new(format!("{base}/trace/path"), message).hint(
                        "paths are relative to the scenario file; formats: csv, oracle_general",
                    ),
                );
                None
            }
        };
    }
    match (&w.mix, &w.sequence) {
        (Some(_), Some(_)) => {
            problems.push(
                Problem::new(base, "both `mix` and `sequence` are set")
                    .hint("a workload issues either a weighted mix or a per-key sequence"),
            );
            None
        }
        (None, None) => {
            problems.push(
                Problem::new(base, "the workload has no `mix`, `sequence` or `trace`")
                    .hint("add e.g. `mix: { get: 90, set: 10 }`, `sequence: [set, get, delete]` or `trace:`"),
            );
            None
        }
        (Some(mix), None) => {
            let m = OpMix::new([mix.get, mix.set, mix.delete, mix.touch]);
            if m.is_none() {
                problems.push(
                    Problem::new(format!("{base}/mix"), "every weight is zero")
                        .hint("give at least one operation a positive weight, e.g. `mix: { get: 90, set: 10 }`"),
                );
            }
            m.map(OpSource::Mix)
        }
        (None, Some(seq)) if seq.is_empty() => {
            problems.push(Problem::new(
                format!("{base}/sequence"),
                "the sequence is empty",
            ));
            None
        }
        (None, Some(seq)) => Some(OpSource::Sequence(
            seq.iter()
                .map(|op| match op {
                    OpName::Get => Op::Get,
                    OpName::Set => Op::Set,
                    OpName::Delete => Op::Delete,
                    OpName::Touch => Op::Touch,
                })
                .collect(),
        )),
    }
}

/// A workload's own `ops`/`duration` replace the defaults'; exactly one must result.
fn resolve_stop(
    file: &ScenarioFile,
    w: &WorkloadFile,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Option<Stop> {
    let (ops, duration, place) = if w.ops.is_some() || w.duration.is_some() {
        (w.ops, w.duration, base.to_string())
    } else {
        (
            file.defaults.ops,
            file.defaults.duration,
            "/defaults".to_string(),
        )
    };
    match (ops, duration) {
        (Some(_), Some(_)) => {
            problems.push(
                Problem::new(place, "both `ops` and `duration` are set")
                    .hint("give one: a number of operations or a duration"),
            );
            None
        }
        (Some(0), None) => {
            problems.push(Problem::new(
                format!("{place}/ops"),
                "`ops` must be at least 1",
            ));
            None
        }
        (Some(n), None) => Some(Stop::Ops(n)),
        (None, Some(d)) if d.0.is_zero() => {
            problems.push(Problem::new(
                format!("{place}/duration"),
                "`duration` must be positive",
            ));
            None
        }
        (None, Some(d)) => Some(Stop::Duration(d.0)),
        (None, None) => {
            problems.push(
                Problem::new(base, "the workload has neither `ops` nor `duration`")
                    .hint("set `ops:` or `duration:` on the workload or under `defaults`"),
            );
            None
        }
    }
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
