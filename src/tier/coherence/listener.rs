//! One app instance's invalidation connection: a RESP3 connection that receives what the other
//! instances changed (a `pubsub` message, or Redis' own `invalidate` push in `tracking` mode)
//! and drops those keys from this instance's in-process tiers.
//!
//! When the connection is lost, invalidations sent meanwhile never arrive, so the instance
//! flushes its in-process tiers (as Redis' client-side caching documentation requires),
//! reconnects with the shared backoff, and flushes again once it listens (what it cached while
//! deaf may be stale). Each flush is counted.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};
use tokio::sync::{mpsc, oneshot};

use super::config::Invalidation;
use super::write_log::WriteLog;
use super::{Counters, wall_ns};
use crate::tier::Tier;
use crate::tier::error::redis_message;
use crate::tier::wire::backoff::Backoff;

/// Longest pause between two attempts to reach Redis again: an instance deaf to invalidations
/// must not stay so for the shared backoff's full second.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// One instance's listener.
pub(super) struct Listener {
    pub(super) instance: usize,
    pub(super) mode: Invalidation,
    pub(super) client: redis::Client,
    pub(super) channel: String,
    pub(super) prefix: String,
    pub(super) process: u64,
    pub(super) timeout: Duration,
    pub(super) tiers: Vec<Arc<Tier>>,
    pub(super) counters: Arc<Counters>,
    pub(super) log: Arc<WriteLog>,
}

impl Listener {
    /// Listens until aborted. `ready` hears whether the first subscription succeeded (setup
    /// fails when it did not); afterwards a lost connection is flushed, counted and retried.
    pub(super) async fn run(self, ready: oneshot::Sender<Result<(), String>>) {
        let mut ready = Some(ready);
        let mut backoff = Backoff::default();
        loop {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let connected = self.listen(tx).await;
            match connected {
                Ok(conn) => {
                    backoff.reset();
                    match ready.take() {
                        Some(ready) => {
                            let _ = ready.send(Ok(()));
                        }
                        // Deaf since the loss: what was cached meanwhile may be stale.
                        None => self.flush(),
                    }
                    while let Some(push) = rx.recv().await {
                        if push.kind == PushKind::Disconnection {
                            break;
                        }
                        self.on_push(push);
                    }
                    drop(conn);
                    self.flush();
                    self.counters.flushes.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(e));
                        return;
                    }
                    tokio::time::sleep(backoff.current().min(MAX_PAUSE)).await;
                    backoff.failed();
                }
            }
        }
    }

    /// Connects and subscribes (`pubsub`) or turns tracking on (`tracking`).
    async fn listen(
        &self,
        tx: mpsc::UnboundedSender<PushInfo>,
    ) -> Result<MultiplexedConnection, String> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout.max(Duration::from_secs(1))))
            .set_response_timeout(Some(self.timeout.max(Duration::from_secs(1))))
            .set_push_sender(tx);
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| {
                format!(
                    "cannot open the invalidation connection: {}",
                    redis_message(&e)
                )
            })?;
        match self.mode {
            Invalidation::Tracking => redis::cmd("CLIENT")
                .arg("TRACKING")
                .arg("ON")
                .arg("BCAST")
                .arg("PREFIX")
                .arg(&self.prefix)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| format!("CLIENT TRACKING failed: {}", redis_message(&e)))?,
            _ => conn
                .subscribe(&self.channel)
                .await
                .map_err(|e| format!("SUBSCRIBE failed: {}", redis_message(&e)))?,
        }
        Ok(conn)
    }

    fn on_push(&self, push: PushInfo) {
        match push.kind {
            PushKind::Message => {
                if let Some(Value::BulkString(payload)) = push.data.get(1) {
                    self.on_published(payload);
                }
            }
            PushKind::Invalidate => match push.data.first() {
                Some(Value::Array(keys)) => {
                    for key in keys {
                        if let Value::BulkString(key) = key
                            && let Ok(key) = std::str::from_utf8(key)
                        {
                            self.on_tracked(key);
                        }
                    }
                }
                // A null list: the server flushed its keys (FLUSHALL / FLUSHDB).
                Some(Value::Nil) => self.flush(),
                _ => {}
            },
            _ => {}
        }
    }

    /// A `pubsub` message: `PROCESS:INSTANCE:WALL_NS:KEY`.
    fn on_published(&self, payload: &[u8]) {
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        let mut parts = text.splitn(4, ':');
        let (Some(process), Some(instance), Some(sent), Some(key)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (Ok(process), Ok(instance), Ok(sent)) = (
            u64::from_str_radix(process, 16),
            instance.parse::<usize>(),
            sent.parse::<u64>(),
        ) else {
            return;
        };
        let c = &self.counters;
        if process == self.process && instance == self.instance {
            c.own.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.log.heard(key, self.instance, c.since_start_ns());
        self.drop_key(key);
        if process == self.process {
            c.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            c.foreign.fetch_add(1, Ordering::Relaxed);
        }
        c.note_lag(wall_ns().saturating_sub(sent));
    }

    /// A key Redis says changed (`tracking`): dropped unless this instance wrote it last.
    fn on_tracked(&self, key: &str) {
        let c = &self.counters;
        self.log.heard(key, self.instance, c.since_start_ns());
        match self.log.last(key) {
            Some(w) if w.instance == self.instance => {
                c.own.fetch_add(1, Ordering::Relaxed);
            }
            Some(w) => {
                self.drop_key(key);
                c.delivered.fetch_add(1, Ordering::Relaxed);
                // Redis may tell before the writer has read its own reply: no lag then.
                let now = c.since_start_ns();
                c.note_lag(w.completed_ns.map_or(0, |t| now.saturating_sub(t)));
            }
            None => {
                self.drop_key(key);
                c.foreign.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn drop_key(&self, key: &str) {
        for tier in &self.tiers {
            if let Tier::Memory(m) = tier.as_ref() {
                m.delete(key);
            }
        }
    }

    fn flush(&self) {
        for tier in &self.tiers {
            if let Tier::Memory(m) = tier.as_ref() {
                m.clear();
            }
        }
    }
}
