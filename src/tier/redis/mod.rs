//! The Redis tier (an L2). The measured operations (GET, SET, DEL, PEXPIRE/EXISTS, pipelined
//! batches) go over tierbench's own multiplexed RESP connections to a TCP server
//! (`wire/lane.rs`: one write per round of queued commands, no channel per operation); setup,
//! INFO, SCAN and cleanup, and every operation to a server those do not speak (a unix socket),
//! go through the `redis` crate's `ConnectionManager` (`redis_data.rs` holds both data paths).
//! `rediss://` servers get TLS on both (`redis_tls.rs`: the tier's `tls` CA file, client
//! certificate, and skipping verification only when asked); ACL users and the database come
//! from the URL and are sent (AUTH, SELECT) on every new connection of both.
//!
//! Many workers share one multiplexed connection; worker `i` uses connection `i % connections`.
//! Alone over TCP (no stack, pipelining, hashes), one task drives each connection's workers on a
//! connection of its own instead (`engine/connection_group.rs`, `open_group_pipe`).
//! Every operation is bounded by the tier's `timeout`, explicit: the answer, and with the
//! crate's connections the wait for a new connection during an outage. A connection that fails
//! fails the operations waiting on it and reconnects in the background with back-off (2 ms
//! doubling up to 1 s); operations issued while it is down fail at once, so a dead server costs
//! a few connect attempts a second, and the run goes on as soon as the server is back. A slow
//! answer (a timeout) never drops a connection.
//! Keys are exactly the run's names (`key_names.rs`: the prefix plus an index or a trace's
//! key). Before the first write the tier claims them (`claim.rs`, `redis_claim.rs`): a name that
//! already exists and is not tierbench's stops the run with nothing written, and so does a key
//! space that would make an evicting server evict the user's keys. Counts and cleanup look up
//! and UNLINK exactly those names: never a SCAN, a pattern or a flush.
//!
//! Leftovers: a marker hash `{prefix}__tierbench__` lives from setup to the very end of the run
//! and records the run and its key space. A setup that finds another run's marker (a run of
//! this prefix was killed, or kept its keys) removes exactly the names it records and says so.

use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, RedisError};

use super::error::{TierError, redis_message};
use crate::redact::redact_url;
use crate::tier::ownership::claim::{claim, count_existing, release, remove_all};
use crate::tier::ownership::key_names::KeyNames;
use crate::tier::ownership::marker::REDIS_MARKER_SUFFIX;
use crate::tier::redis::data::{DataPath, lean_target};
use crate::tier::redis::hash::{HashLayout, HashStore};
pub use crate::tier::tls_files::TlsSettings;
use crate::tier::wire::BatchReply;
use crate::tier::wire::backoff::{Backoff, MAX_RECONNECT_DELAY, MIN_RECONNECT_DELAY};
use crate::tier::wire::lane::{Lane, Target};
use crate::tier::wire::pipe::PipeTarget;
use crate::tier::wire::stream::explain;
use crate::workload::op::Op;
use crate::workload::values::ValuePool;

/// A connected Redis tier.
pub struct RedisTier {
    /// The `redis` crate's connections: setup, INFO, SCAN, cleanup (the first one).
    connections: Vec<ConnectionManager>,
    /// What carries the measured operations.
    data: DataPath,
    /// Bound of every operation (the tier's `timeout`).
    timeout: Duration,
    ttl_ms: Option<u64>,
    /// Exactly the names the run writes (`key_names.rs`): the claim, counts and cleanup.
    names: KeyNames,
    /// `{prefix}__tierbench__`: set while the run goes on.
    marker: String,
    pipeline: usize,
    /// Where a pipelining worker opens a connection of its own (`wire/pipe.rs`); none on the
    /// crate's path (unix sockets).
    own: Option<Target>,
    /// What setup said about keys an interrupted run left behind, if it found any.
    leftover_note: Option<String>,
    /// `store_as: hash`: the values' field order and pool (`redis_hash.rs`).
    hash: Option<HashStore>,
}

/// How to reach and use Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// redis://, rediss:// or unix socket URL (db and password from the URL).
    pub url: String,
    /// Multiplexed connections shared by the workers.
    pub connections: usize,
    /// Bound of every command: the answer, and the wait for a reconnect during an outage.
    pub timeout: Duration,
    /// Time to live of written keys.
    pub ttl: Option<Duration>,
    /// Operations per round trip (1: no explicit pipelining).
    pub pipeline: usize,
    /// TLS settings of a `rediss://` URL.
    pub tls: Option<TlsSettings>,
    /// A Redis Cluster: `url` and `seeds` are its seed nodes (`redis_cluster.rs`).
    pub cluster: bool,
    /// Seed nodes after `url` (cluster only).
    pub seeds: Vec<String>,
    /// `store_as: hash`: values kept as hashes, re-assembled in this field order.
    pub hash: Option<HashLayout>,
}

