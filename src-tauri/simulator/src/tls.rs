//! HTTPS on loopback (issue 13): a certificate made at start for `127.0.0.1` and `localhost`,
//! signed by itself, and ALPN offering HTTP/2 before HTTP/1.1 as Signicat's servers do. Clients
//! trust it through [`crate::Simulator::tls_root_pem`]; nothing else ever should.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

use crate::error::SimError;

pub(crate) struct TlsIdentity {
    pub acceptor: TlsAcceptor,
    /// The certificate, PEM, to add as a client's trusted root.
    pub root_pem: String,
}

fn tls_error(e: impl std::fmt::Display) -> SimError {
    SimError::Tls(e.to_string())
}

pub(crate) fn self_signed() -> Result<TlsIdentity, SimError> {
    // ECDSA P-256: made in a millisecond, unlike an RSA key.
    let key = rcgen::KeyPair::generate().map_err(tls_error)?;
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(tls_error)?;
    let cert = params.self_signed(&key).map_err(tls_error)?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    // The provider is named, not taken from the process default, so no other crate's choice of
    // TLS backend can change (or break) the simulator's.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)
        .map_err(tls_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        root_pem: cert.pem(),
    })
}
