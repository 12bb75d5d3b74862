//! The client's self-check, through the binary against the real Redis: a run whose figures are
//! the load generator's own ceiling says so, and a run whose workers only yield while waiting on
//! an origin's latency (busy cores that delay nobody) does not.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

/// Both tests judge how busy the client is: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn warnings(yaml: &str, extra: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(dir.path(), "client.yaml", yaml);
    let (out, doc) = support::run_for_json_with(&path, extra);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    doc["workloads"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_client_on_one_busy_runtime_thread_says_it_is_the_limit() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let yaml = format!(
        "name: client-bound\nseed: 1\n\
         tiers: [{{ name: l2, kind: redis, url: \"{}\", connections: 32 }}]\n\
         data: {{ keys: {{ count: 1000, prefix: \"tbtest:client-bound:\" }}, values: {{ size: 16 }} }}\n\
         workloads:\n  - {{ name: w, target: l2, duration: 2s, warmup: 0, concurrency: 256, preload: true, mix: {{ get: 1 }} }}\n",
        support::redis_url()
    );
    let w = warnings(&yaml, &["--threads", "1"]);
    assert!(
        w.iter().any(|w| w.contains("the client was saturated")),
        "{w:?}"
    );
}

#[test]
fn workers_yielding_on_an_origin_latency_are_not_a_saturated_client() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let yaml = format!(
        "name: origin-bound\nseed: 1\n\
         tiers:\n  - {{ name: l1, kind: memory, max_entries: 100 }}\n\
         \x20 - {{ name: l2, kind: redis, url: \"{}\", ttl: 1s }}\n\
         origin: {{ latency: 1ms }}\n\
         data: {{ keys: {{ count: 100000, prefix: \"tbtest:origin-bound:\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: w, target: stack, duration: 2s, warmup: 0, concurrency: 16, mix: {{ get: 1 }} }}\n",
        support::redis_url()
    );
    let w = warnings(&yaml, &[]);
    assert!(
        !w.iter().any(|w| w.contains("the client was saturated")),
        "{w:?}"
    );
}
