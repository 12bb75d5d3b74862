//! The CI-facing report formats (junit, github, gitlab, badge, benchmark-action, csv): snapshots
//! of every built-in template against fixed result documents, and checks that each output is
//! what its consumer accepts (the JUnit XSD through xmllint, OpenMetrics line by line, CSV
//! through a CSV reader, JSON shapes), plus GitHub annotations at the thresholds' own lines of
//! a real run, `templates list | export`, and template error messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use predicates::prelude::*;
use tierbench::metrics::result::ResultDocument;
use tierbench::report::Reporter;

/// The fixed inputs: no comparison nor repetitions; repetitions; repetitions and a comparison.
const FIXTURES: [&str; 3] = ["small", "ci-repeated", "ci-compared"];

/// Every format backed by a template this file covers.
const CI_FORMATS: [&str; 8] = [
    "junit",
    "github",
    "gitlab",
    "badge",
    "benchmark-action-smaller",
    "benchmark-action-bigger",
    "csv",
    "csv-timeseries",
];

fn fixture(name: &str) -> ResultDocument {
    tierbench::app::read_results(Path::new(&format!("tests/fixtures/results/{name}.json"))).unwrap()
}

fn render(format: &str, doc: &ResultDocument) -> String {
    Reporter::new(None)
        .unwrap()
        .render_format(format, doc)
        .unwrap_or_else(|e| panic!("{format}: {e}"))
}

/// The tierbench binary, outside any CI (the test may itself run under GitHub Actions or
/// GitLab CI: their variables must not leak into what is being checked).
fn tierbench() -> Command {
    let mut cmd = Command::cargo_bin("tierbench").expect("binary built");
    cmd.env("CI", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITLAB_CI");
    cmd
}

#[test]
fn every_ci_template_matches_its_snapshot_for_every_fixture() {
    for fixture_name in FIXTURES {
        let doc = fixture(fixture_name);
        for format in CI_FORMATS {
            let out = render(format, &doc);
            insta::assert_snapshot!(format!("{format}@{fixture_name}"), out);
        }
    }
}

/// A fixture in which every threshold held and nothing was compared.
fn passing() -> ResultDocument {
    let mut doc = fixture("ci-repeated");
    for w in &mut doc.workloads {
        for t in &mut w.thresholds {
            t.passed = true;
        }
        w.passed = true;
    }
    doc.summary.passed = true;
    doc.summary.failed = 0;
    doc.summary.score = Some(93.0);
    doc.summary.grade = Some("A".into());
    doc
}

fn xmllint() -> StdCommand {
    let probe = StdCommand::new("xmllint").arg("--version").output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "xmllint is needed to validate the JUnit report: apt-get install -y libxml2-utils \
         (.ci/run installs it)"
    );
    StdCommand::new("xmllint")
}

