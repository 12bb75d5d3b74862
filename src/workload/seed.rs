//! Each worker's random seed, derived from the scenario's seed, in one place: the engine's
//! workers and the simulator (`simulate/requests.rs`) must draw the very same key sequences, so
//! a simulated stream is a run's stream (tests/sweep.rs checks it through a recorded trace).

/// Which phase a worker job belongs to (mixed into its seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedPhase {
    /// The workload's warmup.
    Warmup,
    /// Measured phase `p` (0-based).
    Measure(usize),
}

/// A shard's seed (shard `index` of a run of several), derived from the scenario's; applying
/// it twice gives the scenario's back, which is how a merge reports the scenario's seed.
pub fn shard_seed(seed: u64, index: usize) -> u64 {
    // SplitMix64's constant: shards' seeds far apart.
    seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Derives a worker's seed from the scenario seed, workload, worker and phase.
pub fn worker_seed(seed: u64, workload: usize, worker: usize, phase: SeedPhase) -> u64 {
    let phase = match phase {
        SeedPhase::Warmup => 1,
        SeedPhase::Measure(p) => 2 + p as u64,
    };
    let mut x = seed ^ ((workload as u64) << 40) ^ ((worker as u64) << 8) ^ phase;
    // SplitMix64 finalizer: nearby inputs give unrelated seeds.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_seeds_differ_by_worker_and_phase() {
        let a = worker_seed(42, 0, 0, SeedPhase::Measure(0));
        assert_ne!(a, worker_seed(42, 0, 1, SeedPhase::Measure(0)));
        assert_ne!(a, worker_seed(42, 0, 0, SeedPhase::Warmup));
        assert_ne!(a, worker_seed(42, 1, 0, SeedPhase::Measure(0)));
        assert_eq!(a, worker_seed(42, 0, 0, SeedPhase::Measure(0)));
    }
}
