//! HTTP plumbing for the legacy OIDC family: the per-flow client (its own cookie jar, no automatic
//! redirects), the shared cookie-less client, and reading error bodies.

use crate::{Error, Result};
use reqwest::redirect::Policy;
use reqwest_cookie_store::CookieStoreMutex;
use serde::Deserialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn builder() -> reqwest::ClientBuilder {
    crate::net::client_builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // We follow redirects ourselves: we must stop at the redirect_uri without fetching it.
        .redirect(Policy::none())
        .user_agent(concat!("id-desk/", env!("CARGO_PKG_VERSION")))
}

/// For discovery and JWKS: no cookies, shared by every flow.
pub(crate) fn shared_client() -> Result<reqwest::Client> {
    builder()
        .build()
        .map_err(|e| Error::Network(format!("cannot build the HTTP client: {e}")))
}

/// One flow's HTTP client. Its cookie jar belongs to this flow alone: Signicat ties the BankID
/// order to the session cookie, and two customers' flows must never see each other's.
pub(crate) struct FlowHttp {
    client: reqwest::Client,
    requests: AtomicUsize,
    // Kept so the jar lives exactly as long as the flow.
    _cookies: Option<Arc<CookieStoreMutex>>,
}

impl FlowHttp {
    /// `keep_cookies: false` is the test-only variant that proves the cookie matters.
    pub fn new(keep_cookies: bool) -> Result<Self> {
        let (b, jar) = if keep_cookies {
            let jar = Arc::new(CookieStoreMutex::default());
            (builder().cookie_provider(jar.clone()), Some(jar))
        } else {
            (builder(), None)
        };
        let client = b
            .build()
            .map_err(|e| Error::Network(format!("cannot build the HTTP client: {e}")))?;
        Ok(FlowHttp {
            client,
            requests: AtomicUsize::new(0),
            _cookies: jar,
        })
    }

    pub fn get(&self, url: Url) -> reqwest::RequestBuilder {
        self.client.get(url)
    }

    pub fn post(&self, url: Url) -> reqwest::RequestBuilder {
        self.client.post(url)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        send(req).await
    }

    /// As [`FlowHttp::send`], keeping reqwest's error: a request that must never be repeated
    /// tells "never connected" from "sent, answer lost" by it.
    pub async fn send_raw(
        &self,
        req: reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        req.send().await
    }

    /// How many requests this flow made (for the log and the measured figures).
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
    // The root cause ("connection closed before message completed"), never the URL.
    req.send()
        .await
        .map_err(|e| crate::net::transport_error(&e))
}

/// The body of a successful answer; an error answer becomes the OAuth error it carries (or its
/// status). `what` names the step in messages ("token", "userinfo", ...).
pub(crate) async fn success_body(resp: reqwest::Response, what: &str) -> Result<Vec<u8>> {
    success_body_capped(resp, what, crate::http_body::MAX_JSON_BYTES).await
}

/// As [`success_body`], at most `limit` bytes (the SDO: [`crate::http_body::MAX_EVIDENCE_BYTES`]).
pub(crate) async fn success_body_capped(
    resp: reqwest::Response,
    what: &str,
    limit: usize,
) -> Result<Vec<u8>> {
    let status = resp.status();
    let body = crate::http_body::read_capped(resp, limit)
        .await
        .map_err(|e| e.into_error(what))?;
    if !status.is_success() {
        return Err(OAuthErrorBody::into_error(status.as_u16(), &body, what));
    }
    Ok(body.to_vec())
}

/// A URL an answer hands us (`statusUri`, `collectUrl`, `completeUri`), joined against the request
/// it answered: it must stay on that request's origin, where the flow's session cookie lives
/// (`oidc/PROTOCOL.md` O1, review L-5). A foreign one is a protocol error, never followed.
pub(crate) fn join_same_origin(base: &Url, raw: &str, field: &str) -> Result<Url> {
    let joined = base
        .join(raw)
        .map_err(|e| Error::Protocol(format!("bad {field}: {e}")))?;
    if joined.origin() != base.origin() {
        return Err(Error::Protocol(format!(
            "{field} points to another server ({}) than the one that gave it; not followed",
            joined.host_str().unwrap_or("?")
        )));
    }
    Ok(joined)
}

/// HTTPS everywhere except loopback (Training mode and tests talk to the local simulator).
pub(crate) fn require_secure(url: &Url, field: &str) -> Result<()> {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(Error::invalid_config(
            field,
            format!("must be an https URL (got {}://)", url.scheme()),
        )),
    }
}

/// `{"error": "...", "error_description": "..."}`: OAuth errors and the inapp failure bodies.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl OAuthErrorBody {
    /// The error for a non-success HTTP answer at `what`.
    pub fn into_error(status: u16, body: &[u8], what: &str) -> Error {
        let parsed: OAuthErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let code = parsed.error.unwrap_or_else(|| format!("http_{status}"));
        let message = parsed
            .error_description
            .unwrap_or_else(|| format!("{what} answered HTTP {status}"));
        if status == 401 || code == "invalid_client" {
            return Error::Unauthorized(format!("{what}: {message}"));
        }
        Error::Api {
            status,
            code,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answers_poll_url_stays_on_the_server_that_gave_it() {
        let base = Url::parse("https://preprod.signicat.com/oidc/authorize").unwrap();
        let ok = |raw: &str| {
            join_same_origin(&base, raw, "statusUri")
                .unwrap()
                .to_string()
        };
        assert_eq!(
            ok("/oidc/status?x=1"),
            "https://preprod.signicat.com/oidc/status?x=1"
        );
        assert_eq!(
            ok("https://preprod.signicat.com/oidc/collect"),
            "https://preprod.signicat.com/oidc/collect"
        );
        for foreign in [
            "https://evil.example/status",
            "http://preprod.signicat.com/oidc/status",
            "https://preprod.signicat.com:8443/status",
            "//id.signicat.com/status",
            "https://preprod.signicat.com.evil.example/status",
        ] {
            let e = join_same_origin(&base, foreign, "statusUri").unwrap_err();
            assert!(
                e.to_string().contains("statusUri points to another server"),
                "{foreign}: {e}"
            );
        }
    }
}