#[test]
fn junit_validates_against_the_junit_xsd() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs: Vec<(String, ResultDocument)> = FIXTURES
        .iter()
        .map(|name| (name.to_string(), fixture(name)))
        .collect();
    docs.push(("passing".into(), passing()));
    let mut ended_early = fixture("small");
    ended_early.workloads[1].failure = Some("tier `l3` lost: <no reply> & \u{1} gone".into());
    docs.push(("ended-early".into(), ended_early));
    for (name, doc) in docs {
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, render("junit", &doc)).unwrap();
        let out = xmllint()
            .args(["--noout", "--schema", "tests/fixtures/junit.xsd"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema is not a pushover: a testcase without its required name is refused.
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase/></testsuite></testsuites>",
    )
    .unwrap();
    let out = xmllint()
        .args(["--noout", "--schema", "tests/fixtures/junit.xsd"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn junit_counts_failures_and_errors() {
    let out = render("junit", &fixture("ci-compared"));
    // 6 thresholds + 10 compared metrics; 2 thresholds failed, 2 regressed and 2 inconclusive
    // metrics fail the verdict.
    assert!(
        out.contains(
            "<testsuites name=\"tierbench ci-fixture\" tests=\"16\" failures=\"6\" errors=\"0\""
        ),
        "{out}"
    );
    assert_eq!(out.matches("<failure type=\"regressed\"").count(), 2);
    assert_eq!(out.matches("<failure type=\"inconclusive\"").count(), 2);
    assert!(out.contains("<testsuite name=\"hot &amp; cold, 80:20 &lt;mix&gt;\""));
}

/// Splits an OpenMetrics exposition into (family, samples) and checks the grammar this file
/// uses: metadata before samples, families contiguous, `# EOF` last, numbers that parse.
fn parse_openmetrics(text: &str) -> Vec<(String, Vec<(String, f64)>)> {
    assert!(text.ends_with("# EOF\n"), "must end with # EOF: {text}");
    let mut families: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if *line == "# EOF" {
            assert_eq!(i, lines.len() - 1, "# EOF must be the last line");
            continue;
        }
        if let Some(meta) = line.strip_prefix("# ") {
            let mut parts = meta.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(
                ["TYPE", "HELP", "UNIT"].contains(&kind),
                "line {}: {line}",
                i + 1
            );
            if kind == "TYPE" {
                assert!(
                    families.iter().all(|(f, _)| f != name),
                    "family {name} declared twice"
                );
                assert_eq!(parts.next(), Some("gauge"), "line {}", i + 1);
                families.push((name.to_string(), Vec::new()));
            } else {
                assert_eq!(families.last().map(|f| f.0.as_str()), Some(name));
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        let family = families.last_mut().unwrap();
        assert_eq!(
            name,
            family.0,
            "line {}: a sample outside its family",
            i + 1
        );
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            let inner = &labels[1..labels.len() - 1];
            // name="value" pairs; values may hold escaped quotes.
            let mut rest = inner;
            while !rest.is_empty() {
                let (label, after) = rest.split_once("=\"").unwrap();
                assert!(
                    label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{label}"
                );
                let mut end = 0;
                let bytes = after.as_bytes();
                while bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                rest = after[end + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&after[end + 1..]);
            }
        }
        let v: f64 = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("line {}: {v}", i + 1)),
        };
        family.1.push((series.to_string(), v));
    }
    families
}

#[test]
fn gitlab_metrics_are_openmetrics_ending_with_eof() {
    for name in FIXTURES {
        let doc = fixture(name);
        let families = parse_openmetrics(&render("gitlab", &doc));
        let find = |family: &str| {
            families
                .iter()
                .find(|(f, _)| f == family)
                .map(|(_, s)| s.clone())
                .unwrap_or_default()
        };
        let throughput = find("tierbench_throughput");
        assert_eq!(throughput.len(), doc.workloads.len(), "{name}");
        assert_eq!(throughput[0].1, doc.workloads[0].throughput);
        let p99 = format!(
            "tierbench_latency_seconds{{workload=\"{}\",op=\"get\",stat=\"p99\"}}",
            doc.workloads[0].name
        );
        let seconds = find("tierbench_latency_seconds")
            .into_iter()
            .find(|(s, _)| *s == p99)
            .unwrap();
        let expected = doc.workloads[0].operations["get"].latency.p99_ns as f64 / 1e9;
        assert!(
            (seconds.1 - expected).abs() < 1e-15,
            "{seconds:?} {expected}"
        );
        let thresholds = find("tierbench_threshold_passed");
        assert_eq!(thresholds.len(), doc.summary.thresholds);
        assert_eq!(
            thresholds.iter().filter(|(_, v)| *v == 0.0).count(),
            doc.summary.failed
        );
    }
}

#[test]
fn csv_reports_parse_and_round_trip_names() {
    for name in FIXTURES {
        let doc = fixture(name);
        let out = render("csv", &doc);
        let mut reader = csv::Reader::from_reader(out.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(&headers[0], "workload");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let expected: usize = doc
            .workloads
            .iter()
            .map(|w| {
                w.operations.len()
                    + if w.stacked {
                        w.tiers.iter().map(|t| t.operations.len()).sum()
                    } else {
                        0
                    }
            })
            .sum();
        assert_eq!(rows.len(), expected, "{name}");
        for w in &doc.workloads {
            assert!(rows.iter().any(|r| r[0] == *w.name), "{name}: {}", w.name);
        }
        let p99 = headers.iter().position(|h| h == "p99_ns").unwrap();
        let get = rows
            .iter()
            .find(|r| r[0] == *doc.workloads[0].name && &r[1] == "workload" && &r[3] == "get")
            .unwrap();
        assert_eq!(
            get[p99].parse::<u64>().unwrap(),
            doc.workloads[0].operations["get"].latency.p99_ns
        );

        let series = render("csv-timeseries", &doc);
        let mut reader = csv::Reader::from_reader(series.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let seconds: usize = doc.workloads.iter().map(|w| w.timeseries.len()).sum();
        assert_eq!(rows.len(), seconds, "{name}");
        assert!(rows.iter().all(|r| r.len() == 9));
        // `partial` marks each workload's last second, the tail of the run.
        let partial = rows.iter().filter(|r| &r[8] == "1").count();
        let with_seconds = doc
            .workloads
            .iter()
            .filter(|w| !w.timeseries.is_empty())
            .count();
        assert_eq!(partial, with_seconds, "{name}");
    }
}

#[test]
fn the_badge_is_a_shields_endpoint() {
    let failed: serde_json::Value =
        serde_json::from_str(&render("badge", &fixture("ci-compared"))).unwrap();
    assert_eq!(failed["schemaVersion"], 1);
    assert_eq!(failed["label"], "tierbench");
    assert_eq!(failed["message"], "failed · 2 of 6 thresholds");
    assert_eq!(failed["color"], "red");
    let passed: serde_json::Value = serde_json::from_str(&render("badge", &passing())).unwrap();
    assert_eq!(
        passed,
        serde_json::json!({"schemaVersion": 1, "label": "tierbench", "message": "passed · grade A", "color": "brightgreen"})
    );
}

#[test]
fn benchmark_action_files_are_arrays_of_named_values() {
    let doc = fixture("ci-repeated");
    for (format, unit) in [
        ("benchmark-action-smaller", "ns"),
        ("benchmark-action-bigger", "ops/s"),
    ] {
        let value: serde_json::Value = serde_json::from_str(&render(format, &doc)).unwrap();
        let items = value.as_array().unwrap();
        assert!(!items.is_empty());
        let mut names = std::collections::BTreeSet::new();
        for item in items {
            assert!(
                names.insert(item["name"].as_str().unwrap().to_string()),
                "{item}"
            );
            assert!(item["value"].is_number(), "{item}");
            assert!(item["unit"].is_string(), "{item}");
        }
        assert!(items.iter().any(|i| i["unit"] == unit));
        // Repeated runs carry their spread.
        assert!(
            items
                .iter()
                .any(|i| i["range"].as_str().is_some_and(|r| r.starts_with("± ")))
        );
    }
    let bigger: serde_json::Value =
        serde_json::from_str(&render("benchmark-action-bigger", &doc)).unwrap();
    assert_eq!(bigger[0]["name"], "ci-fixture/reads/throughput");
    assert_eq!(bigger[0]["value"], doc.workloads[0].throughput);
}

/// A scenario whose thresholds sit on known lines: every `get.pNN < 1ns` fails.
const ANNOTATED: &str = "\
name: annotated
seed: 3
tiers:
  - { name: l1, kind: memory, engine: lru, max_entries: 100 }
data:
  keys: { count: 300, distribution: uniform }
  values: { shape: text, size: 16 }
workloads:
  - name: \"reads, first: 1\"
    target: l1
    preload: true
    ops: 2000
    mix: { get: 9, set: 1 }
    thresholds:
      - errors == 0
      - get.p50 < 1ns
      - get.max < 1ns
  - name: more
    target: l1
    ops: 2000
    mix: { get: 9, set: 1 }
    thresholds: [get.p90 < 1ns, errors == 0, get.p99 < 1ns]
";

/// 1-based line and column of `text` in `ANNOTATED`.
fn place_of(text: &str) -> (usize, usize) {
    ANNOTATED
        .lines()
        .enumerate()
        .find_map(|(i, line)| line.find(text).map(|c| (i + 1, c + 1)))
        .unwrap()
}

#[test]
fn github_annotations_point_at_each_failed_thresholds_line_and_fill_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("annotated.yaml");
    std::fs::write(&scenario, ANNOTATED).unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = tierbench()
        .arg("run")
        .arg(&scenario)
        .args(["--report", "github", "--report"])
        .arg(format!("json={}", dir.path().join("r.json").display()))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 4, "{stdout}");
    let file = scenario
        .display()
        .to_string()
        .replace(':', "%3A")
        .replace(',', "%2C");
    for text in [
        "get.p50 < 1ns",
        "get.max < 1ns",
        "get.p90 < 1ns",
        "get.p99 < 1ns",
    ] {
        let (line, col) = place_of(text);
        let workload = if line <= 17 {
            "reads%2C first%3A 1"
        } else {
            "more"
        };
        let expected = format!(
            "::error file={file},line={line},col={col},title=tierbench%3A {workload}%3A {text}::"
        );
        assert!(
            errors.iter().any(|e| e.starts_with(&expected)),
            "{expected}\nnot in\n{stdout}"
        );
    }
    // Worst first: the margins (all negative) grow down the list.
    let margins: Vec<f64> = errors
        .iter()
        .map(|e| {
            let m = e.rsplit("margin ").next().unwrap().trim_end_matches("%25");
            m.parse().unwrap()
        })
        .collect();
    assert!(margins.windows(2).all(|w| w[0] <= w[1]), "{margins:?}");
    assert!(
        stdout.contains("::group::tierbench report: annotated\n"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("::endgroup::"), "{stdout}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n# tierbench: annotated ❌"),
        "{summary}"
    );
    // The JSON records each threshold's place, so a later `tierbench report` annotates too.
    let doc = tierbench::app::read_results(&dir.path().join("r.json")).unwrap();
    let source = doc.workloads[0].thresholds[1].source.clone().unwrap();
    assert_eq!((source.line, source.column), place_of("get.p50 < 1ns"));
}

#[test]
fn github_annotates_at_most_ten_failures_worst_first() {
    let mut doc = fixture("ci-repeated");
    doc.workloads.truncate(1);
    let template = doc.workloads[0].thresholds[1].clone();
    doc.workloads[0].thresholds = (0..12)
        .map(|i| {
            let mut t = template.clone();
            t.text = format!("t{i}");
            t.observed = Some(0.9 - f64::from(i) * 0.05);
            t
        })
        .collect();
    let out = render("github", &doc);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{out}");
    assert!(
        errors[0].contains("title=tierbench%3A reads%3A t11::"),
        "{out}"
    );
    assert!(
        errors[9].contains("title=tierbench%3A reads%3A t2::"),
        "{out}"
    );
    assert!(
        out.contains("\ntierbench: 2 more failed thresholds not annotated"),
        "{out}"
    );
}

#[test]
fn auto_picks_the_ci_systems_format() {
    let dir = tempfile::tempdir().unwrap();
    let results = Path::new("tests/fixtures/results/ci-compared.json")
        .canonicalize()
        .unwrap();
    let github = tierbench()
        .current_dir(dir.path())
        .args(["report", results.to_str().unwrap(), "--report", "auto"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8(github.stdout).unwrap();
    assert!(stdout.starts_with("::error file="), "{stdout}");
    tierbench()
        .current_dir(dir.path())
        .args(["report", results.to_str().unwrap(), "--report", "auto"])
        .env("GITLAB_CI", "true")
        .assert()
        .success();
    let metrics = std::fs::read_to_string(dir.path().join("tierbench.metrics.txt")).unwrap();
    assert!(metrics.ends_with("# EOF\n"));
    let junit = std::fs::read_to_string(dir.path().join("tierbench.junit.xml")).unwrap();
    assert!(junit.starts_with("<?xml"));
    let text = tierbench()
        .args(["report", results.to_str().unwrap(), "--report", "auto"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(text.stdout)
            .unwrap()
            .starts_with("tierbench ")
    );
}

#[test]
fn gitlab_writes_metrics_and_junit_into_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir: PathBuf = dir.path().join("reports");
    tierbench()
        .args(["report", "tests/fixtures/results/small.json", "--report"])
        .arg(format!("gitlab={}/", out_dir.display()))
        .assert()
        .success();
    assert!(out_dir.join("metrics.txt").is_file());
    assert!(out_dir.join("junit.xml").is_file());
}

#[test]
fn templates_list_and_export() {
    let list = tierbench().args(["templates", "list"]).output().unwrap();
    let stdout = String::from_utf8(list.stdout).unwrap();
    for format in CI_FORMATS {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(format)),
            "{format} not listed:\n{stdout}"
        );
    }
    assert!(stdout.contains("junit.xml.j2"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    tierbench()
        .args(["templates", "export"])
        .arg(dir.path())
        .assert()
        .success();
    let exported = std::fs::read_to_string(dir.path().join("junit.xml.j2")).unwrap();
    assert_eq!(exported, include_str!("../templates/junit.xml.j2"));
    std::fs::write(dir.path().join("junit.xml.j2"), "mine").unwrap();
    tierbench()
        .args(["templates", "export"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("junit.xml.j2").and(predicate::str::contains("--force")));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("junit.xml.j2")).unwrap(),
        "mine"
    );
    tierbench()
        .args(["templates", "export", "--force"])
        .arg(dir.path())
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("junit.xml.j2")).unwrap(),
        exported
    );
}

