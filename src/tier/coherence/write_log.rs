//! Who wrote each key last, and when the write completed: what an instance needs to tell its
//! own writes from its peers' when Redis reports a change (`tracking` mode names only the key),
//! and where a delivery's lag counts from.
//!
//! One atomic per key up to `DENSE_MAX_KEYS` generated keys; above that (and for trace keys,
//! which are not numbers) a sharded map of the keys written. An entry packs the writer
//! (instance + 1, low 8 bits) and the completion time (nanoseconds since the log began, the
//! rest; 0 while the write is in flight).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Key spaces up to this many keys keep one atomic per key (8 bytes each).
const DENSE_MAX_KEYS: u64 = 1 << 22;
/// Keys × instances up to this many keep when each instance last heard of each key, which is
/// what tells a lost invalidation in `tracking` mode (Redis merges changes of one key within
/// one event-loop turn into one message, so counts alone cannot).
const HEARD_MAX: u64 = 1 << 22;
/// Shards of the sparse map.
const SHARDS: usize = 64;

/// The last writer of each key.
pub(super) struct WriteLog {
    prefix: String,
    dense: Box<[AtomicU64]>,
    sparse: Box<[Mutex<HashMap<u64, u64>>]>,
    /// When the last write of each dense key began (nanoseconds since the log began), when
    /// `heard` is kept.
    began_at: Box<[AtomicU64]>,
    /// Per instance, per dense key: when it last heard of a change (nanoseconds since the log
    /// began); empty when not kept.
    heard: Vec<Box<[AtomicU64]>>,
}

/// A key's last write: by which instance, completed when (`None`: still in flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LastWrite {
    pub(super) instance: usize,
    pub(super) completed_ns: Option<u64>,
}

impl WriteLog {
    /// A log for `keys` generated keys named `prefix` + index; with `instances`, it also keeps
    /// when each instance last heard of each key (when that fits in `HEARD_MAX`).
    pub(super) fn new(prefix: &str, keys: u64, instances: Option<usize>) -> WriteLog {
        let dense = if keys <= DENSE_MAX_KEYS { keys } else { 0 };
        let atomics = |n: u64| {
            (0..n)
                .map(|_| AtomicU64::new(0))
                .collect::<Box<[AtomicU64]>>()
        };
        let heard = instances.filter(|&n| dense * n as u64 <= HEARD_MAX && dense > 0);
        WriteLog {
            prefix: prefix.to_string(),
            dense: atomics(dense),
            sparse: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            began_at: atomics(if heard.is_some() { dense } else { 0 }),
            heard: (0..heard.unwrap_or(0)).map(|_| atomics(dense)).collect(),
        }
    }

    /// Notes that `instance` began writing `key` `at_ns` after the log began.
    pub(super) fn began(&self, key: &str, instance: usize, at_ns: u64) {
        let slot = self.slot(key);
        if let (Slot::Dense(i), false) = (&slot, self.began_at.is_empty()) {
            self.began_at[*i].store(at_ns.max(1), Ordering::Release);
        }
        self.store_at(slot, instance as u64 + 1);
    }

    /// Notes that `instance` heard of a change of `key` `at_ns` after the log began.
    pub(super) fn heard(&self, key: &str, instance: usize, at_ns: u64) {
        if let (Slot::Dense(i), Some(heard)) = (self.slot(key), self.heard.get(instance)) {
            heard[i].store(at_ns.max(1), Ordering::Release);
        }
    }

    /// When `instance` last heard of a change of `key` (0: never, or not kept for this key).
    pub(super) fn last_heard(&self, key: &str, instance: usize) -> u64 {
        match (self.slot(key), self.heard.get(instance)) {
            (Slot::Dense(i), Some(heard)) => heard[i].load(Ordering::Acquire),
            _ => 0,
        }
    }

