//! Checks of `store_as: hash` on Redis tiers, and what it resolves to: the values' field order
//! (`tier::redis_hash::HashLayout`). A hash holds a JSON object's top-level fields, so the values
//! must be JSON objects all the way to the tier: JSON-shaped, not compressed, not stamped by
//! `verify`, not cut to a trace's sizes. What a hash tier does not do (Redis Cluster, explicit
//! pipelining, batch operations) is refused here, with what to do instead, rather than failing
//! at run time.

use super::diagnostic::Problem;
use super::model::{ScenarioFile, TierFile, WorkloadFile};
use super::plan::ValueConfig;
use crate::tier::config::{TierConfig, TierKindConfig};
use crate::tier::redis::hash::{HashLayout, StoreAs};

/// True when tier `t` of the file stores hashes.
fn stores_hashes(file: &ScenarioFile, t: usize) -> bool {
    matches!(file.tiers.get(t), Some(TierFile::Redis(r)) if r.store_as == Some(StoreAs::Hash))
}

/// Checks every tier with `store_as: hash` and gives its settings the values' field order.
pub(super) fn check_hash_tiers(
    file: &ScenarioFile,
    tiers: &mut [TierConfig],
    values: Option<&ValueConfig>,
    problems: &mut Vec<Problem>,
) {
    for (i, (raw, tier)) in file.tiers.iter().zip(tiers.iter_mut()).enumerate() {
        let TierFile::Redis(r) = raw else { continue };
        if r.store_as != Some(StoreAs::Hash) {
            continue;
        }
        let at = format!("/tiers/{i}/store_as");
        if r.cluster == Some(true) {
            problems.push(
                Problem::new(&at, "`hash` is not supported on a Redis Cluster tier")
                    .hint("remove `store_as`, or measure hashes against a single Redis"),
            );
        }
        if r.pipeline.unwrap_or(1) > 1 {
            problems.push(
                Problem::new(&at, "`hash` does not work with explicit `pipeline`")
                    .hint("remove the tier's `pipeline` (or `store_as`)"),
            );
        }
        if r.compression.is_some() {
            problems.push(
                Problem::new(
                    &at,
                    "`hash` cannot store compressed values: a compressed value is not a \
                     JSON object to split into fields",
                )
                .hint("remove the tier's `compression` (or `store_as`)"),
            );
        }
        let Some(values) = values else { continue };
        match values.shape.field_names() {
            Some(fields) => {
                if let TierKindConfig::Redis(settings) = &mut tier.kind {
                    settings.hash = Some(HashLayout { fields });
                }
            }
            None => problems.push(
                Problem::new(
                    &at,
                    format!(
                        "`hash` needs values that are JSON objects, but \
                         `data.values.shape` is `{}`",
                        values.shape.name()
                    ),
                )
                .expected("values: { shape: json } (one hash field per top-level JSON field)")
                .hint("set `data.values.shape: json`, or remove `store_as` to store strings"),
            ),
        }
    }
}

/// Problems of a workload (at `base`) whose `target` includes a hash tier: batch operations,
/// `verify` and `trace` are not supported on one.
pub(super) fn check_hash_workload(
    file: &ScenarioFile,
    w: &WorkloadFile,
    target: &[usize],
    has_batch: bool,
    base: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(tier) = target.iter().find(|&&t| stores_hashes(file, t)) else {
        return;
    };
    let name = file.tiers[*tier].name();
    let mut refuse = |what: &str, why: &str, hint: &str| {
        problems.push(
            Problem::new(
                base,
                format!("{what} is not supported on tier `{name}` (store_as: hash): {why}"),
            )
            .hint(hint.to_string()),
        );
    };
    if has_batch {
        refuse(
            "a batch operation (mget, mset, mdelete)",
            "a hash tier reads and writes one key at a time",
            "use get/set/delete, or `store_as: string` for batches",
        );
    }
    if w.verify {
        refuse(
            "`verify`",
            "verified values carry a binary stamp, so they are not JSON objects",
            "remove `verify`, or `store_as` from the tier",
        );
    }
    if w.trace.is_some() {
        refuse(
            "a `trace` workload",
            "values cut to a trace's sizes are not JSON objects",
            "use a `mix` or `sequence`, or `store_as: string`",
        );
    }
}
