//! TLS for the SQL tier's PostgreSQL and MariaDB/MySQL connections: the scenario's `tls:`
//! settings mapped onto sqlx's connect options, and a certificate error said plainly.
//!
//! Why a file of its own: the settings are written once, with one vocabulary (`mode:
//! verify-full`, `ca_file`), for two databases whose URLs spell them differently (`sslmode`,
//! `sslrootcert` for PostgreSQL; `ssl-mode`, `ssl-ca` for MariaDB/MySQL). sqlx does the TLS
//! (rustls with the `ring` provider, the system's roots unless a CA file is given); the files
//! are read and checked here first, so that a missing or wrong file is named as the scenario
//! names it rather than as sqlx's internal error. Without `tls:` the URL's own parameters
//! apply, and without those sqlx's default (`prefer`, as libpq's): TLS when the server offers
//! it, unverified.

use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::tier::tls_files::{certificates, read};

/// TLS settings of a PostgreSQL or MariaDB/MySQL tier. They take precedence over the URL's
/// `sslmode`/`sslrootcert` (PostgreSQL) or `ssl-mode`/`ssl-ca` (MariaDB/MySQL) parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlTls {
    /// How much TLS to insist on; default `verify-full` (encrypted, the certificate signed by a
    /// trusted CA and naming the URL's host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SqlTlsMode>,
    /// PEM file of the certificate authority (or authorities) that signed the server's
    /// certificate, added to the system's trusted roots. With `mode: require` it makes the mode
    /// `verify-ca`, as in libpq. A relative path is taken from the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// PEM file of a client certificate, for servers that verify clients (PostgreSQL's `cert`
    /// authentication, MariaDB's `REQUIRE X509`); give `key_file` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// PEM file of the client certificate's private key; give `cert_file` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
}

/// How much TLS a SQL tier insists on (libpq's `sslmode` names; MariaDB/MySQL's `ssl-mode`
/// equivalents in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SqlTlsMode {
    /// No TLS (`DISABLED`).
    Disable,
    /// TLS when the server offers it, unverified; plain otherwise (`PREFERRED`).
    Prefer,
    /// TLS or no connection, the certificate unverified (`REQUIRED`): encrypted, but anyone
    /// between tierbench and the server can pose as the server.
    Require,
    /// TLS, the certificate signed by a trusted CA; its host name is not checked (`VERIFY_CA`).
    VerifyCa,
    /// TLS, the certificate signed by a trusted CA and naming the URL's host
    /// (`VERIFY_IDENTITY`).
    VerifyFull,
}

/// The PEM bytes of the scenario's files, read and checked.
struct Files {
    ca: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
}

impl SqlTls {
    /// The mode in force: the one written, `verify-ca` for `require` with a CA file (libpq's
    /// rule), `verify-full` when none is written.
    pub fn effective_mode(&self) -> SqlTlsMode {
        match (self.mode, &self.ca_file) {
            (None, _) => SqlTlsMode::VerifyFull,
            (Some(SqlTlsMode::Require), Some(_)) => SqlTlsMode::VerifyCa,
            (Some(mode), _) => mode,
        }
    }

    fn files(&self) -> Result<Files, String> {
        let ca = match &self.ca_file {
            Some(path) => {
                let pem = read("ca_file", path)?;
                certificates("ca_file", path, &pem)?;
                Some(pem)
            }
            None => None,
        };
        let client = match (&self.cert_file, &self.key_file) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let cert_pem = read("cert_file", cert)?;
                certificates("cert_file", cert, &cert_pem)?;
                Some((cert_pem, read("key_file", key)?))
            }
            (Some(_), None) => return Err("tls.cert_file is given without tls.key_file".into()),
            (None, Some(_)) => return Err("tls.key_file is given without tls.cert_file".into()),
        };
        Ok(Files { ca, client })
    }
}

