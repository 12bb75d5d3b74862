//! A Redis server's side of the claim (`claim.rs`): the marker is a hash under the prefix
//! (read with HMGET, written with HMSET: none of the workload's commands), a
//! name is looked up with a pipelined `TYPE` (read-only, it leaves the key's LRU clock alone and
//! is none of the workload's commands, so `INFO commandstats` still counts exactly the
//! workload's), removed with a multi-key `UNLINK`. Before the first write, the server's memory
//! is checked: a key space that may not fit under an evicting `maxmemory` would evict the
//! user's keys, and is refused.

use super::RedisTier;
use crate::tier::error::TierError;
use crate::tier::ownership::claim::{NameStore, Refusal};
use crate::tier::ownership::key_names::{KeyNames, MarkerRecord};

/// How many of the run's keys `sampled_entry_bytes` asks Redis about.
const MEMORY_SAMPLE: u64 = 500;

/// Bytes Redis spends per key beside its name and value (dict entry, object header, SDS
/// headers, allocator rounding): the estimate the memory check uses.
pub(crate) const REDIS_ENTRY_OVERHEAD: u64 = 80;

impl NameStore for RedisTier {
    fn nouns(&self) -> (String, String) {
        ("key".into(), "keys".into())
    }

    async fn read_marker(&self) -> Result<Option<MarkerRecord>, TierError> {
        let values: Vec<Option<String>> = self.admin(&read_marker_cmd(&self.marker)).await?;
        Ok(MarkerRecord::from_values(&values))
    }

    async fn write_marker(&self, record: &MarkerRecord) -> Result<(), TierError> {
        self.admin::<()>(&write_marker_cmd(&self.marker, record))
            .await
    }

    async fn remove_marker(&self) -> Result<(), TierError> {
        self.admin::<()>(redis::cmd("UNLINK").arg(&self.marker))
            .await
    }

    async fn existing(&self, names: &[String]) -> Result<Vec<String>, TierError> {
        let mut pipe = redis::pipe();
        for name in names {
            pipe.cmd("TYPE").arg(name);
        }
        let types: Vec<String> = self.admin_pipe(&pipe).await?;
        Ok(names
            .iter()
            .zip(types)
            .filter(|(_, t)| t != "none")
            .map(|(n, _)| n.clone())
            .collect())
    }

    async fn remove(&self, names: &[String]) -> Result<u64, TierError> {
        if names.is_empty() {
            return Ok(0);
        }
        self.admin(redis::cmd("UNLINK").arg(names)).await
    }

    async fn before_first_write(&self, names: u64, key_names: &KeyNames) -> Result<(), Refusal> {
        let memory: String = self.admin(redis::cmd("INFO").arg("memory")).await?;
        let keyspace: String = self.admin(redis::cmd("INFO").arg("keyspace")).await?;
        let room = MemoryRoom::read(&memory, &keyspace);
        room.refuse_eviction(names, key_names)
            .map_err(Refusal::Refused)
    }
}

impl RedisTier {
    /// Runs a pipeline of setup or cleanup commands on the crate's connection, bounded by the
    /// tier's timeout (sent once more after a dropped connection, as `admin` does).
    async fn admin_pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, TierError> {
        self.once_more_after_a_drop(|mut conn| async move { pipe.query_async(&mut conn).await })
            .await
    }

    /// The mean of `MEMORY USAGE key SAMPLES 0` over up to [`MEMORY_SAMPLE`] of the run's keys
    /// that exist (key, value, object header and dict entry, as Redis accounts them), how many
    /// were sampled, and the method; `None` when none exists.
    pub async fn sampled_entry_bytes(&self) -> Result<Option<(f64, u64, String)>, TierError> {
        let mut batches = self.names.batches();
        let mut batch = Vec::new();
        let (mut total, mut sampled) = (0u64, 0u64);
        while sampled < MEMORY_SAMPLE
            && batches
                .next_batch(&mut batch)
                .map_err(|e| TierError::Operation(format!("cannot read a trace's keys: {e}")))?
        {
            let mut pipe = redis::pipe();
            for name in &batch {
                pipe.cmd("MEMORY")
                    .arg("USAGE")
                    .arg(name)
                    .arg("SAMPLES")
                    .arg(0);
            }
            let usage: Vec<Option<u64>> = self.admin_pipe(&pipe).await?;
            for bytes in usage
                .into_iter()
                .flatten()
                .take((MEMORY_SAMPLE - sampled) as usize)
            {
                total += bytes;
                sampled += 1;
            }
        }
        Ok((sampled > 0).then(|| {
            let method = format!(
                "Redis MEMORY USAGE (SAMPLES 0) of {sampled} of the run's keys: key, value, \
                 object header and dict entry as Redis accounts them (the key space is too \
                 small for a slope of used_memory)"
            );
            (total as f64 / sampled as f64, sampled, method)
        }))
    }

    /// `evicted_keys` of `INFO stats`: keys the server evicted since it started.
    pub async fn evicted_keys(&self) -> Result<u64, TierError> {
        let stats: String = self.admin(redis::cmd("INFO").arg("stats")).await?;
        info_field(&stats, "evicted_keys")
            .ok_or_else(|| TierError::Operation("INFO stats has no evicted_keys".into()))
    }
}

