//! Pipelines on a Redis Cluster (`pipeline: P` with `cluster: true`, and the `SET PX` batches of
//! an MSET with a ttl): a batch is split by the primary serving each key's slot, and each
//! primary gets its share as one pipeline, all primaries at once.
//!
//! Why not the `redis` crate's cluster pipeline: it sends a whole pipeline to the node of its
//! first key and, when any reply is a redirection (MOVED, ASK), sends the *whole* pipeline again
//! to the node named, so commands that had run would run twice, and a pipeline holding keys of
//! two nodes would bounce between them. Here tierbench keeps its own slot map (`CLUSTER SLOTS`),
//! sends each primary its commands on a direct connection (one node runs commands of many slots
//! in one pipeline; only a multi-key command must stay within one slot), and re-sends only the
//! commands answered with a redirection (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), one by one, through
//! the crate's cluster client, which follows them. A redirection or a failed node refreshes the
//! slot map in the background. So every command runs once, where its slot lives, and the
//! nodes' `INFO commandstats` add up to the client's counts even while slots move.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::Poll;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, RedisResult, Value};

use crate::tier::error::{TierError, redis_message};
use crate::tier::redis::data::{crate_cmd, crate_error};
use crate::tier::wire::reconnect::Reconnect;
use crate::tier::wire::{BatchReply, bounded};
use crate::workload::op::Op;

/// Hash slots of a Redis Cluster.
const SLOTS: usize = 16384;

/// The slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}` when it has a
/// non-empty one, modulo 16384 (the Redis Cluster specification).
pub(in crate::tier) fn key_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        rest.iter()
            .position(|&b| b == b'}')
            .filter(|&close| close > 0)
            .map(|close| &rest[..close])
    });
    let mut crc: u16 = 0;
    for &byte in tagged.unwrap_or(key) {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % SLOTS as u16
}

/// The slot ranges of a `CLUSTER SLOTS` reply with their primary's host and port (a primary
/// announcing no host is the seed's host).
pub(in crate::tier) fn slot_ranges(
    slots: &[Vec<Value>],
    seed_host: &str,
) -> Vec<(u16, u16, String, u16)> {
    let mut out = Vec::new();
    for range in slots {
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(node))) =
            (range.first(), range.get(1), range.get(2))
        else {
            continue;
        };
        let host = match node.first() {
            Some(Value::BulkString(h)) if !h.is_empty() && h != b"?" => {
                String::from_utf8_lossy(h).into_owned()
            }
            _ => seed_host.to_string(),
        };
        let Some(Value::Int(port)) = node.get(1) else {
            continue;
        };
        let (Ok(start), Ok(end), Ok(port)) = (
            u16::try_from(*start),
            u16::try_from(*end),
            u16::try_from(*port),
        ) else {
            continue;
        };
        out.push((start, end, host, port));
    }
    out
}

/// The seed's settings (user, password, TLS) for the node at `host:port`.
pub(in crate::tier) fn node_info(seed: &ConnectionInfo, host: String, port: u16) -> ConnectionInfo {
    let addr = match seed.addr() {
        ConnectionAddr::TcpTls {
            insecure,
            tls_params,
            ..
        } => ConnectionAddr::TcpTls {
            host,
            port,
            insecure: *insecure,
            tls_params: tls_params.clone(),
        },
        _ => ConnectionAddr::Tcp(host, port),
    };
    seed.clone().set_addr(addr)
}

/// The host of the seed's address (empty for others).
pub(in crate::tier) fn seed_host(seed: &ConnectionInfo) -> String {
    match seed.addr() {
        ConnectionAddr::Tcp(host, _) | ConnectionAddr::TcpTls { host, .. } => host.clone(),
        _ => String::new(),
    }
}

/// One primary with direct connections (worker `i` uses connection `i % len`).
struct Node {
    /// `host:port`.
    name: String,
    conns: Vec<MultiplexedConnection>,
    /// A pipeline to it failed: reconnect at the next refresh.
    broken: AtomicBool,
}

/// Which primary serves each slot.
struct SlotMap {
    /// Index into `nodes`, per slot.
    owner: Vec<u16>,
    nodes: Vec<Arc<Node>>,
}

