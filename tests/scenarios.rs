//! Every shipped scenario passes the committed JSON Schema and the loader, and runs (small).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::{Path, PathBuf};
use std::time::Duration;

use tierbench::app::run::run;
use tierbench::engine::progress::Progress;
use tierbench::scenario::plan::Stop;

/// The tests that run the shipped scenarios take turns: two runs of one scenario at once would
/// meet on its key prefix on the shared servers (the second refuses the first's keys).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn shipped() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new("scenarios").to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("scenarios/ exists")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "toml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    files
}

fn committed_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string("schemas/scenario.schema.json").expect("committed schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn every_scenario_passes_the_committed_schema_and_the_loader() {
    let validator = committed_schema();
    for path in shipped() {
        let document = tierbench::scenario::format::read_document(&path, &|_| None)
            .unwrap_or_else(|d| panic!("{d}"));
        let errors: Vec<String> = validator
            .iter_errors(&document.value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        if let Err(d) = tierbench::scenario::load(&path) {
            panic!("{d}");
        }
    }
}

#[test]
fn every_scenario_runs_small() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for path in shipped() {
        let mut scenario = tierbench::scenario::load(&path).unwrap_or_else(|d| panic!("{d}"));
        for w in &mut scenario.workloads {
            w.warmup = w.warmup.min(100);
            for p in &mut w.phases {
                p.stop = match p.stop {
                    Stop::Ops(n) => Stop::Ops(n.min(500)),
                    Stop::Duration(d) => Stop::Duration(d.min(Duration::from_millis(300))),
                };
                p.concurrency = p.concurrency.min(4);
            }
        }
        scenario.keys.count = scenario.keys.count.min(1000);
        let outcome = runtime.block_on(run(&scenario, &[], &Progress::hidden()));
        assert!(
            outcome.failure.is_none(),
            "{}: {:?}",
            path.display(),
            outcome.failure
        );
        assert_eq!(outcome.document.workloads.len(), scenario.workloads.len());
        for w in &outcome.document.workloads {
            assert!(w.ops > 0, "{}: {} ran nothing", path.display(), w.name);
            assert_eq!(
                w.phases.len(),
                scenario
                    .workloads
                    .iter()
                    .find(|x| x.name == w.name)
                    .unwrap()
                    .phases
                    .len()
            );
        }
    }
}

/// Every shipped scenario, run as a user runs it (the binary, its own sizes, its thresholds),
/// exits 0: a shipped scenario that fails its own thresholds is a defect. A sweep runs each of
/// its points at the `development` profile (its grid of full runs is a minute on its own).
#[test]
fn every_scenario_passes_its_own_thresholds_as_shipped() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut failed = Vec::new();
    for path in shipped() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut args = vec!["run".to_string(), path.display().to_string(), "-q".into()];
        if text.lines().any(|l| l.starts_with("sweep:")) {
            args.extend(["--profile".into(), "development".into()]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tierbench"))
            .args(&args)
            .env("CI", "1")
            .output()
            .unwrap();
        if out.status.code() != Some(0) {
            failed.push(format!(
                "{}: exit {:?}\n{}{}",
                path.display(),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
