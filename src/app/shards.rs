//! The run side of sharding: which shard this process is (`--shard I/N`, or a Kubernetes Indexed
//! Job's `JOB_COMPLETION_INDEX` with `TIERBENCH_SHARDS`), the common start (`--start-at`) and
//! how far ahead to put it (`--until-ready`), and the marker token the shards share so that none
//! removes another's data as leftovers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::finish::RunOutcome;
use crate::exit;

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
    // --until-ready finds the start: it has none to wait for.
    let start_text = args.start_at.as_deref().filter(|_| !args.until_ready);
    let start = start_text
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
    if shard.count > 1 && !args.until_ready {
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

/// `--until-ready`: how long this process took to be ready to measure its first workload
/// (connected, claimed, preloaded, warmed up). Its hold records that and stops the run there.
pub struct ReadyProbe {
    began: Instant,
    armed: AtomicBool,
    after: Mutex<Option<Duration>>,
}

impl ReadyProbe {
    /// A probe counting from now (before the tiers are connected).
    pub fn start() -> ReadyProbe {
        ReadyProbe {
            began: Instant::now(),
            armed: AtomicBool::new(false),
            after: Mutex::new(None),
        }
    }

    /// The hold of the first measured workload: notes the time and raises `stop`, so that
    /// nothing is measured and the run cleans up. `None` for later workloads.
    pub fn hold<'a>(&'a self, stop: &'a AtomicBool) -> Option<crate::engine::Hold<'a>> {
        if self.armed.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(Box::pin(async move {
            if let Ok(mut after) = self.after.lock() {
                *after = Some(self.began.elapsed());
            }
            stop.store(true, Ordering::Relaxed);
        }))
    }

    fn ready_after(&self) -> Option<Duration> {
        self.after.lock().ok().and_then(|a| *a)
    }
}

/// After a `--until-ready` run: the common start on stdout (`TIERBENCH_START_AT=...`, now plus
/// twice the time to be ready plus `margin`), what it is made of on stderr; the exit code.
pub fn report_ready(probe: &ReadyProbe, margin: Duration, outcome: &RunOutcome) -> u8 {
    if let Some(failure) = &outcome.failure {
        eprintln!("error: {failure}");
        return outcome.code.max(exit::RUNTIME_FAILURE);
    }
    let Some(ready) = probe.ready_after() else {
        if outcome.document.summary.interrupted.is_some() {
            return outcome.code;
        }
        eprintln!(
            "error: --until-ready: no workload of the scenario measures, so there is nothing to \
             be ready for"
        );
        return exit::INVALID_INPUT;
    };
    let allow = ready * 2 + margin;
    let secs = allow.as_secs() + u64::from(allow.subsec_nanos() > 0);
    let start = Utc::now() + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2));
    eprintln!(
        "ready to measure {:.1} s after starting (connect, claim, preload, warmup, cleaned up \
         since); a common start {secs} s from now allows twice that plus {:?} \
         (--ready-margin) for scheduling and the image pull:",
        ready.as_secs_f64(),
        margin
    );
    println!(
        "TIERBENCH_START_AT={}",
        start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    exit::OK
}