struct Inner {
    map: RwLock<Arc<SlotMap>>,
    refreshing: AtomicBool,
    /// Whether the map's primaries are all reachable: a failed pipeline marks it down, and the
    /// refresh that reconnects the failed primary waits for the back-off (`reconnect.rs`).
    link: Mutex<Reconnect>,
    /// The crate's cluster client: `CLUSTER SLOTS`, and the redirected commands.
    cluster: ClusterConnection,
    seed: ConnectionInfo,
    config: AsyncConnectionConfig,
    per_node: usize,
    timeout: Duration,
}

/// Per-primary pipelines of a cluster tier.
pub(in crate::tier) struct NodePipes {
    inner: Arc<Inner>,
}

impl NodePipes {
    /// Reads the slot map and connects to every primary (`per_node` connections each).
    pub(in crate::tier) async fn connect(
        cluster: ClusterConnection,
        seed: ConnectionInfo,
        per_node: usize,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<NodePipes, TierError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(timeout));
        let inner = Inner {
            map: RwLock::new(Arc::new(SlotMap {
                owner: Vec::new(),
                nodes: Vec::new(),
            })),
            refreshing: AtomicBool::new(false),
            link: Mutex::new(Reconnect::new("Redis")),
            cluster,
            seed,
            config,
            per_node: per_node.max(1),
            timeout,
        };
        inner.refresh().await?;
        Ok(NodePipes {
            inner: Arc::new(inner),
        })
    }

    /// Sends `batch`, split by primary, one pipeline per primary, all at once; each command's
    /// outcome goes into `replies`, in order. A redirected command is sent again through the
    /// cluster client; a primary whose pipeline failed fails its commands only.
    pub(in crate::tier) async fn run(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
        ttl_ms: Option<u64>,
        replies: &mut Vec<BatchReply>,
    ) {
        replies.clear();
        replies.resize_with(batch.len(), || Ok(None));
        let map = self.inner.current();
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); map.nodes.len()];
        for (i, &(_, key, _)) in batch.iter().enumerate() {
            let owner = map
                .owner
                .get(usize::from(key_slot(key.as_bytes())))
                .copied()
                .unwrap_or(0);
            groups[usize::from(owner)].push(i);
        }
        let mut calls: Vec<Call<'_>> = Vec::with_capacity(groups.len());
        let mut sent: Vec<(&Arc<Node>, &[usize])> = Vec::with_capacity(groups.len());
        for (node, positions) in map.nodes.iter().zip(&groups) {
            if positions.is_empty() {
                continue;
            }
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for &i in positions {
                let (op, key, value) = batch[i];
                pipe.add_command(crate_cmd(op, key, value, ttl_ms));
            }
            let mut conn = node.conns[lane % node.conns.len()].clone();
            calls.push(Box::pin(async move { pipe.query_async(&mut conn).await }));
            sent.push((node, positions));
        }
        let results = join_all(calls).await;
        let mut stale = false;
        let mut redirected = Vec::new();
        for ((node, positions), result) in sent.into_iter().zip(results) {
            match result {
                Ok(values) if values.len() == positions.len() => {
                    for (&i, value) in positions.iter().zip(values) {
                        let op = batch[i].0;
                        replies[i] = match value {
                            Value::ServerError(e) if redirection(e.code()) => {
                                redirected.push(i);
                                continue;
                            }
                            Value::ServerError(e) => Err(crate_error(e.into())),
                            v => Ok((op == Op::Get).then_some(!matches!(v, Value::Nil))),
                        };
                    }
                }
                Ok(values) => {
                    let said = format!(
                        "primary {}: a pipeline of {} commands got {} replies",
                        node.name,
                        positions.len(),
                        values.len()
                    );
                    for &i in positions {
                        replies[i] = Err(TierError::Operation(said.clone()));
                    }
                }
                Err(e) => {
                    node.broken.store(true, Ordering::Relaxed);
                    stale = true;
                    let said = format!("primary {}: {}", node.name, redis_message(&e));
                    self.inner.failed(&said);
                    for &i in positions {
                        replies[i] = Err(TierError::Operation(said.clone()));
                    }
                }
            }
        }
        if !redirected.is_empty() {
            stale = true;
            let mut conn = self.inner.cluster.clone();
            for i in redirected {
                let (op, key, value) = batch[i];
                let cmd = crate_cmd(op, key, value, ttl_ms);
                let reply: RedisResult<Value> = cmd.query_async(&mut conn).await;
                replies[i] = match reply {
                    Ok(v) => Ok((op == Op::Get).then_some(!matches!(v, Value::Nil))),
                    Err(e) => Err(crate_error(e)),
                };
            }
        }
        if stale {
            self.refresh_soon();
        }
    }

    /// Refreshes the slot map in the background, unless a refresh is under way.
    /// A primary that failed is reconnected by a refresh once the back-off allows it.
    fn refresh_soon(&self) {
        if self.inner.link().attempt_due().is_err()
            || self.inner.refreshing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            // A failed refresh keeps the old map: its commands are redirected or fail, and the
            // next one tries again when the back-off allows.
            match inner.refresh().await {
                Ok(()) => inner.link().connected(),
                Err(e) => {
                    inner.link().attempt_failed(e.to_string());
                }
            }
            inner.refreshing.store(false, Ordering::Release);
        });
    }
}

