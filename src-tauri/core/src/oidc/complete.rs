//! Step 3: following the completion redirects ourselves (reference §2.3) until Signicat sends us
//! to our own `redirect_uri`, which we read but never fetch (nothing listens there).

use super::http::{require_secure, FlowHttp, OAuthErrorBody};
use super::{provider_stop, FlowStop};
use crate::Error;
use url::Url;

/// Hops after the completion URL before we call it a loop.
pub(crate) const MAX_HOPS: usize = 10;

/// Whether `location` is our redirect URI (same origin and path; the query carries the answer).
fn is_redirect_uri(location: &Url, redirect_uri: &Url) -> bool {
    location.scheme() == redirect_uri.scheme()
        && location.host_str() == redirect_uri.host_str()
        && location.port_or_known_default() == redirect_uri.port_or_known_default()
        && location.path() == redirect_uri.path()
}

/// Follows redirects from `complete_url` and returns the authorization `code`, after checking
/// `state` and any `error` on the final redirect.
pub(crate) async fn follow_to_code(
    http: &FlowHttp,
    complete_url: Url,
    redirect_uri: &Url,
    expected_state: &str,
) -> Result<String, FlowStop> {
    let mut url = complete_url;
    for _ in 0..=MAX_HOPS {
        require_secure(&url, "completion redirect")?;
        // No `Accept: application/json` here (reference §2.3): Signicat answers with redirects.
        let resp = http.send(http.get(url.clone())).await?;
        let status = resp.status();
        if !status.is_redirection() {
            // Signicat explains a refusal (e.g. a lost session cookie) in an error body.
            let body = crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES)
                .await
                .unwrap_or_default();
            let parsed: OAuthErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(error) = parsed.error.as_deref() {
                return Err(provider_stop(error, parsed.error_description.as_deref()));
            }
            return Err(Error::Protocol(format!(
                "completion ended with HTTP {} instead of a redirect to our redirect URI",
                status.as_u16()
            ))
            .into());
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Protocol("redirect without a Location".into()))?;
        let next = url
            .join(location)
            .map_err(|e| Error::Protocol(format!("bad redirect Location: {e}")))?;
        if is_redirect_uri(&next, redirect_uri) {
            return read_callback(&next, expected_state);
        }
        url = next;
    }
    Err(Error::Protocol(format!(
        "more than {MAX_HOPS} redirects after completion (redirect loop?)"
    ))
    .into())
}

fn read_callback(callback: &Url, expected_state: &str) -> Result<String, FlowStop> {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (k, v) in callback.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    // State first: an answer that is not ours must not be trusted, not even its error.
    if state.as_deref() != Some(expected_state) {
        return Err(Error::StateMismatch.into());
    }
    if let Some(e) = error {
        return Err(provider_stop(&e, description.as_deref()));
    }
    code.filter(|c| !c.is_empty())
        .ok_or_else(|| Error::Protocol("the redirect carries no authorization code".into()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn matches_redirect_uri_by_origin_and_path() {
        let r = url("https://id-desk.invalid/callback");
        assert!(is_redirect_uri(
            &url("https://id-desk.invalid/callback?code=1&state=2"),
            &r
        ));
        assert!(is_redirect_uri(
            &url("https://id-desk.invalid:443/callback"),
            &r
        ));
        assert!(!is_redirect_uri(
            &url("https://id-desk.invalid/callback2?code=1"),
            &r
        ));
        assert!(!is_redirect_uri(
            &url("https://evil.invalid/callback?code=1"),
            &r
        ));
        assert!(!is_redirect_uri(
            &url("http://id-desk.invalid/callback?code=1"),
            &r
        ));
    }

    #[test]
    fn callback_checks_state_before_anything() {
        let cb = url("https://x.invalid/cb?code=abc&state=s1");
        assert_eq!(read_callback(&cb, "s1").ok(), Some("abc".to_string()));
        assert!(matches!(
            read_callback(&cb, "s2"),
            Err(FlowStop::Failed(Error::StateMismatch))
        ));
        let err = url("https://x.invalid/cb?error=access_denied&error_description=no&state=s1");
        assert!(matches!(
            read_callback(&err, "s1"),
            Err(FlowStop::Provider { .. })
        ));
        let no_state = url("https://x.invalid/cb?code=abc");
        assert!(matches!(
            read_callback(&no_state, "s1"),
            Err(FlowStop::Failed(Error::StateMismatch))
        ));
    }
}
