//! Turning a planned scenario into one shard's share of it (see `shard.rs` for the shard itself
//! and why runs are sharded).

use super::plan::{Scenario, Stop};
use super::shard::Shard;

/// Turns `scenario` into shard `shard`'s share of it.
pub fn apply(scenario: &mut Scenario, shard: Shard) {
    if shard.count > 1 {
        scenario.seed = crate::workload::seed::shard_seed(scenario.seed, shard.index);
    }
    for w in &mut scenario.workloads {
        w.concurrency = shard.workers(w.concurrency);
        w.warmup = shard.share(w.warmup);
        for p in &mut w.phases {
            p.concurrency = shard.workers(p.concurrency);
            if let Stop::Ops(n) = p.stop {
                p.stop = Stop::Ops(shard.share(n));
            }
            if let Some(rate) = p.rate.as_mut() {
                rate.start /= shard.count as f64;
                rate.end /= shard.count as f64;
            }
        }
    }
    scenario.shard = Some(shard);
}
