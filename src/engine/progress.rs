//! Live progress on a terminal: one bar per workload phase with the current throughput.
//!
//! Workers never touch the bar: each stores its own operation count in a cache-padded atomic,
//! and a ticker thread sums them ten times a second. Nothing is drawn when stderr is not a
//! terminal or `CI` is set, and then no ticker thread runs at all.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether and where progress is drawn.
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Progress on stderr when it is a terminal and `CI` is not set.
    pub fn auto() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
        }
    }

    /// No progress at all.
    pub fn hidden() -> Progress {
        Progress { enabled: false }
    }

    /// Starts a bar for one phase; `total` is the expected operation count if known.
    pub fn phase(
        &self,
        workload: &str,
        phase: &str,
        total: Option<u64>,
        counters: &Arc<[CachePadded<AtomicU64>]>,
    ) -> PhaseBar {
        for c in counters.iter() {
            c.store(0, Ordering::Relaxed);
        }
        if !self.enabled {
            return PhaseBar { ticker: None };
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{prefix:>24} {bar:30} {pos}/{len} ops  {msg}"
        } else {
            "{prefix:>24} {spinner} {pos} ops  {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(format!("{workload} {phase}"));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (bar, done, counters) = (bar.clone(), Arc::clone(&done), Arc::clone(counters));
            std::thread::Builder::new()
                .name("tierbench-progress".into())
                .spawn(move || tick(&bar, &done, &counters))
                .ok()
        };
        PhaseBar {
            ticker: thread.map(|t| (done, t)),
        }
    }
}

fn tick(bar: &ProgressBar, done: &AtomicBool, counters: &[CachePadded<AtomicU64>]) {
    let started = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let ops: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        bar.set_position(ops);
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{:.0} ops/s", ops as f64 / secs));
    }
    bar.finish_and_clear();
}

/// A running bar; `finish` stops its ticker.
pub struct PhaseBar {
    ticker: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl PhaseBar {
    /// Stops and clears the bar.
    pub fn finish(self) {
        if let Some((done, thread)) = self.ticker {
            done.store(true, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}
