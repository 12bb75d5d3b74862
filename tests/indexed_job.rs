//! The Kubernetes deployment (deploy/kubernetes/) run on this machine: the command lines of its
//! Jobs are read from the manifests and run as the pods would run them (shards told who they are
//! by JOB_COMPLETION_INDEX and TIERBENCH_SHARDS, a common TIERBENCH_START_AT, the merge Job's
//! `sh -c` line), so the manifests cannot drift from the CLI; scripts/local-shards.sh must hold
//! the same command lines, and its simulation must pass too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_yaml::Value;
use support::all_output;

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/kubernetes");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local-shards.sh");

fn manifest(name: &str) -> Value {
    let path = Path::new(DEPLOY).join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn container(job: &Value) -> &Value {
    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .unwrap();
    assert_eq!(containers.len(), 1, "one container per pod");
    &containers[0]
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The container's plain `env` values, and the names of those taken from a Secret.
fn env(container: &Value) -> (BTreeMap<String, String>, Vec<String>) {
    let mut plain = BTreeMap::new();
    let mut secret = Vec::new();
    for var in container["env"].as_sequence().unwrap() {
        let name = var["name"].as_str().unwrap().to_string();
        if let Some(value) = var["value"].as_str() {
            plain.insert(name, value.to_string());
        } else {
            assert!(
                var["valueFrom"]["secretKeyRef"]["name"].as_str().is_some(),
                "{name}: a value or a Secret"
            );
            secret.push(name);
        }
    }
    (plain, secret)
}

/// Kubernetes' expansion of `$(NAME)` in container args from the container's environment.
fn expand(arg: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = arg.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("$({name})"), value);
    }
    out
}

/// The pods' mounts (/scenario, /results) moved to `dir`.
fn localize(text: &str, dir: &Path) -> String {
    text.replace("/scenario/", &format!("{}/scenario/", dir.display()))
        .replace("/results/", &format!("{}/results/", dir.display()))
}

/// A small in-process scenario standing in for the ConfigMap's (no server needed).
fn mount_scenario(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("scenario")).unwrap();
    std::fs::create_dir_all(dir.join("results")).unwrap();
    support::write_scenario(
        &dir.join("scenario"),
        "scenario.yaml",
        "name: indexed-job\nseed: 14\ntiers: [{ name: l1, kind: memory, max_entries: 4000 }]\n\
         data: { keys: { count: 6000, prefix: \"job:\" }, values: { size: 64 } }\n\
         workloads:\n  - { name: mixed, target: l1, preload: true, duration: 1s, warmup: 0, \
         concurrency: 3, mix: { get: 8, set: 2 }, thresholds: [\"get.p99 < 1s\", \"errors == 0\"] }\n",
    )
}

fn start_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The key start.env gives the ConfigMap `tierbench-start` (the shards' common start).
fn start_variable() -> String {
    let text = std::fs::read_to_string(Path::new(DEPLOY).join("start.env")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 1, "start.env holds one variable: {lines:?}");
    lines[0].split_once('=').unwrap().0.to_string()
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The merged document's ops equal the sum of the shards', and every shard is in it.
fn assert_exact_merge(results: &Path, shards: usize) {
    let docs: Vec<_> = (0..shards)
        .map(|i| json(&results.join(format!("shard-{i}.json"))))
        .collect();
    let total = json(&results.join("total.json"));
    let sum: u64 = docs
        .iter()
        .map(|d| d["workloads"][0]["ops"].as_u64().unwrap())
        .sum();
    assert!(sum > 0);
    assert_eq!(total["workloads"][0]["ops"].as_u64().unwrap(), sum);
    assert_eq!(
        total["shard"]["indices"],
        serde_json::json!((0..shards).collect::<Vec<_>>())
    );
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d["shard"]["indices"][0], i);
        assert_eq!(d["shard"]["count"], shards);
    }
}

