//! A connection (Redis or memcached) owned by one pipelining worker (`pipeline: P`), kept full as replies come.
//!
//! Why: on a shared connection (`wire/lane.rs`) a pipelining worker handed its `P` commands to
//! the connection's driver task and waited for all `P` replies before planning the next `P`:
//! two task hand-offs per round trip, and a pipeline that ran dry before it was refilled.
//! memtier_benchmark's clients own their connection and send a new request for every reply
//! that arrives, so the server always has work queued. Here the worker does the same: it
//! writes, reads and parses on its own socket, with no other task, lock or channel between it
//! and the server, and each operation is timed from its own send to its own reply.
//!
//! Faults: a connection that fails fails every command in flight on it, and the next send
//! reconnects (2 ms between attempts, doubling up to 1 s; a send before the next attempt is due
//! fails at once, saying so). A reply that does not come within the tier's timeout fails every
//! command in flight and closes the connection, as clients with a socket timeout do: on a
//! connection that gave up waiting, a late reply could be taken for the next command's.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::tier::redis::resp::{Reply, make_room};
use crate::tier::wire::lane::{READ_BUFFER, Target, open};
use crate::tier::wire::reconnect::Reconnect;
use crate::tier::wire::stream::Stream;
use crate::workload::op::Op;

/// One reply, as a pipelining worker needs it.
#[derive(Debug, PartialEq, Eq)]
pub enum Piped<'a> {
    /// Nil: no such key (a GET's miss).
    Nil,
    /// Any other success (a GET's hit, `OK`, an integer).
    Answered,
    /// The server's error: the server (`Redis`, `memcached`) and its message, borrowed from
    /// the input buffer.
    Error(&'static str, &'a [u8]),
}

/// Where and how to open a `Pipe`: the server, the tier's ttl and timeout.
#[derive(Clone)]
pub struct PipeTarget {
    target: Target,
    ttl_ms: Option<u64>,
    timeout: Duration,
}

impl PipeTarget {
    pub(in crate::tier) fn new(
        target: Target,
        ttl_ms: Option<u64>,
        timeout: Duration,
    ) -> PipeTarget {
        PipeTarget {
            target,
            ttl_ms,
            timeout,
        }
    }

    /// Connects; a failure leaves the pipe down, and its first send tries again.
    pub async fn open(self) -> Pipe {
        Pipe::open(self.target, self.ttl_ms, self.timeout).await
    }
}

/// A worker's own connection: commands pushed, sent together, replies read in order.
pub struct Pipe {
    target: Target,
    ttl_ms: Option<u64>,
    timeout: Duration,
    stream: Option<Stream>,
    /// Up, or down with the next connect attempt due after the back-off (`reconnect.rs`).
    link: Reconnect,
    out: Vec<u8>,
    rbuf: Vec<u8>,
    parsed: usize,
    filled: usize,
}

impl Pipe {
    /// Connects; a failure leaves the pipe down, and the first send tries again.
    async fn open(target: Target, ttl_ms: Option<u64>, timeout: Duration) -> Pipe {
        let mut pipe = Pipe {
            ttl_ms,
            timeout,
            link: Reconnect::new(target.protocol.server()),
            target,
            stream: None,
            out: Vec::with_capacity(16 * 1024),
            rbuf: vec![0u8; READ_BUFFER],
            parsed: 0,
            filled: 0,
        };
        if let Err(why) = pipe.connect().await {
            pipe.close(why);
        }
        pipe
    }

    /// The tier's timeout: how long the oldest command in flight may wait for its reply.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Writes one measured command (Redis: GET, SET [PX], DEL, PEXPIRE/EXISTS; memcached: its
    /// meta commands) into the output buffer; nothing is sent before `send`.
    /// A write with `ttl_ms` (a trace's time to live) gets it instead of the tier's.
    #[inline]
    pub fn push(&mut self, op: Op, key: &str, value: &[u8], ttl_ms: Option<u64>) {
        let protocol = self.target.protocol;
        protocol.encode(&mut self.out, op, key, value, ttl_ms.or(self.ttl_ms));
    }

