//! The load generator checks itself: no peer tells its users when the figures describe the
//! generator rather than the system under test; tierbench does.
//!
//! Per phase it reads the process's CPU time (two `/proc` readings per phase, off the measured
//! path) and warns when a workload that talks to servers kept ≥ 90% of the machine's cores busy
//! on the client side: then latency includes waiting for a core and throughput is the client's
//! ceiling. (An in-process tier *is* the client, so it is exempt.) It also measures what one
//! clock reading costs and warns when that is ≥ 10% of the mean latency it measured.

use quanta::Clock;

use crate::metrics::recorder::Recorder;

/// Share of the machine's cores above which the client counts as saturated.
const SATURATED: f64 = 0.9;
/// Share of the mean latency above which the timer's own cost is worth a warning.
const TIMER_SHARE: f64 = 0.10;

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A warning when the client kept (nearly) every core busy during a phase of a server workload.
pub fn saturation_warning(
    phase: &str,
    cpu_s: f64,
    wall_s: f64,
    in_process: bool,
) -> Option<String> {
    let cores = cores() as f64;
    let busy = cpu_s / wall_s.max(1e-9);
    (!in_process && wall_s >= 0.5 && busy >= SATURATED * cores).then(|| {
        format!(
            "phase `{phase}`: the client was saturated: tierbench used {busy:.2} of {cores:.0} cores \
             ({:.0}%), so these figures may describe the load generator, not the servers (use fewer \
             workers, `--threads 1` when the server runs on this machine, `pipeline:` on Redis, or \
             run shards from more machines)",
            busy / cores * 100.0
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_needs_a_server_tier_and_busy_cores() {
        let cores = cores() as f64;
        assert!(saturation_warning("p", cores * 0.95, 1.0, false).is_some());
        assert!(saturation_warning("p", cores * 0.95, 1.0, true).is_none());
        assert!(saturation_warning("p", cores * 0.5, 1.0, false).is_none());
        let w = saturation_warning("measure", cores, 1.0, false).unwrap();
        assert!(w.contains("saturated") && w.contains("pipeline"), "{w}");
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
