//! The tier part of the scenario file as written (`tiers:`, `origin:`): serde + schemars types
//! that mirror YAML/TOML one to one, kept apart from `model.rs` so each file stays one topic.
//! Like the rest of the raw model, nothing here is interpreted (see `model.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tier::config::MemoryEngine;
use crate::units::DurationValue;

/// The origin behind a stack: a simulated backing store (the database a cache protects).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OriginFile {
    /// Time one load from the origin takes: `5ms`, `{ p50: 5ms, p99: 40ms }` (log-normal) or
    /// `{ uniform: 2ms..8ms }`; each miss draws its own. Default zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<crate::tier::stack::origin::OriginLatency>,
}

/// One cache tier. `kind` selects the implementation.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TierFile {
    /// An in-process cache inside tierbench (an L1).
    Memory(MemoryTierFile),
    /// Redis (an L2), through multiplexed async connections.
    Redis(RedisTierFile),
    /// memcached (an L2), through multiplexed connections speaking its meta protocol.
    Memcached(MemcachedTierFile),
    /// A key/value table in SQLite, PostgreSQL or MariaDB/MySQL through sqlx (an L3).
    Sql(SqlTierFile),
}

impl TierFile {
    /// The tier's compression setting.
    pub fn compression(&self) -> Option<&CompressionFile> {
        match self {
            TierFile::Memory(t) => t.compression.as_ref(),
            TierFile::Redis(t) => t.compression.as_ref(),
            TierFile::Memcached(t) => t.compression.as_ref(),
            TierFile::Sql(t) => t.compression.as_ref(),
        }
    }

    /// The tier's unique name, as used by `target` and in thresholds.
    pub fn name(&self) -> &str {
        match self {
            TierFile::Memory(t) => &t.name,
            TierFile::Redis(t) => &t.name,
            TierFile::Memcached(t) => &t.name,
            TierFile::Sql(t) => &t.name,
        }
    }
}

/// A Redis server.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisTierFile {
    /// Unique tier name (e.g. `l2`).
    pub name: String,
    /// `redis://[:password@]host:port[/db]`, `rediss://...` or `unix:///path`; the database and
    /// password come from the URL. The password never appears in output.
    pub url: String,
    /// Multiplexed connections the workers share (worker i uses connection i mod N). One
    /// multiplexed connection pipelines many workers' requests; default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Response timeout of each command (`5s` by default): a slower answer counts as an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationValue>,
    /// Time to live of written keys (`SET ... PX`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationValue>,
    /// Explicit pipelining, like memtier's `--pipeline`: each worker sends this many operations
    /// in one round trip (`MULTI`-free `redis::pipe`), and each operation's latency counts from
    /// the batch's send. Operations in flight = concurrency × pipeline. Default 1 (none). Only
    /// for closed-loop workloads that target this tier alone, without `verify` or `trace`. On a
    /// cluster, a batch is split by primary: one pipeline per primary, all at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<u32>,
    /// Store values compressed: `{ algorithm: zstd, level: 3 }` or `{ algorithm: lz4 }`. The time
    /// spent compressing and decompressing is reported apart from the tier's latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionFile>,
    /// TLS of a `rediss://` URL: CA file, client certificate (default: the system's roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tier::tls_files::TlsSettings>,
    /// A Redis Cluster: `url` (and `seeds`) are nodes the client learns the slot map from; the
    /// `redis` crate's cluster client routes each key to its node and follows MOVED/ASK. The
    /// result reports each primary's `INFO commandstats` counts; cleanup removes the run's own
    /// names, each on its primary. `pipeline` sends one pipeline per primary; batches
    /// (mget/mset/mdelete) one command per slot. `redis://` or `rediss://` (with `tls`) URLs, database 0. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<bool>,
    /// More seed nodes of a cluster (`redis://host:port`, or `rediss://` like `url`), tried
    /// after `url`; only with `cluster: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<String>>,
    /// How each value is kept: `string` (default: `SET`/`GET`) or `hash`, a Redis hash with one
    /// field per top-level field of the JSON value (`HSET`, with `PEXPIRE` in the same round trip
    /// when the tier has a `ttl`; a get is `HGETALL`, re-assembled into the same JSON bytes), as
    /// a session store keeps sessions. `hash` needs `values: { shape: json }`; not with
    /// `cluster`, `pipeline` above 1, `compression`, batch operations, `verify` or `trace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_as: Option<crate::tier::redis::hash::StoreAs>,
}

