//! The command line as a user meets it: exit codes, report files, templates, error messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn tierbench() -> Command {
    let mut cmd = Command::cargo_bin("tierbench").expect("binary built");
    cmd.env("CI", "1");
    cmd
}

/// A small memory-only scenario; `threshold` is added to its workload.
fn scenario(dir: &Path, threshold: &str) -> std::path::PathBuf {
    let path = dir.join("small.yaml");
    std::fs::write(
        &path,
        format!(
            "name: small\nseed: 7\ntiers:\n  - {{ name: l1, kind: memory, engine: quick_cache, max_entries: 1000 }}\n\
             data:\n  keys: {{ count: 500, distribution: uniform }}\n  values: {{ shape: text, size: 32..64 }}\n\
             workloads:\n  - name: reads\n    target: l1\n    preload: true\n    ops: 5000\n    concurrency: 2\n\
             \x20   mix: {{ get: 9, set: 1 }}\n    thresholds: [\"{threshold}\"]\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_passing_run_exits_0_and_prints_the_text_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "errors == 0");
    tierbench()
        .arg("run")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS  errors == 0"))
        .stdout(predicate::str::contains(
            "result: PASSED: 1 of 1 thresholds held",
        ));
}

#[test]
fn a_failing_threshold_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "get.max < 1ns");
    tierbench()
        .arg("run")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  get.max < 1ns"));
}

#[test]
fn invalid_input_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "l9.hit_rate > 5%");
    tierbench()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("small.yaml:15:18:"))
        .stderr(predicate::str::contains(
            "`l9` is not a tier of this workload",
        ));
    tierbench()
        .args(["run", "no/such/file.yaml"])
        .assert()
        .code(2);
    tierbench().args(["run", "--bogus-flag"]).assert().code(2);
    tierbench()
        .args(["run", "scenarios/quickstart.yaml", "--report", "pdf"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown format `pdf`"));
}

#[test]
fn reports_go_to_files_and_json_is_the_result_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "throughput > 1/s");
    let json = dir.path().join("out/results.json");
    let md = dir.path().join("report.md");
    tierbench()
        .arg("run")
        .arg(&path)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("markdown={}", md.display()))
        .assert()
        .code(0)
        .stdout("");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["workloads"][0]["ops"], 5000);
    assert!(
        doc["workloads"][0]["operations"]["get"]["latency"]["histogram"]
            .as_str()
            .unwrap()
            .len()
            > 10
    );
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.starts_with("# tierbench: small ✅"), "{markdown}");
    // The saved results re-render without running again.
    tierbench()
        .arg("report")
        .arg(&json)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("== reads -> l1"));
}

#[test]
fn user_templates_render_and_template_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "errors == 0");
    let good = dir.path().join("summary.j2");
    std::fs::write(
        &good,
        "{{ scenario.name }}: {{ workloads[0].throughput | rate }}\n",
    )
    .unwrap();
    tierbench()
        .arg("run")
        .arg(&path)
        .arg("--template")
        .arg(&good)
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"^small: [0-9.]+[kM]?/s\n$").unwrap());

    let overrides = dir.path().join("templates");
    std::fs::create_dir(&overrides).unwrap();
    std::fs::write(
        overrides.join("text.txt.j2"),
        "line one\n{{ no_such_field.x }}\n",
    )
    .unwrap();
    tierbench()
        .arg("run")
        .arg(&path)
        .arg("--templates")
        .arg(&overrides)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("template `text.txt.j2`, line 2"));
}

#[test]
fn schema_prints_the_generated_schema() {
    tierbench()
        .arg("schema")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "\"title\": \"tierbench scenario\"",
        ));
    tierbench()
        .args(["schema", "results"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"title\": \"tierbench results\""));
}

#[test]
fn threads_sets_the_load_threads_and_refuses_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "errors == 0");
    tierbench()
        .args(["run", "--threads", "1", "-q"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASSED"));
    tierbench()
        .args(["run", "--threads", "0"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"))
        .stderr(predicate::str::contains("0 is not in 1.."));
}

#[test]
fn an_error_under_a_line_with_a_password_never_shows_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.yaml");
    std::fs::write(
        &path,
        "name: secret\ntiers:\n  - { name: l2, kind: redis, url: \"redis://:hunter2@127.0.0.1:6379\", timeout: soon }\n\
         data: { keys: { count: 10 }, values: { size: 8 } }\n\
         workloads: [{ name: w, target: l2, ops: 10, mix: { get: 1 } }]\n",
    )
    .unwrap();
    tierbench()
        .arg("run")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("redis://:***@127.0.0.1:6379"))
        .stderr(predicate::str::contains("timeout"))
        .stderr(predicate::str::contains("hunter2").not());
}

/// `-q` with every report going to a file still says, on stderr, how the run ended.
#[test]
fn a_quiet_run_with_only_file_reports_prints_its_verdict_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "get.p99 < 1ns");
    let json = dir.path().join("r.json");
    tierbench()
        .args(["run", path.to_str().unwrap(), "-q", "--report"])
        .arg(format!("json={}", json.display()))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "result: FAILED: 1 of 2 thresholds held",
        ))
        .stderr(predicate::str::contains("(grade F)"));
}

