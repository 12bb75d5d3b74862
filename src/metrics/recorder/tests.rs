//! Recorders: merging, what a worker holds, and where finished sample windows go.

use super::*;

#[test]
fn recorders_merge_counts_and_histograms() {
    let mut a = Recorder::new(1);
    let mut b = Recorder::new(1);
    a.ops.record(Op::Get, 100);
    b.ops.record(Op::Get, 300);
    b.ops.record(Op::Set, 50_000_000_000); // 50 s: beyond the initial range, grows
    b.ops.record_error(Op::Delete);
    b.tiers[0].count_lookup(true);
    a.merge(&b);
    assert_eq!(a.ops.latency[Op::Get.index()].len(), 2);
    assert_eq!(a.completed(), 3);
    assert_eq!(a.errors(), 1);
    assert_eq!(a.tiers[0].hits, 1);
    let max = a.ops.latency[Op::Set.index()].max();
    assert!((49_900_000_000..50_100_000_000).contains(&max), "{max}");
}

/// Bytes of counts a histogram holds.
fn bytes(h: &Histogram<u64>) -> usize {
    h.distinct_values() * 8
}

#[test]
fn a_worker_holds_histograms_only_for_what_it_recorded() {
    let mut rec = Recorder::with_commands(2, 3);
    assert!(rec.ops.latency.is_empty() && rec.service.latency.is_empty());
    let tiers: usize = (rec.tiers.iter())
        .map(|t| bytes(&t.pool_wait) + bytes(&t.served) + bytes(&t.compress))
        .sum();
    assert!(tiers <= 6 * 16 * 1024, "{tiers} bytes of tier histograms");
    rec.ops.record(Op::Get, 120);
    assert_eq!(rec.ops.latency.len(), Op::Get.index() + 1);
    assert_eq!(bytes(&rec.ops.latency[0]), 16 * 1024, "sized for 2 µs");
    rec.ops.record_error(Op::Command(2));
    assert_eq!(rec.ops.errors_of(Op::Command(2)), 1);
    assert_eq!(rec.ops.latency_of(Op::Set).len(), 0);
    let mut merged = Recorder::new(2);
    merged.merge(&rec);
    assert_eq!((merged.completed(), merged.errors()), (1, 1));
}

#[test]
fn finished_sample_windows_are_packed() {
    let mut rec = Recorder::new(1);
    for tenth in 0..(WINDOW_HORIZON_S * 10) {
        rec.record_tick(tenth, Some(1_000 + tenth as u64), Some(0));
    }
    let (last, done) = rec.windows.split_last().unwrap();
    assert!(done.iter().all(SecondBucket::is_packed) && !last.is_packed());
    assert_eq!(done[7].ops, 1);
    let max = done[7].latency().max();
    assert!((1_000..1_020).contains(&max), "{max}");
}

#[test]
fn a_measured_phase_hands_finished_windows_to_the_workload_and_reuses_one() {
    let sink = std::sync::Arc::new(SeriesSink::default());
    let (mut a, mut b) = (Recorder::new(1), Recorder::new(1));
    a.series_sink = Some(sink.clone());
    b.series_sink = Some(sink.clone());
    for tenth in 3..(WINDOW_HORIZON_S * 10) {
        a.record_tick(tenth, Some(1_000), Some(0));
        b.record_tick(tenth, Some(2_000), None);
    }
    assert_eq!((a.windows.len(), a.window_base), (1, 119));
    let mut workload = Recorder::new(1);
    workload.merge(&a);
    workload.merge(&b);
    workload.absorb_windows(0, &sink.take_windows());
    assert_eq!(workload.window_base, 0);
    let ops: Vec<u64> = workload.windows.iter().map(|w| w.ops).collect();
    assert_eq!(ops, [[0; 3].as_slice(), &[2; 117]].concat());
    assert_eq!(workload.windows[50].latency().len(), 2);
    assert!(sink.take_windows().is_empty());
}
