//! What every workload of a run shares, and each workload's measuring: its repetitions (each
//! from the same tier state), the sharded run's common start, and its result document entry
//! (summarized, statistics across repetitions, server counts, thresholds judged).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::engine::{self, progress::Progress};
use crate::metrics::host::ProcessSampler;
use crate::metrics::result::{RepetitionFigures, WorkloadResult};
use crate::scenario::plan::{Scenario, Workload};
use crate::tier::stack::{Stack, StackPolicy};
use crate::tier::{Tier, TierError};
use crate::verdict::judge::{judge_workload, note_outliers};
use crate::verdict::repetitions::{repetition_figures, repetition_statistics};
use crate::workload::values::ValuePool;

use crate::engine::summary::summarize;

/// What every workload of a run shares.
pub(super) struct Shared<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) progress: &'a Progress,
    pub(super) record: Option<&'a std::path::Path>,
    pub(super) values: Arc<ValuePool>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) tiers: Vec<Arc<Tier>>,
    /// A sharded run's common start, until the first measured workload waits for it.
    pub(super) start_at: std::sync::Mutex<Option<super::shards::StartAt>>,
    /// Why this shard was not ready at the common start, once it waited.
    pub(super) late: std::sync::Mutex<Option<String>>,
    /// `--until-ready`: the first measured workload stops at its hold, timed.
    pub(super) probe: Option<&'a super::shards::ReadyProbe>,
}

impl Shared<'_> {
    /// The common start of a sharded run, for the first workload that measures: the engine
    /// awaits it after that workload's preload and warmup, so every shard measures from it
    /// prepared. A shard that was not ready by then says so on stderr and in its notes.
    pub(super) fn hold(&self) -> Option<engine::Hold<'_>> {
        if let Some(probe) = self.probe {
            return probe.hold(&self.stop);
        }
        let start = self.start_at.lock().ok()?.take()?;
        Some(Box::pin(async move {
            if let Some(note) = super::shards::wait(&start, &self.stop).await {
                eprintln!("warning: {note}");
                if let Ok(mut late) = self.late.lock() {
                    *late = Some(note);
                }
            }
        }))
    }

    /// The stack a workload runs against: its target tiers, in order, with its policy.
    pub(super) fn stack_for(&self, workload: &Workload) -> Stack {
        let policy = StackPolicy {
            stacked: workload.stacked,
            write: workload.write,
            on_error: workload.on_error,
            origin_latency: self.scenario.origin_latency,
        };
        Stack::new(
            workload
                .target
                .iter()
                .map(|&t| Arc::clone(&self.tiers[t]))
                .collect(),
            workload
                .target
                .iter()
                .map(|&t| self.scenario.tiers[t].compression)
                .collect(),
            policy,
        )
    }

    /// Runs every repetition of workload `index`: the merged measurement and, when repeated,
    /// each repetition's figures. `Ok(None)` when the run was stopped before the first one;
    /// `Err` with the message of the failure that ended it.
    pub(super) async fn measure(
        &self,
        index: usize,
        stack: &Stack,
        sampler: &mut ProcessSampler,
    ) -> Result<Option<(engine::Measurement, Vec<RepetitionFigures>)>, String> {
        let scenario = self.scenario;
        let workload = &scenario.workloads[index];
        let mut measurement: Option<engine::Measurement> = None;
        let mut repetitions = Vec::new();
        for rep in 0..scenario.repeat {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            // Verified reads need every value to carry a version of this repetition's counter,
            // and a repetition after the first must start from the state the first started
            // from (no tierbench keys, then its preload), or the repetitions are not samples of
            // one distribution (the second finds the first's writes: higher hit rates): start
            // each from no tierbench keys.
            if (workload.verify || (rep > 0 && workload.preload))
                && let Err(e) = clear(stack).await
            {
                return Err(format!(
                    "workload `{}`: clearing the tiers before verify: {e}",
                    workload.name
                ));
            }
            self.progress.set_repetition(rep + 1, scenario.repeat);
            // Each repetition draws its own keys and values: a different seed, derived.
            let mut seeded = scenario.clone();
            seeded.seed = scenario
                .seed
                .wrapping_add(u64::from(rep).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let instances = super::instances::start(self.scenario, workload, stack).await?;
            let inputs = engine::RunInputs {
                values: Arc::clone(&self.values),
                stop: Arc::clone(&self.stop),
                progress: self.progress,
                record: self.record,
                hold: self.hold(),
                instances: instances
                    .as_ref()
                    .map_or_else(Vec::new, |i| i.stacks.clone()),
            };
            let run = engine::run_workload(&seeded, index, stack.clone(), inputs).await;
            sampler.sample();
            let mut m = run.map_err(|e| e.to_string())?;
            if let Some(instances) = &instances {
                let counts = instances.coherence.finish().await;
                if let Some(board) = crate::metrics::live::board() {
                    board.coherence_final(&workload.name, &counts);
                }
                m.coherence = Some(counts);
            }
            let lost = m.lost.is_some();
            if scenario.repeat > 1 {
                let figures = summarize(scenario, workload, &m, vec![None; workload.target.len()]);
                repetitions.push(repetition_figures(&figures));
            }
            match measurement.as_mut() {
                Some(total) => total.absorb(m),
                None => measurement = Some(m),
            }
            if lost {
                break;
            }
        }
        if let Some(m) = measurement.as_mut()
            && repetitions.len() >= 2
            && !workload.preload
        {
            m.warnings.push(format!(
                "repetitions are not independent: `{}` has no preload, so each repetition found \
                 the keys the previous ones wrote (hit rates and throughput drift upwards): add \
                 `preload: true` to start each from the same state",
                workload.name
            ));
        }
        Ok(measurement.map(|m| (m, repetitions)))
    }

    /// A workload's result: the measurement summarized, with the tiers' entries now, the
    /// statistics across repetitions, outliers and the thresholds evaluated.
    pub(super) async fn result_of(
        &self,
        workload: &Workload,
        stack: &Stack,
        measurement: &engine::Measurement,
        repetitions: Vec<RepetitionFigures>,
        counters_before: Vec<super::server_counts::Counters>,
    ) -> WorkloadResult {
        let mut entries = Vec::new();
        for tier in stack.tiers() {
            entries.push(tier.entries().await.ok().flatten());
        }
        let mut result = summarize(self.scenario, workload, measurement, entries);
        result.statistics = repetition_statistics(&repetitions);
        result.repetitions = repetitions;
        super::server_counts::attach(stack, counters_before, &mut result).await;
        note_outliers(&mut result);
        judge_workload(&workload.thresholds, &mut result);
        result
    }
}

/// Removes tierbench's names from every tier of `stack` (before verify or a repetition).
async fn clear(stack: &Stack) -> Result<(), TierError> {
    for tier in stack.tiers() {
        tier.clear().await?;
    }
    Ok(())
}
