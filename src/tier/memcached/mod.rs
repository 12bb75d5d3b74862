//! The memcached tier (`kind: memcached`), a shared tier like Redis: get, set, delete and touch
//! as memcached's meta commands (`meta.rs`) over tierbench's own connections (`wire/`), the
//! same multiplexed connections, pipelined windows and connection groups the Redis tier uses,
//! so both are measured the same way and recover from a restart the same way.
//!
//! Why tierbench's own codec rather than a client crate: the meta protocol's measured commands
//! are four one-line requests, and the shared connections already give one write per round of
//! queued commands, no allocation or channel per operation, and the fault handling the restart
//! drills check; a crate would add its own connection pool and per-call futures on the measured
//! path (docs/performance.md has the figures against memtier_benchmark).
//!
//! Names: memcached has no SCAN, and tierbench needs none. The run writes exactly its names
//! (`ownership::key_names`: the prefix plus an index, or a trace's keys); before the first write
//! it claims them (`claim.rs`: none may exist unless an earlier run's marker lists it), and at
//! the end, or after an interrupt, it deletes exactly those names and then its marker, the key
//! `{prefix}__tierbench__` whose value records the run.

mod address;
mod claim;
pub(in crate::tier) mod meta;
mod stats;

use std::time::Duration;

use bytes::Bytes;

use crate::redact::redact_url;
use crate::tier::error::TierError;
use crate::tier::ownership::claim::{claim, count_existing, release, remove_all};
use crate::tier::ownership::key_names::KeyNames;
use crate::tier::ownership::marker::REDIS_MARKER_SUFFIX;
use crate::tier::tls_files::TlsSettings;
use crate::tier::wire::lane::{Answer, Lane, Target};
use crate::tier::wire::pipe::PipeTarget;
use crate::tier::wire::stream::lane_tls;
use crate::tier::wire::{BatchReply, Protocol, bounded};
use crate::workload::batch::BatchKeys;
use crate::workload::op::Op;
pub use address::Address;

/// memcached's longest key, bytes.
pub const MAX_KEY_BYTES: usize = 250;

/// Shortest time given to one connect attempt, whatever the response timeout.
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How to reach and use memcached.
#[derive(Debug, Clone)]
pub struct MemcachedSettings {
    /// `memcache://host[:port]`, `memcaches://host[:port]` or `unix:///path`.
    pub url: String,
    /// Multiplexed connections shared by the workers.
    pub connections: usize,
    /// Bound of every command.
    pub timeout: Duration,
    /// Time to live of written keys (whole seconds on the server, rounded up).
    pub ttl: Option<Duration>,
    /// Operations per round trip (1: no explicit pipelining).
    pub pipeline: usize,
    /// TLS settings of a `memcaches://` URL.
    pub tls: Option<TlsSettings>,
    /// The largest value the run writes, when known (uncompressed): setup refuses a server
    /// whose item size limit (`-I`) it exceeds.
    pub max_value_bytes: Option<usize>,
}

/// A connected memcached tier.
pub struct MemcachedTier {
    lanes: Vec<Lane>,
    target: Target,
    server: String,
    timeout: Duration,
    ttl_ms: Option<u64>,
    names: KeyNames,
    marker: String,
    pipeline: usize,
    leftover_note: Option<String>,
}

fn setup_error(name: &str, url: &str, message: String) -> TierError {
    TierError::Setup {
        tier: name.to_string(),
        url: redact_url(url),
        message,
    }
}

/// Where tierbench's connections go, from the settings.
fn target_of(settings: &MemcachedSettings) -> Result<(Target, String), String> {
    let address = Address::parse(&settings.url)?;
    let tls = match (address.tls, &settings.tls) {
        (true, tls) => {
            let insecure = tls.as_ref().is_some_and(|t| t.insecure_skip_verify);
            Some(lane_tls(&address.host, tls.as_ref(), insecure)?)
        }
        (false, Some(_)) => return Err("`tls` settings need a `memcaches://` URL".into()),
        (false, None) => None,
    };
    let target = Target {
        protocol: Protocol::Meta,
        host: address.host.clone(),
        port: address.port,
        tls,
        hello: Vec::new(),
        hello_replies: 0,
        connect_timeout: settings.timeout.max(MIN_CONNECT_TIMEOUT),
    };
    Ok((target, address.name()))
}

