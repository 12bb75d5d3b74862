//! The Redis tier's measured operations (GET, SET, DEL, PEXPIRE/EXISTS, and batches of them),
//! over the connections that carry them: tierbench's own lean connections (`wire/lane.rs`) for
//! TCP servers, the `redis` crate's `ConnectionManager`s for what those do not speak (unix
//! sockets, and TLS should the crate's TLS feature be enabled), and where the lean connections
//! go (`lean_target`). Hash values (`store_as: hash`) have their calls in `redis_hash.rs`.
//!
//! Every call is bounded by the tier's timeout, one timer per call: the answer, and for the
//! crate's connections the wait for a reconnect during an outage.

use std::time::Duration;

use bytes::Bytes;
use redis::RedisError;
use redis::aio::ConnectionManager;

use crate::tier::error::{TierError, redis_message};
use crate::tier::redis::resp;
use crate::tier::tls_files::TlsSettings;
use crate::tier::wire::lane::{Answer, Lane, Target};
use crate::tier::wire::stream::lane_tls;
use crate::tier::wire::{BatchReply, Protocol, bounded};
use crate::workload::command::{CommandTemplate, Segment};
use crate::workload::op::Op;

/// The connections that carry the measured operations.
pub enum DataPath {
    /// tierbench's own RESP connections.
    Lean(Vec<Lane>),
    /// The `redis` crate's reconnecting multiplexed connections.
    Crate(Vec<ConnectionManager>),
}

pub(in crate::tier) fn crate_error(e: RedisError) -> TierError {
    TierError::Operation(redis_message(&e))
}

/// What a lean answer means for a single command: the server's error is the operation's.
fn answered(answer: Answer) -> Result<Answer, TierError> {
    match answer {
        Answer::Failed(said) => Err(TierError::Operation(said)),
        other => Ok(other),
    }
}

/// The same command for the `redis` crate.
pub(in crate::tier) fn crate_cmd(
    op: Op,
    key: &str,
    value: &[u8],
    ttl_ms: Option<u64>,
) -> redis::Cmd {
    let mut cmd = redis::Cmd::new();
    match (op, ttl_ms) {
        (Op::Get | Op::MGet, _) => cmd.arg("GET").arg(key),
        (Op::Set | Op::MSet, None) => cmd.arg("SET").arg(key).arg(value),
        (Op::Set | Op::MSet, Some(ms)) => cmd.arg("SET").arg(key).arg(value).arg("PX").arg(ms),
        (Op::Delete | Op::MDelete, _) => cmd.arg("DEL").arg(key),
        (Op::Touch, Some(ms)) => cmd.arg("PEXPIRE").arg(key).arg(ms),
        (Op::Touch, None) => cmd.arg("EXISTS").arg(key),
        // Custom commands go through `custom`, never here (see `encode`).
        (Op::Command(_), _) => cmd.arg("PING"),
    };
    cmd
}

/// Where tierbench's own connections go, for a TCP server (with TLS for `rediss://`): the
/// address, and the AUTH and SELECT commands the URL asks for. `Ok(None)` for what they do not
/// speak (unix sockets).
pub(in crate::tier) fn lean_target(
    client: &redis::Client,
    tls: Option<&TlsSettings>,
    connect_timeout: Duration,
) -> Result<Option<Target>, String> {
    let info = client.get_connection_info();
    let (host, port, tls) = match info.addr() {
        redis::ConnectionAddr::Tcp(host, port) => (host, port, None),
        redis::ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => (host, port, Some(lane_tls(host, tls, *insecure)?)),
        _ => return Ok(None),
    };
    let settings = info.redis_settings();
    let mut hello = Vec::new();
    let mut hello_replies = 0;
    if let Some(password) = settings.password() {
        let user = settings.username();
        resp::command(&mut hello, if user.is_some() { 3 } else { 2 });
        resp::arg(&mut hello, b"AUTH");
        if let Some(user) = user {
            resp::arg(&mut hello, user.as_bytes());
        }
        resp::arg(&mut hello, password.as_bytes());
        hello_replies += 1;
    }
    if settings.db() != 0 {
        resp::command(&mut hello, 2);
        resp::arg(&mut hello, b"SELECT");
        resp::arg(&mut hello, settings.db().to_string().as_bytes());
        hello_replies += 1;
    }
    Ok(Some(Target {
        protocol: Protocol::Resp,
        host: host.clone(),
        port: *port,
        tls,
        hello,
        hello_replies,
        connect_timeout,
    }))
}

impl DataPath {
    /// How many connections carry the measured operations.
    pub fn connection_count(&self) -> usize {
        match self {
            DataPath::Lean(lanes) => lanes.len(),
            DataPath::Crate(connections) => connections.len(),
        }
    }

