//! The HTML report: its structure from fixed result documents is a snapshot (the charts reduced
//! to their kind and title, the tables to their rows), and the page of a real run is opened in
//! headless Chromium, which must render every chart's `<svg>` with no network, no console error,
//! and produce a screenshot.
//!
//! Chromium is required, not optional: `bash .ci/run` installs it (`apt-get install -y
//! chromium`); `TIERBENCH_CHROMIUM` points at another binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tierbench::report::Reporter;

fn render(fixture: &str) -> String {
    let doc = tierbench::app::read_results(Path::new(fixture)).unwrap();
    Reporter::new(None)
        .unwrap()
        .render_format("html", &doc)
        .unwrap()
}

/// The page as text: each chart as `[chart KIND: TITLE]`, the style sheet dropped, tags
/// stripped, one line per table row or paragraph.
fn digest(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        text.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</svg>")
            .expect("an <svg> without </svg>")
            + start;
        let svg = &rest[start..end];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            let from = svg.find(&key).map(|i| i + key.len()).unwrap_or(0);
            svg[from..].split('"').next().unwrap_or("").to_string()
        };
        text.push_str(&format!(
            "[chart {}: {}]",
            attr("data-chart"),
            attr("aria-label")
        ));
        rest = &rest[end + "</svg>".len()..];
    }
    text.push_str(rest);
    let style_start = text.find("<style>").unwrap();
    let style_end = text.find("</style>").unwrap() + "</style>".len();
    text.replace_range(style_start..style_end, "");
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every chart: (kind, number of drawn shapes), and checks that each is a well-formed,
/// self-contained SVG element.
fn charts(html: &str) -> Vec<(String, usize)> {
    html.split("<svg ")
        .skip(1)
        .map(|rest| {
            let svg = &rest[..rest.find("</svg>").expect("closed <svg>")];
            assert!(
                svg.starts_with("class=\"tb-chart\" data-chart=\""),
                "{}",
                &svg[..80]
            );
            let kind = svg["class=\"tb-chart\" data-chart=\"".len()..]
                .split('"')
                .next()
                .unwrap()
                .to_string();
            assert!(svg.contains("<title>"), "{kind}: no title");
            assert!(svg.contains("<text"), "{kind}: no axis labels");
            assert!(!svg.contains("<image"), "{kind}: embeds an image");
            let shapes = ["<polyline", "<rect", "<circle", "<line", "<polygon"]
                .iter()
                .map(|s| svg.matches(s).count())
                .sum();
            (kind, shapes)
        })
        .collect()
}

/// Nothing in the page can make the browser fetch: no script, link, image, frame, font, CSS
/// `url()` or `@import`, and no attribute pointing at another host.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for needle in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@import",
        "url(",
        "src=",
        "href=\"http",
        "href=\"//",
        "@font-face",
    ] {
        assert!(!lower.contains(needle), "the page contains `{needle}`");
    }
}

#[test]
fn html_report_of_a_small_run() {
    let html = render("tests/fixtures/results/small.json");
    assert_self_contained(&html);
    let charts = charts(&html);
    let kinds: Vec<&str> = charts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "latency-spectrum").count(),
        2,
        "one spectrum per workload: {kinds:?}"
    );
    for (kind, shapes) in &charts {
        assert!(*shapes > 5, "{kind} draws almost nothing ({shapes} shapes)");
    }
    insta::assert_snapshot!(digest(&html));
}

#[test]
fn html_report_with_phases_repetitions_and_a_baseline() {
    let html = render("tests/fixtures/results/html-repeat-baseline.json");
    assert_self_contained(&html);
    let kinds: Vec<String> = charts(&html).into_iter().map(|(k, _)| k).collect();
    for kind in [
        "latency-spectrum",
        "timeseries-throughput",
        "timeseries-latency",
        "timeseries-hit_rate",
        "served-by",
        "hit-rate",
        "thresholds",
        "repetitions-throughput",
        "repetitions-all.p99_ns",
        "comparison",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} chart in {kinds:?}"
        );
    }
    insta::assert_snapshot!(digest(&html));
}

