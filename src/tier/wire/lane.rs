//! The measured path of the Redis and memcached tiers: one connection shared by many workers, with no channel, task
//! hand-off buffer or allocation per operation.
//!
//! Why: a profile of the `redis` crate's multiplexed connection showed the client's time in one
//! socket write per command, a oneshot channel per operation and a `Value` per reply. Here a
//! worker writes its command straight into the connection's output buffer (under a short lock)
//! and waits on a reusable reply slot; the connection's driver task writes everything queued
//! since its last write in one `write` call and reads every reply that arrived in one `read`,
//! handing each to its slot in order. The `redis` crate still does setup, INFO, SCAN and cleanup
//! (`tier/redis.rs`), and the data path of connections this one does not speak (unix sockets).
//! TLS (`rediss://`) is a rustls stream under the same driver (`redis_tls.rs`).
//!
//! Faults, as the crate's `ConnectionManager` handled them: a connection that fails (the server
//! went away, a reset) fails every operation waiting on it, and the driver reconnects in the
//! background with back-off (`reconnect.rs`: 2 ms doubling up to 1 s, forever, until the tier is dropped);
//! operations issued while it is down fail at once, saying so. A slow answer never drops the
//! connection: the caller's timeout gives up the wait, and the late reply is dropped when it
//! comes (each slot use has its own sequence number).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::task::JoinHandle;

use crate::tier::redis::resp::{self, Reply};
use crate::tier::wire::Protocol;
use crate::tier::wire::reconnect::{Reconnect, refusal};
use crate::tier::wire::stream::{LaneTls, Stream, open_stream};

/// Input buffer size; a reply larger than this grows it.
pub(in crate::tier) const READ_BUFFER: usize = 64 * 1024;
/// Read/write rounds of the driver before it yields to the runtime's other tasks.
const DRIVER_BUDGET: usize = 32;

/// One answer to one command, as the tier needs it.
#[derive(Debug)]
pub enum Answer {
    /// A status (`OK`).
    Done,
    /// An integer.
    Int(i64),
    /// Nil: no such key.
    Nil,
    /// A bulk string, kept (a single GET).
    Value(Bytes),
    /// A bulk string, not kept (a GET in a batch: hit or miss is all it tells).
    Hit,
    /// The server's error, as "Redis said: ..." (or "memcached said: ...").
    Failed(String),
    /// An array reply (MGET's), kept whole as its RESP bytes when values are kept: one copy
    /// per reply, its elements sliced out of it without copying (`redis_multi.rs`).
    Array(Bytes),
}

/// Where and how to connect: address, protocol, TLS and the commands to send first.
#[derive(Clone)]
pub struct Target {
    /// What the connection speaks.
    pub protocol: Protocol,
    /// Host name or address, or a unix socket's path (starting with `/`).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS over the TCP connection (`rediss://`), or none.
    pub tls: Option<LaneTls>,
    /// Commands sent on every new connection before anything else (AUTH, SELECT), encoded.
    pub hello: Vec<u8>,
    /// How many replies `hello` gets.
    pub hello_replies: usize,
    /// Bound of one connect attempt.
    pub connect_timeout: Duration,
}

/// A multiplexed connection: any number of workers, each with one request in flight.
pub struct Lane {
    shared: Arc<Shared>,
    driver: JoinHandle<()>,
}

struct Shared {
    state: Mutex<State>,
    protocol: Protocol,
}

#[derive(Default)]
struct State {
    /// Commands not yet handed to the driver.
    out: Vec<u8>,
    /// One entry per command written or to be written: its slot and the slot's use.
    queue: VecDeque<(u32, u32)>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// The driver, when it waits for commands to write.
    driver: Option<Waker>,
    /// Why the connection is down, while it is.
    down: Option<String>,
}

