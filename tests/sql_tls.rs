//! SQL over TLS end to end, through the `tierbench` binary, against a private PostgreSQL this
//! test starts (initdb into a temporary directory, `ssl = on`, a free port) whose `pg_hba.conf`
//! rejects every connection without TLS, and a private MariaDB (mariadb-install-db, `--ssl-cert`)
//! whose user is `REQUIRE SSL`: a run that passes has spoken TLS. Certificates are made by the
//! test (openssl). Checked: `verify-full` with the right CA runs; a wrong CA is refused at
//! setup with a clear message naming the tier and without the password; `require` runs
//! unverified; the URL's own `sslmode`/`ssl-mode` parameters keep working; a PostgreSQL role
//! that authenticates by client certificate connects with `cert_file`/`key_file` and is refused
//! without; `tls` on SQLite is invalid input.
//!
//! The shared servers (5432, 3306) are never touched.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::certs::{make_ca, make_client_cert, make_server_cert};

const PASSWORD: &str = "sql-tls-s3cret-pw";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The directory of PostgreSQL's server programs (`/usr/lib/postgresql/<version>/bin`).
fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server is installed under /usr/lib/postgresql")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// Runs a PostgreSQL program as the `postgres` user (initdb refuses root).
fn as_postgres(program: &Path, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .output()
        .unwrap()
}

fn chown_postgres(path: &Path) {
    let out = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::all_output(&out));
}

/// A private PostgreSQL that accepts only TLS connections, stopped when dropped: trust auth,
/// but the role `certuser` must present a client certificate signed by the test's CA.
struct TlsPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl TlsPostgres {
    fn start(cert: &Path, key: &Path, ca: &Path) -> TlsPostgres {
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::copy(ca, root.join("ca.pem")).unwrap();
        std::fs::copy(cert, root.join("server.crt")).unwrap();
        std::fs::copy(key, root.join("server.key")).unwrap();
        std::fs::set_permissions(
            root.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        chown_postgres(&root);
        let data = root.join("data");
        let out = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            support::all_output(&out)
        );
        // TLS or nothing over TCP: a run that passes has spoken TLS.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all certuser 127.0.0.1/32 cert\n\
             hostssl all all 127.0.0.1/32 trust\n\
             hostnossl all all 0.0.0.0/0 reject\n",
        )
        .unwrap();
        let port = free_port();
        let options = format!(
            "-c ssl=on -c ssl_cert_file={root}/server.crt -c ssl_key_file={root}/server.key \
             -c ssl_ca_file={root}/ca.pem \
             -c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} \
             -c fsync=off",
            root = root.display()
        );
        let out = as_postgres(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                root.join("server.log").to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "pg_ctl start: {}\n{log}",
            support::all_output(&out)
        );
        let out = as_postgres(
            &bin.join("psql"),
            &[
                "-h",
                root.to_str().unwrap(),
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                "CREATE ROLE certuser LOGIN; GRANT CREATE ON SCHEMA public TO certuser;",
            ],
        );
        assert!(out.status.success(), "psql: {}", support::all_output(&out));
        TlsPostgres {
            bin,
            data,
            port,
            _dir: dir,
        }
    }

    fn url(&self, params: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres{params}",
            self.port
        )
    }

    /// The role that must authenticate with a client certificate.
    fn cert_user_url(&self) -> String {
        format!("postgres://certuser@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
    }
}

