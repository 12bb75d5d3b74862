//! The byte stream of tierbench's own connections (`lane.rs`, `pipe.rs`): TCP, TLS over TCP
//! (rustls with the `ring` provider) or a unix socket, with the TLS configuration both Redis and
//! memcached tiers build from their `tls` settings.
//!
//! Why here: every tier that speaks over tierbench's own connections must trust the same CA,
//! present the same client certificate, skip verification only when the scenario asks, and say
//! the same clear thing when a server's certificate cannot be verified.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::tier::tls_files::{TlsSettings, certificates, read};

/// How tierbench's own connections speak TLS to one server.
#[derive(Clone)]
pub struct LaneTls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

/// A connection of tierbench's own: plain TCP, TLS over TCP, or a unix socket.
pub enum Stream {
    /// `redis://`, `memcache://`.
    Plain(TcpStream),
    /// `rediss://`, `memcaches://`.
    Tls(Box<TlsStream<TcpStream>>),
    /// A unix socket's path.
    Unix(UnixStream),
}

/// Opens a connection to `host:port` (TCP with no Nagle delay; with `tls`, the handshake too),
/// or to the unix socket at `host` when it is a path (starts with `/`).
pub async fn open_stream(host: &str, port: u16, tls: Option<&LaneTls>) -> Result<Stream, String> {
    if host.starts_with('/') {
        return UnixStream::connect(host)
            .await
            .map(Stream::Unix)
            .map_err(|e| format!("{host}: {e}"));
    }
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
pub(in crate::tier) fn provider() -> Arc<CryptoProvider> {
    // Err when one is installed already (another tier did it): that one is used, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// PEM bytes of a client certificate chain and of its private key.
pub(in crate::tier) type ClientPem = (Vec<u8>, Vec<u8>);

/// The client certificate chain and key, when the scenario gives them (both or neither).
pub(in crate::tier) fn client_pair(tls: &TlsSettings) -> Result<Option<ClientPem>, String> {
    match (&tls.cert_file, &tls.key_file) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some((read("cert_file", cert)?, read("key_file", key)?))),
        (Some(_), None) => Err("tls.cert_file is given without tls.key_file".into()),
        (None, Some(_)) => Err("tls.key_file is given without tls.cert_file".into()),
    }
}

/// The rustls configuration of tierbench's own connections to `host`; `insecure` (the URL's
/// `#insecure` or `tls.insecure_skip_verify`) accepts any server certificate.
pub fn lane_tls(host: &str, tls: Option<&TlsSettings>, insecure: bool) -> Result<LaneTls, String> {
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
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
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
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