/// An error code telling that the slot is served elsewhere or not now.
fn redirection(code: &str) -> bool {
    matches!(code, "MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN")
}

impl Inner {
    fn link(&self) -> std::sync::MutexGuard<'_, Reconnect> {
        self.link.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A primary's pipeline failed for `why`: the map is down until a refresh reconnects it
    /// (a failure while it is down already does not put the next attempt off).
    fn failed(&self, why: &str) {
        let mut link = self.link();
        if link.why_down().is_none() {
            link.lost(why.to_string());
        }
    }

    fn current(&self) -> Arc<SlotMap> {
        Arc::clone(&self.map.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads `CLUSTER SLOTS` and connects to primaries not known yet (or whose connection
    /// failed), keeping the others' connections.
    async fn refresh(&self) -> Result<(), TierError> {
        let mut cluster = self.cluster.clone();
        let slots: Vec<Vec<Value>> = bounded(
            self.timeout,
            redis::cmd("CLUSTER").arg("SLOTS").query_async(&mut cluster),
            crate_error,
        )
        .await?;
        let ranges = slot_ranges(&slots, &seed_host(&self.seed));
        let old = self.current();
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        let mut owner = vec![0u16; SLOTS];
        for (start, end, host, port) in ranges {
            let name = format!("{host}:{port}");
            let index = match nodes.iter().position(|n| n.name == name) {
                Some(index) => index,
                None => {
                    let kept = old
                        .nodes
                        .iter()
                        .find(|n| n.name == name && !n.broken.load(Ordering::Relaxed));
                    let node = match kept {
                        Some(node) => Arc::clone(node),
                        None => Arc::new(self.open(name, host, port).await?),
                    };
                    nodes.push(node);
                    nodes.len() - 1
                }
            };
            let range = usize::from(start)..=usize::from(end).min(SLOTS - 1);
            if let Some(owned) = owner.get_mut(range) {
                owned.fill(index as u16);
            }
        }
        if nodes.is_empty() {
            return Err(TierError::Operation(
                "CLUSTER SLOTS names no primary serving slots".into(),
            ));
        }
        *self.map.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(SlotMap { owner, nodes });
        Ok(())
    }

    async fn open(&self, name: String, host: String, port: u16) -> Result<Node, TierError> {
        let info = node_info(&self.seed, host, port);
        let client = redis::Client::open(info)
            .map_err(|e| TierError::Operation(format!("primary {name}: {}", redis_message(&e))))?;
        let mut conns = Vec::with_capacity(self.per_node);
        for _ in 0..self.per_node {
            let conn = client
                .get_multiplexed_async_connection_with_config(&self.config)
                .await
                .map_err(|e| {
                    TierError::Operation(format!(
                        "cannot connect to primary {name}: {}",
                        redis_message(&e)
                    ))
                })?;
            conns.push(conn);
        }
        Ok(Node {
            name,
            conns,
            broken: AtomicBool::new(false),
        })
    }
}

/// One primary's pipeline in flight.
type Call<'a> = Pin<Box<dyn Future<Output = RedisResult<Vec<Value>>> + Send + 'a>>;

/// Drives every call at once; their results in order.
async fn join_all<T>(mut calls: Vec<Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut done: Vec<Option<T>> = calls.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (call, out) in calls.iter_mut().zip(done.iter_mut()) {
            if out.is_none() {
                match call.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_cluster_specification() {
        // The specification's CRC16 check value, and slots redis-cli's CLUSTER KEYSLOT gives.
        assert_eq!(key_slot(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        // A hash tag: only the part in the first {...} counts; an empty one does not.
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }
}
