//! The checks of a memcached tier (`kind: memcached`): its URL (no credentials: memcached's
//! SASL is on the binary protocol only), TLS, connections, pipeline and ttl (whole seconds, at
//! most 30 days, past which memcached reads a TTL as a Unix time), and the run's key shape
//! against memcached's key rules (at most 250 bytes, no spaces or control characters).
//!
//! Apart from `validate.rs` because they are one backend's rules; the largest value is handed
//! to the tier, which compares it with the server's own item size limit at setup.

use std::time::Duration;

use super::diagnostic::Problem;
use super::model::{ScenarioFile, TierFile};
use super::plan::{KeySpace, ValueConfig};
use crate::tier::config::{TierConfig, TierKindConfig};
use crate::tier::memcached::{Address, MAX_KEY_BYTES, MemcachedSettings};
use crate::tier::ownership::marker::REDIS_MARKER_SUFFIX;

/// memcached reads a TTL above 30 days as an absolute Unix time.
const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A memcached tier's checks and configuration.
pub(super) fn memcached_tier(
    i: usize,
    name: &str,
    m: &super::model::MemcachedTierFile,
    problems: &mut Vec<Problem>,
) -> TierConfig {
    match Address::parse(&m.url) {
        Err(why) => problems.push(
            Problem::new(
                format!("/tiers/{i}/url"),
                format!("not a memcached URL: {why}"),
            )
            .expected("memcache://host:port, memcaches://host:port or unix:///path/to/socket")
            .hint("e.g. url: ${TIERBENCH_MEMCACHED_URL:-memcache://127.0.0.1:11211}"),
        ),
        Ok(address) if m.tls.is_some() && !address.tls => problems.push(
            Problem::new(format!("/tiers/{i}/tls"), "TLS settings need TLS")
                .expected("a `memcaches://` URL")
                .hint("write the URL as memcaches://host:port, or remove `tls`"),
        ),
        Ok(_) => {}
    }
    if let Some(tls) = &m.tls {
        super::tls_checks::check_tls_files(
            i,
            [&tls.ca_file, &tls.cert_file, &tls.key_file],
            problems,
        );
    }
    if m.pipeline == Some(0) {
        problems.push(Problem::new(
            format!("/tiers/{i}/pipeline"),
            "a pipeline carries at least 1 operation",
        ));
    }
    if m.connections == Some(0) {
        problems.push(Problem::new(
            format!("/tiers/{i}/connections"),
            "needs at least 1 connection",
        ));
    }
    if m.timeout.is_some_and(|t| t.0.is_zero()) {
        problems.push(
            Problem::new(
                format!("/tiers/{i}/timeout"),
                "a timeout of 0 fails every operation",
            )
            .hint("e.g. timeout: 5s"),
        );
    }
    if let Some(ttl) = m.ttl.map(|t| t.0)
        && (ttl.is_zero() || ttl > MAX_TTL)
    {
        problems.push(
            Problem::new(
                format!("/tiers/{i}/ttl"),
                "memcached keeps a ttl from 1 s to 30 days",
            )
            .expected("a ttl between 1s and 720h")
            .hint(
                "memcached reads a TTL above 30 days as a Unix time, and 0 as no expiry: \
                 leave `ttl` out for keys that do not expire",
            ),
        );
    }
    TierConfig {
        name: name.to_string(),
        compression: None,
        kind: TierKindConfig::Memcached(MemcachedSettings {
            url: m.url.clone(),
            connections: m.connections.unwrap_or(2).max(1) as usize,
            timeout: m.timeout.map_or(Duration::from_secs(5), |t| t.0),
            ttl: m.ttl.map(|t| t.0),
            pipeline: m.pipeline.unwrap_or(1).max(1) as usize,
            tls: m.tls.clone(),
            max_value_bytes: None,
        }),
    }
}

/// The run's keys against memcached's key rules, for every memcached tier; hands each tier the
/// largest value it writes (uncompressed tiers), which setup compares with the server's limit.
pub(super) fn check_memcached_data(
    file: &ScenarioFile,
    tiers: &mut [TierConfig],
    keys: Option<&KeySpace>,
    values: Option<&ValueConfig>,
    problems: &mut Vec<Problem>,
) {
    for (raw, tier) in file.tiers.iter().zip(tiers.iter_mut()) {
        let TierFile::Memcached(_) = raw else {
            continue;
        };
        let compressed = tier.compression.is_some();
        let TierKindConfig::Memcached(settings) = &mut tier.kind else {
            continue;
        };
        if !compressed {
            settings.max_value_bytes = values.map(|v| v.size.max());
        }
        if let Some(keys) = keys {
            check_key_shape(&tier.name, keys, problems);
        }
    }
}

/// The longest key (prefix plus the largest index, or the marker) within 250 bytes, and a
/// prefix without spaces or control characters.
fn check_key_shape(tier: &str, keys: &KeySpace, problems: &mut Vec<Problem>) {
    let prefix = &keys.prefix;
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        problems.push(
            Problem::new(
                "/data/keys/prefix",
                format!("memcached tier `{tier}`: memcached keys cannot hold spaces or control characters, and the prefix {prefix:?} does"),
            )
            .expected("a prefix of printable characters without spaces")
            .hint("e.g. prefix: \"tierbench:checkout:\""),
        );
    }
    let digits = keys.count.saturating_sub(1).max(1).to_string().len();
    let longest = (prefix.len() + digits).max(prefix.len() + REDIS_MARKER_SUFFIX.len());
    if longest > MAX_KEY_BYTES {
        problems.push(
            Problem::new(
                "/data/keys/prefix",
                format!(
                    "memcached tier `{tier}`: keys would be up to {longest} bytes (a {}-byte \
                     prefix and its {digits}-digit index or the run's marker), over memcached's \
                     limit of {MAX_KEY_BYTES}",
                    prefix.len()
                ),
            )
            .expected(format!(
                "a prefix of at most {} bytes",
                MAX_KEY_BYTES - digits.max(REDIS_MARKER_SUFFIX.len())
            ))
            .hint("shorten `data.keys.prefix`"),
        );
    }
}
