//! The live metrics of a run, seen as Prometheus sees them: `--metrics-listen` serves counters
//! that grow while the run goes on and, once it is over (`--metrics-linger`), equal the result
//! document's counts; `--metrics-push` sends them to a Pushgateway; a taken port or a bad
//! address is refused before anything runs, and an unreachable Pushgateway changes no verdict.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::private_redis::free_port;
use support::{all_output, write_scenario};

const SCENARIO: &str = "name: live\nseed: 2\n\
    tiers: [{ name: l1, kind: memory, max_entries: 500 }]\n\
    data: { keys: { count: 2000 }, values: { size: 32 } }\n\
    workloads:\n  - { name: w, target: l1, duration: 3s, warmup: 200, concurrency: 2, \
    mix: { get: 9, set: 1 } }\n";

/// `GET /metrics` (with `accept`), the body; `None` while nothing listens.
fn scrape(port: u16, accept: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET /metrics HTTP/1.0\r\nHost: x\r\nAccept: {accept}\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text.split_once("\r\n\r\n")?.1.to_string())
}

/// The sum of the samples of `name` whose labels contain every one of `labels`.
fn sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn the_endpoint_grows_during_the_run_and_ends_at_the_documents_counts() {
    grows_and_ends_at_the_documents_counts(2);
}

/// More than 64 workers keep no histograms of their own (`recorder/spool.rs`): the endpoint
/// reads what they spool, live and at the end.
#[test]
fn spooled_latencies_reach_the_endpoint_live_and_at_the_end() {
    grows_and_ends_at_the_documents_counts(100);
}

fn grows_and_ends_at_the_documents_counts(concurrency: usize) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = SCENARIO.replace("concurrency: 2", &format!("concurrency: {concurrency}"));
    let path = write_scenario(dir.path(), "live.yaml", &scenario);
    let results = dir.path().join("r.json");
    let port = free_port();
    let run = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap(), "-q", "--report"])
        .arg(format!("json={}", results.display()))
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-linger", "4s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // While it measures: the measured counters grow from one scrape to the next.
    let deadline = Instant::now() + Duration::from_secs(20);
    let measured = |text: &str| {
        sum(
            text,
            "tierbench_operations_total",
            &["phase=\"measure\"", "outcome=\"ok\""],
        )
    };
    let first = loop {
        assert!(Instant::now() < deadline, "no measured operations scraped");
        if let Some(text) = scrape(port, "*/*")
            && measured(&text) > 0.0
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        first.contains("tierbench_run_state{state=\"measure\"} 1"),
        "{first}"
    );
    assert!(
        first.contains(&format!(
            "tierbench_workers{{workload=\"w\",phase=\"measure\"}} {concurrency}"
        )),
        "{first}"
    );
    std::thread::sleep(Duration::from_millis(1200));
    let second = scrape(port, "*/*").unwrap();
    assert!(measured(&second) > measured(&first), "{second}");
    // After it: the final figures, equal to the result document's, while the endpoint lingers.
    while !results.exists() {
        assert!(Instant::now() < deadline, "no result document");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let last = scrape(port, "*/*").unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let w = &doc["workloads"][0];
    let ops = w["ops"].as_f64().unwrap();
    assert!(
        last.contains("tierbench_run_state{state=\"done\"} 1"),
        "{last}"
    );
    assert_eq!(measured(&last), ops, "{last}");
    assert_eq!(
        sum(
            &last,
            "tierbench_operation_duration_seconds_count",
            &["phase=\"measure\""]
        ),
        ops
    );
    let get = w["operations"]["get"]["count"].as_f64().unwrap();
    assert_eq!(
        sum(
            &last,
            "tierbench_operations_total",
            &["phase=\"measure\"", "op=\"get\"", "outcome=\"ok\""]
        ),
        get
    );
    let tier = &w["tiers"][0];
    let hits = sum(
        &last,
        "tierbench_tier_reads_total",
        &["phase=\"measure\"", "outcome=\"hit\""],
    );
    assert_eq!(hits, tier["hits"].as_f64().unwrap(), "{last}");
    assert!(
        sum(&last, "tierbench_operations_total", &["phase=\"warmup\""]) == 200.0,
        "the warmup is its own phase: {last}"
    );
    let open = scrape(port, "application/openmetrics-text; version=1.0.0").unwrap();
    assert!(open.trim_end().ends_with("# EOF"), "{open}");
    let out = run.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_taken_port_or_a_bad_address_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "live.yaml", SCENARIO);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = support::tierbench(&["run", path.to_str().unwrap(), "--metrics-listen", &addr]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&addr) && text.contains("already in use"),
        "{text}"
    );
    assert!(text.contains("ss -ltnp"), "{text}");
    assert!(!text.contains("w ->"), "nothing ran: {text}");
    let out = support::tierbench(&["run", path.to_str().unwrap(), "--metrics-listen", "nope"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`nope` is not an address"), "{text}");
}

#[test]
fn the_final_figures_are_pushed_and_an_unreachable_gateway_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let short = SCENARIO.replace("duration: 3s", "ops: 3000");
    let path = write_scenario(dir.path(), "live.yaml", &short);
    let gateway = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", gateway.local_addr().unwrap());
    let received = std::thread::spawn(move || {
        let (mut conn, _) = gateway.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = conn.read(&mut buf) {
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&request).to_string()
    });
    let out = support::tierbench(&["run", path.to_str().unwrap(), "-q", "--metrics-push", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let request = received.join().unwrap();
    assert!(
        request.starts_with("PUT /metrics/job/tierbench/scenario@base64/bGl2ZQ/shard/0 "),
        "{request}"
    );
    assert!(
        request.contains("tierbench_run_state{state=\"done\"} 1")
            && sum(
                &request,
                "tierbench_operations_total",
                &["phase=\"measure\"", "outcome=\"ok\""]
            ) == 3000.0,
        "{request}"
    );
    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "-q",
        "--metrics-push",
        &closed,
    ]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("warning: cannot push the metrics"), "{text}");
}

