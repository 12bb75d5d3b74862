//! The batch read path allocates nothing per key beyond what the tier itself keeps: a 20-key
//! `mget` of L1 hits, repeated, allocates no byte once the worker's buffers are warm (jemalloc's
//! per-thread `thread.allocated` counter, the allocator tierbench runs on). A miss promoted into
//! L1 costs the key the cache keeps (an owned key, as any L1 insert) and the origin's value.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::sync::Arc;

use tierbench::engine::driver::block_on;
use tierbench::metrics::recorder::Recorder;
use tierbench::tier::Tier;
use tierbench::tier::config::{ErrorPolicy, MemoryEngine, WritePolicy};
use tierbench::tier::memory::MemoryTier;
use tierbench::tier::stack::origin::OriginLatency;
use tierbench::tier::stack::{BatchScratch, Stack, StackPolicy};
use tierbench::workload::batch::BatchKeys;

fn allocated() -> u64 {
    tikv_jemalloc_ctl::thread::allocatedp::mib()
        .unwrap()
        .read()
        .unwrap()
        .get()
}

fn stack(tiers: usize, stacked: bool) -> Stack {
    let tiers = (0..tiers)
        .map(|_| {
            Arc::new(Tier::Memory(MemoryTier::new(
                MemoryEngine::QuickCache,
                100_000,
                None,
            )))
        })
        .collect();
    Stack::new(
        tiers,
        vec![None; if stacked { 2 } else { 1 }],
        StackPolicy {
            stacked,
            write: WritePolicy::Through,
            on_error: ErrorPolicy::Fail,
            origin_latency: OriginLatency::default(),
        },
    )
}

#[test]
fn batch_reads_of_hits_allocate_nothing() {
    let s = stack(1, false);
    let mut keys = BatchKeys::new("tb:alloc:");
    let mut scratch = BatchScratch::default();
    let mut rec = Recorder::new(1);
    let value = [7u8; 100];
    let indices: Vec<Vec<u64>> = (0..50u64)
        .map(|b| (0..20).map(|i| b * 20 + i).collect())
        .collect();
    for batch in &indices {
        keys.set("tb:alloc:", batch);
        block_on(s.mset(&keys, |_| &value[..], 0, &mut scratch, &mut rec)).unwrap();
    }
    // Warm: every buffer at its size.
    for batch in &indices {
        keys.set("tb:alloc:", batch);
        block_on(s.mget(&keys, 0, |_| &value[..], 0, &mut scratch, &mut rec)).unwrap();
    }
    let before = allocated();
    for _ in 0..20 {
        for batch in &indices {
            keys.set("tb:alloc:", batch);
            block_on(s.mget(&keys, 0, |_| &value[..], 0, &mut scratch, &mut rec)).unwrap();
        }
    }
    let bytes = allocated() - before;
    assert_eq!(rec.tiers[0].hits, 50 * 20 + 20 * 50 * 20);
    assert_eq!(bytes, 0, "1000 batches of 20 hits allocated {bytes} bytes");
}

#[test]
fn a_promoted_miss_costs_its_key_and_value() {
    let s = stack(2, true);
    let mut keys = BatchKeys::new("tb:alloc:");
    let mut scratch = BatchScratch::default();
    let mut rec = Recorder::new(2);
    let value = [7u8; 100];
    // Warm the buffers on other keys.
    keys.set("tb:alloc:", &(1000..1020).collect::<Vec<u64>>());
    block_on(s.mget(&keys, 0, |_| &value[..], 0, &mut scratch, &mut rec)).unwrap();
    let batches = 200u64;
    let before = allocated();
    for b in 0..batches {
        let batch: [u64; 20] = std::array::from_fn(|i| 10_000 + b * 20 + i as u64);
        keys.set("tb:alloc:", &batch);
        block_on(s.mget(&keys, 0, |_| &value[..], 0, &mut scratch, &mut rec)).unwrap();
    }
    let per_key = (allocated() - before) as f64 / (batches * 20) as f64;
    eprintln!("bytes allocated per missed key (origin value + 2 cache inserts): {per_key:.0}");
    // The origin's value (100 B) and each tier's owned key (~15 B) plus the caches' own entry
    // bookkeeping; a per-key list or string on tierbench's side would show as more.
    assert!(per_key < 1024.0, "{per_key} bytes per key");
}
