//! Verify mode: every written value carries its key and a version, so a read can tell whether
//! what a tier served is fresh, stale (older than the key's last completed write) or corrupt.
//!
//! The versions live in state shared by the workload's workers: one atomic per key up to
//! [`DENSE_MAX_KEYS`] keys (8 bytes each, 32 MiB at most), and above that a sharded map that
//! holds only the keys written during the run (a key never written has version 0, like a
//! preloaded one), so a key space of 10^9 keys costs nothing per key. Stamping writes into a
//! reused buffer, so verify mode adds no allocation per operation either (the sparse map grows
//! by one entry per distinct key written).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Key spaces up to this many keys keep one atomic version per key; larger ones a sparse map.
pub const DENSE_MAX_KEYS: u64 = 1 << 22;
/// Shards of the sparse map (a power of two).
const SHARDS: usize = 64;

/// Verify mode's shared state: the last completed write version of every key.
pub struct VerifyState {
    last: Versions,
    next: AtomicU64,
}

enum Versions {
    /// One atomic per key for the version, one for when it completed (a raw clock reading).
    Dense(Box<[AtomicU64]>, Box<[AtomicU64]>),
    /// Only the keys written, by shard (`index % SHARDS`): version and completion.
    Sparse(Box<[Mutex<KeyVersions>]>),
}

/// Version and completion (a raw clock reading) of each written key of one shard.
type KeyVersions = HashMap<u64, (u64, u64)>;

/// Marks a verify-mode value: magic, key index, version (little endian), then pool bytes.
const STAMP: &[u8; 4] = b"tbv1";
const STAMP_LEN: usize = 4 + 8 + 8;

impl VerifyState {
    /// State for `keys` keys: 8 bytes each up to `DENSE_MAX_KEYS`, else per key written.
    pub fn new(keys: u64) -> VerifyState {
        let last = if keys <= DENSE_MAX_KEYS {
            let atomics = || (0..keys).map(|_| AtomicU64::new(0)).collect();
            Versions::Dense(atomics(), atomics())
        } else {
            Versions::Sparse((0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect())
        };
        VerifyState {
            last,
            next: AtomicU64::new(0),
        }
    }

    /// A new version for a write.
    pub(super) fn next_version(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The last completed write version of key `index`.
    pub(super) fn last(&self, index: u64) -> u64 {
        match &self.last {
            Versions::Dense(last, _) => last[index as usize].load(Ordering::Acquire),
            Versions::Sparse(shards) => shard(shards, index).get(&index).map_or(0, |v| v.0),
        }
    }

    /// When the latest completed write of key `index` completed (a raw clock reading; 0 for
    /// a key never written).
    pub(super) fn completed_at(&self, index: u64) -> u64 {
        match &self.last {
            Versions::Dense(_, at) => at[index as usize].load(Ordering::Acquire),
            Versions::Sparse(shards) => shard(shards, index).get(&index).map_or(0, |v| v.1),
        }
    }

    /// Notes that the write of `version` to key `index` completed at `at` (a raw clock
    /// reading). The key's last write is the one that completed last, not the one with the
    /// highest version: two writes of one key that overlap may reach the server in either
    /// order (versions are drawn when a write is planned), and the one that completes last is
    /// the one the server kept; taking the highest version would count reads of the value the
    /// server really holds as stale.
    pub(super) fn completed(&self, index: u64, version: u64, at: u64) {
        match &self.last {
            Versions::Dense(last, when) => {
                let i = index as usize;
                if when[i].fetch_max(at, Ordering::AcqRel) <= at {
                    last[i].store(version, Ordering::Release);
                }
            }
            Versions::Sparse(shards) => {
                let mut map = shard(shards, index);
                let v = map.entry(index).or_insert((0, 0));
                if at >= v.1 {
                    *v = (version, at);
                }
            }
        }
    }
}

/// The locked shard of `index`.
fn shard(shards: &[Mutex<KeyVersions>], index: u64) -> std::sync::MutexGuard<'_, KeyVersions> {
    shards[index as usize % SHARDS]
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Writes a stamped value (key index, version, then `body`) into `buf`.
pub(super) fn stamp(buf: &mut Vec<u8>, index: u64, version: u64, body: &[u8]) {
    buf.clear();
    buf.extend_from_slice(STAMP);
    buf.extend_from_slice(&index.to_le_bytes());
    buf.extend_from_slice(&version.to_le_bytes());
    buf.extend_from_slice(body);
}

/// What a verified read found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Check {
    Fresh,
    Stale,
    Corrupt,
}

/// Checks a served value against the key it was read for and the oldest acceptable version.
pub(super) fn check(value: &[u8], index: u64, min_version: u64) -> Check {
    if value.len() < STAMP_LEN || &value[..4] != STAMP {
        return Check::Corrupt;
    }
    let key = u64::from_le_bytes(value[4..12].try_into().unwrap_or_default());
    let version = u64::from_le_bytes(value[12..20].try_into().unwrap_or_default());
    if key != index {
        Check::Corrupt
    } else if version < min_version {
        Check::Stale
    } else {
        Check::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamped_values_check_key_and_version() {
        let mut buf = Vec::new();
        stamp(&mut buf, 7, 5, b"body");
        assert_eq!(check(&buf, 7, 5), Check::Fresh);
        assert_eq!(check(&buf, 7, 4), Check::Fresh);
        assert_eq!(check(&buf, 7, 6), Check::Stale);
        assert_eq!(check(&buf, 8, 0), Check::Corrupt);
        assert_eq!(check(b"tbv1", 7, 0), Check::Corrupt);
    }

    #[test]
    fn a_huge_key_space_keeps_only_the_keys_written() {
        for keys in [1000, 1_000_000_000] {
            let state = VerifyState::new(keys);
            assert_eq!(state.last(999), 0);
            state.completed(999, 5, 70);
            state.completed(999, 3, 60);
            assert_eq!(state.last(999), 5);
            assert_eq!(state.completed_at(999), 70);
            assert_eq!(state.last(998), 0);
        }
        let huge = VerifyState::new(1_000_000_000);
        huge.completed(123_456_789, 1, 1);
        assert_eq!(
            huge.last(7),
            0,
            "a read of a key never written adds nothing"
        );
        match &huge.last {
            Versions::Sparse(shards) => assert_eq!(
                shards
                    .iter()
                    .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
                    .sum::<usize>(),
                1
            ),
            Versions::Dense(..) => panic!("10^9 keys must not be dense"),
        }
    }
}