/// A private MariaDB with TLS whose user `bench` must use it (`REQUIRE SSL`), killed when
/// dropped.
struct TlsMariaDb {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TlsMariaDb {
    fn start(cert: &Path, key: &Path, ca: &Path) -> TlsMariaDb {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let data = root.join("data");
        let out = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--user=root", "--auth-root-authentication-method=normal"])
            .output()
            .expect("mariadb-install-db is installed");
        assert!(
            out.status.success(),
            "mariadb-install-db: {}",
            support::all_output(&out)
        );
        let port = free_port();
        let socket = root.join("mariadb.sock");
        let mut child = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .args(["--user=root", "--bind-address=127.0.0.1", "--skip-log-bin"])
            .arg(format!("--port={port}"))
            .arg(format!("--ssl-cert={}", cert.display()))
            .arg(format!("--ssl-key={}", key.display()))
            .arg(format!("--ssl-ca={}", ca.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mariadbd is installed");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let out = child.wait_with_output().unwrap();
                panic!("mariadbd exited ({status}): {}", support::all_output(&out));
            }
            assert!(Instant::now() < deadline, "the TLS mariadbd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        // TCP from 127.0.0.1 is `localhost` to MariaDB (and its anonymous ''@localhost would
        // win over bench@'%'), so the user is made for both.
        let out = Command::new("mariadb")
            .arg(format!("--socket={}", socket.display()))
            .args(["-uroot", "-e"])
            .arg(format!(
                "CREATE USER bench@localhost IDENTIFIED BY '{PASSWORD}' REQUIRE SSL; \
                 GRANT ALL ON test.* TO bench@localhost; \
                 CREATE USER bench@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL; \
                 GRANT ALL ON test.* TO bench@'%';"
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", support::all_output(&out));
        TlsMariaDb {
            port,
            child,
            _dir: dir,
        }
    }

    fn url(&self, params: &str) -> String {
        format!(
            "mysql://bench:{PASSWORD}@127.0.0.1:{}/test{params}",
            self.port
        )
    }
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scenario(url: &str, tls: &str) -> String {
    let tls = if tls.is_empty() {
        String::new()
    } else {
        format!(", tls: {tls}")
    };
    format!(
        "name: sql-tls\nseed: 7\n\
         tiers: [{{ name: secure-l3, kind: sql, url: \"{url}\", pool: 2, timeout: 5s{tls} }}]\n\
         data: {{ keys: {{ count: 200, prefix: \"tbtest:sqltls:\" }}, values: {{ size: 64 }} }}\n\
         workloads:\n  - {{ name: rw, target: secure-l3, ops: 600, warmup: 50, concurrency: 2, \
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

/// The run passed, every operation succeeded, and the password showed neither in the output
/// nor in the result document.
fn assert_ran(code: Option<i32>, text: &str, results: &Path) {
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    let json = std::fs::read_to_string(results).unwrap();
    assert!(
        !json.contains(PASSWORD),
        "the password leaked into the results"
    );
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let w = &doc["workloads"][0];
    assert!(w["ops"].as_u64().unwrap() > 0, "{w}");
    assert_eq!(w["errors"].as_u64(), Some(0), "{w}");
}

#[test]
fn postgres_over_tls_verifies_the_server_and_refuses_a_wrong_ca() {
    let certs = tempfile::tempdir().unwrap();
    let c = certs.path();
    let ca = make_ca(c, "ca");
    let other_ca = make_ca(c, "other-ca");
    let (cert, key) = make_server_cert(c, "ca");
    let pg = TlsPostgres::start(&cert, &key, &ca);
    let work = tempfile::tempdir().unwrap();
    let d = work.path();

    // The server refuses connections without TLS: what the checks below rely on.
    let (code, text, _) = run(d, "plain.yaml", &scenario(&pg.url(""), "{ mode: disable }"));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("no encryption"), "{text}");

    // verify-full (the default mode) with the CA that signed the server's certificate.
    let tls = format!("{{ ca_file: \"{}\" }}", ca.display());
    let (code, text, results) = run(d, "right.yaml", &scenario(&pg.url(""), &tls));
    assert_ran(code, &text, &results);

    // Another CA: refused at setup, saying why, which tier and what to set.
    let tls = format!(
        "{{ mode: verify-full, ca_file: \"{}\" }}",
        other_ca.display()
    );
    let (code, text, _) = run(d, "wrong.yaml", &scenario(&pg.url(""), &tls));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("secure-l3"), "{text}");
    assert!(text.contains("certificate could not be verified"), "{text}");
    assert!(text.contains("tls.ca_file"), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");

    // No CA at all: the system's roots do not know this test's CA either.
    let (code, text, _) = run(
        d,
        "no-ca.yaml",
        &scenario(&pg.url(""), "{ mode: verify-ca }"),
    );
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("certificate could not be verified"), "{text}");

    // `require` encrypts without verifying: runs without a CA.
    let (code, text, results) = run(
        d,
        "require.yaml",
        &scenario(&pg.url(""), "{ mode: require }"),
    );
    assert_ran(code, &text, &results);

    // The URL's own parameters, without `tls:`.
    let url = pg.url("?sslmode=require");
    let (code, text, results) = run(d, "url-require.yaml", &scenario(&url, ""));
    assert_ran(code, &text, &results);
    let url = pg.url(&format!(
        "?sslmode=verify-full&sslrootcert={}",
        ca.display()
    ));
    let (code, text, results) = run(d, "url-verify.yaml", &scenario(&url, ""));
    assert_ran(code, &text, &results);
    let url = pg.url(&format!(
        "?sslmode=verify-full&sslrootcert={}",
        other_ca.display()
    ));
    let (code, text, _) = run(d, "url-wrong.yaml", &scenario(&url, ""));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("certificate could not be verified"), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");

    // A role authenticated by its client certificate: refused without one, runs with it.
    let tls = format!("{{ ca_file: \"{}\" }}", ca.display());
    let (code, text, _) = run(d, "no-client.yaml", &scenario(&pg.cert_user_url(), &tls));
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("requires a valid client certificate"),
        "{text}"
    );
    let (client_cert, client_key) = make_client_cert(c, "ca", "certuser");
    let tls = format!(
        "{{ ca_file: \"{}\", cert_file: \"{}\", key_file: \"{}\" }}",
        ca.display(),
        client_cert.display(),
        client_key.display()
    );
    let (code, text, results) = run(d, "client.yaml", &scenario(&pg.cert_user_url(), &tls));
    assert_ran(code, &text, &results);
}

#[test]
fn mariadb_over_tls_verifies_the_server_and_refuses_a_wrong_ca() {
    let certs = tempfile::tempdir().unwrap();
    let c = certs.path();
    let ca = make_ca(c, "ca");
    let other_ca = make_ca(c, "other-ca");
    let (cert, key) = make_server_cert(c, "ca");
    let db = TlsMariaDb::start(&cert, &key, &ca);
    let work = tempfile::tempdir().unwrap();
    let d = work.path();

    // The user cannot connect without TLS: what the checks below rely on.
    let (code, text, _) = run(d, "plain.yaml", &scenario(&db.url(""), "{ mode: disable }"));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("Access denied"), "{text}");

    let tls = format!("{{ mode: verify-full, ca_file: \"{}\" }}", ca.display());
    let (code, text, results) = run(d, "right.yaml", &scenario(&db.url(""), &tls));
    assert_ran(code, &text, &results);

    let tls = format!("{{ ca_file: \"{}\" }}", other_ca.display());
    let (code, text, _) = run(d, "wrong.yaml", &scenario(&db.url(""), &tls));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("secure-l3"), "{text}");
    assert!(text.contains("certificate could not be verified"), "{text}");
    assert!(text.contains("tls.ca_file"), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");

    let (code, text, results) = run(
        d,
        "require.yaml",
        &scenario(&db.url(""), "{ mode: require }"),
    );
    assert_ran(code, &text, &results);

    // The URL's own parameters, without `tls:`.
    let url = db.url(&format!(
        "?ssl-mode=verify_identity&ssl-ca={}",
        ca.display()
    ));
    let (code, text, results) = run(d, "url-verify.yaml", &scenario(&url, ""));
    assert_ran(code, &text, &results);
    let url = db.url(&format!(
        "?ssl-mode=verify_ca&ssl-ca={}",
        other_ca.display()
    ));
    let (code, text, _) = run(d, "url-wrong.yaml", &scenario(&url, ""));
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("certificate could not be verified"), "{text}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
}

#[test]
fn tls_on_sqlite_and_half_a_client_pair_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = scenario("sqlite::memory:", "{ mode: require }");
    let (code, text, _) = run(dir.path(), "sqlite.yaml", &yaml);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("tiers[0].tls"), "{text}");
    assert!(text.contains("SQLite has no TLS"), "{text}");

    let yaml = scenario("postgres://postgres@127.0.0.1:1/db", "{ cert_file: c.pem }");
    let (code, text, _) = run(dir.path(), "half-pair.yaml", &yaml);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("a client certificate needs both `cert_file` and `key_file`"),
        "{text}"
    );
}
