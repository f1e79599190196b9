//! The corporate network (issue 24): every HTTP client of the desk (REST, token, legacy OIDC,
//! CIBA, Sign API, Test connection) starts from [`client_builder`], so all of them
//!
//! - trust the operating system's certificate store as well as the built-in web roots (reqwest's
//!   `rustls-tls-native-roots`, which reads `SSL_CERT_FILE` / `SSL_CERT_DIR` as OpenSSL-based
//!   tools do): the bank's own CA, and the CA of a TLS-inspecting proxy, work once IT installs
//!   them;
//! - go through the HTTPS proxy the environment names (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`,
//!   either case), or on Windows and macOS the system's proxy setting, and never through a proxy
//!   for loopback (the Training simulator);
//! - say, when a server's certificate is not trusted, that it is the certificate and which host
//!   ([`transport_error`]): nothing was sent to it.
//!
//! IT's policy can pin both (`[network]`, review N-18): then the user's environment adds no CA and
//! names no proxy, so a same-user change of `SSL_CERT_FILE` or `HTTPS_PROXY` cannot put an
//! interceptor between the desk and Signicat ([`apply`]).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rustls_pki_types::{pem::PemObject, CertificateDer};
use serde::Serialize;

use crate::{Error, Result};

/// What IT's policy pins of the network (`[network]` in `policy.toml`). The default pins
/// nothing: the OS store, the environment's additions and proxy, as without a policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkRules {
    /// `Some`: trust the built-in web roots and these CA files (under the system directory)
    /// only; the OS store, `SSL_CERT_FILE` and `SSL_CERT_DIR` are not read.
    pub pinned_ca_files: Option<Vec<PathBuf>>,
    /// `Some`: this proxy rule, whatever the environment says.
    pub proxy: Option<ProxyRule>,
}

/// `policy.network.proxy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyRule {
    /// No proxy at all.
    Direct,
    /// The system's proxy setting (Windows, macOS); direct elsewhere.
    System,
    /// This proxy for HTTPS (never for this PC).
    Url(String),
}

/// The rules in force, with the pinned CA files read.
#[derive(Debug, Default)]
struct Applied {
    roots: Option<Vec<CertificateDer<'static>>>,
    proxy: Option<ProxyRule>,
}

static APPLIED: RwLock<Option<Arc<Applied>>> = RwLock::new(None);

/// Puts `rules` in force for every client built from now on (the desk applies its policy when it
/// opens). A CA file that cannot be read, or holds no certificate, is an error naming it.
pub fn apply(rules: &NetworkRules) -> Result<()> {
    let roots = match &rules.pinned_ca_files {
        None => None,
        Some(files) => {
            let mut all = Vec::new();
            for (i, file) in files.iter().enumerate() {
                let certs = read_pem_certificates(file).map_err(|reason| {
                    Error::invalid_config(
                        format!("policy.network.ca_files[{i}]"),
                        format!("{}: {reason}", file.display()),
                    )
                })?;
                all.extend(certs);
            }
            Some(all)
        }
    };
    let applied = Arc::new(Applied {
        roots,
        proxy: rules.proxy.clone(),
    });
    match APPLIED.write() {
        Ok(mut slot) => *slot = Some(applied),
        Err(poisoned) => *poisoned.into_inner() = Some(applied),
    }
    Ok(())
}

fn applied() -> Arc<Applied> {
    let slot = match APPLIED.read() {
        Ok(slot) => slot.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    slot.unwrap_or_default()
}

/// The CA certificates policy pins, when it pins them (the archive's TLS uses them too).
pub fn pinned_roots() -> Option<Vec<CertificateDer<'static>>> {
    applied().roots.clone()
}

/// Every certificate in a PEM file; none at all is an error.
pub fn read_pem_certificates(
    path: &std::path::Path,
) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

/// The hosts that never go through a proxy, whatever `NO_PROXY` says.
const LOOPBACK: &str = "127.0.0.1,::1,localhost";

