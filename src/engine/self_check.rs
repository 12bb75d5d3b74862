//! The load generator checks itself: no peer tells its users when the figures describe the
//! generator rather than the system under test; tierbench does.
//!
//! Per phase of a workload that talks to servers, a probe task measures how long the runtime
//! takes to poll a task that is ready (`PollProbe`), and the process's CPU time is read (two
//! `/proc` readings per phase, off the measured path). When ready operations waited ≥ 2 ms for
//! a runtime thread, latency includes the client's queue and throughput is the client's
//! ceiling: the phase warns, with how busy the cores were. (An in-process tier *is* the client,
//! so it is exempt.) It also measures what one clock reading costs and warns when that is ≥ 10%
//! of the mean latency it measured.

use quanta::Clock;

use crate::metrics::recorder::Recorder;

/// Share of the mean latency above which the timer's own cost is worth a warning.
const TIMER_SHARE: f64 = 0.10;

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Poll delay (a task ready but not yet run) above which operations wait on the client: twice
/// tokio's 1 ms timer tick, which a probe's wake-up may lag by on an idle runtime.
const LATE_POLL_NS: u64 = 2_000_000;

/// Share of the machine's cores above which a client that never waits on a clock counts as
/// saturated.
const SATURATED: f64 = 0.9;

/// How a phase's workers spend time that is not an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// Never on a clock (a closed loop without an origin): busy cores are operations' work.
    Never,
    /// Yielding on the clock before a due time (an open-loop schedule, an origin's latency):
    /// that keeps cores busy without delaying anyone, so only the poll delay can tell.
    OnTheClock,
}

/// The threads the runtime runs operations on (`--threads`; one per core by default).
fn runtime_threads() -> usize {
    tokio::runtime::Handle::try_current().map_or_else(|_| cores(), |h| h.metrics().num_workers())
}

/// A warning when the client limited a phase of a server workload: ready operations waited to
/// be polled (`poll_delay_p90_ns`, from [`PollProbe`]), or, for workers that never wait on the
/// clock, ≥ 90% of the cores were busy (a connection's task that is always ready delays no
/// other task, yet is the client's ceiling), busy counted against the runtime's threads.
/// `None` for the delay: in process, exempt.
pub fn saturation_warning(
    phase: &str,
    cpu_s: f64,
    wall_s: f64,
    poll_delay_p90_ns: Option<u64>,
    waiting: Waiting,
) -> Option<String> {
    let cores = runtime_threads() as f64;
    let busy = cpu_s / wall_s.max(1e-9);
    let delay = poll_delay_p90_ns?;
    let late = delay >= LATE_POLL_NS;
    let busy_cores = waiting == Waiting::Never && busy >= SATURATED * cores;
    (wall_s >= 0.5 && (late || busy_cores)).then(|| {
        let waited = if late {
            format!(
                "operations ready to run waited {:.1} ms (p90) for a runtime thread, ",
                delay as f64 / 1e6
            )
        } else {
            String::new()
        };
        format!(
            "phase `{phase}`: the client was saturated: {waited}tierbench used {busy:.2} cores \
             for its {cores:.0} runtime threads ({:.0}%), so these figures may describe the load generator, not \
             the servers (use fewer workers, `--threads 1` when the server runs on this machine, \
             `pipeline:` on Redis, or run shards from more machines)",
            busy / cores * 100.0
        )
    })
}

/// Measures how long the runtime takes to poll a task that is ready: a probe task sleeps 1 ms
/// at a time for a phase and records how late each wake-up ran. On a runtime with a free thread
/// that is within the timer's 1 ms tick; when every thread is busy with ready operations, the
/// probe waits its turn behind them, as each operation does.
pub struct PollProbe {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<hdrhistogram::Histogram<u64>>,
}

impl PollProbe {
    /// Starts the probe on the current runtime.
    pub fn start() -> PollProbe {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let halt = std::sync::Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut late = crate::metrics::recorder::new_histogram();
            let tick = std::time::Duration::from_millis(1);
            while !halt.load(Ordering::Relaxed) {
                let asleep = std::time::Instant::now();
                tokio::time::sleep(tick).await;
                let over = asleep.elapsed().saturating_sub(tick);
                crate::metrics::recorder::record(&mut late, over.as_nanos() as u64);
            }
            late
        });
        PollProbe { stop, task }
    }

    /// Stops the probe: the 90th percentile of its wake-ups' delay, if it woke at all.
    pub async fn finish(self) -> Option<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let late = self.task.await.ok()?;
        (!late.is_empty()).then(|| late.value_at_quantile(0.90))
    }
}

