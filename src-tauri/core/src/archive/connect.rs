//! One connection to the archive server: `tokio-postgres`, plain TCP only on loopback, otherwise
//! TLS (rustls, certificate and host name verified) that the server cannot talk us out of.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

use crate::profile::{ArchiveSettings, ArchiveTls};
use crate::secrets::SecretString;
use crate::{Error, Result};

/// A server that does not answer within this is reported as unreachable (the outbox waits).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The driver's settings for `settings`. TLS is `Require` for every non-loopback host.
pub(crate) fn config(
    settings: &ArchiveSettings,
    password: &SecretString,
    tuning: &super::Tuning,
) -> Config {
    let mut cfg = Config::new();
    cfg.host(settings.host())
        .port(settings.port())
        .user(settings.user())
        .dbname(settings.database())
        .password(password.expose())
        .application_name("id-desk")
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(60))
        // Set for the session at login, before any statement of ours runs.
        .options(format!(
            "-c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={}",
            tuning.statement_timeout.as_millis(),
            tuning.lock_timeout.as_millis(),
            tuning.statement_timeout.as_millis() * 2
        ));
    cfg.ssl_mode(match settings.tls() {
        ArchiveTls::Loopback => SslMode::Disable,
        ArchiveTls::Required { .. } => SslMode::Require,
    });
    cfg
}

/// Connects and spawns the connection's driver task (it ends when the `Client` is dropped).
pub(crate) async fn connect(
    settings: &ArchiveSettings,
    password: &SecretString,
    tuning: &super::Tuning,
) -> Result<Client> {
    let cfg = config(settings, password, tuning);
    match settings.tls() {
        ArchiveTls::Loopback => {
            let (client, conn) = cfg.connect(NoTls).await.map_err(pg_error)?;
            tokio::spawn(drive(conn));
            Ok(client)
        }
        ArchiveTls::Required { ca_file } => {
            let tls =
                tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(ca_file.as_deref())?);
            let (client, conn) = cfg.connect(tls).await.map_err(pg_error)?;
            tokio::spawn(drive(conn));
            Ok(client)
        }
    }
}

async fn drive<S, T>(conn: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio_postgres::tls::TlsStream + Unpin,
{
    if let Err(e) = conn.await {
        tracing::debug!(error = %pg_error(e), "archive connection closed");
    }
}

/// rustls with ring (as reqwest), the bank's CA from `ca_file`, or else the public web roots and
/// the OS certificate store, or the CA files IT's policy pins in place of the OS store (review
/// N-18: a user's profile then cannot name a `ca_file` at all, `Policy::admit`).
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |reason: String| {
                Error::invalid_config("archive.ca_file", format!("{}: {reason}", path.display()))
            };
            for cert in crate::net::read_pem_certificates(path).map_err(bad)? {
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
        None => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            match crate::net::pinned_roots() {
                Some(pinned) => {
                    let (added, _) = roots.add_parsable_certificates(pinned);
                    tracing::debug!(added, "policy's certificates trusted for the archive");
                }
                None => {
                    // And the OS store (or SSL_CERT_FILE / SSL_CERT_DIR), like every HTTP
                    // client (issue 24): an unreadable entry is skipped, as OpenSSL does.
                    let native = rustls_native_certs::load_native_certs();
                    for e in &native.errors {
                        tracing::debug!(error = %e, "a system certificate could not be read");
                    }
                    let (added, _) = roots.add_parsable_certificates(native.certs);
                    tracing::debug!(added, "system certificates trusted for the archive");
                }
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Archive(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The driver's error as ours: a refused login is `archive_unauthorized`, everything else
/// `archive`. The text is the server's message (never our password: the driver never echoes it).
pub(crate) fn pg_error(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return Error::ArchiveUnauthorized(db.message().to_string());
        }
        return Error::Archive(format!("{} ({})", db.message(), code.code()));
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    Error::Archive(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ArchiveConfig;

    fn settings(url: &str) -> ArchiveSettings {
        ArchiveSettings::validate(&ArchiveConfig {
            url: url.into(),
            ca_file: None,
        })
        .unwrap()
    }

    #[test]
    fn a_remote_archive_is_reached_only_over_tls() {
        let pw = SecretString::new("pw");
        let t = crate::archive::Tuning::default();
        let cfg = config(
            &settings("postgresql://desk@archive.bank.example/evidence"),
            &pw,
            &t,
        );
        assert_eq!(cfg.get_ssl_mode(), SslMode::Require);
        let cfg = config(
            &settings("postgresql://desk@10.0.0.9:6432/evidence"),
            &pw,
            &t,
        );
        assert_eq!(cfg.get_ssl_mode(), SslMode::Require);
        assert_eq!(cfg.get_ports(), &[6432]);
    }

    #[test]
    fn loopback_goes_without_tls() {
        let cfg = config(
            &settings("postgresql://desk@127.0.0.1:5433/evidence"),
            &SecretString::new("pw"),
            &crate::archive::Tuning::default(),
        );
        assert_eq!(cfg.get_ssl_mode(), SslMode::Disable);
        // Delivery can never hang on the server: both timeouts are set at login.
        let options = cfg.get_options().unwrap_or_default();
        assert!(options.contains("statement_timeout=30000"), "{options}");
        assert!(options.contains("lock_timeout=10000"), "{options}");
        assert_eq!(cfg.get_user(), Some("desk"));
        assert_eq!(cfg.get_dbname(), Some("evidence"));
    }

    #[test]
    fn a_ca_file_without_certificates_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, "not a certificate\n").unwrap();
        let e = tls_config(Some(&f)).unwrap_err();
        assert_eq!(e.field(), Some("archive.ca_file"));
        assert!(tls_config(None).is_ok());
    }
}
