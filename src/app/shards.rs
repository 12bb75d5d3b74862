//! The run side of sharding: which shard this process is (`--shard I/N`, or a Kubernetes Indexed
//! Job's `JOB_COMPLETION_INDEX` with `TIERBENCH_SHARDS`), the common start (`--start-at`), and
//! the marker token the shards share so that none removes another's data as leftovers.

use chrono::{DateTime, Utc};

use crate::cli::RunArgs;
use crate::scenario::plan::Scenario;
use crate::scenario::shard::Shard;
use crate::scenario::sharding;

/// When the first workload starts measuring, prepared (connected, preloaded, warmed up): a
/// common time for every shard.
#[derive(Debug, Clone)]
pub struct StartAt {
    /// The time.
    pub at: DateTime<Utc>,
    /// As the user wrote it.
    pub text: String,
}

/// Applies `--shard` / the Indexed Job's environment to `scenario` and parses `--start-at`.
pub fn prepare(
    args: &RunArgs,
    scenario: &mut Scenario,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<StartAt>, String> {
    let start = args
        .start_at
        .as_deref()
        .map(|text| {
            DateTime::parse_from_rfc3339(text.trim())
                .map(|t| StartAt {
                    at: t.with_timezone(&Utc),
                    text: text.trim().to_string(),
                })
                .map_err(|e| {
                    format!(
                        "--start-at `{text}`: {e}: write an RFC 3339 time such as \
                         2026-11-28T10:00:00Z"
                    )
                })
        })
        .transpose()?;
    let shard = match args.shard.as_deref() {
        Some(text) => Some(Shard::parse(text).map_err(|e| format!("--shard {e}"))?),
        None => Shard::from_env(env)?,
    };
    let Some(shard) = shard else {
        return Ok(start);
    };
    if shard.count > 1 {
        let Some(start) = &start else {
            return Err(format!(
                "shard {}/{}: a sharded run needs a common start so its shards measure the same \
                 window and recognise each other's data: add --start-at TIME (or set \
                 TIERBENCH_START_AT), the same for every shard",
                shard.index, shard.count
            ));
        };
        crate::tier::ownership::marker::share_run_token(shards_token(
            &scenario.source.sha256,
            &start.text,
        ));
    }
    sharding::apply(scenario, shard);
    Ok(start)
}

/// The marker token the shards of one run share (the scenario's SHA-256 and their common
/// start): each recognises the others' names as the run's own, and `merge --cleanup` does too.
pub fn shards_token(sha256: &str, start: &str) -> String {
    format!("tierbench shards of {sha256} starting {start}")
}

/// Waits until `start` (checking `stop` ten times a second, so Ctrl-C still works). Returns a
/// warning when the time had already passed by more than a second.
pub async fn wait(start: &StartAt, stop: &std::sync::atomic::AtomicBool) -> Option<String> {
    let late = Utc::now().signed_duration_since(start.at);
    if late.num_milliseconds() > 1_000 {
        return Some(format!(
            "--start-at {} had passed {:.1} s before this process was ready: its measured \
             window starts later than the others' (give the shards more time to set up)",
            start.text,
            late.num_milliseconds() as f64 / 1000.0
        ));
    }
    if late.num_milliseconds() < 0 {
        eprintln!("waiting until {} to start", start.text);
    }
    while Utc::now() < start.at && !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let left = (start.at - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left.min(std::time::Duration::from_millis(100))).await;
    }
    None
}
