use std::collections::BTreeMap;

use super::*;
use crate::metrics::recorder::new_histogram;
use crate::metrics::result::{LatencyStats, MemoryResult, OpResult, TierResult, WorkloadResult};

fn ctx() -> (Vec<String>, Vec<Op>) {
    (vec!["l1".to_string()], vec![Op::Get, Op::Set])
}

fn parse_ok(text: &str) -> Threshold {
    let (tiers, ops) = ctx();
    parse(
        text,
        &ThresholdContext {
            tiers: &tiers,
            ops: &ops,
            commands: &[],
        },
    )
    .unwrap()
}

fn parse_err(text: &str) -> ThresholdError {
    let (tiers, ops) = ctx();
    parse(
        text,
        &ThresholdContext {
            tiers: &tiers,
            ops: &ops,
            commands: &[],
        },
    )
    .unwrap_err()
}

#[test]
fn thresholds_parse_with_units() {
    let t = parse_ok("get.p99 < 2ms");
    assert_eq!(
        t.metric,
        Metric::Latency {
            tier: None,
            op: OpSelector::One(Op::Get),
            stat: Stat::Percentile(99.0)
        }
    );
    assert_eq!((t.cmp, t.limit), (Cmp::Lt, 2_000_000.0));
    assert_eq!(parse_ok("l1.hit_rate >= 40%").limit, 0.4);
    assert_eq!(parse_ok("throughput > 20k/s").limit, 20_000.0);
    assert_eq!(parse_ok("errors == 0").cmp, Cmp::Eq);
    assert_eq!(parse_ok("error_rate <= 0.01").limit, 0.01);
    assert_eq!(
        parse_ok("l1.all.p(99.99) <= 500us").metric,
        Metric::Latency {
            tier: Some("l1".into()),
            op: OpSelector::All,
            stat: Stat::Percentile(99.99)
        }
    );
    assert_eq!(parse_ok("set.p999<1s").limit, 1e9);
    // A dotted percentile is one statistic, as `p(98.5)` is.
    assert_eq!(
        parse_ok("get.p98.5 < 1ms").metric,
        parse_ok("get.p(98.5) < 1ms").metric
    );
    assert_eq!(
        parse_ok("l1.get.p99.9 < 1ms").metric,
        Metric::Latency {
            tier: Some("l1".into()),
            op: OpSelector::One(Op::Get),
            stat: Stat::Percentile(99.9)
        }
    );
    assert_eq!(parse_ok("l1.memory_per_entry < 1KiB").limit, 1024.0);
    assert_eq!(
        parse_ok("served_by.origin.p99 < 50ms").metric.name(),
        "served_by.origin.p(99)"
    );
    assert_eq!(parse_ok("l1.stale == 0").metric.unit(), "count");
}

#[test]
fn bad_thresholds_say_what_is_wrong() {
    assert!(parse_err("get.p99 2ms").message.contains("no comparison"));
    assert!(
        parse_err("l9.hit_rate > 5%")
            .message
            .contains("`l9` is not a tier")
    );
    assert!(
        parse_err("get.p99 < 2 parsecs")
            .message
            .contains("not a duration unit")
    );
    assert!(parse_err("get.p99 < 2").message.contains("no unit"));
    assert!(
        parse_err("delete.p99 < 2ms")
            .message
            .contains("issues no `delete`")
    );
    assert!(
        parse_err("get.median < 2ms")
            .message
            .contains("not a statistic")
    );
    assert!(parse_err("get.p(101) < 2ms").message.contains("outside"));
    assert!(parse_err("fetch.p99 < 2ms").hint.contains("operations"));
    assert!(parse_err("errors == lots").message.contains("whole number"));
    assert!(parse_err("a.b.c.d < 1ms").message.contains("not a metric"));
}