#[test]
fn the_jobs_command_lines_run_three_shards_and_merge_them_exactly() {
    let shards_job = manifest("shards-job.yaml");
    let spec = &shards_job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let shard = container(&shards_job);
    let (mut vars, secrets) = env(shard);
    assert_eq!(
        vars.get("TIERBENCH_SHARDS"),
        Some(&completions.to_string()),
        "TIERBENCH_SHARDS must equal the Job's completions"
    );
    assert_eq!(secrets, ["REDIS_PASSWORD"]);
    // Each pod serves its metrics on the port the PodMonitor scrapes (deploy/prometheus).
    let port = shard["ports"][0]["containerPort"].as_u64().unwrap();
    assert_eq!(shard["ports"][0]["name"].as_str(), Some("metrics"));
    assert_eq!(
        vars.get("TIERBENCH_METRICS_LISTEN").map(String::as_str),
        Some(format!("0.0.0.0:{port}").as_str())
    );
    let monitor: Value = serde_yaml::from_str(
        &std::fs::read_to_string(Path::new(DEPLOY).join("../prometheus/podmonitor.yaml")).unwrap(),
    )
    .unwrap();
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    assert_eq!(endpoint["port"].as_str(), Some("metrics"));
    for (label, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_mapping()
        .unwrap()
    {
        assert_eq!(
            shards_job["spec"]["template"]["metadata"]["labels"][label], *value,
            "the PodMonitor selects the shards' pods"
        );
    }
    assert_eq!(
        shard["envFrom"][0]["configMapRef"]["name"].as_str(),
        Some("tierbench-start")
    );
    assert_eq!(start_variable(), "TIERBENCH_START_AT");

    let merge_job = manifest("merge-job.yaml");
    let merge = container(&merge_job);
    assert_eq!(strings(&merge["command"]), ["/bin/sh", "-c"]);
    let (merge_vars, merge_secrets) = env(merge);
    assert_eq!(
        merge_vars.get("TIERBENCH_SHARDS"),
        Some(&completions.to_string()),
        "the merge Job's TIERBENCH_SHARDS must equal the shards' Job's completions"
    );
    assert_eq!(merge_secrets, ["REDIS_PASSWORD"]);
    assert_eq!(
        merge["envFrom"][0]["configMapRef"]["name"].as_str(),
        Some("tierbench-start"),
        "the merge waits for the documents of the run that starts at TIERBENCH_START_AT"
    );

    let dir = tempfile::tempdir().unwrap();
    let scenario = mount_scenario(dir.path());
    // Three shards here (the manifest's N is a deployment choice, not the test's).
    let n = 3;
    let start = start_in(4);
    // The merge starts first, as `kubectl apply -k` starts it with the shards: it waits for
    // their documents to be finished (each is rewritten, in progress, after every workload).
    let line = strings(&merge["args"]).concat();
    let local = localize(&line, dir.path()).replacen(
        "exec tierbench ",
        &format!("exec '{}' ", env!("CARGO_BIN_EXE_tierbench")),
        1,
    );
    assert_ne!(local, line, "the merge runs tierbench on the mounts");
    let merging = Command::new("/bin/sh")
        .args(["-c", &local])
        .env("TIERBENCH_SHARDS", n.to_string())
        .env("TIERBENCH_MERGE_WAIT", "2m")
        .env(start_variable(), &start)
        .env("REDIS_PASSWORD", "not-used-here")
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    vars.insert("TIERBENCH_SHARDS".into(), n.to_string());
    vars.insert("REDIS_PASSWORD".into(), "not-used-here".into());
    vars.insert(start_variable(), start.clone());
    let children: Vec<_> = (0..n)
        .map(|i| {
            let mut pod = vars.clone();
            pod.insert("JOB_COMPLETION_INDEX".into(), i.to_string());
            // A pod has an address of its own; here the shards share one, so a port each, and
            // no linger (a deployment's choice, 30 s of waiting here).
            let listen = format!("127.0.0.1:{}", support::private_redis::free_port());
            pod.insert("TIERBENCH_METRICS_LISTEN".into(), listen);
            pod.insert("TIERBENCH_METRICS_LINGER".into(), "0s".into());
            let args: Vec<String> = strings(&shard["args"])
                .iter()
                .map(|a| localize(&expand(a, &pod), dir.path()))
                .collect();
            Command::new(env!("CARGO_BIN_EXE_tierbench"))
                .args(&args)
                .env_remove("TIERBENCH_START_AT")
                .envs(&pod)
                .env("CI", "1")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    }

    let out = merging.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("waiting for 3 of 3 shard documents to be finished"),
        "{stderr}"
    );
    assert!(stderr.contains("merged 3 shards"), "{stderr}");
    assert!(
        stderr.contains("cleaned up after the shards of"),
        "{stderr}"
    );
    let results = dir.path().join("results");
    assert_exact_merge(&results, n);
    for report in ["report.txt", "report.md", "report.html", "junit.xml"] {
        let len = std::fs::metadata(results.join(report)).unwrap().len();
        assert!(len > 0, "{report} is empty");
    }
    assert!(scenario.exists());
}

/// `merge` refuses a missing shard (exit 2): what the merge Job does after a failed pod.
#[test]
fn the_merge_job_refuses_a_missing_shard() {
    let dir = tempfile::tempdir().unwrap();
    mount_scenario(dir.path());
    let start = start_in(3);
    let children: Vec<_> = [0, 2]
        .into_iter()
        .map(|i| {
            let results = dir.path().join("results");
            Command::new(env!("CARGO_BIN_EXE_tierbench"))
                .args(["run", "-q", "--report"])
                .arg(format!("json={}/shard-{i}.json", results.display()))
                .arg(dir.path().join("scenario/scenario.yaml"))
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .env("TIERBENCH_SHARDS", "3")
                .env("TIERBENCH_START_AT", &start)
                .output()
                .unwrap()
        })
        .collect();
    for out in children {
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    }
    let merge_job = manifest("merge-job.yaml");
    let line = strings(&container(&merge_job)["args"]).concat();
    let local = localize(&line, dir.path()).replacen(
        "exec tierbench ",
        &format!("exec '{}' ", env!("CARGO_BIN_EXE_tierbench")),
        1,
    );
    let merge_in = |wait: &str| {
        Command::new("/bin/sh")
            .args(["-c", &local])
            .env("TIERBENCH_SHARDS", "3")
            .env("TIERBENCH_MERGE_WAIT", wait)
            .env("TIERBENCH_START_AT", &start)
            .output()
            .unwrap()
    };
    let out = merge_in("1s");
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(text.contains("cannot merge"), "{text}");
    assert!(text.contains("shard-1.json: no such file"), "{text}");
    assert!(text.contains("waited 1s"), "{text}");
    assert!(!dir.path().join("results/total.json").exists());

    // Shard 1's document left from an earlier run on the volume: not this run's.
    let mut doc = json(&dir.path().join("results/shard-0.json"));
    doc["shard"]["indices"] = serde_json::json!([1]);
    doc["shard"]["start_at"] = serde_json::json!("2026-01-01T00:00:00Z");
    let partial = dir.path().join("results/shard-1.json");
    std::fs::write(&partial, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = merge_in("1s");
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains("shard-1.json: a document of another run"),
        "{text}"
    );
    // Shard 1's document as its run writes it before its last workload has ended: never merged.
    doc["shard"]["start_at"] = serde_json::json!(start);
    doc["in_progress"] = serde_json::json!(true);
    std::fs::write(&partial, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = merge_in("1s");
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains("shard-1.json: the shard's run has not finished"),
        "{text}"
    );
    assert!(!dir.path().join("results/total.json").exists());
}

/// The value start.env ships with is not a time: applying without writing one fails at once.
#[test]
fn the_shipped_start_placeholder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = mount_scenario(dir.path());
    let text = std::fs::read_to_string(Path::new(DEPLOY).join("start.env")).unwrap();
    let placeholder = text
        .lines()
        .find_map(|l| l.strip_prefix("TIERBENCH_START_AT="))
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tierbench"))
        .arg("run")
        .arg(&scenario)
        .env("JOB_COMPLETION_INDEX", "0")
        .env("TIERBENCH_SHARDS", "2")
        .env("TIERBENCH_START_AT", placeholder)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("RFC 3339"),
        "{}",
        all_output(&out)
    );
}