    /// Peers that never heard of the last write of a key (per key, each instance but the
    /// writer whose last hearing is older than the write's start); `None` when not kept.
    pub(super) fn unheard(&self) -> Option<u64> {
        if self.heard.is_empty() {
            return None;
        }
        let mut lost = 0;
        for (k, packed) in self.dense.iter().enumerate() {
            let packed = packed.load(Ordering::Acquire);
            if packed == 0 {
                continue;
            }
            let writer = (packed & 0xff) as usize - 1;
            let began = self.began_at[k].load(Ordering::Acquire);
            lost += self
                .heard
                .iter()
                .enumerate()
                .filter(|(i, heard)| *i != writer && heard[k].load(Ordering::Acquire) < began)
                .count() as u64;
        }
        Some(lost)
    }

    /// Notes that `instance`'s write of `key` completed `at_ns` after the log began.
    pub(super) fn completed(&self, key: &str, instance: usize, at_ns: u64) {
        self.store(key, (at_ns.max(1) << 8) | (instance as u64 + 1));
    }

    /// The last write of `key`, if this process wrote it.
    pub(super) fn last(&self, key: &str) -> Option<LastWrite> {
        let packed = match self.slot(key) {
            Slot::Dense(i) => self.dense[i].load(Ordering::Acquire),
            Slot::Sparse(id) => {
                let map = self.shard(id);
                map.get(&id).copied().unwrap_or(0)
            }
        };
        (packed != 0).then(|| LastWrite {
            instance: (packed & 0xff) as usize - 1,
            completed_ns: Some(packed >> 8).filter(|&t| t != 0),
        })
    }

    fn store(&self, key: &str, packed: u64) {
        self.store_at(self.slot(key), packed);
    }

    fn store_at(&self, slot: Slot, packed: u64) {
        match slot {
            Slot::Dense(i) => self.dense[i].store(packed, Ordering::Release),
            Slot::Sparse(id) => {
                self.shard(id).insert(id, packed);
            }
        }
    }

    fn slot(&self, key: &str) -> Slot {
        let suffix = key.strip_prefix(self.prefix.as_str()).unwrap_or(key);
        match suffix.parse::<u64>() {
            Ok(i) if i < self.dense.len() as u64 => Slot::Dense(i as usize),
            Ok(i) => Slot::Sparse(i),
            Err(_) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                suffix.hash(&mut h);
                Slot::Sparse(h.finish() | (1 << 63))
            }
        }
    }

    fn shard(&self, id: u64) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        self.sparse[id as usize % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

enum Slot {
    Dense(usize),
    Sparse(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_writer_and_its_completion_are_kept_per_key() {
        for keys in [100, DENSE_MAX_KEYS + 1] {
            let log = WriteLog::new("p:", keys, None);
            assert_eq!(log.last("p:7"), None);
            log.began("p:7", 2, 10);
            assert_eq!(
                log.last("p:7"),
                Some(LastWrite {
                    instance: 2,
                    completed_ns: None
                })
            );
            log.completed("p:7", 3, 1234);
            assert_eq!(
                log.last("p:7"),
                Some(LastWrite {
                    instance: 3,
                    completed_ns: Some(1234)
                })
            );
            assert_eq!(log.last("p:8"), None);
            log.completed("p:user/42", 0, 5);
            assert_eq!(log.last("p:user/42").map(|w| w.instance), Some(0));
        }
    }

    #[test]
    fn a_peer_that_never_heard_of_a_key_s_last_write_is_counted_lost() {
        let log = WriteLog::new("p:", 10, Some(3));
        assert_eq!(log.unheard(), Some(0));
        log.began("p:1", 0, 100);
        log.completed("p:1", 0, 150);
        log.heard("p:1", 1, 160);
        assert_eq!(log.unheard(), Some(1), "instance 2 never heard");
        log.heard("p:1", 2, 120); // before the write completed, after it began: counts
        assert_eq!(log.unheard(), Some(0));
        log.began("p:1", 1, 200);
        assert_eq!(log.unheard(), Some(2), "a newer write nobody heard of yet");
        assert_eq!(WriteLog::new("p:", 10, None).unheard(), None);
    }
}