/// What one raw clock reading costs, ns (the median of a few batches).
pub fn timer_cost_ns(clock: &Clock) -> f64 {
    const READS: u64 = 20_000;
    let mut batches: Vec<f64> = (0..5)
        .map(|_| {
            let start = clock.raw();
            let mut sink = 0u64;
            for _ in 0..READS {
                sink = sink.wrapping_add(clock.raw());
            }
            std::hint::black_box(sink);
            clock.delta_as_nanos(start, clock.raw()) as f64 / READS as f64
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}

/// A warning when one clock reading costs ≥ 10% of the mean latency measured.
pub fn timer_warning(rec: &Recorder, timer_ns: f64) -> Option<String> {
    let (mut count, mut sum) = (0u64, 0.0);
    for h in &rec.ops.latency {
        count += h.len();
        sum += h.mean() * h.len() as f64;
    }
    let mean = sum / count.max(1) as f64;
    let share = timer_ns / mean.max(1e-9);
    (count > 0 && share >= TIMER_SHARE).then(|| {
        format!(
            "the timer's own cost ({timer_ns:.0} ns a reading) is {:.0}% of the mean latency \
             ({mean:.0} ns): differences smaller than that are not meaningful; compare engines \
             with a bare loop (`cargo bench --bench l1_ops`)",
            share * 100.0
        )
    })
}

/// A warning when an in-process workload ran more workers than cores: its workers are OS
/// threads, so beyond the cores an operation's latency includes waiting for the kernel to
/// schedule its thread again, often while another holds the cache's lock (throughput drops
/// and the tail grows by orders of magnitude: 100 workers on 2 cores, p99 160 ms against
/// ~20 µs with 16 in one run). Says what the run's tail was and what to do.
pub fn oversubscribed_warning(workers: usize, in_process: bool, rec: &Recorder) -> Option<String> {
    let cores = cores();
    if !in_process || workers <= cores {
        return None;
    }
    let mut all = crate::metrics::recorder::new_histogram();
    for h in &rec.ops.latency {
        let _ = all.add(h);
    }
    (!all.is_empty()).then(|| {
        format!(
            "{workers} workers on {cores} cores: in-process workers are OS threads, so each \
             operation's latency includes waiting for the kernel to schedule its thread (p99 \
             {}, max {} here); to measure the cache itself use at most {cores} workers, more \
             only to measure contention",
            crate::units::format_nanos(all.value_at_quantile(0.99) as f64),
            crate::units::format_nanos(all.max() as f64)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_is_ready_operations_waiting_for_a_thread_not_busy_cores() {
        let cores = cores() as f64;
        let (late, prompt) = (Some(5_000_000), Some(300_000));
        let (never, clock) = (Waiting::Never, Waiting::OnTheClock);
        assert!(saturation_warning("p", cores * 0.95, 1.0, late, clock).is_some());
        assert!(saturation_warning("p", cores * 0.3, 1.0, late, never).is_some());
        // Busy cores whose tasks yield on the clock (an origin's wait): nobody was delayed.
        assert!(saturation_warning("p", cores * 0.95, 1.0, prompt, clock).is_none());
        // Busy cores of a closed loop: its connections' tasks are the ceiling.
        assert!(saturation_warning("p", cores * 0.95, 1.0, prompt, never).is_some());
        assert!(saturation_warning("p", cores * 0.5, 1.0, prompt, never).is_none());
        // In process (no probe): exempt.
        assert!(saturation_warning("p", cores * 0.95, 1.0, None, never).is_none());
        let w = saturation_warning("measure", cores, 1.0, late, clock).unwrap();
        assert!(
            w.contains("saturated") && w.contains("5.0 ms") && w.contains("pipeline"),
            "{w}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_probe_sees_ready_tasks_wait_behind_a_busy_thread() {
        // An idle runtime: wake-ups within the timer's tick.
        let probe = PollProbe::start();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let idle = probe.finish().await.unwrap();
        assert!(idle < LATE_POLL_NS, "{idle} ns on an idle runtime");
        // The one runtime thread blocked by a task 5 ms at a time: the probe waits for it.
        let probe = PollProbe::start();
        let busy = tokio::spawn(async {
            for _ in 0..20 {
                std::thread::sleep(std::time::Duration::from_millis(5));
                tokio::task::yield_now().await;
            }
        });
        busy.await.unwrap();
        let late = probe.finish().await.unwrap();
        assert!(late >= LATE_POLL_NS, "{late} ns behind a busy thread");
    }

    #[test]
    fn timer_share_is_judged_against_the_mean() {
        let mut rec = Recorder::new(1);
        rec.ops.record(crate::workload::op::Op::Get, 100);
        assert!(timer_warning(&rec, 20.0).is_some());
        assert!(timer_warning(&rec, 5.0).is_none());
        assert!(timer_warning(&Recorder::new(1), 20.0).is_none());
        let cost = timer_cost_ns(&Clock::new());
        assert!(cost > 0.0 && cost < 10_000.0, "{cost}");
    }
}
