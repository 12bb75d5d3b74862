//! A Redis Cluster over TLS (`rediss://` seeds with `tls:`), against a private TLS-only 3-node
//! cluster the test starts (TLS on the client port and the cluster bus, certificates made with
//! openssl): a run with the right CA, pipelined and with batches, counts per node and leaves no
//! key; a wrong CA is refused at setup with a clear message, exit 3.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::certs::{make_ca, make_server_cert};
use support::cluster::{Cluster, keys_left, run};

fn scenario(cluster: &Cluster, ca: &std::path::Path) -> String {
    format!(
        "name: cluster-tls\nseed: 3\n\
         tiers: [{{ name: l2, kind: redis, cluster: true, url: \"{}\", seeds: [\"rediss://127.0.0.1:{}\"], pipeline: 4, tls: {{ ca_file: \"{}\" }} }}]\n\
         data: {{ keys: {{ count: 200, prefix: \"tbtest:ctls:\" }}, values: {{ size: 16 }} }}\n\
         workloads:\n\
         \x20 - {{ name: mixed, target: l2, preload: true, ops: 800, warmup: 0, concurrency: 2, mix: {{ get: 3, set: 1 }} }}\n\
         \x20 - {{ name: batches, target: l2, ops: 40, warmup: 0, concurrency: 1, batch: 10, mix: {{ mget: 1 }} }}\n",
        cluster.url(),
        cluster.ports[1],
        ca.display()
    )
}

#[test]
fn a_tls_cluster_runs_with_its_ca_and_refuses_another() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    let ca = make_ca(d, "ca");
    let other_ca = make_ca(d, "other-ca");
    let (cert, key) = make_server_cert(d, "ca");
    let cluster = Cluster::start_tls(&cert, &key, &ca);
    let dir = tempfile::tempdir().unwrap();

    let (out, doc) = run(dir.path(), &scenario(&cluster, &ca));
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let doc = doc.unwrap();
    for w in doc["workloads"].as_array().unwrap() {
        assert_eq!(w["errors"], 0, "{w}");
        let nodes = w["tiers"][0]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 3, "{nodes:?}");
        assert!(
            nodes.iter().all(|n| n["total"].as_u64().unwrap() > 0),
            "{nodes:?}"
        );
    }
    // Every GET of the pipelined workload ran once, on its node (read over TLS by tierbench).
    let mixed = &doc["workloads"][0];
    let gets: u64 = mixed["tiers"][0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["calls"]["get"].as_u64().unwrap())
        .sum();
    assert_eq!(gets, mixed["operations"]["get"]["count"].as_u64().unwrap());
    assert_eq!(doc["workloads"][1]["tiers"][0]["misses"], 0);
    assert!(keys_left(&cluster, "tbtest:ctls:*").is_empty());

    // Another CA: setup fails, saying the certificate could not be verified and what to do.
    let (out, _) = run(dir.path(), &scenario(&cluster, &other_ca));
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("could not be verified"), "{text}");
    assert!(text.contains("tls.ca_file"), "{text}");
    assert!(text.contains("`l2`"), "{text}");
}
