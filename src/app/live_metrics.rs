//! `--metrics-listen`, `--metrics-linger`, `--metrics-push`: the run's live metrics (`live/`)
//! set up before the run and concluded after it (the final state, the push, the linger).
//!
//! Apart from `mod.rs` because it is one concern with its own options; nothing here changes
//! a verdict: an unreachable Pushgateway is a warning.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::exit;
use crate::live::{Exporter, parse_addr, push};
use crate::metrics::live::{LiveBoard, RunInfo, RunState, install};
use crate::scenario::plan::Scenario;
use crate::units::parse_duration;

use super::finish::RunOutcome;

/// The exporter of one run, and what to do at its end.
pub(super) struct LiveMetrics {
    board: Arc<LiveBoard>,
    exporter: Option<Exporter>,
    linger: Duration,
    push: Option<String>,
}

/// Starts what the options ask for: `None` when they ask for nothing; Err (the message) for an
/// address that is not one or is taken, or a linger that is not a duration.
pub(super) fn start(args: &RunArgs, scenario: &Scenario) -> Result<Option<LiveMetrics>, String> {
    if args.metrics_listen.is_none() && args.metrics_push.is_none() {
        return Ok(None);
    }
    let linger = match &args.metrics_linger {
        Some(text) => parse_duration(text).map_err(|e| format!("--metrics-linger: {e}"))?,
        None => Duration::ZERO,
    };
    if !linger.is_zero() && args.metrics_listen.is_none() {
        return Err("--metrics-linger keeps the endpoint of --metrics-listen up: give both".into());
    }
    let board = Arc::new(LiveBoard::new(RunInfo {
        scenario: scenario.name.clone(),
        sha256: scenario.source.sha256.clone(),
        seed: scenario.seed,
        shard: scenario
            .shard
            .map(|s| format!("{}/{}", s.index, s.count))
            .unwrap_or_default(),
    }));
    let exporter = match &args.metrics_listen {
        Some(text) => {
            let exporter = Exporter::start(parse_addr(text)?, Arc::clone(&board))?;
            eprintln!("tierbench: metrics at http://{}/metrics", exporter.addr);
            Some(exporter)
        }
        None => None,
    };
    install(Arc::clone(&board));
    Ok(Some(LiveMetrics {
        board,
        exporter,
        linger,
        push: args.metrics_push.clone(),
    }))
}

impl LiveMetrics {
    /// The run is over: its final state, the push, then the linger (the endpoint keeps
    /// serving the final figures so the last scrape sees them).
    pub(super) fn end(self, outcome: &RunOutcome) {
        let state = match outcome.code {
            exit::INTERRUPTED | exit::TERMINATED | exit::TIMED_OUT => RunState::Interrupted,
            _ if outcome.failure.is_some() => RunState::Failed,
            _ => RunState::Done,
        };
        self.board.set_state(state);
        if let Some(url) = &self.push
            && let Err(e) = push(url, &self.board)
        {
            eprintln!("warning: {e}; the run's verdict is unchanged");
        }
        if self.exporter.is_some() && !self.linger.is_zero() {
            std::thread::sleep(self.linger);
        }
        drop(self.exporter);
    }
}
