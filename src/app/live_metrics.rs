//! `--metrics-listen`, `--metrics-linger`, `--metrics-push`, `--dashboard`: the run's live
//! metrics and page (`live/`) set up before the run and concluded after it (the final state,
//! the final report on the page, the push, the linger).
//!
//! Apart from `mod.rs` because it is one concern with its own options; nothing here changes
//! a verdict: an unreachable Pushgateway is a warning.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::exit;
use crate::live::{Dashboard, Exporter, parse_addr, push};
use crate::metrics::live::{LiveBoard, RunInfo, RunState, install};
use crate::report::Reporter;
use crate::scenario::plan::Scenario;
use crate::units::parse_duration;

use super::finish::RunOutcome;

/// How long the end of a run waits for open pages to receive the final report.
const REPORT_PATIENCE: Duration = Duration::from_secs(5);

/// The exporter and page of one run, and what to do at its end.
pub(super) struct LiveMetrics {
    board: Arc<LiveBoard>,
    exporter: Option<Exporter>,
    dashboard: Option<Dashboard>,
    linger: Duration,
    push: Option<String>,
}

/// Starts what the options ask for: `None` when they ask for nothing; Err (the message) for an
/// address that is not one or is taken, or a linger that is not a duration.
pub(super) fn start(args: &RunArgs, scenario: &Scenario) -> Result<Option<LiveMetrics>, String> {
    let serves = args.metrics_listen.is_some() || args.dashboard.is_some();
    if !serves && args.metrics_push.is_none() {
        return Ok(None);
    }
    let linger = match &args.metrics_linger {
        Some(text) => parse_duration(text).map_err(|e| format!("--metrics-linger: {e}"))?,
        None => Duration::ZERO,
    };
    if !linger.is_zero() && !serves {
        return Err(
            "--metrics-linger keeps the endpoint of --metrics-listen or --dashboard up: give one"
                .into(),
        );
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
            let addr = parse_addr("--metrics-listen", text)?;
            let exporter = Exporter::start(addr, Arc::clone(&board))?;
            eprintln!("tierbench: metrics at http://{}/metrics", exporter.addr);
            Some(exporter)
        }
        None => None,
    };
    let dashboard = match &args.dashboard {
        Some(text) => {
            let dashboard = Dashboard::start(parse_addr("--dashboard", text)?, Arc::clone(&board))?;
            eprintln!("tierbench: dashboard at http://{}/", dashboard.addr);
            Some(dashboard)
        }
        None => None,
    };
    install(Arc::clone(&board));
    Ok(Some(LiveMetrics {
        board,
        exporter,
        dashboard,
        linger,
        push: args.metrics_push.clone(),
    }))
}

impl LiveMetrics {
    /// The run is over: its final state, the final report on the page, the push, then the
    /// linger (the endpoint and the page keep serving the final figures).
    pub(super) fn end(self, outcome: &RunOutcome, reporter: &Reporter) {
        let state = match outcome.code {
            exit::INTERRUPTED | exit::TERMINATED | exit::TIMED_OUT => RunState::Interrupted,
            _ if outcome.failure.is_some() => RunState::Failed,
            _ => RunState::Done,
        };
        self.board.set_state(state);
        if let Some(dashboard) = &self.dashboard {
            let html = reporter
                .render_format("html", &outcome.document)
                .unwrap_or_else(|e| {
                    let said = e.to_string().replace('&', "&amp;").replace('<', "&lt;");
                    format!("<!DOCTYPE html><title>tierbench</title><pre>{said}</pre>")
                });
            dashboard.finish(html, REPORT_PATIENCE);
        }
        if let Some(url) = &self.push
            && let Err(e) = push(url, &self.board)
        {
            eprintln!("warning: {e}; the run's verdict is unchanged");
        }
        if (self.exporter.is_some() || self.dashboard.is_some()) && !self.linger.is_zero() {
            std::thread::sleep(self.linger);
        }
        drop(self.exporter);
        drop(self.dashboard);
    }
}