#[derive(Default)]
struct Slot {
    /// This slot's current use; a reply for an older one is dropped.
    seq: u32,
    expected: usize,
    keep_values: bool,
    answers: Vec<Answer>,
    /// The connection failed before every answer came.
    lost: Option<String>,
    waker: Option<Waker>,
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the state half-written in a way that matters
    // more than losing the run: go on with it.
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Lane {
    /// Connects once (failing if the server cannot be reached) and starts the driver.
    pub async fn connect(target: Target) -> Result<Lane, String> {
        let stream = open(&target).await?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            protocol: target.protocol,
        });
        let driver = tokio::spawn(drive(Arc::clone(&shared), target, stream));
        Ok(Lane { shared, driver })
    }

    /// Sends one command that `encode` writes and waits for its answer (a GET's value kept
    /// when `keep_value`). Err when the connection is down or fails before the answer came. The
    /// caller bounds the wait (dropping this future gives the answer up).
    pub async fn one(
        &self,
        keep_value: bool,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Answer, String> {
        let mut held = self.issue(1, keep_value, encode)?;
        poll_fn(|cx| held.poll(cx, |a| a.pop().unwrap_or(Answer::Nil))).await
    }

    /// Sends `commands` commands that `encode` writes in one go and waits for all their
    /// answers, handed to `answers` in order (bulk strings kept as `Value` with `keep_values`,
    /// as `Hit` without).
    pub async fn many(
        &self,
        commands: usize,
        keep_values: bool,
        encode: impl FnOnce(&mut Vec<u8>),
        answers: &mut impl Extend<Answer>,
    ) -> Result<(), String> {
        let mut held = self.issue(commands, keep_values, encode)?;
        poll_fn(|cx| held.poll(cx, |a| answers.extend(a.drain(..)))).await
    }

    /// Takes a slot, writes the commands into the output buffer, queues their answers for the
    /// slot and wakes the driver if it waits for work.
    fn issue(
        &self,
        commands: usize,
        keep_values: bool,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Held<'_>, String> {
        let (slot, seq, wake) = {
            let mut st = lock(&self.shared);
            if let Some(why) = &st.down {
                return Err(refusal(self.shared.protocol.server(), why));
            }
            let slot = match st.free.pop() {
                Some(slot) => slot,
                None => {
                    st.slots.push(Slot::default());
                    (st.slots.len() - 1) as u32
                }
            };
            let s = &mut st.slots[slot as usize];
            s.seq = s.seq.wrapping_add(1);
            s.expected = commands;
            s.keep_values = keep_values;
            s.answers.clear();
            s.lost = None;
            let seq = s.seq;
            encode(&mut st.out);
            st.queue.extend(std::iter::repeat_n((slot, seq), commands));
            (slot, seq, st.driver.take())
        };
        if let Some(waker) = wake {
            waker.wake();
        }
        Ok(Held {
            shared: &self.shared,
            slot,
            seq,
            done: false,
        })
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// A slot in use; given back when its answers are taken or the wait is given up.
struct Held<'a> {
    shared: &'a Shared,
    slot: u32,
    seq: u32,
    done: bool,
}

impl Held<'_> {
    /// Ready with `take(answers)` once every answer came, or the connection's failure.
    fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut Vec<Answer>) -> T,
    ) -> Poll<Result<T, String>> {
        let mut st = lock(self.shared);
        let st = &mut *st;
        let s = &mut st.slots[self.slot as usize];
        if let Some(why) = s.lost.take() {
            self.done = true;
            st.free.push(self.slot);
            let server = self.shared.protocol.server();
            return Poll::Ready(Err(format!("connection to {server} lost ({why})")));
        }
        if s.answers.len() < s.expected {
            match &s.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => s.waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        let taken = take(&mut s.answers);
        s.waker = None;
        self.done = true;
        st.free.push(self.slot);
        Poll::Ready(Ok(taken))
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Given up (a timeout, Ctrl-C): the slot's answers, when they come, are dropped.
        let mut st = lock(self.shared);
        let s = &mut st.slots[self.slot as usize];
        if s.seq == self.seq {
            s.seq = s.seq.wrapping_add(1);
            s.waker = None;
            s.answers.clear();
        }
        st.free.push(self.slot);
    }
}

/// Opens a connection and sends the hello commands.
pub(in crate::tier) async fn open(target: &Target) -> Result<Stream, String> {
    let attempt = async {
        let mut stream = open_stream(&target.host, target.port, target.tls.as_ref()).await?;
        if target.hello_replies > 0 {
            stream
                .write_all(&target.hello)
                .await
                .map_err(|e| e.to_string())?;
            stream.flush().await.map_err(|e| e.to_string())?;
            let mut buf = Vec::with_capacity(1024);
            let (mut at, mut got) = (0, 0);
            while got < target.hello_replies {
                match target.protocol.parse(&buf, at)? {
                    Some((Reply::Error(e), _)) => {
                        let server = target.protocol.server();
                        return Err(format!("{server} said: {:?}", String::from_utf8_lossy(e)));
                    }
                    Some((_, next)) => {
                        at = next;
                        got += 1;
                    }
                    None => {
                        if stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
                            return Err("the server closed the connection".into());
                        }
                    }
                }
            }
        }
        Ok(stream)
    };
    match tokio::time::timeout(target.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {:?}", target.connect_timeout)),
    }
}

/// The connection's driver: pumps while the connection is up, reconnects when it fails.
async fn drive(shared: Arc<Shared>, target: Target, first: Stream) {
    let mut stream = Some(first);
    let mut link = Reconnect::new(target.protocol.server());
    loop {
        if let Some(s) = stream.take() {
            let why = pump(&shared, s).await;
            fail_all(&shared, link.lost(why));
        }
        while stream.is_none() {
            tokio::time::sleep(link.until_due()).await;
            match open(&target).await {
                Ok(s) => {
                    link.connected();
                    lock(&shared).down = None;
                    stream = Some(s);
                }
                Err(why) => {
                    link.attempt_failed(why);
                }
            }
        }
    }
}

