//! Checks of `coherence:` and what it resolves to: how many instances, how invalidations
//! travel, and through which Redis tier. Refused here rather than at run time: instances with
//! no in-process tier to keep apart, invalidations with no Redis to carry them, a Redis Cluster
//! (each node tracks and publishes on its own; not supported), and a `via` that is not Redis.

use super::diagnostic::Problem;
use super::model::ScenarioFile;
use super::plan::Workload;
use crate::tier::coherence::config::{DEFAULT_LATE_AFTER, Invalidation, MAX_INSTANCES};
use crate::tier::coherence::{CoherenceSettings, config::CoherenceFile};
use crate::tier::config::{TierConfig, TierKindConfig};

/// Checks the scenario's `coherence:` against its tiers and workloads.
pub(super) fn check_coherence(
    file: &ScenarioFile,
    tiers: &[TierConfig],
    workloads: &[Workload],
    problems: &mut Vec<Problem>,
) -> Option<CoherenceSettings> {
    let c = file.coherence.as_ref()?;
    let before = problems.len();
    if !(1..=MAX_INSTANCES).contains(&c.instances) {
        problems.push(
            Problem::new(
                "/coherence/instances",
                format!("{} app instances", c.instances),
            )
            .expected(format!("1 to {MAX_INSTANCES} instances"))
            .hint("`instances: 4` runs four app instances, each with its own in-process tiers"),
        );
    }
    let in_process = |t: &usize| {
        matches!(
            tiers.get(*t).map(|t| &t.kind),
            Some(TierKindConfig::Memory { .. })
        )
    };
    let has_instances =
        |w: &Workload| w.target.iter().any(in_process) && w.target.iter().any(|t| !in_process(t));
    if !workloads.is_empty() && !workloads.iter().any(has_instances) {
        problems.push(
            Problem::new(
                "/coherence",
                "no workload targets an in-process tier over a shared one: the instances would \
                 have nothing of their own to keep coherent",
            )
            .hint(
                "add a memory tier (`kind: memory`) to a workload's `target`, e.g. \
                 `target: stack` over an L1 and Redis",
            ),
        );
    }
    let via = via_tier(c, tiers, problems);
    if problems.len() > before {
        return None;
    }
    Some(CoherenceSettings {
        instances: c.instances as usize,
        invalidation: c.invalidation,
        via,
        late_after: c.late_after.map_or(DEFAULT_LATE_AFTER, |d| d.0),
    })
}

/// The Redis tier that carries the invalidations, when they travel (`pubsub`, `tracking`).
fn via_tier(c: &CoherenceFile, tiers: &[TierConfig], problems: &mut Vec<Problem>) -> Option<usize> {
    let mode = c.invalidation.name();
    let redis: Vec<usize> = (0..tiers.len())
        .filter(|&t| matches!(tiers[t].kind, TierKindConfig::Redis(_)))
        .collect();
    let chosen = match &c.via {
        Some(name) => match tiers.iter().position(|t| &t.name == name) {
            Some(t) if redis.contains(&t) => Some(t),
            found => {
                let names: Vec<&str> = redis.iter().map(|&t| tiers[t].name.as_str()).collect();
                problems.push(
                    Problem::new(
                        "/coherence/via",
                        match found {
                            Some(_) => format!("`{name}` is not a Redis tier"),
                            None => format!("`{name}` is not a tier of this scenario"),
                        },
                    )
                    .expected("the name of a Redis tier")
                    .hint(match names.as_slice() {
                        [] => "add a Redis tier to carry the invalidations".to_string(),
                        names => format!("Redis tiers: {}", names.join(", ")),
                    }),
                );
                return None;
            }
        },
        None => redis.first().copied(),
    };
    if c.invalidation == Invalidation::None {
        return chosen;
    }
    let Some(t) = chosen else {
        problems.push(
            Problem::new(
                "/coherence/invalidation",
                format!("`{mode}` needs a Redis tier to carry the invalidations, and the scenario has none"),
            )
            .hint("add a Redis tier (`kind: redis`) to carry them: memcached has no pub/sub or \
                   tracking; or use `invalidation: none`"),
        );
        return None;
    };
    if c.via.is_none() && redis.len() > 1 {
        problems.push(
            Problem::new(
                "/coherence",
                "the scenario has several Redis tiers: which one carries the invalidations?",
            )
            .hint(format!(
                "add `via: {}` (or another Redis tier's name)",
                tiers[t].name
            )),
        );
    }
    if let TierKindConfig::Redis(settings) = &tiers[t].kind
        && settings.cluster
    {
        problems.push(
            Problem::new(
                "/coherence/invalidation",
                format!(
                    "`{mode}` is not supported on a Redis Cluster tier (`{}`): each primary \
                     tracks and publishes on its own, so an instance would need a connection \
                     to every node",
                    tiers[t].name
                ),
            )
            .hint("carry the invalidations through a single Redis (a second tier and `via:`), or use `invalidation: none`"),
        );
    }
    Some(t)
}
