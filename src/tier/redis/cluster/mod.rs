//! A Redis Cluster as a tier (`kind: redis` with `cluster: true`).
//!
//! The measured operations (GET, SET [PX], DEL, PEXPIRE/EXISTS) go through the `redis` crate's
//! async cluster client: it learns the slot map from the seeds, sends each key to the primary
//! serving its slot, and follows MOVED (refreshing the map), ASK and TRYAGAIN, so slots may move
//! during a run. tierbench's own lean connections (`wire/lane.rs`) speak to one server and
//! know no slots: they are not used here. Pipelining is refused at validation (the crate's
//! cluster client refuses a pipeline whose keys span slots).
//!
//! Everything else runs on each primary, found by `CLUSTER SLOTS` whenever it is needed (so a
//! primary that joined since setup is not missed): the claim, entries and cleanup look up and
//! UNLINK exactly the run's names on the primary serving each (`redis_cluster_claim.rs`), memory
//! as the sum of every primary's `used_memory`, and per-node counts as each primary's `INFO
//! commandstats` (`metrics::nodes`). The run's marker key lives on the primary of its slot,
//! reached through the cluster client like any key.

use std::time::Duration;

use bytes::Bytes;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo};

use crate::metrics::nodes::{NodeCounts, parse_commandstats};
use crate::redact::redact_url;
use crate::tier::error::{TierError, redis_message};
use crate::tier::ownership::claim::{claim, count_existing, release, remove_all};
use crate::tier::ownership::key_names::KeyNames;
use crate::tier::ownership::marker::REDIS_MARKER_SUFFIX;
use crate::tier::redis::claim::info_field;
use crate::tier::redis::cluster::pipe::{NodePipes, node_info, seed_host, slot_ranges};
use crate::tier::redis::data::{crate_cmd, crate_error};
use crate::tier::redis::tls;
use crate::tier::redis::{RedisSettings, setup_error, warn_unverified};
use crate::tier::wire::stream::explain;
use crate::tier::wire::{BatchReply, bounded};
use crate::workload::op::Op;

/// Shortest time given to one connect attempt, whatever the response timeout.
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A connected Redis Cluster tier.
pub struct RedisClusterTier {
    /// The crate's cluster connections; worker `i` uses connection `i % len`.
    conns: Vec<ClusterConnection>,
    /// Per-primary pipelines (`pipeline: P`, and MSET with a ttl).
    pipes: NodePipes,
    /// Operations per round trip (1: no explicit pipelining).
    pipeline: usize,
    /// The first seed's settings (user, password), used to reach each primary directly.
    seed: ConnectionInfo,
    timeout: Duration,
    connect_timeout: Duration,
    ttl_ms: Option<u64>,
    /// Exactly the names the run writes (`key_names.rs`).
    names: KeyNames,
    /// `{prefix}__tierbench__`: set while the run goes on.
    marker: String,
    leftover_note: Option<String>,
}

/// A primary, reached directly.
struct Primary {
    /// `host:port`.
    name: String,
    conn: redis::aio::MultiplexedConnection,
}

