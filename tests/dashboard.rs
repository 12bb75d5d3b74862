//! The live page of a run (`--dashboard`), seen as a person sees it: in headless Chromium
//! (Debian's `chromium`, driven through `chromedriver`) the page's figures grow while the run
//! goes on, and when it ends the page becomes the final report, whose numbers are the result
//! document's. Without a browser: the snapshot a script reads, the report served after the run
//! equal to `--report html=`, a page that goes away mid-stream, and bad addresses refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::private_redis::free_port;
use support::{all_output, write_scenario};

const SCENARIO: &str = "name: dash\nseed: 3\n\
    tiers: [{ name: l1, kind: memory, max_entries: 500 }]\n\
    data: { keys: { count: 2000 }, values: { size: 32 } }\n\
    workloads:\n  - { name: w, target: l1, duration: 5s, warmup: 200, concurrency: 2, \
    mix: { get: 9, set: 1 } }\n";

/// Sends one HTTP request to `port` and returns the status code and body (`None` while
/// nothing listens there).
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    // Read the head, then the body by its length (chromedriver keeps the connection open
    // despite `Connection: close`), or to the end.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    loop {
        if length.is_some_and(|n| raw.len() - head_end >= n) {
            break;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let body = String::from_utf8_lossy(&raw[head_end..]).to_string();
    let body = if head.contains("transfer-encoding: chunked") {
        unchunk(&body)
    } else {
        body
    };
    Some((status, body))
}

/// A chunked body's data.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `chromedriver` on a free port, killed when dropped, and its Chromium session.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