    /// Sends every pushed command in one write. Err (why): the connection is down or failed,
    /// and every command pushed or in flight failed with it.
    pub async fn send(&mut self) -> Result<(), String> {
        if self.stream.is_none()
            && let Err(why) = self.reconnect().await
        {
            // The commands pushed for this round failed with the connection: they must not
            // go out with a later round, whose replies they would take (the connection would
            // stay out of step for good after the server came back).
            self.out.clear();
            return Err(why);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(self.fail("not connected".into()));
        };
        let sent = match stream.write_all(&self.out).await {
            Ok(()) => stream.flush().await,
            Err(e) => Err(e),
        };
        self.out.clear();
        sent.map_err(|e| self.fail(e.to_string()))
    }

    /// Waits until more replies have been read, at most `wait`. Err (why): the connection
    /// failed, closed, or gave no reply in time; every command in flight failed with it.
    pub async fn receive(&mut self, wait: Duration) -> Result<(), String> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(self.fail("not connected".into()));
        };
        make_room(&mut self.rbuf, &mut self.parsed, &mut self.filled);
        let read = tokio::time::timeout(wait, stream.read(&mut self.rbuf[self.filled..])).await;
        match read {
            Ok(Ok(0)) => Err(self.fail("the server closed the connection".into())),
            Ok(Ok(n)) => {
                self.filled += n;
                Ok(())
            }
            Ok(Err(e)) => Err(self.fail(e.to_string())),
            Err(_) => Err(self.fail(format!(
                "no answer within {:?} (the tier's timeout)",
                self.timeout
            ))),
        }
    }

    /// Hands every complete reply read so far to `each`, in order; returns how many. Err (why):
    /// the input is not the server's protocol, and the connection was closed.
    pub fn drain(&mut self, mut each: impl FnMut(Piped<'_>)) -> Result<usize, String> {
        let buf = &self.rbuf[..self.filled];
        let mut at = self.parsed;
        let mut count = 0;
        let protocol = self.target.protocol;
        let server = protocol.server();
        let result = loop {
            match protocol.parse(buf, at) {
                Ok(Some((reply, next))) => {
                    at = next;
                    count += 1;
                    each(match reply {
                        Reply::Nil => Piped::Nil,
                        Reply::Error(e) => Piped::Error(server, e),
                        _ => Piped::Answered,
                    });
                }
                Ok(None) => break Ok(count),
                Err(e) => break Err(e),
            }
        };
        self.parsed = at;
        if self.parsed == self.filled {
            (self.parsed, self.filled) = (0, 0);
        }
        result.map_err(|why| self.fail(why))
    }

    /// Connects now, or says why not when the next attempt is not due yet.
    async fn reconnect(&mut self) -> Result<(), String> {
        self.link.attempt_due()?;
        match self.connect().await {
            Ok(()) => Ok(()),
            Err(why) => {
                self.settle();
                Err(self.link.attempt_failed(why))
            }
        }
    }

    async fn connect(&mut self) -> Result<(), String> {
        let stream = open(&self.target).await?;
        self.stream = Some(stream);
        self.link.connected();
        Ok(())
    }

    /// Why the connection failed after a round, if it did: `drained` is what `receive` and
    /// `drain` said, `unasked` how many replies came that no command in flight asked for (the
    /// connection is out of step: it is closed).
    pub fn failure(&mut self, drained: Result<usize, String>, unasked: usize) -> Option<String> {
        match drained {
            Ok(_) if unasked > 0 => {
                let server = self.target.protocol.server();
                Some(self.fail(format!("{unasked} {server} replies no command asked for")))
            }
            Ok(_) => None,
            Err(why) => Some(why),
        }
    }

    /// Closes the connection for `why`, dropping what was pushed or read; returns `why`.
    fn fail(&mut self, why: String) -> String {
        self.close(why.clone());
        why
    }

    fn close(&mut self, why: String) {
        self.settle();
        self.link.lost(why);
    }

    /// Settles what was in flight: the connection and every byte pushed or read for it go, so
    /// that no reply of this connection is taken for a command of the next one.
    fn settle(&mut self) {
        self.stream = None;
        self.out.clear();
        (self.parsed, self.filled) = (0, 0);
    }
}
