//! A workload's app instances (`coherence:`): each instance's stack over its own copies of the
//! in-process tiers and the shared remote tiers, and the invalidation traffic between them.

use std::sync::Arc;

use crate::scenario::plan::{Scenario, Workload};
use crate::tier::Tier;
use crate::tier::coherence::{Coherence, Via};
use crate::tier::config::TierKindConfig;
use crate::tier::stack::Stack;

/// One repetition's instances.
pub(super) struct Instances {
    /// Each instance's stack, instance 0 over the run's own tiers.
    pub(super) stacks: Vec<Stack>,
    /// Their invalidations.
    pub(super) coherence: Arc<Coherence>,
}

/// The instances of `workload` for one repetition, when the scenario keeps several coherent
/// and the workload targets an in-process tier over a shared one; `None` otherwise. Every instance starts with
/// empty in-process tiers (instance 0's own are emptied), and every listener listens before
/// this returns.
pub(super) async fn start(
    scenario: &Scenario,
    workload: &Workload,
    stack: &Stack,
) -> Result<Option<Instances>, String> {
    let Some(settings) = &scenario.coherence else {
        return Ok(None);
    };
    // Instances differ by their in-process tiers and meet in the shared ones: a workload
    // without both (a lone L1, a lone Redis) runs as one process would.
    let tiers = stack.tiers();
    if !(tiers.iter().any(|t| t.is_in_process()) && tiers.iter().any(|t| !t.is_in_process())) {
        return Ok(None);
    }
    let mut tiers_of: Vec<Vec<Arc<Tier>>> = vec![stack.tiers().to_vec()];
    for _ in 1..settings.instances {
        let tiers = workload
            .target
            .iter()
            .zip(stack.tiers())
            .map(
                |(&t, own)| match Tier::another_instance(&scenario.tiers[t]) {
                    Some(copy) => Arc::new(copy),
                    None => Arc::clone(own),
                },
            )
            .collect();
        tiers_of.push(tiers);
    }
    for tier in stack.tiers() {
        if let Tier::Memory(m) = tier.as_ref() {
            m.clear();
        }
    }
    let in_process = tiers_of
        .iter()
        .map(|tiers| {
            tiers
                .iter()
                .filter(|t| t.is_in_process())
                .cloned()
                .collect()
        })
        .collect();
    let via = settings.via.and_then(|t| match &scenario.tiers[t].kind {
        TierKindConfig::Redis(redis) => Some(Via {
            name: &scenario.tiers[t].name,
            settings: redis,
        }),
        _ => None,
    });
    let coherence = Coherence::start(
        settings,
        via,
        &scenario.keys.prefix,
        scenario.keys.count,
        in_process,
    )
    .await
    .map_err(|e| format!("workload `{}`: coherence: {e}", workload.name))?;
    let coherence = Arc::new(coherence);
    if let Some(board) = crate::metrics::live::board() {
        let watched = Arc::downgrade(&coherence);
        let feed = move || watched.upgrade().map(|c| c.counts_now());
        board.watch_coherence(&workload.name, Arc::new(feed));
    }
    let stacks = tiers_of
        .into_iter()
        .enumerate()
        .map(|(i, tiers)| {
            stack
                .with_tiers(tiers)
                .with_coherence(Arc::clone(&coherence), i)
        })
        .collect();
    Ok(Some(Instances { stacks, coherence }))
}