#[test]
fn an_exported_template_overrides_the_builtin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("badge.json.j2"),
        "{\"schemaVersion\": 1, \"label\": \"bench\", \"message\": {{ scenario.name }}, \"color\": \"blue\"}\n",
    )
    .unwrap();
    let out = tierbench()
        .args([
            "report",
            "tests/fixtures/results/small.json",
            "--report",
            "badge",
            "--templates",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"schemaVersion\": 1, \"label\": \"bench\", \"message\": \"report-fixture\", \"color\": \"blue\"}\n"
    );
}

#[test]
fn the_slack_example_renders() {
    let out = tierbench()
        .args([
            "report",
            "tests/fixtures/results/ci-compared.json",
            "--template",
            "templates/examples/slack.json.j2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let message: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with(":x: *tierbench ci-fixture*")
    );
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_template_error_names_the_undefined_expression_and_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.j2");
    std::fs::write(
        &file,
        "{% for w in workloads %}\n{{ w.name }}: {{ w.thresholds[0].nope | duration }}\n{% endfor %}\n",
    )
    .unwrap();
    let err = Reporter::new(None)
        .unwrap()
        .render_file(&file, &fixture("small"))
        .unwrap_err()
        .to_string()
        .replace(&file.display().to_string(), "[TEMPLATE]");
    insta::assert_snapshot!(err);
}

#[test]
fn an_unknown_format_lists_the_formats() {
    let err = Reporter::new(None)
        .unwrap()
        .render_format("nope", &fixture("small"))
        .unwrap_err()
        .to_string();
    for format in tierbench::report::FORMATS {
        assert!(err.contains(format), "{format}: {err}");
    }
}