/// Marks the connection down and fails every operation waiting on it.
fn fail_all(shared: &Shared, why: String) {
    let mut wakers = Vec::new();
    {
        let mut st = lock(shared);
        let st = &mut *st;
        st.out.clear();
        for (slot, seq) in st.queue.drain(..) {
            let s = &mut st.slots[slot as usize];
            if s.seq == seq && s.lost.is_none() {
                s.lost = Some(why.clone());
                wakers.extend(s.waker.take());
            }
        }
        st.down = Some(why);
    }
    wakers.into_iter().for_each(Waker::wake);
}

/// Writes queued commands and reads replies until the connection fails; returns why it did.
///
/// Commands are written in rounds: when the previous round is written and commands are
/// waiting, the driver first yields once, so that the workers its last read woke queue their
/// next commands too, then writes everything queued in one `write`. Replies are read meanwhile.
async fn pump(shared: &Shared, mut stream: Stream) -> String {
    let mut io = Io {
        wbuf: Vec::with_capacity(16 * 1024),
        written: 0,
        rbuf: vec![0u8; READ_BUFFER],
        parsed: 0,
        filled: 0,
        wakers: Vec::new(),
    };
    loop {
        if let Err(why) = poll_fn(|cx| io.step(cx, shared, &mut stream)).await {
            return why;
        }
        tokio::task::yield_now().await;
        io.wbuf.clear();
        io.written = 0;
        std::mem::swap(&mut lock(shared).out, &mut io.wbuf);
    }
}

/// The driver's buffers.
struct Io {
    wbuf: Vec<u8>,
    written: usize,
    rbuf: Vec<u8>,
    parsed: usize,
    filled: usize,
    wakers: Vec<Waker>,
}

impl Io {
    /// Writes what is left of this round and reads replies; ready when the round is written and
    /// more commands wait (`Ok`), or when the connection failed (`Err`, why).
    fn step(
        &mut self,
        cx: &mut Context<'_>,
        shared: &Shared,
        stream: &mut Stream,
    ) -> Poll<Result<(), String>> {
        for _ in 0..DRIVER_BUDGET {
            let mut busy = false;
            if self.written < self.wbuf.len() {
                match Pin::new(&mut *stream).poll_write(cx, &self.wbuf[self.written..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err("the socket took no bytes".into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        self.written += n;
                        busy = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.to_string())),
                    Poll::Pending => {}
                }
            }
            resp::make_room(&mut self.rbuf, &mut self.parsed, &mut self.filled);
            let mut read = ReadBuf::new(&mut self.rbuf[self.filled..]);
            match Pin::new(&mut *stream).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {
                    let n = read.filled().len();
                    if n == 0 {
                        return Poll::Ready(Err("the server closed the connection".into()));
                    }
                    self.filled += n;
                    busy = true;
                    let buf = &self.rbuf[..self.filled];
                    match deliver(shared, buf, self.parsed, &mut self.wakers) {
                        Ok(at) => self.parsed = at,
                        Err(why) => return Poll::Ready(Err(why)),
                    }
                    self.wakers.drain(..).for_each(Waker::wake);
                    if self.parsed == self.filled {
                        (self.parsed, self.filled) = (0, 0);
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.to_string())),
                Poll::Pending => {}
            }
            // TLS may hold written bytes back in its own buffer: a round is written once
            // flushed (a no-op for plain TCP).
            let flushed = self.written == self.wbuf.len()
                && match Pin::new(&mut *stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => true,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.to_string())),
                    Poll::Pending => false,
                };
            if flushed {
                let mut st = lock(shared);
                if !st.out.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                match &st.driver {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => st.driver = Some(cx.waker().clone()),
                }
            }
            if !busy {
                return Poll::Pending;
            }
        }
        // Still busy after a full budget: let the runtime's other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Hands every complete reply in `buf[at..]` to its slot; returns where the unread part starts.
fn deliver(
    shared: &Shared,
    buf: &[u8],
    mut at: usize,
    wakers: &mut Vec<Waker>,
) -> Result<usize, String> {
    let mut st = lock(shared);
    let st = &mut *st;
    let server = shared.protocol.server();
    while let Some((reply, next)) = shared.protocol.parse(buf, at)? {
        let start = at;
        at = next;
        let Some((slot, seq)) = st.queue.pop_front() else {
            return Err(format!("a {server} reply that no command asked for"));
        };
        let s = &mut st.slots[slot as usize];
        if s.seq != seq {
            continue; // given up: dropped
        }
        s.answers.push(match reply {
            Reply::Array if s.keep_values => {
                Answer::Array(Bytes::copy_from_slice(&buf[start..next]))
            }
            Reply::Status | Reply::Array => Answer::Done,
            Reply::Int(n) => Answer::Int(n),
            Reply::Nil => Answer::Nil,
            Reply::Bulk(b) if s.keep_values => Answer::Value(Bytes::copy_from_slice(b)),
            Reply::Bulk(_) => Answer::Hit,
            Reply::Error(e) => {
                Answer::Failed(format!("{server} said: {:?}", String::from_utf8_lossy(e)))
            }
        });
        if s.answers.len() == s.expected {
            wakers.extend(s.waker.take());
        }
    }
    Ok(at)
}