fn result() -> WorkloadResult {
    let mut h = new_histogram();
    for v in 1..=1000u64 {
        h.record(v * 1000).unwrap(); // 1us .. 1ms
    }
    let op = OpResult {
        count: h.len(),
        errors: 0,
        latency: LatencyStats::from_histogram(&h),
    };
    let operations: BTreeMap<String, OpResult> =
        [("get".to_string(), op.clone()), ("all".to_string(), op)]
            .into_iter()
            .collect();
    WorkloadResult {
        name: "w".into(),
        target: vec!["l1".into()],
        mode: "closed_loop".into(),
        concurrency: 1,
        duration_s: 1.0,
        ops: 1000,
        throughput: 1000.0,
        errors: 0,
        error_rate: 0.0,
        stacked: false,
        service: BTreeMap::new(),
        phases: Vec::new(),
        timeseries: Vec::new(),
        warnings: Vec::new(),
        repetitions: Vec::new(),
        statistics: BTreeMap::new(),
        outliers: None,
        samples: Default::default(),
        score: None,
        grade: None,
        operations: operations.clone(),
        served_by: [("l1".to_string(), operations["get"].clone())]
            .into_iter()
            .collect(),
        batches: None,
        tiers: vec![TierResult {
            name: "l1".into(),
            kind: "memory".into(),
            hits: 90,
            misses: 10,
            hit_rate: Some(0.9),
            errors: 0,
            entries: Some(10),
            memory: Some(MemoryResult {
                per_entry_bytes: 300.0,
                entries_measured: 5,
                method: "test".into(),
            }),
            pool_wait: None,
            served: operations["get"].clone(),
            stale: 1,
            stale_rate: Some(0.01),
            stale_age: None,
            corrupt: 0,
            compression: None,
            operations,
            batch: None,
            evictions: None,
            nodes: None,
        }],
        thresholds: Vec::new(),
        passed: true,
        error_messages: Vec::new(),
        other_errors: 0,
        outages: Vec::new(),
        origin: None,
        coherence: None,
        failure: None,
        started_ms: None,
    }
}

#[test]
fn thresholds_evaluate_against_results() {
    let w = result();
    let check = |text: &str| parse_ok(text).evaluate(&w);
    assert!(check("get.p99 < 1ms").passed);
    assert!(!check("get.p50 < 400us").passed);
    let p = check("get.p(99.9) <= 1.01ms");
    assert!(p.passed, "{p:?}");
    assert!((p.observed.unwrap() - 999_000.0).abs() < 2_000.0);
    assert!(check("l1.hit_rate >= 90%").passed);
    assert!(!check("l1.hit_rate > 90%").passed);
    assert!(check("throughput >= 1000/s").passed);
    assert!(check("errors == 0").passed);
    assert!(check("l1.get.max <= 1.001ms").passed);
    assert!(check("l1.memory_per_entry < 1KiB").passed);
    assert!(!check("l1.memory_per_entry < 200B").passed);
    assert!(check("l1.stale == 1").passed);
    assert!(check("l1.corrupt == 0").passed);
    assert!(check("served_by.l1.p99 < 1ms").passed);
    assert!(check("l1.entries >= 10").passed);
    let missing = check("set.p99 < 1ms");
    assert_eq!(missing.observed, None);
    assert!(!missing.passed, "an unmeasured metric fails");
}

#[test]
fn custom_commands_are_operations_of_thresholds() {
    let tiers = vec!["redis".to_string()];
    let commands = vec!["bump".to_string(), "load".to_string()];
    let ops = [Op::Get, Op::Command(0)];
    let ctx = ThresholdContext {
        tiers: &tiers,
        ops: &ops,
        commands: &commands,
    };
    let t = parse("bump.p99 < 2ms", &ctx).unwrap();
    assert_eq!(
        t.metric,
        Metric::Latency {
            tier: None,
            op: OpSelector::Command("bump".into()),
            stat: Stat::Percentile(99.0)
        }
    );
    assert_eq!(t.metric.name(), "bump.p(99)");
    let e = parse("bump.errors == 0", &ctx).unwrap();
    assert_eq!(e.metric.name(), "bump.errors");
    assert_eq!(parse("get.errors <= 3", &ctx).unwrap().limit, 3.0);
    // Declared but not in the mix; misspelt.
    let unused = parse("load.p99 < 2ms", &ctx).unwrap_err();
    assert!(unused.message.contains("issues no `load`"), "{unused}");
    let typo = parse("bmup.p99 < 2ms", &ctx).unwrap_err();
    assert!(typo.message.contains("did you mean `bump`"), "{typo}");
    // Judged on the command's own figures.
    let mut w = result();
    let mut bump = w.operations["get"].clone();
    bump.errors = 2;
    w.operations.insert("bump".into(), bump);
    assert!(t.evaluate(&w).passed);
    let judged = e.evaluate(&w);
    assert!(!judged.passed);
    assert_eq!(judged.observed, Some(2.0));
}
