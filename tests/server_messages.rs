//! What a server says reaches the user quoted as the server's, through the binary, against the
//! real PostgreSQL, MariaDB and Redis: no `at line N` of the server's own source, which read as
//! a line of the scenario, and Redis' own reply to a wrong password.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

/// Runs a one-tier scenario whose SQL tier names a database that does not exist; returns the
/// exit code and the `error:` line, with the tier's URL replaced by `<url>`.
fn run_against(url: &str) -> (Option<i32>, String) {
    run_tier(url, "sql")
}

/// Runs a one-tier scenario whose tier of `kind` is at `url`: the exit code and the `error:`
/// line, with the URL replaced by `<url>`.
fn run_tier(url: &str, kind: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = support::write_scenario(
        dir.path(),
        "nosuchdb.yaml",
        &format!(
            "name: nosuchdb\n\
             tiers: [{{ name: l3, kind: {kind}, url: \"{url}\" }}]\n\
             data: {{ keys: {{ count: 10 }}, values: {{ size: 8 }} }}\n\
             workloads: [{{ name: reads, target: l3, ops: 10, mix: {{ get: 1 }} }}]\n"
        ),
    );
    let out = support::tierbench(&["run", path.to_str().unwrap(), "--report", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line in {stderr}"))
        .replace(&tierbench::redact::redact_url(url), "<url>");
    (out.status.code(), line)
}

/// The server's URL with its database replaced by `nosuchdb`.
fn without_database(url: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/nosuchdb")
}

#[test]
fn postgres_says_the_database_does_not_exist_in_its_own_words() {
    let (code, line) = run_against(&without_database(&support::postgres_url()));
    assert_eq!(code, Some(3), "{line}");
    assert!(!line.contains("at line"), "{line}");
    insta::assert_snapshot!(line);
}

#[test]
fn mariadb_says_the_database_is_unknown_in_its_own_words() {
    let (code, line) = run_against(&without_database(&support::mysql_url()));
    assert_eq!(code, Some(3), "{line}");
    insta::assert_snapshot!(line);
}

#[test]
fn redis_says_the_password_is_wrong_in_its_own_words() {
    let port = support::private_redis::free_port();
    let _redis = support::private_redis::PrivateRedis::start_with(
        port,
        &["--requirepass", "right-password"],
    );
    let (code, line) = run_tier(
        &format!("redis://:wrong-password@127.0.0.1:{port}"),
        "redis",
    );
    assert_eq!(code, Some(3), "{line}");
    assert!(line.contains("WRONGPASS"), "{line}");
    assert!(!line.contains("wrong-password"), "{line}");
    insta::assert_snapshot!(line.replace(&port.to_string(), "PORT"));
}