/// A report path that cannot be written fails before the run (exit 2), not after it with the
/// verdict lost.
#[test]
fn an_unwritable_report_path_fails_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "get.p99 < 1s");
    tierbench()
        .args([
            "run",
            path.to_str().unwrap(),
            "--report",
            "html=/proc/x.html",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("cannot write /proc/x.html"))
        .stderr(predicate::str::contains("result:").not());
}

/// The runtime's default threads: with a pipelined Redis under test on this machine, one
/// fewer than the cores, said in the report's notes; `--threads`, depth 1 and a scenario
/// without a server keep one per core, with no note.
#[test]
fn a_local_cache_server_is_left_a_core_and_the_report_says_so() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let dir = tempfile::tempdir().unwrap();
    let redis = dir.path().join("redis.yaml");
    let url = std::env::var("TIERBENCH_REDIS_URL").unwrap_or("redis://127.0.0.1:6379".into());
    std::fs::write(
        &redis,
        format!(
            "name: threads\ntiers: [{{ name: l2, kind: redis, url: \"{url}\", pipeline: 4 }}]\n\
             data: {{ keys: {{ count: 100, prefix: \"tbtest:threads:\" }}, values: {{ size: 8 }} }}\n\
             workloads:\n  - {{ name: w, target: l2, ops: 200, concurrency: 2, mix: {{ get: 1 }} }}\n"
        ),
    )
    .unwrap();
    let notes = |path: &Path, extra: &[&str]| -> Vec<String> {
        let json = dir.path().join("r.json");
        tierbench()
            .args(["run", path.to_str().unwrap(), "-q", "--report"])
            .arg(format!("json={}", json.display()))
            .args(extra)
            .assert()
            .code(0);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        doc["notes"]
            .as_array()
            .map(|n| n.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let said = notes(&redis, &[]);
    let threads: Vec<&String> = said
        .iter()
        .filter(|n| n.contains("runtime threads"))
        .collect();
    if url.contains("127.0.0.1") && cores >= 2 {
        let want = format!("runtime threads: {} of {cores} cores", cores - 1);
        assert!(
            threads.len() == 1 && threads[0].starts_with(&want),
            "{said:?}"
        );
    }
    let depth1 = notes(&redis, &["--set", "tiers.l2.pipeline=1"]);
    assert!(
        !depth1.iter().any(|n| n.contains("runtime threads")),
        "{depth1:?}"
    );
    let chosen = notes(&redis, &["--threads", "2"]);
    assert!(
        !chosen.iter().any(|n| n.contains("runtime threads")),
        "{chosen:?}"
    );
    let in_process = scenario(dir.path(), "errors == 0");
    let none = notes(&in_process, &[]);
    assert!(
        !none.iter().any(|n| n.contains("runtime threads")),
        "{none:?}"
    );
}

/// More in-process workers than cores: the report warns that their latency includes the
/// kernel's scheduling of their threads, with the run's tail; as many as the cores: no warning.
#[test]
fn more_in_process_workers_than_cores_are_warned_about() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "errors == 0");
    let warnings = |workers: usize| -> Vec<String> {
        let json = dir.path().join("w.json");
        tierbench()
            .args(["run", path.to_str().unwrap(), "-q", "--report"])
            .arg(format!("json={}", json.display()))
            .args(["--set", &format!("workloads.reads.concurrency={workers}")])
            .assert()
            .code(0);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        doc["workloads"][0]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    };
    let many = warnings(cores + 2);
    let said = format!("{} workers on {cores} cores", cores + 2);
    assert!(
        many.iter()
            .any(|w| w.starts_with(&said) && w.contains("p99")),
        "{many:?}"
    );
    let few = warnings(cores);
    assert!(
        !few.iter().any(|w| w.contains("cores: in-process")),
        "{few:?}"
    );
}