impl RedisClusterTier {
    /// Checks that a seed answers and is a healthy cluster node, then opens the cluster
    /// connections and claims the run's names (`claim.rs`).
    pub async fn connect(
        name: &str,
        settings: &RedisSettings,
        names: &KeyNames,
    ) -> Result<RedisClusterTier, TierError> {
        let setup = setup_error(name, &settings.url);
        let urls: Vec<&String> = std::iter::once(&settings.url)
            .chain(&settings.seeds)
            .collect();
        let mut infos = Vec::with_capacity(urls.len());
        for url in &urls {
            let client = tls::client(url, settings.tls.as_ref())
                .map_err(|e| setup(format!("`{}`: {e}", redact_url(url))))?;
            infos.push(client.get_connection_info().clone());
        }
        warn_unverified(name, settings);
        let timeout = settings.timeout;
        let connect_timeout = timeout.max(MIN_CONNECT_TIMEOUT);
        check_seeds(&urls, &infos, timeout, connect_timeout)
            .await
            .map_err(setup)?;
        let mut builder = ClusterClient::builder(infos.clone())
            .connection_timeout(connect_timeout)
            .response_timeout(timeout);
        // The CA and client certificate of `tls` for every node the cluster client reaches (the
        // TLS mode, verified or not, comes from the first seed's URL).
        if let Some(certs) = settings
            .tls
            .as_ref()
            .map(tls::crate_certificates)
            .transpose()
            .map_err(setup)?
            .flatten()
        {
            builder = builder.certs(certs);
        }
        let client = builder
            .build()
            .map_err(|e| setup(format!("cannot set up the cluster client: {e}")))?;
        let mut conns = Vec::with_capacity(settings.connections.max(1));
        for _ in 0..settings.connections.max(1) {
            let conn = tokio::time::timeout(connect_timeout, client.get_async_connection())
                .await
                .map_err(|_| {
                    setup(format!(
                        "cannot connect to the cluster: no answer within {connect_timeout:?}"
                    ))
                })?
                .map_err(|e| {
                    setup(format!(
                        "cannot connect to the cluster: {}",
                        explain(redis_message(&e))
                    ))
                })?;
            conns.push(conn);
        }
        let pipes = NodePipes::connect(
            conns[0].clone(),
            infos[0].clone(),
            settings.connections.max(1),
            timeout,
            connect_timeout,
        )
        .await
        .map_err(|e| setup(format!("cannot reach the cluster's primaries: {e}")))?;
        let mut tier = RedisClusterTier {
            conns,
            pipes,
            pipeline: settings.pipeline.max(1),
            seed: infos.swap_remove(0),
            timeout,
            connect_timeout,
            ttl_ms: settings.ttl.map(|t| t.as_millis().max(1) as u64),
            marker: format!("{}{REDIS_MARKER_SUFFIX}", names.prefix()),
            names: names.clone(),
            leftover_note: None,
        };
        let store = ClusterNames::open(&tier)
            .await
            .map_err(|e| setup(format!("cannot reach the cluster's primaries: {e}")))?;
        let note = claim(&store, name, names)
            .await
            .map_err(|r| r.into_setup(name, redact_url(&settings.url)))?;
        drop(store);
        tier.leftover_note = note;
        Ok(tier)
    }

    /// What setup said about keys an interrupted run left behind, if any.
    pub fn leftover_note(&self) -> Option<&str> {
        self.leftover_note.as_deref()
    }

    /// One command through the cluster client (routed by its key), bounded by the timeout.
    async fn routed<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, TierError> {
        let mut conn = self.conns[0].clone();
        bounded(self.timeout, cmd.query_async(&mut conn), crate_error).await
    }

    /// GET.
    #[inline]
    pub async fn get(&self, lane: usize, key: &str) -> Result<Option<Bytes>, TierError> {
        let mut conn = self.conns[lane % self.conns.len()].clone();
        let cmd = crate_cmd(Op::Get, key, &[], None);
        let value: Option<Vec<u8>> =
            bounded(self.timeout, cmd.query_async(&mut conn), crate_error).await?;
        Ok(value.map(Bytes::from))
    }

    /// SET, DEL or PEXPIRE/EXISTS: true when the reply is a positive integer.
    #[inline]
    async fn write(&self, lane: usize, op: Op, key: &str, value: &[u8]) -> Result<bool, TierError> {
        let mut conn = self.conns[lane % self.conns.len()].clone();
        let cmd = crate_cmd(op, key, value, self.ttl_ms);
        let reply: redis::Value =
            bounded(self.timeout, cmd.query_async(&mut conn), crate_error).await?;
        Ok(matches!(reply, redis::Value::Int(n) if n > 0))
    }