/// Refuses values the server cannot store: an item (header, key and value) over its
/// `item_size_max` (`-I`, 1 MiB by default) is refused with `SERVER_ERROR object too large`.
fn check_item_size(
    settings: &MemcachedSettings,
    names: &KeyNames,
    limits: &std::collections::BTreeMap<String, String>,
) -> Result<(), String> {
    let (Some(largest), limit) = (
        settings.max_value_bytes,
        stats::number(limits, "item_size_max"),
    ) else {
        return Ok(());
    };
    let item = largest as u64 + names.mean_name_bytes() + claim::ITEM_HEADER;
    if limit > 0 && item > limit {
        return Err(format!(
            "values of up to {largest} bytes make items of about {item} bytes, over this \
             server's item size limit of {limit} bytes (memcached -I, 1 MiB by default): it \
             would refuse them with SERVER_ERROR object too large for cache; use smaller \
             values (data.values.size), `compression`, or start memcached with a larger -I"
        ));
    }
    Ok(())
}

impl MemcachedTier {
    /// Connects `settings.connections` connections, checks the server answers, and claims the
    /// run's names.
    pub async fn connect(
        name: &str,
        settings: &MemcachedSettings,
        names: &KeyNames,
    ) -> Result<MemcachedTier, TierError> {
        let setup = |m: String| setup_error(name, &settings.url, m);
        let (target, server) = target_of(settings).map_err(setup)?;
        if settings
            .tls
            .as_ref()
            .is_some_and(|t| t.insecure_skip_verify)
        {
            eprintln!(
                "tierbench: warning: tier `{name}`: TLS certificate verification is off \
                 (tls.insecure_skip_verify): anyone on the path can read and change the traffic"
            );
        }
        let mut lanes = Vec::with_capacity(settings.connections.max(1));
        for _ in 0..settings.connections.max(1) {
            let lane = Lane::connect(target.clone())
                .await
                .map_err(|e| setup(format!("cannot connect: {e}")))?;
            lanes.push(lane);
        }
        let mut tier = MemcachedTier {
            lanes,
            target,
            server,
            timeout: settings.timeout,
            ttl_ms: settings.ttl.map(|t| t.as_millis().max(1) as u64),
            names: names.clone(),
            marker: format!("{}{REDIS_MARKER_SUFFIX}", names.prefix()),
            pipeline: settings.pipeline.max(1),
            leftover_note: None,
        };
        let limits = tier
            .stats("stats settings")
            .await
            .map_err(|e| setup(format!("`stats settings` failed: {e}")))?;
        check_item_size(settings, names, &limits).map_err(setup)?;
        tier.leftover_note = claim(&tier, name, names)
            .await
            .map_err(|r| r.into_setup(name, redact_url(&settings.url)))?;
        Ok(tier)
    }

    /// What setup said about names an interrupted run left behind (they were removed), if any.
    pub fn leftover_note(&self) -> Option<&str> {
        self.leftover_note.as_deref()
    }

    #[inline]
    fn lane(&self, lane: usize) -> &Lane {
        &self.lanes[lane % self.lanes.len()]
    }

    /// One measured command on `key`, bounded by the tier's timeout; the server's refusal
    /// (`SERVER_ERROR ...`) is the operation's error.
    #[inline]
    async fn one(&self, lane: usize, op: Op, key: &str, value: &[u8]) -> Result<Answer, TierError> {
        self.one_for(lane, op, key, value, self.ttl_ms).await
    }

