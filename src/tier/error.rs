//! `TierError`: how a tier fails, during setup or an operation.
//!
//! A file of its own so the tier kinds (`memory`, `redis`, `sql`) can name it without importing
//! `tier/mod.rs`, which imports them for the `Tier` enum: imports between files run one way.
//! `tier::TierError` re-exports it for the stages above.

use thiserror::Error;

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
