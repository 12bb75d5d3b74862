//! Reading a tier's TLS files (`tls.ca_file`, `cert_file`, `key_file`) from the paths a
//! scenario gives: the Redis and the SQL tiers name the same fields and report the same
//! mistakes the same way.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

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
