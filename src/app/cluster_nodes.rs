//! Per-node counts of clustered tiers in a workload's result: each node's server-side counts
//! read before the workload and after it, the difference written into the tier's result.
//!
//! Apart from `run.rs` because it is the one part of a run that reads the servers' own
//! counters around a workload; a failed reading leaves the figure out (with a warning) rather
//! than failing the run.

use crate::metrics::nodes::{NodeCounts, node_deltas};
use crate::metrics::result::WorkloadResult;
use crate::tier::stack::Stack;

/// Each target tier's node counts now (`None` for a tier without nodes or a failed reading).
pub(super) async fn read(stack: &Stack) -> Vec<Option<Vec<NodeCounts>>> {
    let mut out = Vec::with_capacity(stack.tiers().len());
    for tier in stack.tiers() {
        out.push(match tier.node_counts().await {
            Ok(counts) => counts,
            Err(e) => {
                eprintln!("warning: cannot read the cluster's per-node counts: {e}");
                None
            }
        });
    }
    out
}

/// Writes each tier's node counts over the workload (now minus `before`) into `result`.
pub(super) async fn attach(
    stack: &Stack,
    before: Vec<Option<Vec<NodeCounts>>>,
    result: &mut WorkloadResult,
) {
    if before.iter().all(Option::is_none) {
        return;
    }
    let after = read(stack).await;
    for ((tier, before), after) in result.tiers.iter_mut().zip(before).zip(after) {
        if let (Some(before), Some(after)) = (before, after) {
            tier.nodes = Some(node_deltas(&before, &after));
        }
    }
}
