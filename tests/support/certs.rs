//! Certificates made by the tests with the openssl CLI: a throw-away CA and a server
//! certificate for 127.0.0.1 and localhost signed by it (the TLS tests of Redis and SQL).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the openssl CLI in `dir`; a failure panics with its output.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        super::all_output(&out)
    );
}

/// A self-signed CA in `dir`: `{name}.pem` and `{name}.key`.
pub fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN=tierbench test {name}"),
        ],
    );
    dir.join(pem)
}

/// A server certificate for 127.0.0.1 and localhost signed by the CA `ca`: (cert, key).
pub fn make_server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    make_server_cert_for(dir, ca, "IP:127.0.0.1, DNS:localhost")
}

/// A server certificate signed by `ca` for the names `san` (`DNS:elsewhere.example`).
pub fn make_server_cert_for(dir: &Path, ca: &str, san: &str) -> (PathBuf, PathBuf) {
    std::fs::write(dir.join("san.cnf"), format!("subjectAltName = {san}\n")).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
        ],
    );
    (dir.join("server.pem"), dir.join("server.key"))
}

/// A client certificate for the user `cn` signed by the CA `ca`: (cert, key).
pub fn make_client_cert(dir: &Path, ca: &str, cn: &str) -> (PathBuf, PathBuf) {
    // An extension makes it an X.509 v3 certificate (webpki refuses v1).
    std::fs::write(dir.join("client.cnf"), "extendedKeyUsage = clientAuth\n").unwrap();
    let (pem, key, csr) = (
        format!("{cn}-client.pem"),
        format!("{cn}-client.key"),
        format!("{cn}-client.csr"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "client.cnf",
        ],
    );
    (dir.join(pem), dir.join(key))
}