    /// SET, with PX when the tier has a ttl.
    #[inline]
    pub async fn set(&self, lane: usize, key: &str, value: &[u8]) -> Result<(), TierError> {
        self.write(lane, Op::Set, key, value).await.map(drop)
    }

    /// DEL.
    #[inline]
    pub async fn delete(&self, lane: usize, key: &str) -> Result<(), TierError> {
        self.write(lane, Op::Delete, key, &[]).await.map(drop)
    }

    /// PEXPIRE with the tier's ttl (EXISTS without one). True if the key exists.
    #[inline]
    pub async fn touch(&self, lane: usize, key: &str) -> Result<bool, TierError> {
        self.write(lane, Op::Touch, key, &[]).await
    }

    /// Operations per round trip.
    pub fn pipeline_depth(&self) -> usize {
        self.pipeline
    }

    /// Sends a batch of operations, one pipeline per primary (`redis_cluster_pipe.rs`), all
    /// at once; each operation's outcome goes into `replies`. Bounded by the tier's timeout as
    /// a whole: a batch that times out fails every operation in it.
    pub async fn run_batch(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
        replies: &mut Vec<BatchReply>,
    ) -> Result<(), TierError> {
        let run = async {
            self.pipes.run(lane, batch, self.ttl_ms, replies).await;
            Ok::<(), TierError>(())
        };
        bounded(self.timeout, run, |e| e).await
    }

    /// Every primary serving slots now (`CLUSTER SLOTS`), with a direct connection to each.
    async fn primaries(&self) -> Result<Vec<Primary>, TierError> {
        Ok(self.primaries_and_slots().await?.0)
    }

    /// The primaries, and which of them serves each slot range (`(first, last, primary)`).
    async fn primaries_and_slots(
        &self,
    ) -> Result<(Vec<Primary>, Vec<(u16, u16, usize)>), TierError> {
        let slots: Vec<Vec<redis::Value>> = self.routed(redis::cmd("CLUSTER").arg("SLOTS")).await?;
        let mut addresses: Vec<(String, u16)> = Vec::new();
        let mut ranges = Vec::new();
        for (first, last, host, port) in slot_ranges(&slots, &seed_host(&self.seed)) {
            let at = match addresses.iter().position(|a| *a == (host.clone(), port)) {
                Some(at) => at,
                None => {
                    addresses.push((host, port));
                    addresses.len() - 1
                }
            };
            ranges.push((first, last, at));
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.timeout));
        let mut out = Vec::with_capacity(addresses.len());
        for (host, port) in addresses {
            let name = format!("{host}:{port}");
            let info = node_info(&self.seed, host, port);
            let conn = async {
                redis::Client::open(info)?
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
            }
            .await
            .map_err(|e| {
                TierError::Operation(format!(
                    "cannot connect to primary {name}: {}",
                    redis_message(&e)
                ))
            })?;
            out.push(Primary { name, conn });
        }
        Ok((out, ranges))
    }

    /// One command on one primary, bounded by the timeout.
    async fn on<T: redis::FromRedisValue>(
        &self,
        primary: &mut Primary,
        cmd: &redis::Cmd,
    ) -> Result<T, TierError> {
        let name = &primary.name;
        bounded(self.timeout, cmd.query_async(&mut primary.conn), |e| {
            TierError::Operation(format!("primary {name}: {}", redis_message(&e)))
        })
        .await
    }

    /// How many of the run's names exist, looked up on the primaries serving them.
    pub async fn entries(&self) -> Result<u64, TierError> {
        count_existing(&ClusterNames::open(self).await?, &self.names).await
    }

    /// `used_memory` of `INFO memory`, summed over the primaries, bytes.
    pub async fn used_memory(&self) -> Result<u64, TierError> {
        let mut total = 0u64;
        for mut primary in self.primaries().await? {
            let info: String = self
                .on(&mut primary, redis::cmd("INFO").arg("memory"))
                .await?;
            total += info
                .lines()
                .find_map(|l| l.strip_prefix("used_memory:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    TierError::Operation(format!(
                        "primary {}: INFO memory has no used_memory",
                        primary.name
                    ))
                })?;
        }
        Ok(total)
    }

    /// Each primary's `INFO commandstats` calls of the measured commands, now.
    pub async fn node_counts(&self) -> Result<Vec<NodeCounts>, TierError> {
        let mut out = Vec::new();
        for mut primary in self.primaries().await? {
            let info: String = self
                .on(&mut primary, redis::cmd("INFO").arg("commandstats"))
                .await?;
            out.push(parse_commandstats(&primary.name, &info));
        }
        Ok(out)
    }

    /// Deletes the run's names (exactly those; the marker stays). Returns how many existed.
    pub async fn clear(&self) -> Result<u64, TierError> {
        remove_all(&ClusterNames::open(self).await?, &self.names).await
    }

    /// The end of the run: deletes the run's names (unless `keep`), then the marker.
    pub async fn cleanup(&self, keep: bool) -> Result<u64, TierError> {
        release(&ClusterNames::open(self).await?, &self.names, keep).await
    }

    /// `evicted_keys` of `INFO stats`, summed over the primaries.
    pub async fn evicted_keys(&self) -> Result<u64, TierError> {
        let mut total = 0;
        for mut primary in self.primaries().await? {
            let stats: String = self
                .on(&mut primary, redis::cmd("INFO").arg("stats"))
                .await?;
            total += info_field(&stats, "evicted_keys").unwrap_or(0);
        }
        Ok(total)
    }
}