/// The Chromium binary; a missing one fails the test with how to install it.
fn chromium() -> PathBuf {
    let path = std::env::var_os("TIERBENCH_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "{} is missing: the HTML report test opens the page in headless Chromium. Install it with \
         `apt-get install -y chromium` (bash .ci/run does), or set TIERBENCH_CHROMIUM to a \
         Chromium binary.",
        path.display()
    );
    path
}

/// Runs headless Chromium on `page` with a fresh profile, no network, logging to stderr.
fn run_chromium(page: &Path, extra: &[String], dir: &Path) -> Output {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 180 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Console messages and failed loads in Chromium's log. The page has no script, so any
/// console message is a problem (a failed load, a blocked resource, a parse error).
fn console_problems(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Failed to load resource")
                || l.contains("ERR_NAME_NOT_RESOLVED")
        })
        .collect()
}

const SCENARIO: &str = r#"
name: html-report-smoke
description: A small embedded stack with two phases, for the HTML report test.
seed: 3
tiers:
  - { name: l1, kind: memory, max_entries: 300 }
  - { name: l3, kind: sql, url: "sqlite::memory:" }
data:
  keys: { count: 2000, prefix: "tierbench:html:", distribution: zipf, zipf_exponent: 0.9 }
  values: { shape: json, size: 128 }
origin:
  latency: 200us
workloads:
  - name: reads
    target: stack
    concurrency: 2
    warmup: 200
    mix: { get: 90, set: 10 }
    phases:
      - { name: steady, duration: 1s, concurrency: 2 }
      - { name: burst, duration: 1s, concurrency: 4 }
    thresholds: [errors == 0, get.p99 < 1s, l1.hit_rate > 1%]
"#;

#[test]
fn html_report_of_a_real_run_renders_in_headless_chromium() {
    chromium();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("smoke.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let page = dir.path().join("report.html");
    let run = assert_cmd::Command::cargo_bin("tierbench")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .arg("--report")
        .arg(format!("html={}", page.display()))
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the run failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    let charts = charts(&html);
    assert!(charts.len() >= 6, "{charts:?}");

    // The rendered DOM has every chart, with its drawing, and nothing was logged.
    let out = run_chromium(&page, &["--dump-dom".to_string()], dir.path());
    let dom = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(dom.contains("<main>"), "no page in the DOM:\n{dom}");
    let rendered = dom.matches("<svg class=\"tb-chart\"").count();
    assert_eq!(rendered, charts.len(), "charts in the DOM vs in the file");
    for (kind, _) in &charts {
        assert!(
            dom.contains(&format!("data-chart=\"{kind}\"")),
            "{kind} is not in the rendered DOM"
        );
    }
    assert!(dom.contains("<polyline"), "no line drawn in the DOM");
    let problems = console_problems(&stderr);
    assert!(problems.is_empty(), "console problems: {problems:#?}");

    // A screenshot: a PNG of the requested size with real content.
    let shot = dir.path().join("report.png");
    let out = run_chromium(
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".to_string(),
            "--hide-scrollbars".to_string(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let problems = console_problems(&stderr);
    assert!(problems.is_empty(), "console problems: {problems:#?}");
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2400));
    assert!(
        png.len() > 60_000,
        "the screenshot is nearly blank ({} bytes)",
        png.len()
    );
    // Kept for a look: target/tmp/html_report/.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html_report");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::copy(&shot, keep.join("report.png")).unwrap();
    std::fs::copy(&page, keep.join("report.html")).unwrap();
}

#[test]
fn every_chart_function_is_documented() {
    let docs = std::fs::read_to_string("docs/templates.md").unwrap();
    assert!(docs.contains("## HTML report and chart functions"));
    for name in tierbench::report::charts::FUNCTIONS {
        assert!(
            docs.contains(&format!("| `{name}(")),
            "docs/templates.md has no row for {name}"
        );
    }
}
