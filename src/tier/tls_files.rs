//! A tier's TLS settings (`TlsSettings`, as Redis and memcached tiers write them) and reading
//! its TLS files (`tls.ca_file`, `cert_file`, `key_file`) from the paths a
//! scenario gives: the Redis and the SQL tiers name the same fields and report the same
//! mistakes the same way.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The bytes of the file at `path`, given as `tls.{field}`.
pub(in crate::tier) fn read(field: &str, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("tls.{field} `{path}`: cannot read it: {e}"))
}

/// The PEM certificates in `pem` (read from `tls.{field}` at `path`): at least one.
pub(in crate::tier) fn certificates(
    field: &str,
    path: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls.{field} `{path}`: not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "tls.{field} `{path}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)"
        ));
    }
    Ok(certs)
}

/// TLS settings of a Redis (`rediss://`) or memcached (`memcaches://`) tier. Every field is optional: without a
/// `ca_file` the system's trusted roots verify the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file of the certificate authority (or authorities) that signed the server's
    /// certificate, instead of the system's trusted roots. A relative path is taken from the
    /// working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// PEM file of a client certificate (chain), for servers that verify clients
    /// (Redis `tls-auth-clients yes`, memcached `ssl_verify_mode`); give `key_file` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// PEM file of the client certificate's private key; give `cert_file` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// Accept any server certificate, unverified (a test server with a throw-away certificate).
    /// Anyone between tierbench and the server can then read and change the traffic; tierbench
    /// says so on stderr. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}
