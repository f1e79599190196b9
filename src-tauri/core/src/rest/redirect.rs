//! The REST `redirect` flow, for eIDs that have no headless flow (MitID, Finnish Trust Network,
//! Smart-ID, itsme, ...). The engine creates the session with `flow: "redirect"`, emits
//! `redirect {url}` with Signicat's `authenticationUrl`, and polls the session like a headless one.
//! The shell opens that URL in a sandboxed window (no IPC at all) and asks [`navigation`] about
//! every navigation: Signicat's pages load, the final redirect to one of our three URLs is stopped
//! (never loaded) and closes the window, anything else is refused.
//!
//! The three URLs live under `https://id-desk.invalid/`: `.invalid` can never resolve (RFC 2606),
//! so even if a window let one through, nothing would answer it.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Error, Result};

/// Where Signicat sends the browser when the customer has finished.
pub const SUCCESS_URL: &str = "https://id-desk.invalid/redirect/success";
pub const ABORT_URL: &str = "https://id-desk.invalid/redirect/abort";
pub const ERROR_URL: &str = "https://id-desk.invalid/redirect/error";

/// The eIDs offered through the redirect flow, by Signicat's provider id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedirectProvider {
    /// MitID (Denmark).
    Mitid,
    /// Finnish Trust Network (the Finnish banks' and mobile certificate eIDs).
    Ftn,
    /// Smart-ID (Estonia, Latvia, Lithuania).
    Smartid,
    /// itsme (Belgium).
    Itsme,
    /// iDIN (the Netherlands).
    Idin,
    /// Freja eID (Sweden).
    Freja,
}

impl RedirectProvider {
    pub const ALL: [RedirectProvider; 6] = [
        RedirectProvider::Mitid,
        RedirectProvider::Ftn,
        RedirectProvider::Smartid,
        RedirectProvider::Itsme,
        RedirectProvider::Idin,
        RedirectProvider::Freja,
    ];

    pub fn id(self) -> &'static str {
        match self {
            RedirectProvider::Mitid => "mitid",
            RedirectProvider::Ftn => "ftn",
            RedirectProvider::Smartid => "smartid",
            RedirectProvider::Itsme => "itsme",
            RedirectProvider::Idin => "idin",
            RedirectProvider::Freja => "freja",
        }
    }

    /// A known provider id (exact, lower case), or an error naming `field`.
    pub fn parse(raw: &str, field: &str) -> Result<RedirectProvider> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.id() == raw)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|p| p.id()).collect();
                Error::invalid_input(
                    field,
                    format!("unknown eID provider '{raw}' (known: {})", known.join(", ")),
                )
            })
    }
}

/// How the customer left the provider's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectEnd {
    Success,
    Abort,
    Error,
}

/// What the sandboxed window may do with one navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// A page of the allowed origins: load it.
    Load,
    /// The final redirect: do not load it; close the window (the engine reads the outcome).
    Finished(RedirectEnd),
    /// Anywhere else: refused.
    Refuse,
}

/// The origins the window may load: Signicat's (the REST base URL's) and the
/// `authenticationUrl`'s own, which for a real account is the account's Signicat domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<url::Origin>);

impl AllowedOrigins {
    pub fn new(urls: &[&Url]) -> Self {
        AllowedOrigins(
            urls.iter()
                .map(|u| u.origin())
                .filter(url::Origin::is_tuple)
                .collect(),
        )
    }
}

/// The decision for one navigation of the sandboxed window.
pub fn navigation(url: &Url, allowed: &AllowedOrigins) -> Navigation {
    if let Some(end) = final_redirect(url) {
        return Navigation::Finished(end);
    }
    // Any other `https://id-desk.invalid/...` (and `about:`, `file:`, `tauri:`) is not an allowed
    // origin, so it is refused here.
    if allowed.0.contains(&url.origin()) {
        Navigation::Load
    } else {
        Navigation::Refuse
    }
}

/// One of our three final URLs (any query, e.g. Signicat's `sessionId`).
pub fn final_redirect(url: &Url) -> Option<RedirectEnd> {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    match bare.as_str() {
        SUCCESS_URL => Some(RedirectEnd::Success),
        ABORT_URL => Some(RedirectEnd::Abort),
        ERROR_URL => Some(RedirectEnd::Error),
        _ => None,
    }
}

/// Signicat's `authenticationUrl`, checked before it is handed to a window: an absolute URL,
/// HTTPS except on loopback.
pub(crate) fn authentication_url(raw: Option<&str>) -> Result<Url> {
    let raw = raw
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Protocol("the redirect session has no authenticationUrl".into()))?;
    let url = Url::parse(raw)
        .map_err(|e| Error::Protocol(format!("the authenticationUrl is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(Error::Protocol(
            "the authenticationUrl must be https (plain http only on loopback)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_allowed_origins_load_and_the_final_urls_finish() {
        let base = url("https://api.signicat.com");
        let auth = url("https://acme.app.signicat.com/auth/x?y=1");
        let allowed = AllowedOrigins::new(&[&base, &auth]);
        assert_eq!(
            navigation(&url("https://acme.app.signicat.com/other"), &allowed),
            Navigation::Load
        );
        assert_eq!(
            navigation(&url("https://api.signicat.com/auth/page"), &allowed),
            Navigation::Load
        );
        for refused in [
            "https://evil.example/",
            "http://acme.app.signicat.com/",
            "https://acme.app.signicat.com:8443/",
            "https://id-desk.invalid/redirect/elsewhere",
            "file:///etc/passwd",
            "tauri://localhost/index.html",
        ] {
            assert_eq!(
                navigation(&url(refused), &allowed),
                Navigation::Refuse,
                "{refused}"
            );
        }
        assert_eq!(
            navigation(&url(&format!("{SUCCESS_URL}?sessionId=s1")), &allowed),
            Navigation::Finished(RedirectEnd::Success)
        );
        assert_eq!(
            navigation(&url(ABORT_URL), &allowed),
            Navigation::Finished(RedirectEnd::Abort)
        );
        assert_eq!(
            navigation(&url(&format!("{ERROR_URL}?sessionId=s1#x")), &allowed),
            Navigation::Finished(RedirectEnd::Error)
        );
    }

    #[test]
    fn authentication_url_is_https_or_loopback() {
        assert!(authentication_url(Some("https://a.signicat.com/x")).is_ok());
        assert!(authentication_url(Some("http://127.0.0.1:4000/redirect/1")).is_ok());
        assert!(authentication_url(Some("http://a.signicat.com/x")).is_err());
        assert!(authentication_url(Some("javascript:alert(1)")).is_err());
        assert!(authentication_url(None).is_err());
    }

    #[test]
    fn providers_parse_by_signicat_id_and_name_the_field() {
        assert_eq!(
            RedirectProvider::parse("mitid", "provider").unwrap(),
            RedirectProvider::Mitid
        );
        let e = RedirectProvider::parse("MitID ", "provider").unwrap_err();
        assert_eq!(e.field(), Some("provider"));
    }
}
