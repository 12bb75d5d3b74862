//! `rediss://` end to end, through the `tierbench` binary, against a private TLS-only
//! redis-server on a free port with certificates this test makes (openssl): a run with the
//! right CA and an ACL user succeeds on both data paths (setup and cleanup through the `redis`
//! crate, measured operations through tierbench's own connections); a wrong CA is refused with
//! a clear message naming the tier; `insecure_skip_verify` connects anyway and warns.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use support::certs::{make_ca, make_server_cert, make_server_cert_for};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "tls-s3cret-pw";

/// A private TLS-only redis-server with an ACL user `bench`, killed when dropped.
struct TlsRedis {
    port: u16,
    child: Child,
}

impl TlsRedis {
    fn start(cert: &Path, key: &Path, ca: &Path) -> TlsRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(["--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(cert)
            .arg("--tls-key-file")
            .arg(key)
            .arg("--tls-ca-cert-file")
            .arg(ca)
            .args(["--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .args([
                "--user",
                "bench",
                "on",
                &format!(">{PASSWORD}"),
                "~*",
                "+@all",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-server is installed (Debian's is built with TLS)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let out = child.wait_with_output().unwrap();
                panic!(
                    "redis-server exited ({status}): {}",
                    support::all_output(&out)
                );
            }
            assert!(Instant::now() < deadline, "TLS redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsRedis { port, child }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scenario(port: u16, tls: &str) -> String {
    format!(
        "name: tls\nseed: 7\n\
         tiers: [{{ name: secure-l2, kind: redis, url: \"rediss://bench:{PASSWORD}@127.0.0.1:{port}\", \
         connections: 2, timeout: 2s, tls: {tls} }}]\n\
         data: {{ keys: {{ count: 500, prefix: \"tbtest:tls:\" }}, values: {{ size: 64 }} }}\n\
         workloads:\n  - {{ name: rw, target: secure-l2, ops: 3000, warmup: 100, concurrency: 4, \
         preload: true, mix: {{ get: 8, set: 2 }} }}\n"
    )
}

fn run(dir: &Path, name: &str, yaml: &str) -> (Option<i32>, String, PathBuf) {
    let path = support::write_scenario(dir, name, yaml);
    let results = dir.join(format!("{name}.json"));
    let out = support::tierbench(&[
        "run",
        path.to_str().unwrap(),
        "--report",
        &format!("json={}", results.display()),
        "--report",
        "text",
    ]);
    (out.status.code(), support::all_output(&out), results)
}

#[test]
fn rediss_with_the_right_ca_runs_and_a_wrong_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = make_ca(d, "ca");
    let other_ca = make_ca(d, "other-ca");
    let (cert, key) = make_server_cert(d, "ca");
    let redis = TlsRedis::start(&cert, &key, &ca);

    // The right CA and an ACL user: every operation over TLS, none failed.
    let tls = format!("{{ ca_file: \"{}\" }}", ca.display());
    let (code, text, results) = run(d, "right.yaml", &scenario(redis.port, &tls));
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let w = &doc["workloads"][0];
    assert!(w["ops"].as_u64().unwrap() > 0, "{w}");
    assert_eq!(w["errors"].as_u64(), Some(0), "{w}");

    // Another CA: refused at setup, saying why and which tier, without the password.
    let tls = format!("{{ ca_file: \"{}\" }}", other_ca.display());
    let (code, text, _) = run(d, "wrong.yaml", &scenario(redis.port, &tls));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("certificate could not be verified"), "{text}");
    assert!(text.contains("secure-l2"), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");

    // Asked to skip verification: connects with the wrong CA, and says verification is off.
    let tls = format!(
        "{{ ca_file: \"{}\", insecure_skip_verify: true }}",
        other_ca.display()
    );
    let (code, text, _) = run(d, "insecure.yaml", &scenario(redis.port, &tls));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verification is off"), "{text}");
}

#[test]
fn tls_settings_on_a_plain_url_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario(1, "{ ca_file: ca.pem }").replace("rediss://", "redis://");
    let (code, text, _) = run(dir.path(), "plain.yaml", &yaml);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("tiers[0].tls"), "{text}");
    assert!(text.contains("rediss://"), "{text}");
}

#[test]
fn a_certificate_for_another_name_and_a_plain_url_to_a_tls_port_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = make_ca(d, "ca");
    let (cert, key) = make_server_cert_for(d, "ca", "DNS:elsewhere.example");
    let redis = TlsRedis::start(&cert, &key, &ca);
    // The right CA, the wrong name: the message says the name, not the CA, is the problem.
    let tls = format!("{{ ca_file: \"{}\" }}", ca.display());
    let (code, text, _) = run(d, "name.yaml", &scenario(redis.port, &tls));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("does not name the host"), "{text}");
    assert!(text.contains("elsewhere.example"), "{text}");
    assert!(!text.contains("set `tls.ca_file`"), "{text}");
    // redis:// to the TLS port: the hint says the server may expect TLS.
    let plain = scenario(redis.port, "{}")
        .replace("rediss://", "redis://")
        .replace(", tls: {}", "");
    let (code, text, _) = run(d, "plain-to-tls.yaml", &plain);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("use a `rediss://` URL"), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
}