/// The shipped Grafana dashboard asks only for metrics the endpoint serves (the names in its
/// queries, histogram suffixes and all), and is importable (a datasource input, a uid).
#[test]
fn the_grafana_dashboard_uses_only_served_metrics() {
    use tierbench::metrics::live::{LiveBoard, PhasePlan, RunInfo};
    use tierbench::metrics::recorder::Recorder;
    use tierbench::workload::op::Op;
    let board = std::sync::Arc::new(LiveBoard::new(RunInfo::default()));
    let plan = PhasePlan {
        workers: 1,
        intended: Some((100.0, 100.0)),
        ..PhasePlan::default()
    };
    let phase = board.begin_phase("w", vec!["l1".into()], "measure", plan);
    let mut rec = Recorder::new(1);
    rec.ops.record(Op::Get, 1_000);
    phase.publish(0, &rec);
    let coherence = || {
        let counts = tierbench::metrics::coherence::CoherenceCounts::new(2, "pubsub", 1_000_000);
        Some(counts)
    };
    board.watch_coherence("w", std::sync::Arc::new(coherence));
    let served = tierbench::live::prometheus_text(&board);
    let names: std::collections::BTreeSet<&str> = served
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/tierbench.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(dashboard["uid"], "tierbench");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    let text = dashboard.to_string();
    let mut asked = 0;
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("tierbench_") {
            asked += 1;
            assert!(
                names.contains(word),
                "the dashboard asks for `{word}`: served {names:?}"
            );
        }
    }
    assert!(asked >= 8, "{asked} metric references");
}

/// Scrapers that go away mid-request or mid-answer cost nothing: the run goes on, later
/// scrapes are answered, and the verdict is unchanged.
#[test]
fn scrapers_that_go_away_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "live.yaml", &SCENARIO.replace("3s", "2s"));
    let port = free_port();
    let run = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap(), "-q"])
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while scrape(port, "*/*").is_none() {
        assert!(Instant::now() < deadline, "the endpoint never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..50 {
        // Half a request, then gone; a whole request, then gone before the answer is read.
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /metr");
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        }
    }
    let text = scrape(port, "*/*").expect("answered after the rude scrapers");
    assert!(text.contains("tierbench_operations_total"), "{text}");
    let out = run.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Several app instances kept coherent over Redis: after the run the endpoint's invalidation
/// counters and lag histogram equal the result document's coherence figures.
#[test]
fn coherence_counters_and_lag_end_at_the_documents_figures() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("tierbench:test:livecoh:{}:", std::process::id());
    let yaml = format!(
        "name: live-coherence\nseed: 4\n\
         tiers:\n  - {{ name: l1, kind: memory, max_entries: 500 }}\n  \
         - {{ name: l2, kind: redis, url: \"{}\" }}\n\
         coherence: {{ instances: 3, invalidation: pubsub }}\n\
         data: {{ keys: {{ count: 1000, prefix: \"{prefix}\" }}, values: {{ size: 32 }} }}\n\
         workloads:\n  - {{ name: w, target: stack, ops: 6000, concurrency: 3, \
         mix: {{ get: 8, set: 2 }} }}\n",
        support::redis_url()
    );
    let path = write_scenario(dir.path(), "coh.yaml", &yaml);
    let results = dir.path().join("r.json");
    let port = free_port();
    let run = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap(), "-q", "--report"])
        .arg(format!("json={}", results.display()))
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-linger", "3s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !results.exists() {
        assert!(Instant::now() < deadline, "no result document");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let last = scrape(port, "*/*").unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let c = &doc["workloads"][0]["coherence"];
    let sent = c["sent"].as_f64().unwrap();
    assert!(sent > 0.0, "{c}");
    for outcome in ["sent", "delivered", "foreign", "own"] {
        let served = sum(
            &last,
            "tierbench_coherence_invalidations_total",
            &[&format!("outcome=\"{outcome}\"")],
        );
        assert_eq!(served, c[outcome].as_f64().unwrap(), "{outcome}: {last}");
    }
    let lag_count = sum(&last, "tierbench_coherence_lag_seconds_count", &[]);
    assert_eq!(lag_count, c["delivered"].as_f64().unwrap(), "{last}");
    assert!(
        last.contains("tierbench_coherence_late_total{workload=\"w\"}"),
        "{last}"
    );
    let out = run.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
