//! Custom Redis commands (`workload::command` templates) run on a real Redis tier: Redis counts
//! exactly the commands sent, placeholders land where they should, a Redis error reply is the
//! operation's error, and only keys under the test's prefix are touched.
//! (HINCRBY and HLEN: no other test or tierbench itself sends them, so the deltas are exact.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::commandstats;

use std::collections::HashMap;
use std::time::Duration;

use tierbench::tier::ownership::key_names::KeyNames;
use tierbench::tier::redis::{RedisSettings, RedisTier};
use tierbench::workload::command::CommandTemplate;

fn template(name: &str, args: &[&str]) -> CommandTemplate {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    CommandTemplate::parse(name, &args).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_commands_are_sent_as_written_and_counted_by_redis() {
    let prefix = format!("tbtest:custom:{}:", std::process::id());
    let settings = RedisSettings {
        url: "redis://127.0.0.1:6379".into(),
        connections: 2,
        timeout: Duration::from_secs(5),
        ttl: None,
        pipeline: 1,
        tls: None,
        cluster: false,
        seeds: Vec::new(),
        hash: None,
    };
    let tier = RedisTier::connect("l2", &settings, &KeyNames::generated(&prefix, 1000))
        .await
        .unwrap();
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_connection().unwrap();

    let incr = template("bump", &["HINCRBY", "{key}", "field:{field}", "{value}"]);
    let len = template("count_fields", &["hlen", "{key}"]);
    let before = commandstats(&mut conn);
    let keys: Vec<String> = (0..5).map(|i| format!("{prefix}{i}")).collect();
    for i in 0..60u64 {
        let key = &keys[(i % 5) as usize];
        tier.custom(i as usize, &incr, key, b"2", i % 3)
            .await
            .unwrap();
    }
    for i in 0..25u64 {
        tier.custom(i as usize, &len, &keys[(i % 5) as usize], b"", 0)
            .await
            .unwrap();
    }
    // A Redis error reply is the operation's error: HINCRBY by a non-number.
    let failed = tier.custom(0, &incr, &keys[0], b"not-a-number", 0).await;
    assert!(failed.is_err(), "{failed:?}");
    let after = commandstats(&mut conn);
    let delta = |c: &str| after.get(c).copied().unwrap_or(0) - before.get(c).copied().unwrap_or(0);
    // The failed HINCRBY reached Redis too: 61 calls.
    assert_eq!(delta("hincrby"), 61);
    assert_eq!(delta("hlen"), 25);

    // Key 0 got i = 0, 5, 10, ..., 55: fields i % 3, each +2.
    let fields: HashMap<String, i64> = redis::cmd("HGETALL")
        .arg(&keys[0])
        .query(&mut conn)
        .unwrap();
    let expected: HashMap<String, i64> = (0..3u64)
        .map(|f| {
            let hits = (0..60u64).step_by(5).filter(|i| i % 3 == f).count() as i64;
            (format!("field:{f}"), 2 * hits)
        })
        .collect();
    assert_eq!(fields, expected);

    // Only keys under the prefix were made (the five, and the tier's own marker); remove them.
    let made: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap();
    let mut data: Vec<&String> = made
        .iter()
        .filter(|k| !k.contains("__tierbench__"))
        .collect();
    data.sort();
    assert_eq!(data, keys.iter().collect::<Vec<_>>(), "{made:?}");
    let _: i64 = redis::cmd("UNLINK").arg(&made).query(&mut conn).unwrap();
}