/// A memcached server.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemcachedTierFile {
    /// Unique tier name (e.g. `l2`).
    pub name: String,
    /// `memcache://host[:port]` (port 11211 by default), `memcaches://host[:port]` (TLS) or
    /// `unix:///path/to/memcached.sock`. No user or password: memcached authenticates with SASL
    /// on its binary protocol only.
    pub url: String,
    /// Multiplexed connections the workers share (worker i uses connection i mod N); default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Response timeout of each command (`5s` by default): a slower answer counts as an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationValue>,
    /// Time to live of written keys, whole seconds (rounded up), at most 30 days; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationValue>,
    /// Explicit pipelining, like memtier's `--pipeline`: each worker keeps this many operations
    /// in flight on a connection of its own. Default 1 (none). Only for closed-loop workloads
    /// that target this tier alone, without `verify` or `trace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<u32>,
    /// Store values compressed: `{ algorithm: zstd, level: 3 }` or `{ algorithm: lz4 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionFile>,
    /// TLS of a `memcaches://` URL (a server started with `-Z`): CA file, client certificate
    /// (default: the system's roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tier::tls_files::TlsSettings>,
}

/// A SQL table used as a cache tier.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlTierFile {
    /// Unique tier name (e.g. `l3`).
    pub name: String,
    /// Any sqlx URL: `sqlite:path/to.db`, `sqlite::memory:`, `postgres://user@host/db`,
    /// `mysql://root@host/db` (MariaDB too).
    pub url: String,
    /// The table (created when absent, with columns k, v, expires_at); default `tierbench_cache`.
    /// An existing table with other columns is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Pooled connections, all opened before measuring (min = max); default 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<u32>,
    /// Bound of each operation, the wait for a pooled connection included (`5s` by default): a
    /// slower one counts as an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationValue>,
    /// Time to live of written rows (an `expires_at` column); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationValue>,
    /// Store values compressed: `{ algorithm: zstd, level: 3 }` or `{ algorithm: lz4 }`. The time
    /// spent compressing and decompressing is reported apart from the tier's latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionFile>,
    /// TLS of a PostgreSQL or MariaDB/MySQL connection: `{ mode: verify-full, ca_file: ca.pem }`
    /// (mode `disable`, `prefer`, `require`, `verify-ca` or `verify-full`, the default), client
    /// certificate and key. Over the URL's `sslmode`/`ssl-mode` parameters; not for SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tier::sql::SqlTls>,
}

/// An in-process cache.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryTierFile {
    /// Unique tier name (e.g. `l1`), used by `target` and thresholds (`l1.hit_rate`).
    pub name: String,
    /// Which in-process cache library to measure.
    #[serde(default)]
    pub engine: MemoryEngine,
    /// Capacity in entries; the engine evicts beyond it.
    pub max_entries: u64,
    /// Time to live of an entry (`30s`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationValue>,
    /// Store values compressed: `{ algorithm: zstd, level: 3 }` or `{ algorithm: lz4 }`. The time
    /// spent compressing and decompressing is reported apart from the tier's latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionFile>,
}

/// A tier's compression.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompressionFile {
    /// `zstd` or `lz4`.
    pub algorithm: crate::tier::stack::compression::Algorithm,
    /// zstd level, 1..=22 (default 3); lz4 has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<i32>,
}