/// The ConfigMap's scenario is valid, takes the Redis password only from the environment (the
/// Secret), and both Jobs give it that variable.
#[test]
fn the_configmap_scenario_validates_with_the_password_from_the_environment() {
    let configmap = manifest("scenario-configmap.yaml");
    let text = configmap["data"]["scenario.yaml"].as_str().unwrap();
    assert!(text.contains("${REDIS_PASSWORD}"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(dir.path(), "scenario.yaml", text);
    let validate = |password: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tierbench"));
        cmd.arg("validate").arg(&path).env_remove("REDIS_PASSWORD");
        if let Some(p) = password {
            cmd.env("REDIS_PASSWORD", p);
        }
        cmd.output().unwrap()
    };
    let out = validate(Some("s3cret"));
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = validate(None);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(all_output(&out).contains("REDIS_PASSWORD"));
    for job in ["shards-job.yaml", "merge-job.yaml"] {
        let job = manifest(job);
        let (_, secrets) = env(container(&job));
        assert!(secrets.contains(&"REDIS_PASSWORD".to_string()));
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    container(&job)["resources"][kind][resource]
                        .as_str()
                        .is_some(),
                    "{kind}.{resource}"
                );
            }
        }
    }
}

/// scripts/local-shards.sh holds the manifests' command lines, token for token, and runs.
#[test]
fn the_local_script_runs_the_manifests_command_lines() {
    let script = std::fs::read_to_string(SCRIPT).unwrap();
    let assigned = |name: &str| -> String {
        let prefix = format!("{name}='");
        let line = script
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{name}='...' not in {SCRIPT}"));
        line.strip_suffix('\'').unwrap().to_string()
    };
    let shard_args = strings(&container(&manifest("shards-job.yaml"))["args"]);
    assert_eq!(
        assigned("SHARD_ARGS").split(' ').collect::<Vec<_>>(),
        shard_args,
        "SHARD_ARGS in {SCRIPT} differs from shards-job.yaml's args"
    );
    let merge_line = strings(&container(&manifest("merge-job.yaml"))["args"]).concat();
    assert_eq!(
        assigned("MERGE_COMMAND"),
        merge_line,
        "MERGE_COMMAND in {SCRIPT} differs from merge-job.yaml's"
    );

    let source = tempfile::tempdir().unwrap();
    let scenario = mount_scenario(source.path());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(SCRIPT)
        .arg(&scenario)
        .arg("3")
        .arg(dir.path())
        .env("TIERBENCH", env!("CARGO_BIN_EXE_tierbench"))
        .env("TIERBENCH_START_AT", start_in(4))
        .env("CI", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_exact_merge(&dir.path().join("results"), 3);
    for i in 0..3 {
        assert!(dir.path().join(format!("logs/shard-{i}.log")).exists());
    }
}

/// The shards, the merge and the results reader share one image (pinned to tierbench's version)
/// and one results volume, and the volume can be mounted by pods on several nodes at once.
#[test]
fn every_pod_uses_the_same_image_and_results_volume() {
    let pvc = manifest("results-pvc.yaml");
    assert_eq!(strings(&pvc["spec"]["accessModes"]), ["ReadWriteMany"]);
    let claim = pvc["metadata"]["name"].as_str().unwrap();
    let shards = manifest("shards-job.yaml");
    let merge = manifest("merge-job.yaml");
    let reader = manifest("results-reader.yaml");
    let pods = [
        &shards["spec"]["template"]["spec"],
        &merge["spec"]["template"]["spec"],
        &reader["spec"],
    ];
    let image = pods[0]["containers"][0]["image"].as_str().unwrap();
    // Pinned to this version, never `latest`: a re-run pulls the image it was written for.
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(image, format!("tierbench:{version}"));
    let kustomization = manifest("kustomization.yaml");
    // One image setting for every pod: `kubectl apply -k` applies all of them, and its image
    // transformer rewrites each.
    let images = kustomization["images"].as_sequence().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["name"].as_str(), Some("tierbench"));
    assert_eq!(images[0]["newTag"].as_str(), Some(version));
    let resources = strings(&kustomization["resources"]);
    for file in [
        "shards-job.yaml",
        "merge-job.yaml",
        "results-reader.yaml",
        "results-pvc.yaml",
    ] {
        assert!(
            resources.iter().any(|r| r == file),
            "{file} not in {resources:?}"
        );
    }
    for pod in pods {
        assert_eq!(pod["containers"][0]["image"].as_str(), Some(image));
        let claims: Vec<_> = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
            .collect();
        assert_eq!(claims, [claim]);
    }
}

/// A scenario's CA file and traces reach every shard read-only, at the paths the docs give,
/// and the pods still start when the scenario needs neither (optional volumes).
#[test]
fn shards_mount_a_scenarios_ca_file_and_traces_when_there_are_any() {
    let shards = manifest("shards-job.yaml");
    let pod = &shards["spec"]["template"]["spec"];
    let mounts = pod["containers"][0]["volumeMounts"].as_sequence().unwrap();
    let volumes = pod["volumes"].as_sequence().unwrap();
    for (name, path, source) in [
        ("tls", "/etc/tierbench/tls", "secret"),
        ("traces", "/etc/tierbench/traces", "configMap"),
    ] {
        let mount = mounts.iter().find(|m| m["name"] == name).unwrap();
        assert_eq!(mount["mountPath"].as_str(), Some(path));
        assert_eq!(mount["readOnly"].as_bool(), Some(true));
        let volume = volumes.iter().find(|v| v["name"] == name).unwrap();
        assert_eq!(volume[source]["optional"].as_bool(), Some(true), "{name}");
    }
}