/// An HTTP client builder with the desk's network rules (certificate stores, proxy).
pub fn client_builder() -> reqwest::ClientBuilder {
    let rules = applied();
    let mut builder = reqwest::Client::builder();
    if let Some(roots) = &rules.roots {
        // The web roots stay; the OS store and the environment's files are not read.
        builder = builder.tls_built_in_native_certs(false);
        for der in roots {
            if let Ok(cert) = reqwest::Certificate::from_der(der) {
                builder = builder.add_root_certificate(cert);
            }
        }
    }
    match proxy_source(rules.proxy.as_ref(), EnvProxy::read()) {
        ProxySource::Direct => builder.no_proxy(),
        ProxySource::Named(p) => match p.to_reqwest() {
            Some(proxy) => builder.proxy(proxy),
            // A proxy URL that does not parse is not silently bypassed: every request fails,
            // and Test connection says why (see `describe_proxy`).
            None => builder.proxy(unusable_proxy()),
        },
        // Windows and macOS: the system's proxy setting, for HTTPS and never for loopback.
        #[cfg(any(windows, target_os = "macos"))]
        ProxySource::System => builder.proxy(system_proxy()),
        // Elsewhere nothing else is a proxy setting: in particular an `HTTP_PROXY` alone must not
        // carry the Training simulator's plain-HTTP loopback traffic away.
        #[cfg(not(any(windows, target_os = "macos")))]
        ProxySource::System => builder.no_proxy(),
    }
}

/// Where the proxy comes from: policy's rule first, then the environment, then the system.
#[derive(Debug, PartialEq, Eq)]
enum ProxySource {
    Direct,
    Named(EnvProxy),
    System,
}

fn proxy_source(rule: Option<&ProxyRule>, env: Option<EnvProxy>) -> ProxySource {
    match (rule, env) {
        (Some(ProxyRule::Direct), _) => ProxySource::Direct,
        (Some(ProxyRule::System), _) => ProxySource::System,
        (Some(ProxyRule::Url(url)), _) => ProxySource::Named(EnvProxy {
            var: "policy.network.proxy",
            url: url.clone(),
            no_proxy: None,
        }),
        (None, Some(env)) => ProxySource::Named(env),
        (None, None) => ProxySource::System,
    }
}

/// The proxy of `HTTPS_PROXY` (else `ALL_PROXY`), with `NO_PROXY`, as the environment says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EnvProxy {
    /// Which variable named it.
    var: &'static str,
    url: String,
    no_proxy: Option<String>,
}

impl EnvProxy {
    fn read() -> Option<EnvProxy> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<EnvProxy> {
        let value = |names: [&'static str; 2]| {
            names.into_iter().find_map(|n| {
                get(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (n, v))
            })
        };
        let (var, url) =
            value(["HTTPS_PROXY", "https_proxy"]).or_else(|| value(["ALL_PROXY", "all_proxy"]))?;
        let no_proxy = value(["NO_PROXY", "no_proxy"]).map(|(_, v)| v);
        Some(EnvProxy { var, url, no_proxy })
    }

    /// The proxy URL, `http://` when the variable names only a host and port (as curl reads it).
    fn url_with_scheme(&self) -> String {
        if self.url.contains("://") {
            self.url.clone()
        } else {
            format!("http://{}", self.url)
        }
    }

    /// Only `https://` requests are proxied: the desk speaks plain HTTP to loopback alone.
    fn to_reqwest(&self) -> Option<reqwest::Proxy> {
        let bypass = match &self.no_proxy {
            Some(list) => format!("{LOOPBACK},{list}"),
            None => LOOPBACK.to_string(),
        };
        reqwest::Proxy::https(self.url_with_scheme())
            .ok()
            .map(|p| p.no_proxy(reqwest::NoProxy::from_string(&bypass)))
    }

    /// The proxy's address without any user name or password (they are secrets).
    fn shown(&self) -> String {
        match url::Url::parse(&self.url_with_scheme()) {
            Ok(mut u) => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.as_str().trim_end_matches('/').to_string()
            }
            Err(_) => "(a proxy address that cannot be read)".to_string(),
        }
    }
}

/// The system's proxy setting (Internet Options on Windows, System Settings on macOS), read as
/// reqwest reads it (hyper-util's matcher, with the setting's own exceptions), applied to HTTPS
/// only and never to this PC. reqwest's automatic system proxy would also take the Training
/// simulator's plain-HTTP loopback requests to the bank's proxy (found under Wine:
/// `core/tests/windows_network.rs`).
#[cfg(any(windows, target_os = "macos"))]
fn system_proxy() -> reqwest::Proxy {
    let matcher = hyper_util::client::proxy::matcher::Matcher::from_system();
    reqwest::Proxy::custom(move |url| {
        if url.scheme() != "https" || is_loopback(url) {
            return None;
        }
        let uri: http::Uri = url.as_str().parse().ok()?;
        matcher.intercept(&uri).map(|i| i.uri().to_string())
    })
}

/// `localhost` or a loopback address: the Training simulator, never proxied.
#[cfg(any(windows, target_os = "macos", test))]
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn unusable_proxy() -> reqwest::Proxy {
    // `custom` with no answer sends directly; instead point at a port nothing listens on, so the
    // request fails rather than leaving the bank's network by another road.
    reqwest::Proxy::custom(|_| Some("http://0.0.0.0:9"))
        .no_proxy(reqwest::NoProxy::from_string(LOOPBACK))
}

