//! The open loop's schedule: when operation `i` of a phase is due, and waiting for it precisely.
//!
//! Latency in the open loop counts from the intended start (coordinated omission), so the
//! schedule is computed, never inferred from when the previous operation ended.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context::WorkloadContext;
use crate::scenario::plan::Rate;

/// When operation `i` of an open-loop phase is due, in nanoseconds from the phase start. A ramp
/// from r0 to r1 over D has N(t) = r0·t + (r1 − r0)·t²/(2D) operations due by t; this solves N(t) = i.
pub fn intended_ns(i: u64, rate: Rate, duration_ns: u64) -> u64 {
    let i = i as f64;
    let slope = if duration_ns == u64::MAX {
        0.0
    } else {
        (rate.end - rate.start) / (duration_ns as f64 / 1e9)
    };
    let secs = if slope.abs() < 1e-9 {
        i / rate.start
    } else {
        (-rate.start + (rate.start * rate.start + 2.0 * slope * i).max(0.0).sqrt()) / slope
    };
    (secs * 1e9) as u64
}

/// The longest a schedule sleeps before looking at the stop flag again.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Waits until `target_ns` after `start_raw`: sleeping while far off, then yielding, so an
/// operation starts within microseconds of its schedule (tokio's timer alone is 1 ms coarse).
pub(super) async fn wait_until(ctx: &WorkloadContext, start_raw: u64, target_ns: u64) {
    // How far before the due time a sleep stops: tokio's timer rounds up to its 1 ms tick; a
    // thread's sleep oversleeps by tens of microseconds.
    const TOKIO_MARGIN_NS: u64 = 1_500_000;
    const THREAD_MARGIN_NS: u64 = 200_000;
    let in_process = ctx.on_threads;
    // With more worker threads than cores, threads spinning through the margin stayed
    // runnable and a due worker waited for a core for a whole scheduler slice (p99 10 ms at
    // 20,000/s with 4 workers on 2 cores, against 40 us otherwise): those sleep to the due time.
    let margin = match (in_process, ctx.oversubscribed) {
        (true, false) => THREAD_MARGIN_NS,
        (true, true) => 0,
        (false, _) => TOKIO_MARGIN_NS,
    };
    loop {
        let now = ctx.clock.delta_as_nanos(start_raw, ctx.clock.raw());
        if now >= target_ns || ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        let left = target_ns - now;
        // Sleeps are cut into slices so that a stop is seen within one, whatever the rate.
        let nap = Duration::from_nanos(left.saturating_sub(margin)).min(STOP_CHECK);
        // Close to the due time a worker gives its core away (yield) rather than spinning on
        // it: with more worker threads than cores, spinning threads held the cores for whole
        // scheduler slices and a due operation started milliseconds late (p50 4 ms at
        // 20,000/s with 8 workers on 2 cores).
        match (in_process, left > margin) {
            (true, true) => std::thread::sleep(nap),
            (true, false) => std::thread::yield_now(),
            (false, true) => tokio::time::sleep(nap).await,
            (false, false) => tokio::task::yield_now().await,
        }
    }
}

/// Pauses a worker (a back-off after a failure), without blocking the runtime for a server tier.
pub(super) async fn pause(ctx: &WorkloadContext, pause: Duration) {
    if ctx.on_threads {
        std::thread::sleep(pause);
    } else {
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loop_schedules_follow_the_rate_and_the_ramp() {
        let constant = Rate {
            start: 1000.0,
            end: 1000.0,
        };
        assert_eq!(intended_ns(0, constant, u64::MAX), 0);
        assert_eq!(intended_ns(1000, constant, u64::MAX), 1_000_000_000);
        // 0 → 2000/s over 1 s: N(t) = 1000 t², so op 250 is due at 0.5 s and op 1000 at 1 s.
        let ramp = Rate {
            start: 1e-9,
            end: 2000.0,
        };
        let d = 1_000_000_000;
        assert!((intended_ns(250, ramp, d) as i64 - 500_000_000).abs() < 1_000);
        assert!((intended_ns(1000, ramp, d) as i64 - 1_000_000_000).abs() < 1_000);
        // 1000 → 3000/s over 2 s: N(2) = 2000 + 2000 = 4000.
        let up = Rate {
            start: 1000.0,
            end: 3000.0,
        };
        assert!((intended_ns(4000, up, 2 * d) as i64 - 2 * d as i64).abs() < 1_000);
    }
}
