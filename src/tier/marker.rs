//! How a run marks what it creates, so that a later run recognises what an interrupted
//! tierbench left behind (a killed process never reaches its cleanup).
//!
//! - Redis: a key `{prefix}__tierbench__` is set at setup and removed last at the end (also with
//!   `keep: true`), so it exists only while a run of that prefix is going on or after one that
//!   did not finish. A run that finds it removes every key under the prefix before measuring.
//!   Keys under the prefix without the marker are not tierbench's to remove.
//! - SQL: a table tierbench creates carries a row whose key is `__tierbench_created__` until it
//!   is dropped (or, with `keep: true`, until the end of the run). A run that finds an existing
//!   table with that row knows the table is tierbench's own: it deletes the leftover rows and
//!   drops the table at the end as if it had created it. A table without the row is the user's.
//!
//! Generated keys are the prefix plus decimal digits, so neither marker can be read as a key;
//! both are left out of entry counts. A marker's value names the process that wrote it (pid and
//! start time), so two tiers of the same run sharing a prefix or a table do not take each other's
//! marker for a leftover.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appended to the scenario's prefix: the Redis marker key.
pub const REDIS_MARKER_SUFFIX: &str = "__tierbench__";

/// Key of the SQL marker row in a table tierbench created.
pub const SQL_MARKER_KEY: &str = "__tierbench_created__";

static TOKEN: OnceLock<String> = OnceLock::new();

/// Makes `token` this process's marker value, shared with the other shards of one sharded run
/// (so no shard takes another's data for an interrupted run's leftovers). Call it before any
/// tier is set up; false if the token was already fixed.
pub fn share_run_token(token: String) -> bool {
    TOKEN.set(token).is_ok()
}

/// The value of this process's markers: its pid and start time (Unix milliseconds), or the
/// sharded run's shared token.
pub fn run_token() -> &'static str {
    TOKEN.get_or_init(|| {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        format!("tierbench pid {} started {started}", std::process::id())
    })
}

/// `n` and the noun, singular or plural (`1 key`, `3 keys`).
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Says the note on stderr and returns it (for the result document's warnings).
pub fn say(note: String) -> String {
    eprintln!("note: {note}");
    note
}

/// What a Redis tier's setup does with the marker it found under its prefix (`found`, the
/// marker's run token): nothing when there is none or it is this run's (another tier of this run,
/// on the same server and prefix, set it); otherwise an interrupted run's keys are removed with
/// `clear`, and the note to say about them is returned (none for a marker alone: a run that
/// failed before writing anything is worth no note).
pub async fn claim_leftovers<F>(
    name: &str,
    prefix: &str,
    found: Option<Vec<u8>>,
    clear: impl FnOnce() -> F,
) -> Result<Option<String>, super::error::TierError>
where
    F: std::future::Future<Output = Result<u64, super::error::TierError>>,
{
    match found {
        Some(value) if value != run_token().as_bytes() => {
            let removed = clear().await?;
            Ok((removed > 0).then(|| {
                let keys = count(removed, "key", "keys");
                say(format!(
                    "tier `{name}`: removed {keys} left under `{prefix}` by an interrupted \
                     tierbench run"
                ))
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_names_this_process_and_stays_the_same() {
        assert!(run_token().contains(&std::process::id().to_string()));
        assert_eq!(run_token(), run_token());
        assert_eq!(count(1, "key", "keys"), "1 key");
        assert_eq!(count(0, "key", "keys"), "0 keys");
    }
}
