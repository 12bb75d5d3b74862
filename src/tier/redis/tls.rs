//! TLS for the Redis tier (`rediss://` URLs): the `redis` crate's client with the scenario's
//! certificates (setup, INFO, cleanup), and the rustls configuration and stream of tierbench's
//! own connections (`redis_lane.rs`, the measured operations).
//!
//! Why a file of its own: both data paths must trust the same CA, present the same client
//! certificate and skip verification only when the scenario asks, and both must say the same
//! clear thing when a server's certificate cannot be verified. rustls (with the `ring`
//! provider) does the TLS on both paths.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use redis::{Client, ClientTlsConfig, ConnectionAddr, TlsCertificates};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::tier::tls_files::{certificates, read};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// TLS settings of a Redis tier whose URL is `rediss://`. Every field is optional: without a
/// `ca_file` the system's trusted roots verify the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisTls {
    /// PEM file of the certificate authority (or authorities) that signed the server's
    /// certificate, instead of the system's trusted roots. A relative path is taken from the
    /// working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// PEM file of a client certificate (chain), for servers that verify clients
    /// (`tls-auth-clients yes`); give `key_file` with it.
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

/// How tierbench's own connections speak TLS to one server.
#[derive(Clone)]
pub struct LaneTls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

/// A connection of tierbench's own: plain TCP or TLS over TCP.
pub enum Stream {
    /// `redis://`.
    Plain(TcpStream),
    /// `rediss://`.
    Tls(Box<TlsStream<TcpStream>>),
}

/// Opens a TCP connection to `host:port` (no Nagle delay) and, with `tls`, does the handshake.
pub async fn open_stream(host: &str, port: u16, tls: Option<&LaneTls>) -> Result<Stream, String> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    match tls {
        None => Ok(Stream::Plain(tcp)),
        Some(tls) => tls
            .connector
            .connect(tls.server_name.clone(), tcp)
            .await
            .map(|s| Stream::Tls(Box::new(s)))
            .map_err(|e| explain(e.to_string())),
    }
}

/// A certificate error said plainly, with what to do about it; other messages as they are.
pub fn explain(message: String) -> String {
    if message.contains("not valid for name") || message.contains("NotValidForName") {
        format!(
            "the server's TLS certificate was signed by a trusted CA but does not name the host \
             in the URL ({message}); connect with a host name the certificate lists"
        )
    } else if message.contains("invalid peer certificate") {
        format!(
            "the server's TLS certificate could not be verified ({message}); set `tls.ca_file` \
             to the CA that signed it (or `tls.insecure_skip_verify: true` for a test server)"
        )
    } else {
        message
    }
}

/// The ring provider, made the process default for the `redis` crate's connections too.
fn provider() -> Arc<CryptoProvider> {
    // Err when one is installed already (another tier did it): that one is used, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// PEM bytes of a client certificate chain and of its private key.
type ClientPem = (Vec<u8>, Vec<u8>);

/// The client certificate chain and key, when the scenario gives them (both or neither).
fn client_pair(tls: &RedisTls) -> Result<Option<ClientPem>, String> {
    match (&tls.cert_file, &tls.key_file) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some((read("cert_file", cert)?, read("key_file", key)?))),
        (Some(_), None) => Err("tls.cert_file is given without tls.key_file".into()),
        (None, Some(_)) => Err("tls.key_file is given without tls.cert_file".into()),
    }
}

/// The CA and client certificate of `tls` as the `redis` crate takes them (read and checked),
/// or `None` when `tls` gives neither.
pub fn crate_certificates(tls: &RedisTls) -> Result<Option<TlsCertificates>, String> {
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
pub fn client(url: &str, tls: Option<&RedisTls>) -> Result<Client, String> {
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

/// The rustls configuration of tierbench's own connections to `host`; `insecure` (the URL's
/// `#insecure` or `tls.insecure_skip_verify`) accepts any server certificate.
pub fn lane_tls(host: &str, tls: Option<&RedisTls>, insecure: bool) -> Result<LaneTls, String> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    match tls.and_then(|t| t.ca_file.as_deref()) {
        Some(path) => {
            let pem = read("ca_file", path)?;
            for cert in certificates("ca_file", path, &pem)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("tls.ca_file `{path}`: not a usable CA: {e}"))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let mut config = match tls.map(client_pair).transpose()?.flatten() {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => {
            let cert_path = tls.and_then(|t| t.cert_file.as_deref()).unwrap_or_default();
            let key_path = tls.and_then(|t| t.key_file.as_deref()).unwrap_or_default();
            let chain = certificates("cert_file", cert_path, &cert_pem)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| format!("tls.key_file `{key_path}`: no PEM private key: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("tls.cert_file/key_file: {e}"))?
        }
    };
    if insecure {
        config
            .dangerous()
            .set_certificate_verifier(Arc::new(NoVerification(provider)));
    }
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("`{host}` is not a valid TLS server name: {e}"))?;
    Ok(LaneTls {
        connector: TlsConnector::from(Arc::new(config)),
        server_name,
    })
}

/// Accepts any server certificate (checking only that the handshake is signed by its key):
/// `insecure_skip_verify`.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_are_explained_and_others_kept() {
        let said = explain("invalid peer certificate: UnknownIssuer".into());
        assert!(said.contains("could not be verified"), "{said}");
        assert!(said.contains("tls.ca_file"), "{said}");
        assert_eq!(explain("Connection refused".into()), "Connection refused");
    }

    #[test]
    fn tls_settings_need_a_rediss_url_and_both_halves_of_a_client_pair() {
        let tls = RedisTls::default();
        let err = client("redis://127.0.0.1:6379", Some(&tls)).err();
        assert_eq!(
            err.as_deref(),
            Some("`tls` settings need a `rediss://` URL")
        );
        let half = RedisTls {
            cert_file: Some("c.pem".into()),
            ..RedisTls::default()
        };
        let err = client("rediss://127.0.0.1:6380", Some(&half)).err();
        assert_eq!(
            err.as_deref(),
            Some("tls.cert_file is given without tls.key_file")
        );
        let missing = RedisTls {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..RedisTls::default()
        };
        let err = lane_tls("127.0.0.1", Some(&missing), false).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("tls.ca_file `/nonexistent/ca.pem`: cannot read")),
            "{err:?}"
        );
    }
}
