//! Simulation: hits and misses of in-process caches without timing, and the exact LRU
//! miss-ratio curve in one pass.
//!
//! A stage beside the engine (it reads the validated plan and the tiers' in-process caches,
//! never the engine): the engine measures *how fast* a tier answers, this stage answers *how
//! often it hits* at a speed no measured run can reach, for sweeps over sizes and long traces.
//!
//! - [`requests`]: the request stream a workload issues (the engine's planners and seeds).
//! - [`replay`]: simulate mode, the stream through the real engines (moka, quick_cache, lru).
//! - [`mattson`]: the one-pass LRU curve (stack distances in a Fenwick tree).

pub mod mattson;
pub mod replay;
pub mod requests;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::scenario::plan::Scenario;
use crate::tier::config::TierKindConfig;
use crate::tier::memory::MemoryTier;
use crate::workload::key_buf::KeyBuf;
use mattson::{DistanceHistogram, LruStack};
use replay::{Replayer, SimCounts};
use requests::{Key, Part, for_each_request};

/// What simulating one workload gave.
#[derive(Debug, Clone)]
pub struct Simulated {
    /// Requests, hits and misses of the measured phases.
    pub counts: SimCounts,
    /// Entries each target tier held at the end.
    pub entries: Vec<u64>,
    /// Wall time the simulation took (all parts).
    pub elapsed: Duration,
}

/// Replays workload `index` of `scenario` through its target tiers' real engines, with the
/// stack's policy. Every target tier must be in-process (`kind: memory`).
pub fn simulate(scenario: &Scenario, index: usize) -> Result<Simulated, String> {
    let workload = scenario
        .workloads
        .get(index)
        .ok_or_else(|| format!("no workload {index}"))?;
    let mut tiers = Vec::with_capacity(workload.target.len());
    for &t in &workload.target {
        let config = &scenario.tiers[t];
        match &config.kind {
            TierKindConfig::Memory {
                engine,
                max_entries,
                ttl,
            } => tiers.push(MemoryTier::new(*engine, *max_entries, *ttl)),
            _ => {
                return Err(format!(
                    "workload `{}`: tier `{}` is {}: only in-process tiers (kind: memory) can be \
                     simulated",
                    workload.name,
                    config.name,
                    config.kind_name()
                ));
            }
        }
    }
    let mut replayer = Replayer::new(tiers, workload.stacked, workload.write);
    let mut key = KeyBuf::new(&scenario.keys.prefix);
    let started = Instant::now();
    let mut counting = true;
    for_each_request(scenario, index, |part, k, op| {
        let measure = part == Part::Measure;
        if measure != counting {
            replayer.set_counting(measure);
            counting = measure;
        }
        let name = match k {
            Key::Index(i) => key.set(i),
            Key::Name(s) => {
                key.set_str(s);
                key.as_str()
            }
        };
        replayer.request(name, op);
    })?;
    Ok(Simulated {
        counts: replayer.counts().clone(),
        entries: replayer.entries(),
        elapsed: started.elapsed(),
    })
}

/// The exact LRU stack distances of workload `index`'s measured lookups (preload and warmup
/// fill the stack uncounted), with read-through semantics (see [`mattson`]): the curve of the
/// first tier of a stack (a `set` written around the stack removes the key from it).
pub fn lru_distances(scenario: &Scenario, index: usize) -> Result<DistanceHistogram, String> {
    let keys = usize::try_from(scenario.keys.count).unwrap_or(usize::MAX);
    let mut stack = LruStack::with_capacity(keys.min(1 << 24));
    let mut names: HashMap<Box<str>, u64> = HashMap::new();
    let workload = scenario
        .workloads
        .get(index)
        .ok_or_else(|| format!("no workload {index}"))?;
    // Writing around a stack invalidates the tiers above the lowest: the top tier loses the key.
    let around = workload.stacked
        && workload.target.len() > 1
        && workload.write == crate::tier::config::WritePolicy::Around;
    let mut counting = true;
    for_each_request(scenario, index, |part, k, op| {
        let op = if around && op == crate::workload::op::Op::Set {
            crate::workload::op::Op::Delete
        } else {
            op
        };
        let measure = part == Part::Measure;
        if measure != counting {
            stack.set_counting(measure);
            counting = measure;
        }
        let id = match k {
            Key::Index(i) => i,
            // A trace key that is a generated key's index is that key (same string in a run).
            Key::Name(s) => match s.parse::<u64>() {
                Ok(i) if i < scenario.keys.count && (s == "0" || !s.starts_with(['+', '0'])) => i,
                _ => match names.get(s) {
                    Some(&id) => id,
                    None => {
                        let id = scenario.keys.count + names.len() as u64;
                        names.insert(s.into(), id);
                        id
                    }
                },
            },
        };
        stack.request(id, op);
    })?;
    Ok(stack.histogram())
}
