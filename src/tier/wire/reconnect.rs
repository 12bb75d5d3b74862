//! One connection's health, and the one way every connection tierbench owns comes back after
//! its server went away: a failure settles what was in flight (the caller fails exactly those
//! operations and drops its buffers, so no reply of the old connection is taken for a command
//! of the new one), marks the connection down with the reason, and makes the next connect
//! attempt due after the back-off (`backoff.rs`); an attempt before it is due is refused at once,
//! saying why; a failed attempt doubles the pause; a connect resets it.
//!
//! Why one type: the pipelined windows and connection groups (`pipe.rs`), the shared lanes'
//! driver (`lane.rs`), the cluster's per-primary pipelines (`redis/cluster/pipe.rs`) and the
//! coherence listener each kept this bookkeeping on their own, and they drifted (a window that
//! kept its queued commands across a reconnect stayed out of step for the rest of the run).
//! `tests/restart_recovery.rs` drills every one of them with its server restarted.

use std::time::{Duration, Instant};

use crate::tier::wire::backoff::Backoff;

/// Up, or down since a failure with the next connect attempt due at a known time.
#[derive(Debug)]
pub(in crate::tier) struct Reconnect {
    /// The server, as messages name it (`Redis`, `memcached`).
    server: &'static str,
    /// Why the connection is down and when the next attempt is due, while it is.
    down: Option<(String, Instant)>,
    backoff: Backoff,
}

impl Reconnect {
    /// A connection to `server` that is up (or about to be tried for the first time).
    pub(in crate::tier) fn new(server: &'static str) -> Reconnect {
        Reconnect {
            server,
            down: None,
            backoff: Backoff::default(),
        }
    }

    /// The connection failed for `why` (the caller has settled what was in flight): down until
    /// the back-off's pause has passed. Returns `why`, for the operations that failed with it.
    pub(in crate::tier) fn lost(&mut self, why: String) -> String {
        self.down = Some((why.clone(), Instant::now() + self.backoff.current()));
        why
    }

    /// A connect attempt failed for `why`: the pause doubles, and the next attempt is due after it.
    pub(in crate::tier) fn attempt_failed(&mut self, why: String) -> String {
        self.backoff.failed();
        self.lost(why)
    }

    /// Connected: up, and a later failure starts the back-off again from its shortest pause.
    pub(in crate::tier) fn connected(&mut self) {
        self.down = None;
        self.backoff.reset();
    }

    /// Whether a connect attempt may be made now. Err: the message an operation issued while
    /// the connection is down fails with ("connection to Redis lost (why); reconnecting").
    pub(in crate::tier) fn attempt_due(&self) -> Result<(), String> {
        match &self.down {
            Some((why, due)) if Instant::now() < *due => Err(self.refusal(why)),
            _ => Ok(()),
        }
    }

    /// How long until the next attempt is due (zero when up or already due).
    pub(in crate::tier) fn until_due(&self) -> Duration {
        self.down.as_ref().map_or(Duration::ZERO, |(_, due)| {
            due.saturating_duration_since(Instant::now())
        })
    }

    /// Why the connection is down, while it is.
    pub(in crate::tier) fn why_down(&self) -> Option<&str> {
        self.down.as_ref().map(|(why, _)| why.as_str())
    }

    /// What an operation issued while the connection is down for `why` fails with.
    pub(in crate::tier) fn refusal(&self, why: &str) -> String {
        refusal(self.server, why)
    }
}

/// What an operation issued on a connection to `server` that is down for `why` fails with.
pub(in crate::tier) fn refusal(server: &str, why: &str) -> String {
    format!("connection to {server} lost ({why}); reconnecting")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_refuses_attempts_until_the_pause_has_passed() {
        let mut link = Reconnect::new("Redis");
        assert!(link.attempt_due().is_ok());
        assert_eq!(link.lost("reset".into()), "reset");
        let refused = link.attempt_due().unwrap_err();
        assert_eq!(refused, "connection to Redis lost (reset); reconnecting");
        assert!(link.until_due() <= Duration::from_millis(2));
        std::thread::sleep(Duration::from_millis(3));
        assert!(link.attempt_due().is_ok());
        assert_eq!(link.why_down(), Some("reset"));
    }

    #[test]
    fn failed_attempts_double_the_pause_and_a_connect_resets_it() {
        let mut link = Reconnect::new("memcached");
        link.lost("closed".into());
        for _ in 0..5 {
            link.attempt_failed("refused".into());
        }
        // 2 ms doubled five times.
        assert!(
            link.until_due() > Duration::from_millis(32),
            "{:?}",
            link.until_due()
        );
        link.connected();
        assert!(link.attempt_due().is_ok());
        assert_eq!(link.why_down(), None);
        link.lost("closed".into());
        assert!(link.until_due() <= Duration::from_millis(2));
    }
}