    /// `one` with the time to live `ttl` (milliseconds) instead of the tier's.
    #[inline]
    async fn one_for(
        &self,
        lane: usize,
        op: Op,
        key: &str,
        value: &[u8],
        ttl: Option<u64>,
    ) -> Result<Answer, TierError> {
        let call = self.lane(lane).one(op == Op::Get, |out| {
            meta::encode(out, op, key, value, ttl);
        });
        match bounded(self.timeout, call, TierError::Operation).await? {
            Answer::Failed(said) => Err(TierError::Operation(said)),
            answer => Ok(answer),
        }
    }

    /// `mg KEY v`: the value, if the key exists.
    #[inline]
    pub async fn get(&self, lane: usize, key: &str) -> Result<Option<Bytes>, TierError> {
        match self.one(lane, Op::Get, key, &[]).await? {
            Answer::Value(v) => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    /// `ms KEY n [T<ttl>]`.
    #[inline]
    pub async fn set(&self, lane: usize, key: &str, value: &[u8]) -> Result<(), TierError> {
        self.one(lane, Op::Set, key, value).await.map(drop)
    }

    /// `ms KEY n T<ttl>` with the time to live `ttl_ms` instead of the tier's (a trace's).
    pub async fn set_expiring(
        &self,
        lane: usize,
        key: &str,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<(), TierError> {
        self.one_for(lane, Op::Set, key, value, Some(ttl_ms))
            .await
            .map(drop)
    }

    /// `md KEY`.
    #[inline]
    pub async fn delete(&self, lane: usize, key: &str) -> Result<(), TierError> {
        self.one(lane, Op::Delete, key, &[]).await.map(drop)
    }

    /// `mg KEY T<ttl>`: true if the key exists.
    #[inline]
    pub async fn touch(&self, lane: usize, key: &str) -> Result<bool, TierError> {
        let answer = self.one(lane, Op::Touch, key, &[]).await?;
        Ok(!matches!(answer, Answer::Nil))
    }

    /// Operations per round trip.
    pub fn pipeline_depth(&self) -> usize {
        self.pipeline
    }

    /// Where a pipelining worker, or a task driving a connection's workers, opens a connection
    /// of its own (`wire/pipe.rs`).
    pub fn pipe_target(&self) -> PipeTarget {
        PipeTarget::new(self.target.clone(), self.ttl_ms, self.timeout)
    }

    /// How many connections the workers share (`connections`).
    pub fn connection_count(&self) -> usize {
        self.lanes.len()
    }

    /// Sends `batch` in one round trip; each operation's outcome goes into `replies` in order
    /// (`Some(hit)` for a get; a refusal fails only its command).
    pub async fn run_batch(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
        replies: &mut Vec<BatchReply>,
    ) -> Result<(), TierError> {
        replies.clear();
        let ttl = self.ttl_ms;
        let mut answers = Vec::with_capacity(batch.len());
        let encode_all = |out: &mut Vec<u8>| {
            for &(op, key, value) in batch {
                meta::encode(out, op, key, value, ttl);
            }
        };
        let call = self
            .lane(lane)
            .many(batch.len(), false, encode_all, &mut answers);
        bounded(self.timeout, call, TierError::Operation).await?;
        replies.extend(batch.iter().zip(answers).map(|(&(op, ..), a)| match a {
            Answer::Failed(said) => Err(TierError::Operation(said)),
            a => Ok(matches!(op, Op::Get | Op::MGet).then_some(!matches!(a, Answer::Nil))),
        }));
        Ok(())
    }

    /// The keys at `which` as one pipeline of `mg KEY v` (memcached's multi-key get).
    pub async fn mget(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
        found: &mut Vec<Option<Bytes>>,
    ) -> Result<(), TierError> {
        let mut answers = Vec::with_capacity(which.len());
        let call = self.lane(lane).many(
            which.len(),
            true,
            |out| {
                for &i in which {
                    meta::encode(out, Op::Get, keys.key(i as usize), &[], None);
                }
            },
            &mut answers,
        );
        bounded(self.timeout, call, TierError::Operation).await?;
        for answer in answers {
            found.push(match answer {
                Answer::Value(v) => Some(v),
                Answer::Failed(said) => return Err(TierError::Operation(said)),
                _ => None,
            });
        }
        Ok(())
    }

    /// The keys at `which`, key `i` with `value(i)`, as one pipeline of `ms`.
    pub async fn mset<'v>(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
        value: impl Fn(usize) -> &'v [u8],
    ) -> Result<(), TierError> {
        let ttl = self.ttl_ms;
        self.pipeline_of(lane, which.len(), |out| {
            for &i in which {
                let i = i as usize;
                meta::encode(out, Op::Set, keys.key(i), value(i), ttl);
            }
        })
        .await
    }

    /// The keys at `which` removed, as one pipeline of `md`.
    pub async fn mdelete(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
    ) -> Result<(), TierError> {
        self.pipeline_of(lane, which.len(), |out| {
            for &i in which {
                meta::encode(out, Op::Delete, keys.key(i as usize), &[], None);
            }
        })
        .await
    }

    /// `count` commands that `encode` writes, in one round trip; the first refusal fails it.
    async fn pipeline_of(
        &self,
        lane: usize,
        count: usize,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), TierError> {
        let mut answers = Vec::with_capacity(count);
        let call = self.lane(lane).many(count, false, encode, &mut answers);
        bounded(self.timeout, call, TierError::Operation).await?;
        match answers.into_iter().find_map(|a| match a {
            Answer::Failed(said) => Some(said),
            _ => None,
        }) {
            Some(said) => Err(TierError::Operation(said)),
            None => Ok(()),
        }
    }

    /// How many of the run's names exist (outside any measured phase): `me` per name, which
    /// counts no get.
    pub async fn entries(&self) -> Result<u64, TierError> {
        count_existing(self, &self.names).await
    }

    /// A `stats` reply, bounded by the tier's timeout.
    async fn stats(
        &self,
        command: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, TierError> {
        stats::read(&self.target, command, self.timeout.max(MIN_CONNECT_TIMEOUT))
            .await
            .map_err(TierError::Operation)
    }

    /// The memory the server holds for its items: `stats slabs` chunk sizes × used chunks.
    pub async fn slab_bytes(&self) -> Result<u64, TierError> {
        Ok(stats::slab_bytes(&self.stats("stats slabs").await?))
    }

    /// Items the server evicted since it started (`stats` `evictions`).
    pub async fn evictions(&self) -> Result<u64, TierError> {
        Ok(stats::number(&self.stats("stats").await?, "evictions"))
    }

    /// The server's counts now (`stats`: gets, hits, sets, deletes, touches), as one node.
    pub async fn node_counts(&self) -> Result<crate::metrics::nodes::NodeCounts, TierError> {
        let now = self.stats("stats").await?;
        let calls: std::collections::BTreeMap<String, u64> = stats::COUNTED
            .iter()
            .map(|c| ((*c).to_string(), stats::number(&now, c)))
            .collect();
        let commands = [
            "cmd_get",
            "cmd_set",
            "cmd_touch",
            "delete_hits",
            "delete_misses",
        ];
        Ok(crate::metrics::nodes::NodeCounts {
            node: self.server.clone(),
            source: "stats".to_string(),
            total: commands.iter().map(|c| calls[*c]).sum(),
            calls,
        })
    }

    /// Deletes the run's names (exactly those; the marker stays).
    pub async fn clear(&self) -> Result<u64, TierError> {
        remove_all(self, &self.names).await
    }

    /// The end of the run: deletes the run's names, then the marker; with `keep`, the names
    /// stay and the marker says they were kept.
    pub async fn cleanup(&self, keep: bool) -> Result<u64, TierError> {
        release(self, &self.names, keep).await
    }
}
