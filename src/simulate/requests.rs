//! The request stream a workload issues, without issuing it: what simulate mode and the
//! one-pass curve replay.
//!
//! Why its own file: both consumers (the replay through real engines and the exact LRU curve)
//! must see the same requests, in the same order, as a run of the scenario with the same seed.
//! The keys and operations come from the workload's own planners (`workload::plan::Planner`,
//! the engine's), one per worker, seeded the way the engine seeds its workers; the workers'
//! requests are interleaved round-robin (a run interleaves them as the scheduler does, which no
//! simulation can reproduce; with `concurrency: 1` the stream is exactly a run's). Traces are
//! read from the start for every phase, as a run reads them.
//!
//! Order: preload (every key once, in index order, as sets), warmup (not counted), then each
//! measured phase. A phase that ends after a `duration` has no operation count without a clock:
//! an open-loop phase simulates `rate × duration` operations (the mean of a ramp), a trace
//! replays the whole trace once, and a closed-loop phase of generated keys cannot be simulated
//! (validation says so before anything runs).

use crate::scenario::plan::{Phase, Scenario, Stop};
use crate::workload::keys::KeySampler;
use crate::workload::op::Op;
use crate::workload::ops::OpSource;
use crate::workload::plan::Planner;
use crate::workload::seed::{SeedPhase, worker_seed};
use crate::workload::trace::{TraceFeed, interleaved_share};

/// Which part of a workload a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Filling every key before warmup.
    Preload,
    /// Unrecorded operations before measuring.
    Warmup,
    /// A measured phase's operations.
    Measure,
}

/// A request's key: a generated key's index, or a trace's key (without the prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// Index in `0..keys.count` (the key is the prefix and this number).
    Index(u64),
    /// A trace's key.
    Name(&'a str),
}

/// The number of operations a phase runs in a simulation, or why it has none.
pub fn phase_ops(phase: &Phase, trace: bool) -> Result<u64, String> {
    match (phase.stop, phase.rate) {
        (Stop::Ops(n), _) => Ok(n),
        (Stop::Duration(_), _) if trace => Ok(u64::MAX),
        (Stop::Duration(d), Some(rate)) => {
            Ok(((rate.start + rate.end) / 2.0 * d.as_secs_f64()).round() as u64)
        }
        (Stop::Duration(d), None) => Err(format!(
            "phase `{}` runs for {:?} in closed loop: a simulation has no clock to count its \
             operations",
            phase.name, d
        )),
    }
}

/// Calls `f` with every request of workload `index`, in order.
pub fn for_each_request<F>(scenario: &Scenario, index: usize, mut f: F) -> Result<(), String>
where
    F: FnMut(Part, Key<'_>, Op),
{
    let workload = scenario
        .workloads
        .get(index)
        .ok_or_else(|| format!("no workload {index}"))?;
    let trace = matches!(workload.ops, OpSource::Trace { .. });
    let mut phases = Vec::with_capacity(workload.phases.len() + 1);
    if workload.warmup > 0 {
        let first = workload.phases.first().map_or(1, |p| p.concurrency);
        phases.push((
            Part::Warmup,
            SeedPhase::Warmup,
            workload.warmup,
            first,
            false,
        ));
    }
    for (p, phase) in workload.phases.iter().enumerate() {
        let ops = phase_ops(phase, trace)?;
        phases.push((
            Part::Measure,
            SeedPhase::Measure(p),
            ops,
            phase.concurrency,
            phase.rate.is_some(),
        ));
    }
    if workload.preload {
        for i in 0..scenario.keys.count {
            f(Part::Preload, Key::Index(i), Op::Set);
        }
    }
    if let OpSource::Trace {
        path, format, only, ..
    } = &workload.ops
    {
        let feed = TraceFeed::new(path.clone(), *format, only.clone());
        for (n, &(part, _, ops, _, _)) in phases.iter().enumerate() {
            // The engine numbers the warmup 0 and measured phases from 1.
            let phase = if workload.warmup > 0 { n } else { n + 1 };
            let mut cursor = feed.cursor(phase, ops);
            while let Some(record) = cursor.next_record() {
                f(part, Key::Name(record.key), record.op);
            }
        }
        return Ok(());
    }
    let sampler = KeySampler::new(&scenario.keys.distribution, scenario.keys.count, 0, 1)?;
    for (part, seed, ops, workers, open) in phases {
        let workers = workers.max(1);
        let mut planners: Vec<(Planner, u64)> = (0..workers)
            .map(|w| {
                let share = if open {
                    interleaved_share(ops, w, workers)
                } else {
                    ops / workers as u64 + u64::from((w as u64) < ops % workers as u64)
                };
                let planner = Planner::new(
                    worker_seed(scenario.seed, index, w, seed),
                    sampler.for_worker(w, workers),
                    &workload.ops,
                );
                (planner, share)
            })
            .collect();
        let mut left = ops;
        while left > 0 {
            for (planner, share) in planners.iter_mut().filter(|(_, s)| *s > 0) {
                let planned = planner.next_op();
                if planned.op == Op::Set {
                    planner.note_write(planned.index);
                }
                f(part, Key::Index(planned.index), planned.op);
                *share -= 1;
                left -= 1;
            }
        }
    }
    Ok(())
}