fn binary(var: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: the dashboard test drives headless Chromium. Install it with \
         `apt-get install -y {package}` (bash .ci/run does), or set {var}.",
        path.display()
    );
    path
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(binary(
            "TIERBENCH_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        ))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/status", None).is_none() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        let chromium = binary("TIERBENCH_CHROMIUM", "/usr/bin/chromium", "chromium");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium, "args": args}}}});
        let (status, body) = http(port, "POST", "/session", Some(&caps)).unwrap();
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status, 200, "no browser session: {body}");
        browser.session = reply["value"]["sessionId"].as_str().unwrap().to_string();
        browser
    }

    fn call(&self, method: &str, what: &str, body: &Value) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        let (status, text) = http(self.port, method, &path, Some(body)).unwrap();
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 200, "{what}: {text}");
        reply["value"].clone()
    }

    fn open(&self, url: &str) {
        self.call("POST", "url", &json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page; its return value.
    fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "execute/sync",
            &json!({ "script": script, "args": [] }),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = http(self.port, "DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts the scenario with `--dashboard` on a free port and a JSON report; the run and port.
fn spawn_with_dashboard(dir: &Path, yaml: &str, extra: &[&str]) -> (Child, u16, PathBuf) {
    let path = write_scenario(dir, "dash.yaml", yaml);
    let results = dir.join("r.json");
    let port = free_port();
    let run = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .args(["run", path.to_str().unwrap(), "-q", "--report"])
        .arg(format!("json={}", results.display()))
        .args(["--dashboard", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(port, "GET", "/snapshot.json", None).is_none() {
        assert!(Instant::now() < deadline, "the dashboard did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    (run, port, results)
}

fn document(results: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(results).unwrap()).unwrap()
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn in_chromium_the_page_grows_live_then_becomes_the_report_with_the_documents_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(profile.path());
    let (run, port, results) = spawn_with_dashboard(dir.path(), SCENARIO, &[]);
    browser.open(&format!("http://127.0.0.1:{port}/"));
    let live_ops = || -> u64 {
        browser
            .eval("const e = document.getElementById('ops-total'); return e ? e.textContent : '0';")
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0)
    };
    let mut first = 0;
    wait_for("measured operations on the page", || {
        first = live_ops();
        first > 0
    });
    assert_eq!(
        browser.eval("return document.getElementById('state').textContent;"),
        "measure"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let second = live_ops();
    assert!(
        second > first,
        "the page did not grow: {first} then {second}"
    );
    wait_for("a second's point drawn", || {
        let points = browser.eval("return series['w'] ? series['w'].points.length : 0;");
        points.as_u64().unwrap() >= 1
    });
    let polylines = browser.eval("return document.querySelectorAll('#charts polyline').length;");
    assert!(
        polylines.as_u64().unwrap() >= 3,
        "ops/s, p50, p99 and hit ratio lines: {polylines}"
    );
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    // The run is over: the page is the final report (the report has no script and a verdict
    // banner), with the result document's numbers.
    wait_for("the report in place of the page", || {
        browser.eval("return document.getElementById('verdict') !== null;") == json!(true)
    });
    let doc = document(&results);
    let w = &doc["workloads"][0];
    assert!(second <= w["ops"].as_u64().unwrap());
    let verdict = browser.eval("return document.getElementById('verdict').textContent;");
    assert!(verdict.as_str().unwrap().contains("PASSED"), "{verdict}");
    let counts = browser.eval(
        "return [...document.querySelectorAll('tr')].filter(r => r.querySelector('th') && \
         ['get', 'set'].includes(r.querySelector('th').textContent.trim()) && \
         r.querySelectorAll('td').length >= 8).map(r => [r.querySelector('th').textContent.trim(), \
         r.querySelectorAll('td')[0].textContent.trim()]);",
    );
    let counts = counts.as_array().unwrap();
    for op in ["get", "set"] {
        let want = w["operations"][op]["count"].as_u64().unwrap().to_string();
        let shown: Vec<&str> = counts
            .iter()
            .filter(|c| c[0] == op)
            .map(|c| c[1].as_str().unwrap())
            .collect();
        assert!(
            shown.first() == Some(&want.as_str()),
            "{op}: the page shows {shown:?}, the document {want}"
        );
    }
    let title = browser.eval("return document.title;");
    assert_eq!(title, json!("tierbench: dash (passed)"));
}

#[test]
fn the_snapshot_shows_progress_and_exact_seconds_and_the_report_stays_after_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let html_arg = format!("html={}", html.display());
    let (run, port, results) = spawn_with_dashboard(
        dir.path(),
        SCENARIO,
        &["--report", &html_arg, "--metrics-linger", "4s"],
    );
    let mut snap = Value::Null;
    wait_for("two measured seconds in the snapshot", || {
        let (_, body) = http(port, "GET", "/snapshot.json", None).unwrap();
        snap = serde_json::from_str(&body).unwrap();
        snap["series"][0]["points"]
            .as_array()
            .is_some_and(|p| p.len() >= 2)
    });
    let (status, _) = http(port, "GET", "/report", None).unwrap();
    assert_eq!(status, 404, "no report while the run goes on");
    let measure = snap["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phase"] == "measure")
        .unwrap();
    let progress = measure["progress"].as_f64().unwrap();
    assert!(progress > 0.2 && progress < 1.0, "{snap}");
    assert_eq!(measure["workers"], 2);
    assert_eq!(measure["tiers"][0]["tier"], "l1");
    let point = &snap["series"][0]["points"][0];
    assert!(point["ops"].as_u64().unwrap() > 0, "{point}");
    assert!(point["p99_ns"].as_u64().unwrap() >= point["p50_ns"].as_u64().unwrap());
    let hit = point["hit"][0].as_f64().unwrap();
    assert!(hit > 0.0 && hit < 1.0, "500 of 2000 keys fit: {point}");
    // A page that goes away mid-stream costs nothing: open a stream, read a little, hang up.
    for _ in 0..5 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(stream, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 64];
        let _ = stream.read(&mut buf);
    }
    // The first second's figures are its exact ones: the document's own time series.
    wait_for("the result document", || results.exists());
    let mut report = String::new();
    wait_for("the report after the run", || {
        if let Some((200, body)) = http(port, "GET", "/", None) {
            report = body;
        }
        report.contains("id=\"verdict\"")
    });
    assert_eq!(report, std::fs::read_to_string(&html).unwrap());
    let doc = document(&results);
    let first = &doc["workloads"][0]["timeseries"][0];
    for figure in ["ops", "p50_ns", "p99_ns"] {
        assert_eq!(
            point[figure], first[figure],
            "{figure}: {point} against {first}"
        );
    }
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn a_taken_port_or_a_bad_address_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "dash.yaml", SCENARIO);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = support::tierbench(&["run", path.to_str().unwrap(), "--dashboard", &addr]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("--dashboard {addr}")) && text.contains("already in use"),
        "{text}"
    );
    assert!(text.contains("ss -ltnp"), "{text}");
    let out = support::tierbench(&["run", path.to_str().unwrap(), "--dashboard", "5665"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("--dashboard `5665` is not an address"),
        "{text}"
    );
}