/// Reads the marker hash `key`: HMGET of its fields. The marker is read and written with
/// HMGET/HMSET/UNLINK, none of the workload's commands (`store_as: hash` measures HSET and
/// HGETALL), so Redis' own counts of the workload's commands stay exactly its operations.
pub(crate) fn read_marker_cmd(key: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("HMGET");
    cmd.arg(key).arg(&MarkerRecord::FIELDS[..]);
    cmd
}

/// Writes `record` into the marker hash `key`: HMSET (see `read_marker_cmd`).
pub(crate) fn write_marker_cmd(key: &str, record: &MarkerRecord) -> redis::Cmd {
    let mut cmd = redis::cmd("HMSET");
    cmd.arg(key);
    for (field, value) in record.fields() {
        cmd.arg(field).arg(value);
    }
    cmd
}

/// One `field:value` line of an INFO section, as a number.
pub(crate) fn info_field(info: &str, field: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// What a server's memory settings leave for the run's key space.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct MemoryRoom {
    /// `maxmemory` (0: no limit).
    pub maxmemory: u64,
    /// `maxmemory_policy`.
    pub policy: String,
    /// `used_memory`.
    pub used: u64,
    /// Keys in every database (`INFO keyspace`).
    pub keys: u64,
}

impl MemoryRoom {
    /// Reads `INFO memory` and `INFO keyspace`.
    pub(crate) fn read(memory: &str, keyspace: &str) -> MemoryRoom {
        let keys = keyspace
            .lines()
            .filter(|l| l.starts_with("db"))
            .filter_map(|l| {
                l.split_once("keys=")?
                    .1
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        MemoryRoom {
            maxmemory: info_field(memory, "maxmemory").unwrap_or(0),
            policy: memory
                .lines()
                .find_map(|l| l.strip_prefix("maxmemory_policy:"))
                .unwrap_or("noeviction")
                .trim()
                .to_string(),
            used: info_field(memory, "used_memory").unwrap_or(0),
            keys,
        }
    }

    /// Adds another node's figures (a cluster's primaries).
    pub(crate) fn add(&mut self, other: MemoryRoom) {
        self.maxmemory += other.maxmemory;
        self.used += other.used;
        self.keys += other.keys;
        if other.policy != "noeviction" {
            self.policy = other.policy;
        }
    }

    /// Refuses a key space of `names` names that may not fit in the free memory of a server
    /// that evicts and holds keys that are not tierbench's (none of the run's names exist when
    /// this is asked, so every key there is the user's).
    pub(crate) fn refuse_eviction(&self, names: u64, key_names: &KeyNames) -> Result<(), String> {
        if self.maxmemory == 0 || self.policy == "noeviction" || self.keys == 0 {
            return Ok(());
        }
        let per_entry =
            key_names.mean_name_bytes() + key_names.mean_value_bytes() + REDIS_ENTRY_OVERHEAD;
        let needed = names.saturating_mul(per_entry);
        let free = self.maxmemory.saturating_sub(self.used);
        if needed <= free {
            return Ok(());
        }
        Err(format!(
            "the key space may not fit without evicting the user's data: {names} keys × ~{per_entry} B \
             (name + value + ~{REDIS_ENTRY_OVERHEAD} B per key) ≈ {} needed, {} free of maxmemory {} \
             (used_memory {}) under maxmemory-policy {}, and the server holds {} keys that are not \
             tierbench's, which it would evict; use fewer keys (data.keys.count), smaller values, \
             or a Redis server of tierbench's own; nothing was written",
            mib(needed),
            mib(free),
            mib(self.maxmemory),
            mib(self.used),
            self.policy,
            self.keys
        ))
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_evicting_server_with_users_keys_is_refused() {
        let memory = "used_memory:1048576\r\nmaxmemory:8388608\r\nmaxmemory_policy:allkeys-lru\r\n";
        let keyspace =
            "# Keyspace\r\ndb0:keys=2000,expires=0,avg_ttl=0\r\ndb3:keys=5,expires=0\r\n";
        let room = MemoryRoom::read(memory, keyspace);
        assert_eq!(room.keys, 2005);
        assert_eq!(room.maxmemory, 8 << 20);
        let names = KeyNames::new("tb:", 100_000, Vec::new(), 200);
        let refusal = room.refuse_eviction(100_000, &names).unwrap_err();
        assert!(
            refusal.contains("2005 keys that are not tierbench's"),
            "{refusal}"
        );
        assert!(room.refuse_eviction(1000, &names).is_ok(), "1000 keys fit");
        let own = MemoryRoom {
            keys: 0,
            ..room.clone()
        };
        assert!(
            own.refuse_eviction(100_000, &names).is_ok(),
            "no user data to lose"
        );
        let noeviction = MemoryRoom {
            policy: "noeviction".into(),
            ..room
        };
        assert!(noeviction.refuse_eviction(100_000, &names).is_ok());
        assert_eq!(info_field("evicted_keys:42\r\n", "evicted_keys"), Some(42));
        assert_eq!(
            info_field("maxmemory_policy:x\r\nmaxmemory:7\r\n", "maxmemory"),
            Some(7)
        );
    }
}