fn op_error(e: RedisError) -> TierError {
    TierError::Operation(redis_message(&e))
}

/// Shortest time given to one connect attempt (TCP, AUTH, SELECT), whatever the response timeout:
/// a sub-millisecond timeout fits answers, not handshakes.
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Connect attempts in one reconnect round: as many as fit in `timeout` at the longest pauses
/// (the crate draws each pause at random below its bound), at least one, at most 16.
fn reconnect_attempts(timeout: Duration) -> usize {
    let mut pause = Backoff::default();
    let mut total = Duration::ZERO;
    let mut attempts = 0;
    while attempts < 16 {
        total += pause.current();
        if total > timeout {
            break;
        }
        attempts += 1;
        pause.failed();
    }
    attempts.max(1)
}

/// The setup error of tier `name` at `url` (shown without its password), for a message.
pub(in crate::tier) fn setup_error<'a>(
    name: &'a str,
    url: &'a str,
) -> impl Fn(String) -> TierError + Copy + 'a {
    move |message| TierError::Setup {
        tier: name.to_string(),
        url: redact_url(url),
        message,
    }
}

/// Says on stderr, once per tier, that its TLS certificates are not verified, when its settings
/// turn verification off.
pub(in crate::tier) fn warn_unverified(name: &str, settings: &RedisSettings) {
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
}

/// Why a connection was refused, in the server's words when it refused the URL's credentials:
/// the `redis` crate reports only "Password authentication failed", where tierbench's own
/// handshake sees the reply (`WRONGPASS invalid username-password pair ...`).
async fn refusal(
    client: &redis::Client,
    settings: &RedisSettings,
    connect_timeout: Duration,
    e: &RedisError,
) -> String {
    if e.kind() == redis::ErrorKind::AuthenticationFailed
        && let Ok(Some(target)) = lean_target(client, settings.tls.as_ref(), connect_timeout)
        && let Err(said) = crate::tier::wire::lane::open(&target).await
    {
        return said;
    }
    let said = redis_message(e);
    let plain = settings.url.starts_with("redis://");
    if plain && (said.contains("reset by peer") || said.contains("closed")) {
        return format!("{said}; if the server expects TLS, use a `rediss://` URL");
    }
    said
}

/// `count` of the crate's reconnecting connections, each checked with a PING; the error is
/// the setup message.
async fn managers(
    client: &redis::Client,
    config: ConnectionManagerConfig,
    count: usize,
    connect_timeout: Duration,
) -> Result<Vec<ConnectionManager>, String> {
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        let mut conn = tokio::time::timeout(
            connect_timeout,
            ConnectionManager::new_with_config(client.clone(), config.clone()),
        )
        .await
        .map_err(|_| format!("cannot connect: no answer within {connect_timeout:?}"))?
        .map_err(|e| format!("cannot connect: {}", redis_message(&e)))?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| format!("PING failed: {}", redis_message(&e)))?;
        connections.push(conn);
    }
    Ok(connections)
}

/// tierbench's own connections to `target` for the measured operations, `connections` (at
/// least one) of them; the error is the setup message.
async fn lanes(target: &Target, connections: usize) -> Result<Vec<Lane>, String> {
    let mut lanes = Vec::with_capacity(connections.max(1));
    for _ in 0..connections.max(1) {
        let lane = Lane::connect(target.clone())
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        lanes.push(lane);
    }
    Ok(lanes)
}

