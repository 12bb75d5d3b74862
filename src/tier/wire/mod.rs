//! tierbench's own connections, shared by the Redis and memcached tiers: the multiplexed
//! connection many workers share (`lane.rs`), the connection a pipelining worker or a
//! connection group owns (`pipe.rs`), the byte stream under both (`stream.rs`: TCP, TLS, unix
//! socket), the reconnect back-off (`backoff.rs`) and what every connection does when it fails
//! (`reconnect.rs`).
//!
//! Why shared: each server speaks its own protocol, but the hard parts — one write per round
//! of queued commands, replies handed back in order, a lost connection failing exactly the
//! operations in flight and reconnecting in the background, a late reply never taken for the
//! next command's — are the same, and were tested once with the servers going away. The
//! `Protocol` says how a command is written and a reply read: RESP (`redis/resp.rs`) or
//! memcached's meta protocol (`memcached/meta.rs`).

pub(in crate::tier) mod backoff;
pub(in crate::tier) mod lane;
pub mod pipe;
pub(in crate::tier) mod reconnect;
pub(in crate::tier) mod stream;

use std::future::Future;
use std::time::Duration;

use crate::tier::TierError;
use crate::tier::memcached::meta;
use crate::tier::redis::resp::{self, Reply};
use crate::workload::op::Op;

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Redis' RESP.
    Resp,
    /// memcached's meta commands (`mg`, `ms`, `md`, `mn`), text protocol 1.6.
    Meta,
}

impl Protocol {
    /// The server, as messages name it.
    pub fn server(self) -> &'static str {
        match self {
            Protocol::Resp => "Redis",
            Protocol::Meta => "memcached",
        }
    }

    /// The next complete reply in `buf[at..]` and where the one after it starts; `None` when
    /// it has not all arrived. Err: the input is not this protocol.
    #[inline]
    pub fn parse(self, buf: &[u8], at: usize) -> Result<Option<(Reply<'_>, usize)>, String> {
        match self {
            Protocol::Resp => resp::parse(buf, at).map_err(|e| e.0),
            Protocol::Meta => meta::parse(buf, at),
        }
    }

    /// Writes one measured operation (get, set, delete, touch) on `key` into `out`.
    #[inline]
    pub fn encode(self, out: &mut Vec<u8>, op: Op, key: &str, value: &[u8], ttl_ms: Option<u64>) {
        match self {
            Protocol::Resp => resp::encode_op(out, op, key, value, ttl_ms),
            Protocol::Meta => meta::encode(out, op, key, value, ttl_ms),
        }
    }
}

/// One command's outcome in a batch: `Some(hit)` for a GET, `None` for the others, or its error.
pub type BatchReply = Result<Option<bool>, TierError>;

/// Runs `call` bounded by `timeout`.
#[inline]
pub(in crate::tier) async fn bounded<T, E>(
    timeout: Duration,
    call: impl Future<Output = Result<T, E>>,
    error: impl FnOnce(E) -> TierError,
) -> Result<T, TierError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result.map_err(error),
        Err(_) => Err(TierError::Operation(format!(
            "no answer within {timeout:?} (the tier's timeout)"
        ))),
    }
}
