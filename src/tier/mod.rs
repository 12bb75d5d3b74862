//! Cache tiers and the stack a workload runs against.
//!
//! `Tier` is a closed enum: the measured path dispatches with `match`, never through a boxed
//! trait object or a boxed future, so a call adds no allocation to what it measures. The `Stack`
//! is the policy over an ordered list of tiers (for now: one tier, called directly).

pub mod memory;
pub mod redis;
pub mod sql;

use std::sync::Arc;

use bytes::Bytes;
use thiserror::Error;

use crate::metrics::recorder::Recorder;
use crate::scenario::plan::{TierConfig, TierKindConfig};
use memory::MemoryTier;

/// A failure of a tier, during setup or an operation.
#[derive(Debug, Error)]
pub enum TierError {
    /// The tier could not be set up (unreachable server, bad table, ...).
    #[error("tier `{tier}` ({url}): {message}")]
    Setup {
        /// Tier name.
        tier: String,
        /// Where it lives, password redacted.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// One operation failed.
    #[error("{0}")]
    Operation(String),
}

/// One set-up tier.
pub enum Tier {
    /// An in-process cache.
    Memory(MemoryTier),
}

impl Tier {
    /// Sets a tier up from its configuration.
    pub async fn connect(config: &TierConfig) -> Result<Tier, TierError> {
        match &config.kind {
            TierKindConfig::Memory {
                engine,
                max_entries,
                ttl,
            } => Ok(Tier::Memory(MemoryTier::new(*engine, *max_entries, *ttl))),
        }
    }

    /// True when every call completes without waiting on I/O (no async runtime needed).
    pub fn is_in_process(&self) -> bool {
        matches!(self, Tier::Memory(_))
    }

    /// Reads a key.
    #[inline]
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, TierError> {
        match self {
            Tier::Memory(t) => Ok(t.get(key)),
        }
    }

    /// Writes a key.
    #[inline]
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.set(key, value);
                Ok(())
            }
        }
    }

    /// Removes a key.
    #[inline]
    pub async fn delete(&self, key: &str) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.delete(key);
                Ok(())
            }
        }
    }

    /// Entries held now, when the tier can tell.
    pub async fn entries(&self) -> Result<Option<u64>, TierError> {
        match self {
            Tier::Memory(t) => Ok(Some(t.entries())),
        }
    }

    /// Removes everything tierbench wrote to the tier.
    pub async fn cleanup(&self) -> Result<(), TierError> {
        match self {
            Tier::Memory(t) => {
                t.clear();
                Ok(())
            }
        }
    }
}

/// The tiers one workload targets, in order, with the read/write policy over them.
#[derive(Clone)]
pub struct Stack {
    tiers: Vec<Arc<Tier>>,
}

impl Stack {
    /// A stack over `tiers` (at least one), first asked first.
    pub fn new(tiers: Vec<Arc<Tier>>) -> Stack {
        Stack { tiers }
    }

    /// How many tiers.
    pub fn len(&self) -> usize {
        self.tiers.len()
    }

    /// True when the stack has no tier (never, for a validated scenario).
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// True when no tier needs an async runtime.
    pub fn is_in_process(&self) -> bool {
        self.tiers.iter().all(|t| t.is_in_process())
    }

    /// The tiers.
    pub fn tiers(&self) -> &[Arc<Tier>] {
        &self.tiers
    }

    /// Reads a key; returns the index of the tier that served it, `None` on a miss. Hits and
    /// misses are counted in `rec`.
    #[inline]
    pub async fn get(&self, key: &str, rec: &mut Recorder) -> Result<Option<usize>, TierError> {
        let hit = self.tiers[0].get(key).await?.is_some();
        rec.tiers[0].count_lookup(hit);
        Ok(hit.then_some(0))
    }

    /// Writes a key to every tier.
    #[inline]
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), TierError> {
        for tier in &self.tiers {
            tier.set(key, value).await?;
        }
        Ok(())
    }

    /// Removes a key from every tier.
    #[inline]
    pub async fn delete(&self, key: &str) -> Result<(), TierError> {
        for tier in &self.tiers {
            tier.delete(key).await?;
        }
        Ok(())
    }
}

/// A URL with its password replaced by `***`, for messages, logs and results.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_string(),
    };
    format!("{}{}{}", &url[..scheme_end + 3], user, &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://:s3cret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("postgres://bob:pa:ss@db/x?sslmode=disable"),
            "postgres://bob:***@db/x?sslmode=disable"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/test"),
            "mysql://root@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }
}
