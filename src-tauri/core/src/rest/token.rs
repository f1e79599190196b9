//! The client-credentials access token (reference §1.1), cached and shared by every flow of one
//! client. Single-flight: the cache is a `tokio::sync::Mutex` held *across* the token request, so
//! however many flows ask at once, one of them fetches and the rest wait for its answer and reuse it.

use super::model::{Problem, TokenResponse};
use crate::secrets::SecretString;
use crate::{Error, Result};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

/// Refresh this long before the token expires, so a request never leaves with a token that dies on
/// the way. Shortened for very short lifetimes (see [`refresh_margin`]).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// Tries per token fetch (see [`TokenCache::fetch`]).
const TOKEN_ATTEMPTS: u32 = 3;

/// Assumed when the token endpoint does not say (`expires_in` missing): Signicat's default.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(600);

/// A bearer token. `generation` identifies it so a 401 only invalidates the token that was refused
/// (not a fresh one another flow fetched meanwhile).
#[derive(Clone)]
pub struct AccessToken {
    value: SecretString,
    generation: u64,
    refresh_at: Instant,
}

impl AccessToken {
    pub fn bearer(&self) -> &str {
        self.value.expose()
    }
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"<redacted>")
            .field("generation", &self.generation)
            .finish()
    }
}

pub struct TokenCache {
    http: reqwest::Client,
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
    current: Mutex<Option<AccessToken>>,
    requests: AtomicU64,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// 30 s, or a quarter of the lifetime when that is shorter: a 60 s token would otherwise be
/// refreshed for every request, and tests run with lifetimes of a few seconds.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    REFRESH_MARGIN.min(lifetime / 4)
}

impl TokenCache {
    pub fn new(
        http: reqwest::Client,
        token_url: Url,
        client_id: String,
        client_secret: SecretString,
    ) -> Self {
        TokenCache {
            http,
            token_url,
            client_id,
            client_secret,
            current: Mutex::new(None),
            requests: AtomicU64::new(0),
        }
    }

    /// How many token requests this cache has sent (for figures and tests).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A token valid for at least the refresh margin; fetched only if the cached one is missing or
    /// due. Callers queue on the lock while one request is under way.
    pub async fn get(&self) -> Result<AccessToken> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref() {
            if Instant::now() < t.refresh_at {
                return Ok(t.clone());
            }
        }
        let generation = current.as_ref().map_or(1, |t| t.generation + 1);
        let fresh = self.fetch(generation).await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forget `refused` (after a 401) unless it has already been replaced.
    pub async fn invalidate(&self, refused: &AccessToken) {
        let mut current = self.current.lock().await;
        if current
            .as_ref()
            .is_some_and(|t| t.generation == refused.generation)
        {
            // Keep the generation counter moving: mark the token due rather than dropping it.
            if let Some(t) = current.as_mut() {
                t.refresh_at = Instant::now();
            }
        }
    }

    /// The token request is harmless to repeat, so a passing failure (transport, 429, 5xx) is
    /// retried a little before a flow is failed for it; refused credentials are not.
    async fn fetch(&self, generation: u64) -> Result<AccessToken> {
        let mut attempt = 1;
        loop {
            match self.fetch_once(generation).await {
                Err(e) if attempt < TOKEN_ATTEMPTS && transient(&e) => {
                    tracing::info!(attempt, error = %e, "token request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(250) * attempt).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn fetch_once(&self, generation: u64) -> Result<AccessToken> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let sent_at = Instant::now();
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "signicat-api"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let resp = self
            .http
            .post(self.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| match crate::net::transport_error(&e) {
                Error::Network(why) => Error::Network(format!("token request: {why}")),
                other => other,
            })?;
        let status = resp.status();
        let body = crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES)
            .await
            .map_err(|e| e.into_error("token response"))?;
        if !status.is_success() {
            let problem: Problem = serde_json::from_slice(&body).unwrap_or_default();
            let code = status.as_u16();
            tracing::warn!(
                status = code,
                error = problem.code_or(code),
                trace_id = problem.trace_id.as_deref().unwrap_or("-"),
                "token request refused"
            );
            return Err(if code == 400 || code == 401 || code == 403 {
                Error::Unauthorized(problem.message_or(code))
            } else {
                Error::Api {
                    status: code,
                    code: problem.code_or(code),
                    message: problem.message_or(code),
                }
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("token response is not readable JSON: {e}")))?;
        if parsed.access_token.is_empty() {
            return Err(Error::Protocol(
                "token response has an empty access_token".into(),
            ));
        }
        let lifetime = parsed
            .expires_in
            .map(crate::flow::bounds::token_lifetime)
            .unwrap_or(DEFAULT_LIFETIME);
        // Count the lifetime from when we asked, not when the answer arrived: the server's clock
        // started no later than that.
        let refresh_at = sent_at + lifetime.saturating_sub(refresh_margin(lifetime));
        tracing::debug!(
            generation,
            lifetime_s = lifetime.as_secs(),
            "access token fetched"
        );
        Ok(AccessToken {
            value: SecretString::new(parsed.access_token),
            generation,
            refresh_at,
        })
    }
}

/// A failure that may pass on its own: transport errors, 429 and 5xx.
pub fn transient(e: &Error) -> bool {
    match e {
        Error::Network(_) => true,
        Error::Api { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_thirty_seconds_or_a_quarter() {
        assert_eq!(refresh_margin(Duration::from_secs(600)), REFRESH_MARGIN);
        assert_eq!(
            refresh_margin(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
    }
}
