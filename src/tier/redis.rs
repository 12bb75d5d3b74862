//! The Redis tier (an L2), through the `redis` crate's multiplexed async connections.
//!
//! One multiplexed connection carries many tasks' requests as an implicit pipeline, so a few
//! connections are enough for hundreds of workers; worker `i` uses connection `i % connections`.
//! The response timeout is explicit (the crate's default would turn slow answers under overload
//! into errors, silently changing what is measured). Keys are the scenario's prefix plus the key:
//! tierbench never touches another key, and cleanup is a `SCAN MATCH prefix*` + `UNLINK`, never a flush.

use std::time::Duration;

use bytes::Bytes;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError};

use super::{TierError, redact_url};
use crate::workload::ops::Op;

/// A connected Redis tier.
pub struct RedisTier {
    connections: Vec<MultiplexedConnection>,
    ttl_ms: Option<u64>,
    prefix: String,
    pipeline: usize,
}

/// How to reach and use Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// redis://, rediss:// or unix socket URL (db and password from the URL).
    pub url: String,
    /// Multiplexed connections shared by the workers.
    pub connections: usize,
    /// Response timeout per command.
    pub timeout: Duration,
    /// Time to live of written keys.
    pub ttl: Option<Duration>,
    /// Operations per round trip (1: no explicit pipelining).
    pub pipeline: usize,
}

fn op_error(e: RedisError) -> TierError {
    TierError::Operation(e.to_string())
}

impl RedisTier {
    /// Opens `settings.connections` connections and checks them with a PING.
    pub async fn connect(
        name: &str,
        settings: &RedisSettings,
        prefix: &str,
    ) -> Result<RedisTier, TierError> {
        let setup = |message: String| TierError::Setup {
            tier: name.to_string(),
            url: redact_url(&settings.url),
            message,
        };
        let client = Client::open(settings.url.as_str()).map_err(|e| setup(e.to_string()))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(settings.timeout.max(Duration::from_secs(1))))
            .set_response_timeout(Some(settings.timeout));
        let mut connections = Vec::with_capacity(settings.connections);
        for _ in 0..settings.connections.max(1) {
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| setup(format!("cannot connect: {e}")))?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| setup(format!("PING failed: {e}")))?;
            connections.push(conn);
        }
        Ok(RedisTier {
            connections,
            ttl_ms: settings.ttl.map(|t| t.as_millis().max(1) as u64),
            prefix: prefix.to_string(),
            pipeline: settings.pipeline.max(1),
        })
    }

    #[inline]
    fn conn(&self, lane: usize) -> MultiplexedConnection {
        self.connections[lane % self.connections.len()].clone()
    }

    /// GET.
    pub async fn get(&self, lane: usize, key: &str) -> Result<Option<Bytes>, TierError> {
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.conn(lane))
            .await
            .map_err(op_error)?;
        Ok(value.map(Bytes::from))
    }

    /// SET, with PX when the tier has a ttl.
    pub async fn set(&self, lane: usize, key: &str, value: &[u8]) -> Result<(), TierError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value);
        if let Some(ms) = self.ttl_ms {
            cmd.arg("PX").arg(ms);
        }
        cmd.query_async::<()>(&mut self.conn(lane))
            .await
            .map_err(op_error)
    }

    /// DEL.
    pub async fn delete(&self, lane: usize, key: &str) -> Result<(), TierError> {
        redis::cmd("DEL")
            .arg(key)
            .query_async::<()>(&mut self.conn(lane))
            .await
            .map_err(op_error)
    }

    /// PEXPIRE with the tier's ttl (a no-op PERSIST-free EXISTS check without one). True if the key exists.
    pub async fn touch(&self, lane: usize, key: &str) -> Result<bool, TierError> {
        let found: i64 = match self.ttl_ms {
            Some(ms) => {
                redis::cmd("PEXPIRE")
                    .arg(key)
                    .arg(ms)
                    .query_async(&mut self.conn(lane))
                    .await
            }
            None => {
                redis::cmd("EXISTS")
                    .arg(key)
                    .query_async(&mut self.conn(lane))
                    .await
            }
        }
        .map_err(op_error)?;
        Ok(found > 0)
    }

    /// Operations per round trip.
    pub fn pipeline_depth(&self) -> usize {
        self.pipeline
    }

    /// Sends a batch of operations in one round trip. For each, `Some(hit)` for a get, `None`
    /// otherwise; a failed batch fails every operation in it.
    pub async fn run_batch(
        &self,
        lane: usize,
        batch: &[(Op, &str, &[u8])],
    ) -> Result<Vec<Option<bool>>, TierError> {
        let mut pipe = redis::pipe();
        for &(op, key, value) in batch {
            match op {
                Op::Get => pipe.cmd("GET").arg(key),
                Op::Set => match self.ttl_ms {
                    Some(ms) => pipe.cmd("SET").arg(key).arg(value).arg("PX").arg(ms),
                    None => pipe.cmd("SET").arg(key).arg(value),
                },
                Op::Delete => pipe.cmd("DEL").arg(key),
                Op::Touch => match self.ttl_ms {
                    Some(ms) => pipe.cmd("PEXPIRE").arg(key).arg(ms),
                    None => pipe.cmd("EXISTS").arg(key),
                },
            };
        }
        let replies: Vec<redis::Value> = pipe
            .query_async(&mut self.conn(lane))
            .await
            .map_err(op_error)?;
        Ok(batch
            .iter()
            .zip(&replies)
            .map(|(&(op, ..), reply)| {
                (op == Op::Get).then_some(!matches!(reply, redis::Value::Nil))
            })
            .collect())
    }

    /// Keys under the prefix, by SCAN (outside any measured phase).
    pub async fn entries(&self) -> Result<u64, TierError> {
        let mut count = 0u64;
        self.scan(|keys| {
            count += keys.len() as u64;
            async { Ok(()) }
        })
        .await?;
        Ok(count)
    }

    /// `used_memory` from `INFO memory`, bytes.
    pub async fn used_memory(&self) -> Result<u64, TierError> {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut self.conn(0))
            .await
            .map_err(op_error)?;
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| TierError::Operation("INFO memory has no used_memory".into()))
    }

    /// Deletes every key under the prefix (UNLINK in batches). Returns how many.
    pub async fn cleanup(&self) -> Result<u64, TierError> {
        let mut removed = 0u64;
        let conn = self.conn(0);
        self.scan(|keys| {
            removed += keys.len() as u64;
            let mut conn = conn.clone();
            async move {
                if keys.is_empty() {
                    return Ok(());
                }
                redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(op_error)
            }
        })
        .await?;
        Ok(removed)
    }

    /// Calls `each` with every batch of keys matching the prefix.
    async fn scan<F, Fut>(&self, mut each: F) -> Result<(), TierError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<(), TierError>>,
    {
        let pattern = format!("{}*", escape_glob(&self.prefix));
        let mut conn = self.conn(0);
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(op_error)?;
            each(keys).await?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

/// Escapes Redis glob characters so a prefix matches only itself.
fn escape_glob(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_in_prefixes_are_escaped() {
        assert_eq!(escape_glob("tb:"), "tb:");
        assert_eq!(escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