/// PostgreSQL connect options from `url`, with `tls` (when given) over the URL's parameters.
pub fn pg_options(url: &str, tls: Option<&SqlTls>) -> Result<PgConnectOptions, String> {
    let mut options = PgConnectOptions::from_str(url).map_err(|e| e.to_string())?;
    let Some(tls) = tls else {
        return Ok(options);
    };
    let files = tls.files()?;
    options = options.ssl_mode(match tls.effective_mode() {
        SqlTlsMode::Disable => PgSslMode::Disable,
        SqlTlsMode::Prefer => PgSslMode::Prefer,
        SqlTlsMode::Require => PgSslMode::Require,
        SqlTlsMode::VerifyCa => PgSslMode::VerifyCa,
        SqlTlsMode::VerifyFull => PgSslMode::VerifyFull,
    });
    if let Some(ca) = files.ca {
        options = options.ssl_root_cert_from_pem(ca);
    }
    if let Some((cert, key)) = files.client {
        options = options
            .ssl_client_cert_from_pem(cert)
            .ssl_client_key_from_pem(key);
    }
    Ok(options)
}

/// MariaDB/MySQL connect options from `url`, with `tls` (when given) over the URL's parameters.
pub fn mysql_options(url: &str, tls: Option<&SqlTls>) -> Result<MySqlConnectOptions, String> {
    let mut options = MySqlConnectOptions::from_str(url).map_err(|e| e.to_string())?;
    let Some(tls) = tls else {
        return Ok(options);
    };
    let files = tls.files()?;
    options = options.ssl_mode(match tls.effective_mode() {
        SqlTlsMode::Disable => MySqlSslMode::Disabled,
        SqlTlsMode::Prefer => MySqlSslMode::Preferred,
        SqlTlsMode::Require => MySqlSslMode::Required,
        SqlTlsMode::VerifyCa => MySqlSslMode::VerifyCa,
        SqlTlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
    });
    if let Some(ca) = files.ca {
        options = options.ssl_ca_from_pem(ca);
    }
    if let Some((cert, key)) = files.client {
        options = options
            .ssl_client_cert_from_pem(cert)
            .ssl_client_key_from_pem(key);
    }
    Ok(options)
}

/// A connect error whose cause is the server's certificate said plainly, with what to do
/// about it; other messages as they are.
pub fn explain(message: String) -> String {
    let Some(at) = message.find("invalid peer certificate") else {
        return message;
    };
    let lead = if message.starts_with("cannot connect") {
        "cannot connect: "
    } else {
        ""
    };
    format!(
        "{lead}the server's TLS certificate could not be verified ({}); set `tls.ca_file` to \
         the CA that signed it (or `tls.mode: require` to encrypt without verifying)",
        &message[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_defaults_to_verify_full_and_require_with_a_ca_verifies_it() {
        assert_eq!(SqlTls::default().effective_mode(), SqlTlsMode::VerifyFull);
        let require = SqlTls {
            mode: Some(SqlTlsMode::Require),
            ..SqlTls::default()
        };
        assert_eq!(require.effective_mode(), SqlTlsMode::Require);
        let with_ca = SqlTls {
            ca_file: Some("ca.pem".into()),
            ..require
        };
        assert_eq!(with_ca.effective_mode(), SqlTlsMode::VerifyCa);
    }

    #[test]
    fn files_are_named_as_the_scenario_names_them() {
        let missing = SqlTls {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..SqlTls::default()
        };
        let err = pg_options("postgres://u:pw@127.0.0.1/db", Some(&missing)).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("tls.ca_file `/nonexistent/ca.pem`: cannot read")),
            "{err:?}"
        );
        let half = SqlTls {
            key_file: Some("k.pem".into()),
            ..SqlTls::default()
        };
        let err = mysql_options("mysql://root@127.0.0.1/db", Some(&half)).err();
        assert_eq!(
            err.as_deref(),
            Some("tls.key_file is given without tls.cert_file")
        );
    }

    #[test]
    fn certificate_errors_are_explained_and_others_kept() {
        let said = explain(
            "error communicating with database: invalid peer certificate: UnknownIssuer".into(),
        );
        assert!(said.contains("could not be verified"), "{said}");
        assert!(said.contains("tls.ca_file"), "{said}");
        assert_eq!(explain("Connection refused".into()), "Connection refused");
    }
}
