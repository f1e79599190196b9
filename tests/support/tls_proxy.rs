//! A TLS-intercepting HTTPS proxy on loopback, as many banks run them (issue 24): it answers
//! `CONNECT host:443`, presents a certificate for that host made on the spot and signed by its own
//! CA, and relays what it decrypted to one upstream (the simulator's plain HTTP port). Whether the
//! desk trusts the CA is the test's choice (`SSL_CERT_FILE`); the proxy counts what got through.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::BoxError;

/// What went through the proxy.
#[derive(Default)]
pub struct ProxyStats {
    /// `host:port` of every CONNECT, in order.
    pub connects: Mutex<Vec<String>>,
    /// TLS handshakes the client completed (it trusted our certificate).
    pub handshakes: AtomicU64,
    /// Handshakes the client broke off (it did not).
    pub refused: AtomicU64,
    /// Bytes relayed from the client to the upstream after decryption.
    pub relayed: AtomicU64,
}

pub struct InterceptingProxy {
    pub port: u16,
    /// The proxy's CA certificate (PEM), for `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    pub stats: Arc<ProxyStats>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl InterceptingProxy {
    /// Starts the proxy; every tunnel it opens is relayed to `127.0.0.1:{upstream_port}`.
    pub fn start(upstream_port: u16) -> Result<InterceptingProxy, BoxError> {
        let dir = tempfile::tempdir()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Test bank TLS inspection CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let ca_file = dir.path().join("inspection-ca.pem");
        std::fs::write(&ca_file, cert.pem())?;
        let ca = Arc::new(Ca { cert, key });

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let port = listener.local_addr()?.port();
        let stats = Arc::new(ProxyStats::default());
        let shared = stats.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (ca, stats) = (ca.clone(), shared.clone());
                tokio::spawn(async move {
                    let _ = tunnel(client, upstream_port, &ca, &stats).await;
                });
            }
        });
        Ok(InterceptingProxy {
            port,
            ca_file,
            stats,
            _dir: dir,
            _runtime: runtime,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn connects(&self) -> Vec<String> {
        self.stats
            .connects
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }
}

async fn tunnel(
    mut client: TcpStream,
    upstream_port: u16,
    ca: &Ca,
    stats: &ProxyStats,
) -> Result<(), BoxError> {
    // The CONNECT request, byte by byte: nothing after its blank line may be read here (the
    // client's TLS hello follows our answer).
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 {
            return Err("CONNECT header too long".into());
        }
        head.push(client.read_u8().await?);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|l| l.split_whitespace().next())
        .ok_or("not a CONNECT request")?
        .to_string();
    let host = target
        .rsplit_once(':')
        .map(|(h, _)| h.to_string())
        .unwrap_or_else(|| target.clone());
    if let Ok(mut c) = stats.connects.lock() {
        c.push(target);
    }
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;

    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config(&host, ca)?));
    let mut tls = match acceptor.accept(client).await {
        Ok(s) => s,
        Err(e) => {
            stats.refused.fetch_add(1, Ordering::SeqCst);
            return Err(e.into());
        }
    };
    stats.handshakes.fetch_add(1, Ordering::SeqCst);
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    let (sent, _) = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await?;
    stats.relayed.fetch_add(sent, Ordering::SeqCst);
    Ok(())
}

/// A certificate for `host`, signed by the proxy's CA, served with HTTP/1.1 only (the bytes are
/// relayed as they are to an HTTP/1.1 upstream).
fn server_config(host: &str, ca: &Ca) -> Result<rustls::ServerConfig, BoxError> {
    let mut params = CertificateParams::new(vec![host.to_string()])?;
    params.distinguished_name.push(DnType::CommonName, host);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let leaf = params.signed_by(&key, &ca.cert, &ca.key)?;
    let chain = vec![leaf.der().clone(), ca.cert.der().clone()];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            chain.into_iter().map(CertificateDer::into_owned).collect(),
            private,
        )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
