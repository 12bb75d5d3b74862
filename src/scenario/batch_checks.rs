//! Checks of a workload's `batch`: present exactly when its mix or sequence has a batch
//! operation (`mget`, `mset`, `mdelete`), sizes from 1 to `MAX_BATCH`, weights not all zero.
//! Part of `validate`; every problem is collected.

use super::diagnostic::Problem;
use super::model::{BatchFile, WorkloadFile};
use crate::workload::batch::{BatchSizes, MAX_BATCH};
use crate::workload::ops::OpSource;

/// The workload's batch sizes, `None` when it has no batch operation or `batch` is wrong (a
/// problem says which).
pub(super) fn resolve_batch(
    w: &WorkloadFile,
    source: Option<&OpSource>,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Option<BatchSizes> {
    let batch_ops: Vec<&str> = source
        .map(|s| {
            s.ops()
                .into_iter()
                .filter(|op| op.is_batch())
                .map(|op| op.name())
                .collect()
        })
        .unwrap_or_default();
    let place = format!("{base}/batch");
    let Some(file) = &w.batch else {
        if let Some(first) = batch_ops.first() {
            problems.push(
                Problem::new(
                    base,
                    format!("the workload issues `{first}` but has no `batch` (keys per batch)"),
                )
                .hint(
                    "add `batch: 20`, or sizes with weights: `batch: { 10: 70, 50: 25, 200: 5 }`",
                ),
            );
        }
        return None;
    };
    if batch_ops.is_empty() && source.is_some() {
        problems.push(
            Problem::new(
                &place,
                "`batch` is set but the workload issues no batch operation",
            )
            .hint("add `mget`, `mset` or `mdelete` to the mix or sequence, or remove `batch`"),
        );
        return None;
    }
    if w.verify {
        problems.push(
            Problem::new(&place, "`verify` does not check batch operations yet")
                .hint("remove `verify`, or use single-key operations (get, set, delete)"),
        );
    }
    if w.simulate {
        problems.push(
            Problem::new(&place, "`simulate` does not replay batch operations")
                .hint("remove `simulate`, or use single-key operations (get, set, delete)"),
        );
    }
    let size_hint = format!("a batch has 1 to {MAX_BATCH} keys");
    match file {
        BatchFile::Fixed(n) if (1..=MAX_BATCH).contains(n) => Some(BatchSizes::fixed(*n)),
        BatchFile::Fixed(n) => {
            problems.push(
                Problem::new(
                    &place,
                    format!("expected a batch size from 1 to {MAX_BATCH}, found {n}"),
                )
                .hint(size_hint),
            );
            None
        }
        BatchFile::Weighted(map) => {
            let mut pairs = Vec::with_capacity(map.len());
            let mut ok = true;
            for (size, &weight) in map {
                match size.trim().parse::<u32>() {
                    Ok(n) if (1..=MAX_BATCH).contains(&n) => pairs.push((n, weight)),
                    _ => {
                        ok = false;
                        problems.push(
                            Problem::new(
                                format!("{place}/{size}"),
                                format!(
                                    "expected a batch size (a whole number from 1 to {MAX_BATCH}) as the key, found `{size}`"
                                ),
                            )
                            .hint("sizes map to weights: `batch: { 10: 70, 50: 25, 200: 5 }`"),
                        );
                    }
                }
            }
            if !ok {
                return None;
            }
            let sizes = BatchSizes::weighted(pairs);
            if sizes.is_none() {
                problems.push(
                    Problem::new(&place, "no batch size has a positive weight")
                        .hint("give at least one size a weight above 0, e.g. `batch: { 20: 1 }`"),
                );
            }
            sizes
        }
    }
}
