//! Coherence across app instances: several instances in one process, each with its own
//! in-process tiers over the shared Redis and SQL tiers, and the invalidations that keep their
//! copies in step (`coherence:` in a scenario; docs/coherence.md).
//!
//! A stack of one instance calls `began` before a write and `completed` after it (`Stack::set`,
//! `delete` and the batches). In `pubsub` mode `completed` publishes `PROCESS:INSTANCE:WALL_NS:KEY`
//! on `{prefix}__tierbench__:invalidate`; in `tracking` mode Redis itself reports the change to
//! every instance's `CLIENT TRACKING ... BCAST PREFIX` connection. Each instance's listener
//! (`listener.rs`) drops the key from its in-process tiers and notes the lag from the write's
//! completion; `finish` waits for the deliveries still on their way and counts what was lost.

pub mod config;
mod listener;
mod write_log;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use redis::aio::ConnectionManager;

use crate::metrics::coherence::CoherenceCounts;
use crate::metrics::recorder::{new_histogram, record};
use crate::tier::error::redis_message;
use crate::tier::redis::RedisSettings;
use crate::tier::{Tier, TierError};
pub use config::{CoherenceSettings, Invalidation};
use listener::Listener;
use write_log::WriteLog;

/// How long `finish` waits for invalidations still on their way.
const DRAIN: Duration = Duration::from_secs(1);

/// What the listeners and writers count, shared.
pub(super) struct Counters {
    sent: AtomicU64,
    delivered: AtomicU64,
    foreign: AtomicU64,
    own: AtomicU64,
    late: AtomicU64,
    flushes: AtomicU64,
    publish_errors: AtomicU64,
    bytes: AtomicU64,
    fills_skipped: AtomicU64,
    lag: Mutex<Histogram<u64>>,
    late_after_ns: u64,
    start: Instant,
}

