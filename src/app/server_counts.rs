//! The servers' own counters around a workload: each node's command counts of a clustered tier,
//! and the keys a Redis server evicted, read before the workload and after it, the difference
//! written into the tier's result (with a warning when the server evicted: the hit rates then
//! include evictions).
//!
//! Apart from `run.rs` because it is the one part of a run that reads the servers' own
//! counters around a workload; a failed reading leaves the figure out (with a warning) rather
//! than failing the run.

use crate::metrics::nodes::{NodeCounts, node_deltas};
use crate::metrics::result::WorkloadResult;
use crate::tier::stack::Stack;

/// One target tier's counters at one moment.
#[derive(Default)]
pub(super) struct Counters {
    nodes: Option<Vec<NodeCounts>>,
    evicted: Option<u64>,
}

/// Each target tier's counters now (`None` fields for a tier without them or a failed reading).
pub(super) async fn read(stack: &Stack) -> Vec<Counters> {
    let mut out = Vec::with_capacity(stack.tiers().len());
    for tier in stack.tiers() {
        let nodes = match tier.node_counts().await {
            Ok(counts) => counts,
            Err(e) => {
                eprintln!("warning: cannot read the cluster's per-node counts: {e}");
                None
            }
        };
        let evicted = match tier.evicted_keys().await {
            Ok(n) => n,
            Err(e) => {
                eprintln!("warning: cannot read the server's evicted keys: {e}");
                None
            }
        };
        out.push(Counters { nodes, evicted });
    }
    out
}

/// Writes each tier's counters over the workload (now minus `before`) into `result`.
pub(super) async fn attach(stack: &Stack, before: Vec<Counters>, result: &mut WorkloadResult) {
    if before
        .iter()
        .all(|c| c.nodes.is_none() && c.evicted.is_none())
    {
        return;
    }
    let after = read(stack).await;
    for ((tier, before), after) in result.tiers.iter_mut().zip(before).zip(after) {
        if let (Some(before), Some(after)) = (before.nodes, after.nodes) {
            tier.nodes = Some(node_deltas(&before, &after));
        }
        if let (Some(before), Some(after)) = (before.evicted, after.evicted) {
            let evicted = after.saturating_sub(before);
            tier.evictions = Some(evicted);
            if evicted > 0 {
                result.warnings.push(format!(
                    "tier `{}`: the server evicted {evicted} keys during the workload \
                     (maxmemory reached): its hit rates include evictions",
                    tier.name
                ));
            }
        }
    }
}
