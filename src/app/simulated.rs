//! A simulated workload's result: simulate mode's counts in the result document's shape.
//!
//! Why its own file: a simulated workload must read like a measured one in every report and
//! threshold (hit rates, entries, operation counts), and say plainly what it is not: nothing
//! was timed, so latencies are empty and `throughput` is the simulator's own rate.

use std::time::Duration;

use crate::engine::Measurement;
use crate::metrics::recorder::Recorder;
use crate::metrics::result::WorkloadResult;
use crate::scenario::plan::Scenario;
use crate::simulate;
use crate::workload::op::Op;

use crate::engine::summary::summarize;

/// What every simulated workload's warnings say.
pub const SIMULATED_NOTE: &str = "simulated: requests replayed through the in-process engines \
without timing (hits and misses are the engines' own; no latency was measured, and throughput \
is the simulator's rate, not the tier's)";

/// Simulates workload `index` and summarizes it as a workload result (thresholds not yet
/// evaluated).
pub(super) fn result(scenario: &Scenario, index: usize) -> Result<WorkloadResult, String> {
    let workload = &scenario.workloads[index];
    let sim = simulate::simulate(scenario, index)?;
    let mut recorder = Recorder::new(workload.target.len());
    for (i, tier) in recorder.tiers.iter_mut().enumerate() {
        tier.hits = sim.counts.hits[i];
        tier.misses = sim.counts.misses[i];
    }
    let measurement = Measurement {
        recorder,
        elapsed: sim.elapsed.max(Duration::from_nanos(1)),
        memory: vec![None; workload.target.len()],
        warnings: vec![SIMULATED_NOTE.to_string()],
        // Each phase is listed (its operations are counted in the workload's totals only).
        phases: workload
            .phases
            .iter()
            .map(|phase| crate::engine::PhaseMeasurement {
                phase: phase.clone(),
                recorder: Recorder::new(workload.target.len()),
                elapsed: Duration::ZERO,
                client_cpu_s: 0.0,
            })
            .collect(),
        lost: None,
        started_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        coherence: None,
    };
    let entries = sim.entries.iter().map(|&e| Some(e)).collect();
    let mut result = summarize(scenario, workload, &measurement, entries);
    let requests = sim.counts.requests();
    result.ops = requests;
    result.throughput = requests as f64 / measurement.elapsed.as_secs_f64();
    for op in Op::ALL {
        if let Some(r) = result.operations.get_mut(op.name()) {
            r.count = sim.counts.ops[op.index()];
        }
    }
    if let Some(all) = result.operations.get_mut("all") {
        all.count = requests;
    }
    Ok(result)
}

/// Marks every workload of `scenario` simulated (`run --simulate`).
pub(super) fn simulate_all(scenario: &mut Scenario) {
    for w in &mut scenario.workloads {
        w.simulate = true;
    }
}