impl Counters {
    fn note_lag(&self, lag_ns: u64) {
        if lag_ns > self.late_after_ns {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
        let mut lag = self.lag.lock().unwrap_or_else(PoisonError::into_inner);
        record(&mut lag, lag_ns.max(1));
    }

    fn since_start_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// Nanoseconds since the Unix epoch (what a `pubsub` message carries across processes).
fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The invalidation traffic of one workload's app instances.
pub struct Coherence {
    instances: usize,
    mode: Invalidation,
    channel: String,
    process: u64,
    timeout: Duration,
    publishers: Vec<ConnectionManager>,
    /// For Redis' tracking table size at the end (`tracking`).
    info: Option<redis::Client>,
    log: Arc<WriteLog>,
    counters: Arc<Counters>,
    listeners: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Where the invalidations go: the Redis tier's name and settings.
pub struct Via<'a> {
    /// The tier's name (for setup errors).
    pub name: &'a str,
    /// How to reach it.
    pub settings: &'a RedisSettings,
}

impl Coherence {
    /// Starts the invalidation traffic of `instance_tiers.len()` instances (each entry: that
    /// instance's in-process tiers) over `via`: every listener subscribed before this returns,
    /// so no write of the workload goes unseen. `keys` generated keys named `prefix` + index.
    pub async fn start(
        settings: &CoherenceSettings,
        via: Option<Via<'_>>,
        prefix: &str,
        keys: u64,
        instance_tiers: Vec<Vec<Arc<Tier>>>,
    ) -> Result<Coherence, TierError> {
        let mut coherence = Coherence {
            instances: instance_tiers.len(),
            mode: settings.invalidation,
            channel: format!(
                "{prefix}{}:invalidate",
                crate::tier::ownership::marker::REDIS_MARKER_SUFFIX
            ),
            process: rand_token(),
            timeout: Duration::from_secs(1),
            publishers: Vec::new(),
            info: None,
            log: Arc::new(WriteLog::new(
                prefix,
                keys,
                (settings.invalidation != Invalidation::None).then_some(instance_tiers.len()),
            )),
            counters: Arc::new(Counters {
                sent: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                foreign: AtomicU64::new(0),
                own: AtomicU64::new(0),
                late: AtomicU64::new(0),
                flushes: AtomicU64::new(0),
                publish_errors: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                fills_skipped: AtomicU64::new(0),
                lag: Mutex::new(new_histogram()),
                late_after_ns: settings.late_after.as_nanos() as u64,
                start: Instant::now(),
            }),
            listeners: Mutex::new(Vec::new()),
        };
        let (Some(via), Invalidation::Pubsub | Invalidation::Tracking) =
            (via, settings.invalidation)
        else {
            return Ok(coherence);
        };
        let setup = crate::tier::redis::setup_error(via.name, &via.settings.url);
        coherence.timeout = via.settings.timeout.max(Duration::from_millis(100));
        let client = crate::tier::redis::tls::client(&via.settings.url, via.settings.tls.as_ref())
            .map_err(setup)?;
        let resp3 = resp3_client(&client).map_err(setup)?;
        if settings.invalidation == Invalidation::Tracking {
            check_tracking(&client).await.map_err(setup)?;
            coherence.info = Some(client.clone());
        }
        for instance_tiers in instance_tiers.into_iter().enumerate() {
            coherence
                .listen(instance_tiers, &resp3, prefix)
                .await
                .map_err(setup)?;
        }
        if settings.invalidation == Invalidation::Pubsub {
            for _ in 0..coherence.instances {
                let conn = ConnectionManager::new(client.clone()).await.map_err(|e| {
                    setup(format!(
                        "cannot open the publishing connection: {}",
                        redis_message(&e)
                    ))
                })?;
                coherence.publishers.push(conn);
            }
        }
        Ok(coherence)
    }

    /// Starts instance `instance`'s listener and waits until it listens.
    async fn listen(
        &self,
        (instance, tiers): (usize, Vec<Arc<Tier>>),
        client: &redis::Client,
        prefix: &str,
    ) -> Result<(), String> {
        let listener = Listener {
            instance,
            mode: self.mode,
            client: client.clone(),
            channel: self.channel.clone(),
            prefix: prefix.to_string(),
            process: self.process,
            timeout: self.timeout,
            tiers,
            counters: Arc::clone(&self.counters),
            log: Arc::clone(&self.log),
        };
        let (ready, heard) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(listener.run(ready));
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
        heard
            .await
            .map_err(|_| "the invalidation listener ended before it listened".to_string())?
    }

    /// App instances.
    pub fn instances(&self) -> usize {
        self.instances
    }

    /// Whether writes publish or are logged (`pubsub`, `tracking`).
    pub fn invalidates(&self) -> bool {
        self.mode != Invalidation::None
    }

    /// What `instance` has heard of `key` so far: taken before a read goes below the
    /// instance's in-process tiers, so that `heard_since` can tell whether the value read may
    /// be cached (see `Stack::get`).
    #[inline]
    pub fn heard_mark(&self, instance: usize, key: &str) -> u64 {
        self.log.last_heard(key, instance)
    }

    /// True when `instance` heard of a change of `key` since `mark`: the value just read from
    /// below may predate that change, so it must not be cached in the instance's in-process
    /// tiers (the race Redis' client-side caching documentation describes). Counted.
    pub fn heard_since(&self, instance: usize, key: &str, mark: u64) -> bool {
        let changed = self.log.last_heard(key, instance) != mark;
        if changed {
            self.counters.fills_skipped.fetch_add(1, Ordering::Relaxed);
        }
        changed
    }

    /// Notes that `instance` begins writing `key` (before the write reaches Redis).
    #[inline]
    pub fn began(&self, instance: usize, key: &str) {
        let now = self.counters.since_start_ns();
        if self.mode == Invalidation::Tracking {
            self.log.began(key, instance, now);
        }
        if self.mode != Invalidation::None {
            // The instance's own write is a change too: a read of the key from below that is
            // under way in another of its workers must not cache what it finds.
            self.log.heard(key, instance, now);
        }
    }

    /// Notes that `instance`'s write of `key` completed and, in `pubsub` mode, publishes it.
    pub async fn completed(&self, instance: usize, key: &str) {
        let c = &self.counters;
        if self.mode == Invalidation::None {
            return;
        }
        let now = c.since_start_ns();
        // Again at completion: a read of the key by another of the instance's workers that
        // went below before the write reached Redis must not cache what it found.
        self.log.heard(key, instance, now);
        match self.mode {
            Invalidation::None => {}
            Invalidation::Tracking => {
                self.log.completed(key, instance, now);
                c.sent.fetch_add(1, Ordering::Relaxed);
            }
            Invalidation::Pubsub => {
                let payload = format!("{:x}:{instance}:{}:{key}", self.process, wall_ns());
                let mut conn = self.publishers[instance % self.publishers.len()].clone();
                let mut cmd = redis::cmd("PUBLISH");
                cmd.arg(&self.channel).arg(&payload);
                let publish = cmd.query_async::<i64>(&mut conn);
                match tokio::time::timeout(self.timeout, publish).await {
                    Ok(Ok(_)) => {
                        c.sent.fetch_add(1, Ordering::Relaxed);
                        c.bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
                    }
                    _ => {
                        c.publish_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// Waits up to a second for the invalidations still on their way, stops the listeners and
    /// returns what was counted.
    pub async fn finish(&self) -> CoherenceCounts {
        let c = &self.counters;
        let peers = self.instances.saturating_sub(1) as u64;
        let waited = Instant::now();
        // Redis merges changes of one key within one event-loop turn (`tracking`): there the
        // per-key hearing tells what is still on its way, in `pubsub` the counts.
        let pending = || match self.mode {
            Invalidation::None => false,
            Invalidation::Tracking => self.log.unheard().is_some_and(|n| n > 0),
            Invalidation::Pubsub => {
                c.delivered.load(Ordering::Acquire) < c.sent.load(Ordering::Acquire) * peers
            }
        };
        while pending() && waited.elapsed() < DRAIN {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let tracking = match &self.info {
            Some(client) => tracking_table(client).await,
            None => None,
        };
        for task in self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        let mut counts = self.counts_now();
        (counts.tracking_prefixes, counts.tracking_keys) = tracking.unzip();
        if self.mode == Invalidation::Tracking {
            counts.unheard = Some(self.log.unheard());
        }
        counts
    }

    /// The counters and the lag histogram as they are now (what a live metrics scrape reads;
    /// `finish` adds what only the end knows).
    pub fn counts_now(&self) -> CoherenceCounts {
        let c = &self.counters;
        let mut counts = CoherenceCounts::new(self.instances, self.mode.name(), c.late_after_ns);
        counts.sent = c.sent.load(Ordering::Acquire);
        counts.delivered = c.delivered.load(Ordering::Acquire);
        counts.foreign = c.foreign.load(Ordering::Acquire);
        counts.own = c.own.load(Ordering::Acquire);
        counts.late = c.late.load(Ordering::Acquire);
        counts.flushes = c.flushes.load(Ordering::Acquire);
        counts.publish_errors = c.publish_errors.load(Ordering::Acquire);
        counts.bytes = c.bytes.load(Ordering::Acquire);
        counts.fills_skipped = c.fills_skipped.load(Ordering::Acquire);
        counts.lag = c.lag.lock().unwrap_or_else(PoisonError::into_inner).clone();
        counts
    }
}

impl Drop for Coherence {
    fn drop(&mut self) {
        for task in self
            .listeners
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

/// The same client speaking RESP3 (push messages on an ordinary connection).
fn resp3_client(client: &redis::Client) -> Result<redis::Client, String> {
    let info = client.get_connection_info().clone();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    redis::Client::open(info.set_redis_settings(settings)).map_err(|e| e.to_string())
}

/// Refuses a server without client-side caching (before Redis 6).
async fn check_tracking(client: &redis::Client) -> Result<(), String> {
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("cannot connect: {}", redis_message(&e)))?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .map_err(|e| format!("INFO failed: {}", redis_message(&e)))?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("0")
        .trim()
        .to_string();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 6 {
        return Err(format!(
            "`invalidation: tracking` needs Redis 6 or newer (CLIENT TRACKING); this server is \
             {version}: use `invalidation: pubsub`"
        ));
    }
    Ok(())
}

/// Redis' tracking table: `tracking_total_prefixes` and `tracking_total_keys` (`INFO stats`).
async fn tracking_table(client: &redis::Client) -> Option<(u64, u64)> {
    let mut conn = client.get_multiplexed_async_connection().await.ok()?;
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .ok()?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((
        field("tracking_total_prefixes")?,
        field("tracking_total_keys")?,
    ))
}

/// A token that tells this process's messages from other processes' (shards).
fn rand_token() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(wall_ns());
    h.write_u32(std::process::id());
    h.finish()
}
