//! Verify mode: every written value carries its key and a version, so a read can tell whether
//! what a tier served is fresh, stale (older than the key's last completed write) or corrupt.
//!
//! The versions live in one atomic per key shared by the workload's workers; stamping writes into
//! a reused buffer, so verify mode adds no allocation per operation either.

use std::sync::atomic::{AtomicU64, Ordering};

/// Verify mode's shared state: the last completed write version of every key.
pub struct VerifyState {
    last: Box<[AtomicU64]>,
    next: AtomicU64,
}

/// Marks a verify-mode value: magic, key index, version (little endian), then pool bytes.
const STAMP: &[u8; 4] = b"tbv1";
const STAMP_LEN: usize = 4 + 8 + 8;

impl VerifyState {
    /// State for `keys` keys (8 bytes each).
    pub fn new(keys: u64) -> VerifyState {
        VerifyState {
            last: (0..keys).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicU64::new(0),
        }
    }

    /// A new version for a write.
    pub(super) fn next_version(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The last completed write version of key `index`.
    pub(super) fn last(&self, index: u64) -> u64 {
        self.last[index as usize].load(Ordering::Acquire)
    }

    /// Notes that the write of `version` to key `index` completed.
    pub(super) fn completed(&self, index: u64, version: u64) {
        self.last[index as usize].fetch_max(version, Ordering::AcqRel);
    }
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
}
