//! The in-process tier: moka, quick_cache or an exact mutex-guarded LRU, called synchronously.
//!
//! Keys are owned `Box<str>` (an insert needs an owned key, as in any real L1) and looked up by
//! `&str`, so a get allocates nothing. Values are `Bytes`: a set copies the caller's bytes once,
//! as a real cache stores its own copy (which is also what memory-per-entry measures); a get hands
//! out a reference-counted clone.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;

use super::config::MemoryEngine;
use super::error::TierError;

/// One in-process cache.
pub enum MemoryTier {
    /// moka's concurrent cache.
    Moka(moka::sync::Cache<Box<str>, Bytes>),
    /// quick_cache's concurrent cache.
    QuickCache(quick_cache::sync::Cache<Box<str>, Bytes>),
    /// An exact LRU behind one mutex.
    Lru(Mutex<lru::LruCache<Box<str>, Bytes>>),
}

impl MemoryTier {
    /// Builds an empty cache. `ttl` is only accepted for moka (validation enforces it).
    pub fn new(engine: MemoryEngine, max_entries: u64, ttl: Option<Duration>) -> MemoryTier {
        let capacity = usize::try_from(max_entries).unwrap_or(usize::MAX).max(1);
        match engine {
            MemoryEngine::Moka => {
                let mut builder = moka::sync::Cache::builder().max_capacity(max_entries);
                if let Some(ttl) = ttl {
                    builder = builder.time_to_live(ttl);
                }
                MemoryTier::Moka(builder.build())
            }
            MemoryEngine::QuickCache => {
                MemoryTier::QuickCache(quick_cache::sync::Cache::new(capacity))
            }
            MemoryEngine::Lru => MemoryTier::Lru(Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            ))),
        }
    }

    /// Looks a key up.
    #[inline]
    pub fn get(&self, key: &str) -> Option<Bytes> {
        match self {
            MemoryTier::Moka(c) => c.get(key),
            MemoryTier::QuickCache(c) => c.get(key),
            MemoryTier::Lru(c) => lock(c).get(key).cloned(),
        }
    }

    /// Looks up the keys at `which` of a batch, appending each result to `found` (the exact
    /// LRU takes its lock once for the batch).
    pub fn get_many(
        &self,
        keys: &crate::workload::batch::BatchKeys,
        which: &[u32],
        found: &mut Vec<Option<Bytes>>,
    ) {
        match self {
            MemoryTier::Lru(c) => {
                let mut cache = lock(c);
                found.extend(
                    which
                        .iter()
                        .map(|&i| cache.get(keys.key(i as usize)).cloned()),
                );
            }
            _ => found.extend(which.iter().map(|&i| self.get(keys.key(i as usize)))),
        }
    }

    /// Stores a copy of `value` under `key`.
    #[inline]
    pub fn set(&self, key: &str, value: &[u8]) {
        self.set_bytes(key, Bytes::copy_from_slice(value));
    }

    /// Stores `value` (already owned, e.g. promoted from a lower tier) under `key`.
    #[inline]
    pub fn set_bytes(&self, key: &str, value: Bytes) {
        let key: Box<str> = key.into();
        match self {
            MemoryTier::Moka(c) => c.insert(key, value),
            MemoryTier::QuickCache(c) => c.insert(key, value),
            MemoryTier::Lru(c) => {
                lock(c).put(key, value);
            }
        }
    }

    /// Removes a key.
    #[inline]
    pub fn delete(&self, key: &str) {
        match self {
            MemoryTier::Moka(c) => c.invalidate(key),
            MemoryTier::QuickCache(c) => {
                c.remove(key);
            }
            MemoryTier::Lru(c) => {
                lock(c).pop(key);
            }
        }
    }

    /// Refreshes a key's recency (in-process entries have no per-key time to live to extend);
    /// true if the key is present.
    #[inline]
    pub fn touch(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Entries held now (moka's count is settled first, it is otherwise eventually consistent).
    pub fn entries(&self) -> u64 {
        match self {
            MemoryTier::Moka(c) => {
                c.run_pending_tasks();
                c.entry_count()
            }
            MemoryTier::QuickCache(c) => c.len() as u64,
            MemoryTier::Lru(c) => lock(c).len() as u64,
        }
    }

    /// Drops every entry (the cache is tierbench's own, so nobody else's data is in it).
    pub fn clear(&self) {
        match self {
            MemoryTier::Moka(c) => {
                c.invalidate_all();
                c.run_pending_tasks();
            }
            MemoryTier::QuickCache(c) => c.clear(),
            MemoryTier::Lru(c) => lock(c).clear(),
        }
    }
}

/// Locks the LRU; a poisoned lock (a panicked worker) still holds a consistent cache.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bytes allocated by the process now, from jemalloc's own statistics (refreshed first).
pub fn allocated_bytes() -> Result<u64, TierError> {
    use tikv_jemalloc_ctl::{epoch, stats};
    let err =
        |e: tikv_jemalloc_ctl::Error| TierError::Operation(format!("jemalloc statistics: {e}"));
    epoch::advance().map_err(err)?;
    stats::allocated::read().map(|b| b as u64).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_gets_what_was_set() {
        for engine in [
            MemoryEngine::Moka,
            MemoryEngine::QuickCache,
            MemoryEngine::Lru,
        ] {
            let tier = MemoryTier::new(engine, 100, None);
            assert_eq!(tier.get("a"), None);
            tier.set("a", b"one");
            assert_eq!(tier.get("a").as_deref(), Some(&b"one"[..]));
            tier.delete("a");
            assert_eq!(tier.get("a"), None, "{engine:?}");
            tier.set("b", b"two");
            assert_eq!(tier.entries(), 1, "{engine:?}");
            tier.clear();
            assert_eq!(tier.entries(), 0, "{engine:?}");
        }
    }

    #[test]
    fn the_lru_evicts_the_least_recently_used() {
        let tier = MemoryTier::new(MemoryEngine::Lru, 2, None);
        tier.set("a", b"1");
        tier.set("b", b"2");
        tier.get("a");
        tier.set("c", b"3");
        assert!(tier.get("b").is_none());
        assert!(tier.get("a").is_some());
    }
}