/// What Test connection shows: which proxy the desk uses for HTTPS and where that came from.
/// `ok` is false when the environment names a proxy the desk cannot use.
pub fn describe_proxy() -> (bool, String) {
    let rules = applied();
    match proxy_source(rules.proxy.as_ref(), EnvProxy::read()) {
        ProxySource::Named(p) if p.to_reqwest().is_some() => {
            let except = match &p.no_proxy {
                Some(list) => format!("; not for {list} or this PC"),
                None => "; not for this PC".to_string(),
            };
            (true, format!("{} (from {}{except})", p.shown(), p.var))
        }
        ProxySource::Named(p) => (
            false,
            format!("{} is set but cannot be used: {}", p.var, p.shown()),
        ),
        ProxySource::Direct => (
            true,
            "none: direct connections (your IT department's policy)".to_string(),
        ),
        ProxySource::System if rules.proxy.is_some() => (
            true,
            if cfg!(any(windows, target_os = "macos")) {
                "the system's proxy setting (your IT department's policy)".to_string()
            } else {
                "none: direct connections (your IT department's policy names the system's \
                 setting, which this system does not have)"
                    .to_string()
            },
        ),
        ProxySource::System if cfg!(any(windows, target_os = "macos")) => (
            true,
            "the system's proxy setting (no HTTPS_PROXY in the environment)".to_string(),
        ),
        ProxySource::System => (
            true,
            "none: direct connections (no HTTPS_PROXY set)".to_string(),
        ),
    }
}

/// A transport failure as the desk reports it: an untrusted server certificate is named as such,
/// with its host; anything else is `network` with what the connection said.
pub fn transport_error(e: &reqwest::Error) -> Error {
    match certificate_problem(e) {
        Some(problem) => Error::UntrustedCertificate {
            host: e
                .url()
                .and_then(|u| u.host_str())
                .unwrap_or("the server")
                .to_string(),
            problem,
        },
        None => Error::Network(describe(e)),
    }
}

/// A reqwest error without its URL (which would carry the account id, harmless, but never the
/// secret: reqwest does not put form bodies in errors).
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "answer could not be read"
    } else if e.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}

/// The certificate error in `e`'s causes, if that is what failed.
fn certificate_problem(e: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        // rustls reports through std::io::Error, whose `source` skips the error it wraps.
        let tls = c.downcast_ref::<rustls::Error>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(why)) = tls {
            return Some(format!("{why:?}"));
        }
        cause = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_this_pc_by_name_or_address_and_nothing_else() {
        let is = |u: &str| is_loopback(&url::Url::parse(u).unwrap());
        assert!(is("http://127.0.0.1:8080/x"));
        assert!(is("http://127.3.4.5/"));
        assert!(is("http://[::1]:9/"));
        assert!(is("http://LOCALHOST:1/"));
        assert!(!is("https://api.signicat.com/"));
        assert!(!is("https://localhost.signicat.com/"));
        assert!(!is("http://10.0.0.1/"));
    }

    fn env(vars: &[(&str, &str)]) -> Option<EnvProxy> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProxy::from_lookup(|n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
    }

    #[test]
    fn the_https_proxy_comes_from_the_environment_in_either_case() {
        assert_eq!(env(&[]), None);
        assert_eq!(
            env(&[("HTTP_PROXY", "http://p:1")]),
            None,
            "HTTP only: never used"
        );
        let p = env(&[
            ("https_proxy", "proxy.bank.local:3128"),
            ("no_proxy", ".bank.local"),
        ])
        .unwrap();
        assert_eq!(p.var, "https_proxy");
        assert_eq!(p.no_proxy.as_deref(), Some(".bank.local"));
        assert!(p.to_reqwest().is_some());
        assert_eq!(p.shown(), "http://proxy.bank.local:3128");
        let all = env(&[("ALL_PROXY", "http://all:8080")]).unwrap();
        assert_eq!(all.var, "ALL_PROXY");
        let both = env(&[
            ("ALL_PROXY", "http://all:8080"),
            ("HTTPS_PROXY", "http://s:1"),
        ])
        .unwrap();
        assert_eq!(both.var, "HTTPS_PROXY");
    }

    #[test]
    fn a_proxy_password_is_never_shown() {
        let p = env(&[("HTTPS_PROXY", "http://agent:S3cret!@proxy.bank.local:8080")]).unwrap();
        let shown = p.shown();
        assert_eq!(shown, "http://proxy.bank.local:8080");
        assert!(!shown.contains("S3cret") && !shown.contains("agent"));
    }
}
