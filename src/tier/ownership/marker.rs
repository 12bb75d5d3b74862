//! How a run marks what it creates, so that a later run recognises what an interrupted
//! tierbench left behind (a killed process never reaches its cleanup).
//!
//! - Redis (and a SQL table of the user's): a marker `{prefix}__tierbench__` (a hash; a row)
//!   is set at setup and removed last at the end, so it exists only while a run of that prefix
//!   is going on, after one that did not finish, or after one that kept its keys (`keep: true`,
//!   marked `kept`). It records the run and its key space (`key_names::MarkerRecord`): a run that
//!   finds another run's marker removes exactly the names it records (`claim.rs`). Names
//!   without a marker are not tierbench's: a run that would write one of them is refused.
//! - SQL: a table tierbench creates carries a row whose key is `__tierbench_created__` until it
//!   is dropped. A run that finds an existing table with that row knows the table is
//!   tierbench's own: it deletes the leftover rows and drops the table at the end as if it had
//!   created it.
//!
//! Generated keys are the prefix plus decimal digits, so neither marker can be read as a key;
//! both are left out of entry counts. A marker's value names the run that wrote it (pid and
//! start time, or the token the shards of one run share), so two tiers of the same run sharing
//! a prefix or a table, or two shards, do not take each other's names for leftovers.

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