/// Finds the first seed that answers and checks it is a cluster node with every slot served:
/// a single Redis or a failing cluster is a setup error saying so, with a hint.
async fn check_seeds(
    urls: &[&String],
    infos: &[ConnectionInfo],
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<(), String> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(timeout));
    let mut unreachable = Vec::new();
    for (url, seed) in urls.iter().zip(infos) {
        let shown = redact_url(url);
        let conn = async {
            redis::Client::open(seed.clone())?
                .get_multiplexed_async_connection_with_config(&config)
                .await
        }
        .await;
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                unreachable.push(format!("{shown}: {}", explain(redis_message(&e))));
                continue;
            }
        };
        let said = |e: redis::RedisError| format!("{shown}: {}", redis_message(&e));
        let info: String = redis::cmd("INFO")
            .arg("cluster")
            .query_async(&mut conn)
            .await
            .map_err(said)?;
        if !info.lines().any(|l| l.trim() == "cluster_enabled:1") {
            return Err(format!(
                "{shown} is a single Redis, not a Redis Cluster node (INFO cluster says \
                 cluster_enabled:0); hint: remove `cluster: true` to use it as a single Redis, \
                 or give the address of a node of a cluster"
            ));
        }
        let state: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut conn)
            .await
            .map_err(said)?;
        let state = state
            .lines()
            .find_map(|l| l.strip_prefix("cluster_state:"))
            .unwrap_or("unknown")
            .trim()
            .to_string();
        if state != "ok" {
            return Err(format!(
                "the cluster of {shown} is not serving every slot (CLUSTER INFO says \
                 cluster_state:{state}); hint: `redis-cli --cluster check {}` shows which \
                 slots or nodes are missing",
                host_port(seed.addr())
            ));
        }
        return Ok(());
    }
    Err(format!(
        "cannot connect to any seed of the cluster ({}); hint: check the addresses, or add more \
         `seeds`",
        unreachable.join("; ")
    ))
}

/// `host:port` of a TCP address (empty for others).
fn host_port(addr: &ConnectionAddr) -> String {
    match addr {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            format!("{host}:{port}")
        }
        _ => String::new(),
    }
}

mod multi;
mod names;
pub(in crate::tier) mod pipe;
use names::ClusterNames;
