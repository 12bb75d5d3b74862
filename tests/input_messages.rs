//! Input and messages through the binary: override mistakes reported as the override's,
//! `--profile a,b`, `validate --print` with every default filled in, and a run that fails at
//! setup still writing its reports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;
use std::process::Output;

const SCENARIO: &str = "\
name: messages
tiers:
  - name: l1
    kind: memory
    max_entries: 1000
data:
  keys: { count: 100 }
  values: { size: 16 }
defaults: { ops: 2000 }
workloads:
  - name: reads
    target: l1
    ops: 500
    mix: { get: 9, set: 1 }
    thresholds: [get.p99 < 50ms]
profiles:
  strict:
    workloads:
      reads:
        thresholds: [\"get.p(101) < 1ms\"]
  small:
    defaults: { ops: 100 }
    repeat: 2
";

/// Runs tierbench in `dir` (so the scenario's path in messages is just its name).
fn tierbench(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tierbench"));
    cmd.current_dir(dir).args(args).env("CI", "1");
    for var in [
        "TIERBENCH_PROFILE",
        "TIERBENCH_OPS",
        "TIERBENCH_DURATION",
        "TIERBENCH_WARMUP",
        "TIERBENCH_TIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), SCENARIO).unwrap();
    dir
}

#[test]
fn a_set_mistake_is_reported_as_the_sets_not_at_a_line_of_the_file() {
    let dir = setup();
    let out = tierbench(
        dir.path(),
        &[
            "validate",
            "s.yaml",
            "--set",
            "workloads.reads.ops=abc",
            "--set",
            "workloads.reads.thresholds=[l1.hitrate > 5%]",
            "--set",
            "novalue",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        !text.contains(" | "),
        "no line of the file is shown: {text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn an_environment_mistake_names_the_variable() {
    let dir = setup();
    let out = tierbench(
        dir.path(),
        &["validate", "s.yaml"],
        &[("TIERBENCH_OPS", "abc"), ("TIERBENCH_TIMEOUT", "5")],
    );
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn a_profile_mistake_points_at_the_profile_and_unknown_names_suggest() {
    let dir = setup();
    let out = tierbench(
        dir.path(),
        &["validate", "s.yaml", "--profile", "strict"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("s.yaml:20:22"),
        "the profile's own line: {text}"
    );
    let unknown = tierbench(
        dir.path(),
        &["validate", "s.yaml"],
        &[("TIERBENCH_PROFILE", "ci,smal")],
    );
    assert_eq!(unknown.status.code(), Some(2));
    insta::assert_snapshot!(format!("{text}\n---\n{}", stderr(&unknown)));
}

#[test]
fn profiles_apply_in_order_and_are_recorded_in_the_results() {
    let dir = setup();
    let print = |profiles: &str| {
        let out = tierbench(
            dir.path(),
            &["validate", "--print", "s.yaml", "--profile", profiles],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let a = print("small,ci");
    assert_eq!(a["repeat"], 3, "ci comes last");
    assert_eq!(a["defaults"]["ops"], 100, "small's, kept by ci (x 1)");
    let b = print("ci,small");
    assert_eq!(b["repeat"], 2, "small comes last");
    let c = print("small,development");
    assert_eq!(
        c["defaults"]["ops"], 10,
        "development scales what small set"
    );
    assert_eq!(c["workloads"][0]["ops"], 50);

    let run = tierbench(
        dir.path(),
        &[
            "run",
            "s.yaml",
            "--report",
            "json=r.json",
            "--report",
            "text=r.txt",
        ],
        &[("TIERBENCH_PROFILE", "development,small")],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(doc["profile"], "development,small");
    assert_eq!(doc["scenario"]["effective"]["repeat"], 2);
    let text = std::fs::read_to_string(dir.path().join("r.txt")).unwrap();
    assert!(text.contains("profile: development,small"), "{text}");
}

#[test]
fn validate_print_shows_every_default_and_stays_a_valid_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "name: stack\n\
         tiers:\n\
         \x20 - { name: l1, kind: memory, max_entries: 10 }\n\
         \x20 - { name: l2, kind: redis, url: \"redis://:s3cr3t@127.0.0.1:1/0\", compression: { algorithm: zstd } }\n\
         \x20 - { name: l3, kind: sql, url: \"postgres://bob:s3cr3t@127.0.0.1:1/test\" }\n\
         data: { keys: { count: 100, distribution: zipf }, values: { shape: json, size: 64 } }\n\
         defaults: { duration: 2s }\n\
         workloads:\n\
         \x20 - { name: reads, target: stack, mix: { get: 1 } }\n\
         \x20 - name: phased\n\
         \x20   target: l1\n\
         \x20   mix: { get: 1 }\n\
         \x20   phases: [{ ops: 10 }, { duration: 1s, rate: 100/s }]\n",
    )
    .unwrap();
    let out = tierbench(dir.path(), &["validate", "--print", "stack.yaml"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("s3cr3t"), "passwords stay redacted: {text}");
    let e: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(e["seed"], 0);
    assert_eq!(e["repeat"], 1);
    assert_eq!(e["lost_after"], "10s");
    assert_eq!(e["origin"]["latency"], "0s");
    assert_eq!(e["tiers"][0]["engine"], "moka");
    assert_eq!(e["tiers"][1]["timeout"], "5s");
    assert_eq!(e["tiers"][1]["connections"], 2);
    assert_eq!(e["tiers"][1]["pipeline"], 1);
    assert_eq!(e["tiers"][1]["compression"]["level"], 3);
    assert_eq!(e["tiers"][1]["url"], "redis://:***@127.0.0.1:1/0");
    assert_eq!(e["tiers"][2]["table"], "tierbench_cache");
    assert_eq!(e["tiers"][2]["pool"], 4);
    assert_eq!(e["data"]["keys"]["zipf_exponent"], 0.99);
    assert_eq!(e["data"]["keys"]["prefix"], "tierbench:");
    assert_eq!(e["data"]["values"]["fields"], 4);
    assert_eq!(e["data"]["values"]["depth"], 1);
    let reads = &e["workloads"][0];
    assert_eq!(reads["duration"], "2s");
    assert_eq!(reads["concurrency"], 1);
    assert_eq!(reads["warmup"], 0);
    assert_eq!(reads["write"], "through");
    assert_eq!(reads["on_error"], "fail");
    assert_eq!(reads["thresholds"][0], "error_rate <= 1%");
    let phased = &e["workloads"][1];
    assert!(phased.get("ops").is_none(), "phases replace ops: {phased}");
    assert_eq!(phased["phases"][1]["name"], "phase-2");
    assert_eq!(phased["phases"][1]["concurrency"], 1);
    // What was printed is a scenario as it is (JSON is YAML), with the same plan.
    std::fs::write(dir.path().join("printed.yaml"), &text).unwrap();
    let again = tierbench(dir.path(), &["validate", "--print", "printed.yaml"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let e2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(e2, e);
}

#[test]
fn a_run_that_fails_at_setup_still_writes_every_report_with_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("down.yaml"),
        "name: down\n\
         tiers: [{ name: l2, kind: redis, url: \"redis://:s3cr3t@127.0.0.1:1\" }]\n\
         data: { keys: { count: 10 }, values: { size: 8 } }\n\
         workloads: [{ name: reads, target: l2, ops: 10, mix: { get: 1 }, thresholds: [get.p99 < 1ms] }]\n",
    )
    .unwrap();
    let out = tierbench(
        dir.path(),
        &[
            "run",
            "down.yaml",
            "--report",
            "json=r.json",
            "--report",
            "text=r.txt",
            "--report",
            "markdown=r.md",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let line = stderr(&out);
    assert!(line.contains("error: setup failed: tier `l2`"), "{line}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    let summary = &doc["summary"];
    assert_eq!(summary["passed"], false);
    assert_eq!(summary["failure_detail"]["phase"], "setup");
    assert_eq!(summary["failure_detail"]["tier"], "l2");
    let message = summary["failure"].as_str().unwrap();
    assert!(message.contains("cannot connect"), "{message}");
    assert_eq!(summary["failure_detail"]["message"], message);
    let text = std::fs::read_to_string(dir.path().join("r.txt")).unwrap();
    assert!(
        text.contains(&format!("result: FAILED: {message}")),
        "{text}"
    );
    assert!(!text.contains("no thresholds"), "{text}");
    let markdown = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(markdown.contains(message), "{markdown}");
    for report in [&text, &markdown, &doc.to_string()] {
        assert!(!report.contains("s3cr3t"));
    }
}