impl RedisTier {
    /// Opens `settings.connections` connections and checks them with a PING.
    pub async fn connect(
        name: &str,
        settings: &RedisSettings,
        names: &KeyNames,
    ) -> Result<RedisTier, TierError> {
        let setup = setup_error(name, &settings.url);
        let client = tls::client(&settings.url, settings.tls.as_ref()).map_err(setup)?;
        warn_unverified(name, settings);
        let timeout = settings.timeout;
        let connect_timeout = timeout.max(MIN_CONNECT_TIMEOUT);
        // One plain connection first: a server that is down fails setup at once, where a
        // manager would go through a whole round of reconnect attempts.
        let probe = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(timeout));
        let mut conn = match client
            .get_multiplexed_async_connection_with_config(&probe)
            .await
        {
            Ok(conn) => conn,
            Err(e) => {
                let said = refusal(&client, settings, connect_timeout, &e).await;
                return Err(setup(format!("cannot connect: {}", explain(said))));
            }
        };
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| setup(format!("PING failed: {}", redis_message(&e))))?;
        drop(conn);
        // No response timeout of the crate's own: `bounded` puts the tier's timeout around the
        // whole operation (the answer and any wait for a reconnect), one timer per operation
        // instead of two (two measured 10% more client CPU per operation).
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(None)
            .set_min_delay(MIN_RECONNECT_DELAY)
            .set_exponent_base(2.0)
            .set_max_delay(MAX_RECONNECT_DELAY)
            .set_number_of_retries(reconnect_attempts(timeout));
        // TCP servers get tierbench's own connections for the measured operations, and one
        // crate connection for the rest; other addresses (unix sockets) the crate's throughout.
        let lean = lean_target(&client, settings.tls.as_ref(), connect_timeout).map_err(setup)?;
        let crate_connections = if lean.is_some() {
            1
        } else {
            settings.connections.max(1)
        };
        let connections = managers(&client, config, crate_connections, connect_timeout)
            .await
            .map_err(setup)?;
        let own = lean.clone();
        let data = match lean {
            Some(target) => {
                DataPath::Lean(lanes(&target, settings.connections).await.map_err(setup)?)
            }
            None => DataPath::Crate(connections.clone()),
        };
        let mut tier = RedisTier {
            connections,
            data,
            timeout,
            ttl_ms: settings.ttl.map(|t| t.as_millis().max(1) as u64),
            marker: format!("{}{REDIS_MARKER_SUFFIX}", names.prefix()),
            names: names.clone(),
            pipeline: settings.pipeline.max(1),
            own,
            leftover_note: None,
            hash: settings.hash.as_ref().map(HashStore::new),
        };
        tier.leftover_note = claim(&tier, name, names)
            .await
            .map_err(|r| r.into_setup(name, redact_url(&settings.url)))?;
        Ok(tier)
    }

    /// What setup said about keys an interrupted run left behind (they were removed), if any.
    pub fn leftover_note(&self) -> Option<&str> {
        self.leftover_note.as_deref()
    }

    #[inline]
    fn conn(&self, lane: usize) -> ConnectionManager {
        self.connections[lane % self.connections.len()].clone()
    }

    /// Runs one command of setup, INFO, SCAN or cleanup on the crate's connection, bounded by
    /// the tier's timeout. These connections see no traffic while the measured operations run
    /// on tierbench's own, so a server restart meanwhile shows as a dropped connection on their
    /// next command: the manager reconnects and the command (idempotent, every one of them) is
    /// sent once more.
    async fn admin<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, TierError> {
        self.once_more_after_a_drop(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// Sends with `send` on the crate's connection, bounded by the tier's timeout, and once
    /// more when the connection had dropped (the manager reconnects): `admin` for a command,
    /// `admin_pipe` for a pipeline.
    async fn once_more_after_a_drop<T, Fut>(
        &self,
        send: impl Fn(ConnectionManager) -> Fut,
    ) -> Result<T, TierError>
    where
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let timed_out = || {
            TierError::Operation(format!(
                "no answer within {:?} (the tier's timeout)",
                self.timeout
            ))
        };
        match tokio::time::timeout(self.timeout, send(self.conn(0))).await {
            Ok(Err(e)) if e.is_connection_dropped() || e.is_io_error() => {
                match tokio::time::timeout(self.timeout, send(self.conn(0))).await {
                    Ok(result) => result.map_err(op_error),
                    Err(_) => Err(timed_out()),
                }
            }
            Ok(result) => result.map_err(op_error),
            Err(_) => Err(timed_out()),
        }
    }

    /// GET.
    #[inline]
    pub async fn get(&self, lane: usize, key: &str) -> Result<Option<Bytes>, TierError> {
        match &self.hash {
            Some(hash) => self.data.hash_get(lane, key, hash, self.timeout).await,
            None => self.data.get(lane, key, self.timeout).await,
        }
    }

    /// SET, with PX when the tier has a ttl.
    #[inline]
    pub async fn set(&self, lane: usize, key: &str, value: &[u8]) -> Result<(), TierError> {
        self.set_with_ttl(lane, key, value, self.ttl_ms).await
    }

    /// Gives a hash tier the run's value pool, whose values' fields were split when generated.
    pub fn use_values(&self, values: &std::sync::Arc<ValuePool>) {
        if let Some(hash) = &self.hash {
            hash.use_values(values);
        }
    }

    /// Refuses a call a hash tier does not make (validation refuses the scenario first).
    pub(super) fn strings_only(&self, what: &str) -> Result<(), TierError> {
        match self.hash {
            Some(_) => Err(TierError::Operation(format!(
                "{what} is not supported on a tier with store_as: hash"
            ))),
            None => Ok(()),
        }
    }

    /// A custom command on `key` (under the run's prefix); a Redis error reply is the op's error.
    pub async fn custom(
        &self,
        lane: usize,
        template: &crate::workload::command::CommandTemplate,
        key: &str,
        value: &[u8],
        field: u64,
    ) -> Result<(), TierError> {
        self.data
            .custom(lane, template, key, value, field, self.timeout)
            .await
    }

    /// DEL.
    #[inline]
    pub async fn delete(&self, lane: usize, key: &str) -> Result<(), TierError> {
        let (ttl, timeout) = (self.ttl_ms, self.timeout);
        self.data
            .write(lane, Op::Delete, key, &[], ttl, timeout)
            .await
            .map(drop)
    }

    /// PEXPIRE with the tier's ttl (EXISTS without one). True if the key exists.
    #[inline]
    pub async fn touch(&self, lane: usize, key: &str) -> Result<bool, TierError> {
        let (ttl, timeout) = (self.ttl_ms, self.timeout);
        self.data
            .write(lane, Op::Touch, key, &[], ttl, timeout)
            .await
    }

    /// Operations per round trip.
    pub fn pipeline_depth(&self) -> usize {
        self.pipeline
    }

    /// Where a pipelining worker opens a connection of its own, kept full as replies come
    /// (`wire/pipe.rs`); none on the crate's path, whose workers send round trips of `P`.
    pub fn pipe_target(&self) -> Option<PipeTarget> {
        let target = self.own.clone()?;
        Some(PipeTarget::new(target, self.ttl_ms, self.timeout))
    }

    /// Where one task driving each connection's workers at depth 1 opens its connection
    /// (`engine/connection_group.rs`); none on the crate's path (unix sockets) or for hashes.
    pub fn group_target(&self) -> Option<PipeTarget> {
        self.hash.is_none().then(|| self.pipe_target()).flatten()
    }

    /// How many connections the workers share (`connections`).
    pub fn connection_count(&self) -> usize {
        self.data.connection_count()
    }

    /// Sends a batch of operations in one round trip. Each operation's outcome goes into
    /// `replies`: `Ok(Some(hit))` for a get, `Ok(None)` for the others, or its own error (an
    /// error reply fails only its command, as it would unpipelined); a failed round trip fails
    /// the whole batch.
    pub async fn run_batch(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
        replies: &mut Vec<BatchReply>,
    ) -> Result<(), TierError> {
        self.strings_only("explicit pipelining")?;
        let (ttl, timeout) = (self.ttl_ms, self.timeout);
        self.data.batch(lane, batch, ttl, timeout, replies).await
    }

    /// How many of the run's names exist (outside any measured phase): O(the run's keys).
    pub async fn entries(&self) -> Result<u64, TierError> {
        count_existing(self, &self.names).await
    }

    /// `used_memory` from `INFO memory`, bytes.
    pub async fn used_memory(&self) -> Result<u64, TierError> {
        let info: String = self.admin(redis::cmd("INFO").arg("memory")).await?;
        claim::info_field(&info, "used_memory")
            .ok_or_else(|| TierError::Operation("INFO memory has no used_memory".into()))
    }

    /// Deletes the run's names (exactly those; the marker stays). Returns how many existed.
    pub async fn clear(&self) -> Result<u64, TierError> {
        remove_all(self, &self.names).await
    }

    /// The end of the run: deletes the run's names and then the marker, so a run that finished
    /// leaves nothing; with `keep`, the names stay and the marker says they were kept.
    pub async fn cleanup(&self, keep: bool) -> Result<u64, TierError> {
        release(self, &self.names, keep).await
    }
}

pub(in crate::tier) mod claim;
pub mod cluster;
pub(in crate::tier) mod command;
pub(in crate::tier) mod data;
mod expiring;
pub mod hash;
mod multi;
pub(in crate::tier) mod resp;
pub(in crate::tier) mod tls;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnect_round_lasts_about_the_timeout() {
        // 2+4+...+512 ms, then 1 s pauses: 12 attempts fit in 5 s, 5 in 100 ms.
        assert_eq!(reconnect_attempts(Duration::from_secs(5)), 12);
        assert_eq!(reconnect_attempts(Duration::from_millis(100)), 5);
        assert_eq!(reconnect_attempts(Duration::from_micros(500)), 1);
        assert_eq!(reconnect_attempts(Duration::from_secs(3600)), 16);
    }
}
