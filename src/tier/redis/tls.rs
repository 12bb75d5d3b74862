//! TLS for the Redis tier (`rediss://` URLs): the `redis` crate's client with the scenario's
//! certificates (setup, INFO, cleanup). tierbench's own connections (the measured operations)
//! take the same settings through `wire/stream.rs`, so both paths trust the same CA and present
//! the same client certificate.

use redis::{Client, ClientTlsConfig, ConnectionAddr, TlsCertificates};

use crate::tier::tls_files::{TlsSettings, certificates, read};
use crate::tier::wire::stream::{client_pair, provider};

/// The CA and client certificate of `tls` as the `redis` crate takes them (read and checked),
/// or `None` when `tls` gives neither.
pub fn crate_certificates(tls: &TlsSettings) -> Result<Option<TlsCertificates>, String> {
    provider();
    let root_cert = match &tls.ca_file {
        Some(path) => {
            let pem = read("ca_file", path)?;
            certificates("ca_file", path, &pem)?;
            Some(pem)
        }
        None => None,
    };
    let client_tls = client_pair(tls)?.map(|(client_cert, client_key)| ClientTlsConfig {
        client_cert,
        client_key,
    });
    Ok(
        (root_cert.is_some() || client_tls.is_some()).then_some(TlsCertificates {
            client_tls,
            root_cert,
        }),
    )
}

/// The `redis` crate's client for `url`, with the scenario's TLS settings for a `rediss://` URL.
pub fn client(url: &str, tls: Option<&TlsSettings>) -> Result<Client, String> {
    let plain = Client::open(url).map_err(|e| e.to_string())?;
    let Some(tls) = tls else {
        return Ok(plain);
    };
    let ConnectionAddr::TcpTls { .. } = plain.get_connection_info().addr() else {
        return Err("`tls` settings need a `rediss://` URL".into());
    };
    let client = match crate_certificates(tls)? {
        Some(certs) => Client::build_with_tls(url, certs).map_err(|e| e.to_string())?,
        None => plain,
    };
    if !tls.insecure_skip_verify {
        return Ok(client);
    }
    let info = client.get_connection_info().clone();
    let ConnectionAddr::TcpTls {
        host,
        port,
        tls_params,
        ..
    } = info.addr().clone()
    else {
        return Ok(client);
    };
    let addr = ConnectionAddr::TcpTls {
        host,
        port,
        insecure: true,
        tls_params,
    };
    Client::open(info.set_addr(addr)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tier::wire::stream::{explain, lane_tls};

    #[test]
    fn certificate_errors_are_explained_and_others_kept() {
        let said = explain("invalid peer certificate: UnknownIssuer".into());
        assert!(said.contains("could not be verified"), "{said}");
        assert!(said.contains("tls.ca_file"), "{said}");
        assert_eq!(explain("Connection refused".into()), "Connection refused");
    }

    #[test]
    fn tls_settings_need_a_rediss_url_and_both_halves_of_a_client_pair() {
        let tls = TlsSettings::default();
        let err = client("redis://127.0.0.1:6379", Some(&tls)).err();
        assert_eq!(
            err.as_deref(),
            Some("`tls` settings need a `rediss://` URL")
        );
        let half = TlsSettings {
            cert_file: Some("c.pem".into()),
            ..TlsSettings::default()
        };
        let err = client("rediss://127.0.0.1:6380", Some(&half)).err();
        assert_eq!(
            err.as_deref(),
            Some("tls.cert_file is given without tls.key_file")
        );
        let missing = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        let err = lane_tls("127.0.0.1", Some(&missing), false).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("tls.ca_file `/nonexistent/ca.pem`: cannot read")),
            "{err:?}"
        );
    }
}
