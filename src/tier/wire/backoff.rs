//! How long to wait before the next attempt to reach a Redis server that went away: 2 ms,
//! doubling up to 1 s. One schedule for every way tierbench connects to Redis (its own lanes,
//! the pipelined windows and connection groups, the crate's reconnecting connections), so that
//! they all come back alike after a restart (tests/restart_recovery.rs drills each).

use std::time::Duration;

/// First pause between two connect attempts of a reconnect round.
pub(in crate::tier) const MIN_RECONNECT_DELAY: Duration = Duration::from_millis(2);
/// Longest pause between two connect attempts.
pub(in crate::tier) const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The pause before the next connect attempt of one connection.
#[derive(Debug, Clone, Copy)]
pub(in crate::tier) struct Backoff {
    delay: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            delay: MIN_RECONNECT_DELAY,
        }
    }
}

impl Backoff {
    /// The pause before the next attempt.
    pub(in crate::tier) fn current(self) -> Duration {
        self.delay
    }

    /// An attempt failed: the next pause is twice as long (up to the longest).
    pub(in crate::tier) fn failed(&mut self) {
        self.delay = (self.delay * 2).min(MAX_RECONNECT_DELAY);
    }

    /// Connected: a later failure starts again from the shortest pause.
    pub(in crate::tier) fn reset(&mut self) {
        self.delay = MIN_RECONNECT_DELAY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_second_and_start_again_after_a_success() {
        let mut b = Backoff::default();
        let mut seen = Vec::new();
        for _ in 0..12 {
            seen.push(b.current().as_millis());
            b.failed();
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000, 1000]);
        b.reset();
        assert_eq!(b.current(), MIN_RECONNECT_DELAY);
    }
}
