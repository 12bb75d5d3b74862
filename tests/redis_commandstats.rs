//! After an L2-only run, Redis's own `INFO commandstats` agrees with what tierbench reports.
//! (Against a redis-server of its own on a free port, so no other traffic lands in the counters.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::commandstats;

use support::private_redis::{PrivateRedis, free_port};

#[test]
fn redis_counts_exactly_the_operations_tierbench_reports() {
    // One call per configuration: without and with explicit pipelining (8 per round trip, and
    // an op count that leaves a partial last batch).
    for pipeline in [1, 8] {
        check(pipeline);
    }
}

fn check(pipeline: u32) {
    let redis = PrivateRedis::start(free_port());
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "l2.yaml",
        &format!(
            "name: l2-count\nseed: 3\ntiers: [{{ name: l2, kind: redis, url: \"{}\", connections: 2, pipeline: {pipeline} }}]\n\
             data: {{ keys: {{ count: 300, prefix: \"tbtest:cmdstats:\" }}, values: {{ size: 32 }} }}\n\
             workloads:\n  - {{ name: mixed, target: l2, ops: 3000, warmup: 0, concurrency: 7, mix: {{ get: 6, set: 3, delete: 1 }} }}\n",
            redis.url()
        ),
    );
    let before = commandstats(&mut conn);
    let (out, doc) = support::run_for_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    let after = commandstats(&mut conn);
    let delta =
        |cmd: &str| after.get(cmd).copied().unwrap_or(0) - before.get(cmd).copied().unwrap_or(0);
    let ops = &doc["workloads"][0]["operations"];
    let reported =
        |op: &str| ops[op]["count"].as_u64().unwrap() + ops[op]["errors"].as_u64().unwrap();
    assert_eq!(delta("get"), reported("get"));
    assert_eq!(delta("set"), reported("set"));
    assert_eq!(delta("del"), reported("delete"));
    assert_eq!(reported("get") + reported("set") + reported("delete"), 3000);
    // Cleanup removed every key under the prefix, with UNLINK, never a flush.
    assert_eq!(delta("flushdb") + delta("flushall"), 0);
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("tbtest:cmdstats:*")
        .query(&mut conn)
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