    /// GET: the value, if the key exists.
    pub async fn get(
        &self,
        lane: usize,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<Bytes>, TierError> {
        match self {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let call = conn.one(true, |out| resp::encode_op(out, Op::Get, key, &[], None));
                match answered(bounded(timeout, call, TierError::Operation).await?)? {
                    Answer::Value(v) => Ok(Some(v)),
                    _ => Ok(None),
                }
            }
            DataPath::Crate(conns) => {
                let mut conn = conns[lane % conns.len()].clone();
                let cmd = crate_cmd(Op::Get, key, &[], None);
                let value: Option<Vec<u8>> =
                    bounded(timeout, cmd.query_async(&mut conn), crate_error).await?;
                Ok(value.map(Bytes::from))
            }
        }
    }

    /// SET, DEL or PEXPIRE/EXISTS: true when the reply is a positive integer (a touched key).
    pub async fn write(
        &self,
        lane: usize,
        op: Op,
        key: &str,
        value: &[u8],
        ttl_ms: Option<u64>,
        timeout: Duration,
    ) -> Result<bool, TierError> {
        match self {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let call = conn.one(false, |out| resp::encode_op(out, op, key, value, ttl_ms));
                let answer = answered(bounded(timeout, call, TierError::Operation).await?)?;
                Ok(matches!(answer, Answer::Int(n) if n > 0))
            }
            DataPath::Crate(conns) => {
                let mut conn = conns[lane % conns.len()].clone();
                let cmd = crate_cmd(op, key, value, ttl_ms);
                let reply: redis::Value =
                    bounded(timeout, cmd.query_async(&mut conn), crate_error).await?;
                Ok(matches!(reply, redis::Value::Int(n) if n > 0))
            }
        }
    }

    /// Sends a batch in one round trip; each command's outcome goes into `replies`, in order
    /// (an error reply fails only its command). A failed round trip fails the whole batch.
    pub async fn batch(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
        ttl_ms: Option<u64>,
        timeout: Duration,
        replies: &mut Vec<BatchReply>,
    ) -> Result<(), TierError> {
        replies.clear();
        match self {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let mut answers = Vec::with_capacity(batch.len());
                let encode_all = |out: &mut Vec<u8>| {
                    for &(op, key, value) in batch {
                        resp::encode_op(out, op, key, value, ttl_ms);
                    }
                };
                let call = conn.many(batch.len(), false, encode_all, &mut answers);
                bounded(timeout, call, TierError::Operation).await?;
                replies.extend(batch.iter().zip(answers).map(|(&(op, ..), a)| match a {
                    Answer::Failed(said) => Err(TierError::Operation(said)),
                    a => Ok((op == Op::Get).then_some(!matches!(a, Answer::Nil))),
                }));
            }
            DataPath::Crate(conns) => {
                let mut pipe = redis::pipe();
                pipe.ignore_errors();
                for &(op, key, value) in batch {
                    pipe.add_command(crate_cmd(op, key, value, ttl_ms));
                }
                let mut conn = conns[lane % conns.len()].clone();
                let values: Vec<redis::Value> =
                    bounded(timeout, pipe.query_async(&mut conn), crate_error).await?;
                replies.extend(batch.iter().zip(values).map(|(&(op, ..), v)| match v {
                    redis::Value::ServerError(e) => Err(crate_error(e.into())),
                    v => Ok((op == Op::Get).then_some(!matches!(v, redis::Value::Nil))),
                }));
            }
        }
        if replies.len() != batch.len() {
            return Err(TierError::Operation(format!(
                "a pipeline of {} commands got {} replies",
                batch.len(),
                replies.len()
            )));
        }
        Ok(())
    }

    /// A custom command (`workload::command`) with its placeholders filled in; a Redis error
    /// reply is the operation's error. The lean path writes it without allocating; the crate's
    /// path (unix sockets) builds a `redis::Cmd`, as its other commands do.
    pub async fn custom(
        &self,
        lane: usize,
        template: &CommandTemplate,
        key: &str,
        value: &[u8],
        field: u64,
        timeout: Duration,
    ) -> Result<(), TierError> {
        match self {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let call = conn.one(false, |out| {
                    crate::tier::redis::command::encode(template, out, key.as_bytes(), value, field)
                });
                answered(bounded(timeout, call, TierError::Operation).await?).map(drop)
            }
            DataPath::Crate(conns) => {
                let mut cmd = redis::Cmd::new();
                let field = field.to_string();
                for arg in template.args.iter() {
                    let mut bytes = Vec::new();
                    for s in arg.iter() {
                        bytes.extend_from_slice(match s {
                            Segment::Literal(b) => b,
                            Segment::Key => key.as_bytes(),
                            Segment::Value => value,
                            Segment::Field => field.as_bytes(),
                        });
                    }
                    cmd.arg(bytes);
                }
                let mut conn = conns[lane % conns.len()].clone();
                let _: redis::Value =
                    bounded(timeout, cmd.query_async(&mut conn), crate_error).await?;
                Ok(())
            }
        }
    }
}
