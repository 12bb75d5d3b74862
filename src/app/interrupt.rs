//! Ctrl-C and SIGTERM during a run: the first signal stops issuing operations at once and lets
//! the run finish its way (results written, reported as interrupted, tiers cleaned up, exit 130
//! or 143); a second one exits immediately, saying what was left behind.
//!
//! Without this the process would die of the signal with no report and with its keys and tables
//! left on the servers, where the next run would count them as hits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::exit::{INTERRUPTED as SIGINT_EXIT, TERMINATED as SIGTERM_EXIT};

/// Watches for the signals while a run goes on.
pub struct Interrupt {
    caught: Arc<OnceLock<(&'static str, u8)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    /// Starts watching: the first signal raises `stop`; a second exits the process at once after
    /// printing `left_behind`.
    pub fn watch(stop: &Arc<AtomicBool>, left_behind: String) -> Interrupt {
        let caught = Arc::new(OnceLock::new());
        let (stop, seen) = (Arc::clone(stop), Arc::clone(&caught));
        let task = tokio::spawn(async move {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            loop {
                let signal = tokio::select! {
                    r = tokio::signal::ctrl_c() => match r {
                        Ok(()) => ("SIGINT", SIGINT_EXIT),
                        Err(_) => return,
                    },
                    _ = term.recv() => ("SIGTERM", SIGTERM_EXIT),
                };
                if seen.set(signal).is_ok() {
                    stop.store(true, Ordering::Relaxed);
                    eprintln!(
                        "\n{}: stopping; writing the results so far and cleaning up (again to exit at once)",
                        signal.0
                    );
                } else {
                    eprintln!(
                        "\n{}: exiting at once; left behind: {left_behind}",
                        signal.0
                    );
                    std::process::exit(i32::from(signal.1));
                }
            }
        });
        Interrupt { caught, task }
    }

    /// Stops watching; the signal that stopped the run, with its exit code, if one did.
    pub fn end(self) -> Option<(&'static str, u8)> {
        self.task.abort();
        self.caught.get().copied()
    }
}
