//! The sessions client (reference §1.2, §1.6). Each operation has its own retry rule, because the
//! three differ in what a repeat costs:
//! * `create` pushes a notification to the customer's phone: it is sent at most once (a 401 is the
//!   one exception — the server refused it before creating anything). If the answer is lost, the
//!   outcome is unknown and the staff must look at the customer's phone.
//! * `get` is harmless: retried with backoff on transport errors, 429 and 5xx until a deadline.
//! * `cancel` is idempotent: retried a little.

use super::gate::ConnectionGate;
use super::model::{CreateSession, Problem, Session};
use super::token::{transient, AccessToken, TokenCache};
use super::RestConfig;
use crate::http_body::{read_capped, BodyError, MAX_JSON_BYTES};
use crate::net::describe;
use crate::{Error, Result};
use reqwest::StatusCode;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// HTTP timeouts. Defaults: connect 5 s, whole request 15 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    pub connect: Duration,
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        HttpTimeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
        }
    }
}

/// First wait of the `get` backoff; doubled per attempt up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// Attempts for a cancel: it runs while the staff waits or the app quits.
const CANCEL_ATTEMPTS: u32 = 3;

/// Cheap to clone: every flow of a profile shares one HTTP connection pool and one token cache.
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    gate: ConnectionGate,
    sessions_url: Url,
    account_id: String,
    tokens: TokenCache,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("sessions_url", &self.inner.sessions_url.as_str())
            .field("account_id", &self.inner.account_id)
            .field("tokens", &self.inner.tokens)
            .finish()
    }
}

/// One answer with its body read.
struct Reply {
    status: StatusCode,
    body: Vec<u8>,
    retry_after: Option<Duration>,
    /// The server's clock (`Date`), for deadlines that do not trust ours (issue 23, item 6).
    date: Option<time::OffsetDateTime>,
}

/// Why no `Reply` came back.
enum SendError {
    /// The token could not be had; nothing was sent to the sessions endpoint.
    Token(Error),
    /// Transport failure, while sending or while reading the answer.
    Transport(reqwest::Error),
    /// The answer was larger than [`MAX_JSON_BYTES`]; it was not read further.
    TooLarge(usize),
}

impl RestClient {
    pub fn new(config: &RestConfig) -> Result<Self> {
        Self::with_timeouts(config, HttpTimeouts::default())
    }

    pub fn with_timeouts(config: &RestConfig, timeouts: HttpTimeouts) -> Result<Self> {
        Self::build(config, timeouts, None)
    }

    /// As [`RestClient::with_timeouts`], also trusting one more root certificate (PEM): a
    /// loopback simulator's self-signed one, for tests and the benchmark. Never from a profile.
    pub fn trusting(config: &RestConfig, timeouts: HttpTimeouts, root_pem: &str) -> Result<Self> {
        let root = reqwest::Certificate::from_pem(root_pem.as_bytes())
            .map_err(|e| Error::invalid_config("rest", format!("root certificate: {e}")))?;
        Self::build(config, timeouts, Some(root))
    }

    fn build(
        config: &RestConfig,
        timeouts: HttpTimeouts,
        extra_root: Option<reqwest::Certificate>,
    ) -> Result<Self> {
        check_url("rest.base_url", &config.base_url)?;
        check_url("rest.token_url", &config.token_url)?;
        if config.account_id.trim().is_empty() {
            return Err(Error::invalid_config("rest.account_id", "is empty"));
        }
        if config.client_id.trim().is_empty() {
            return Err(Error::invalid_config("rest.client_id", "is empty"));
        }
        let mut builder = crate::net::client_builder();
        if let Some(root) = extra_root {
            builder = builder.add_root_certificate(root);
        }
        let http = builder
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .user_agent(concat!("id-desk/", env!("CARGO_PKG_VERSION")))
            // This client sends the client secret and bearer tokens: a redirect is an answer to
            // report, never a place to send them (review finding M-6).
            .redirect(reqwest::redirect::Policy::none())
            // The gate keeps at most this many busy; none beyond them is worth keeping idle.
            .pool_max_idle_per_host(super::gate::HTTP1_CONNECTIONS)
            .build()
            .map_err(|e| Error::invalid_config("rest", format!("HTTP client: {e}")))?;
        let mut sessions_url = config.base_url.clone();
        {
            let mut segs = sessions_url
                .path_segments_mut()
                .map_err(|_| Error::invalid_config("rest.base_url", "cannot be a base URL"))?;
            segs.pop_if_empty().extend(["auth", "rest", "sessions"]);
        }
        let tokens = TokenCache::new(
            http.clone(),
            config.token_url.clone(),
            config.client_id.clone(),
            config.client_secret.clone(),
        );
        Ok(RestClient {
            inner: Arc::new(Inner {
                http,
                gate: ConnectionGate::new(),
                sessions_url,
                account_id: config.account_id.clone(),
                tokens,
            }),
        })
    }

    /// Whether the last sessions answer came over HTTP/2 (one multiplexed connection).
    pub fn multiplexed(&self) -> bool {
        self.inner.gate.multiplexed()
    }

    /// Token requests sent so far by this client (shared by all its clones).
    pub fn token_requests(&self) -> u64 {
        self.inner.tokens.requests_sent()
    }

    /// Create a session. Never retried after anything may have reached the server.
    pub async fn create(&self, body: &CreateSession) -> Result<Session> {
        let url = self.url(&[]);
        let reply = self
            .send_authorized(|token| {
                self.inner
                    .http
                    .post(url.clone())
                    .bearer_auth(token.bearer())
                    .header(reqwest::header::ACCEPT, "application/json")
                    .json(body)
            })
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(SendError::Token(e)) => return Err(e),
            // A failed connect is the one transport error where nothing reached the server.
            Err(SendError::Transport(e)) if e.is_connect() => {
                return Err(crate::net::transport_error(&e))
            }
            Err(SendError::Transport(e)) => {
                tracing::warn!(error = describe(&e), "session create: answer lost");
                return Err(Error::OutcomeUnknown);
            }
            // The session may exist (the push went out) but its answer cannot be read: as
            // uncertain for staff as a lost answer.
            Err(SendError::TooLarge(n)) => {
                tracing::warn!(limit = n, "session create: answer too large, not read");
                return Err(Error::OutcomeUnknown);
            }
        };
        if reply.status.is_success() {
            // The session exists on the server but we cannot read its id: as uncertain for the
            // staff as a lost answer (the customer got the push), so report it the same way.
            let mut session = serde_json::from_slice::<Session>(&reply.body).map_err(|e| {
                tracing::warn!(error = %e, "session create: unreadable answer");
                Error::OutcomeUnknown
            })?;
            session.server_date = reply.date;
            return Ok(session);
        }
        Err(api_error("create", &reply))
    }

    /// Read a session, retrying transport errors, 429 and 5xx (honouring `Retry-After`) until
    /// `until` (normally the session's `expiresAt`). A malformed answer is not retried.
    pub async fn get(&self, id: &str, until: Instant) -> Result<Session> {
        let url = self.url(&[id]);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let reply = self
                .send_authorized(|token| {
                    self.inner
                        .http
                        .get(url.clone())
                        .bearer_auth(token.bearer())
                        .header(reqwest::header::ACCEPT, "application/json")
                })
                .await;
            let (err, wait) = match reply {
                Err(SendError::Token(e)) if transient(&e) => (e, backoff(attempt)),
                Err(SendError::Token(e)) => return Err(e),
                Err(SendError::Transport(e)) => (crate::net::transport_error(&e), backoff(attempt)),
                // Not retried: a server that answers like this will again.
                Err(SendError::TooLarge(n)) => return Err(too_large("session get", n)),
                Ok(r) if r.status.is_success() => return parse_session(&r.body),
                Ok(r) if retryable(r.status) => {
                    let wait = r.retry_after.unwrap_or_else(|| backoff(attempt));
                    (api_error("get", &r), wait)
                }
                Ok(r) if r.status == StatusCode::NOT_FOUND => {
                    return Err(Error::NotFound(format!("session {id}")))
                }
                Ok(r) => return Err(api_error("get", &r)),
            };
            if Instant::now() + wait >= until {
                return Err(err);
            }
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "session get: retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Cancel a session. Safe to repeat, so a few attempts on transport errors, 429 and 5xx.
    pub async fn cancel(&self, id: &str) -> Result<Session> {
        let url = self.url(&[id, "cancel"]);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let reply = self
                .send_authorized(|token| {
                    self.inner
                        .http
                        .post(url.clone())
                        .bearer_auth(token.bearer())
                        .header(reqwest::header::ACCEPT, "application/json")
                })
                .await;
            let err = match reply {
                Err(SendError::Token(e)) if transient(&e) => e,
                Err(SendError::Token(e)) => return Err(e),
                Err(SendError::Transport(e)) => crate::net::transport_error(&e),
                Err(SendError::TooLarge(n)) => return Err(too_large("session cancel", n)),
                Ok(r) if r.status.is_success() => return parse_session(&r.body),
                Ok(r) if retryable(r.status) => api_error("cancel", &r),
                Ok(r) => return Err(api_error("cancel", &r)),
            };
            if attempt >= CANCEL_ATTEMPTS {
                return Err(err);
            }
            tokio::time::sleep(BACKOFF_FIRST * attempt).await;
        }
    }

    fn url(&self, extra: &[&str]) -> Url {
        let mut url = self.inner.sessions_url.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            // Pushed as segments, so an id can never add a path or a query.
            segs.extend(extra);
        }
        url.query_pairs_mut()
            .append_pair("signicat-accountId", &self.inner.account_id);
        url
    }

    /// Send with the cached token; on a 401, refresh once and send once more.
    async fn send_authorized<F>(&self, build: F) -> std::result::Result<Reply, SendError>
    where
        F: Fn(&AccessToken) -> reqwest::RequestBuilder,
    {
        let token = self.inner.tokens.get().await.map_err(SendError::Token)?;
        let reply = send(&self.inner.gate, || build(&token)).await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        tracing::info!("sessions call answered 401: refreshing the token once");
        self.inner.tokens.invalidate(&token).await;
        let token = self.inner.tokens.get().await.map_err(SendError::Token)?;
        let reply = send(&self.inner.gate, || build(&token)).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            let problem: Problem = serde_json::from_slice(&reply.body).unwrap_or_default();
            return Err(SendError::Token(Error::Unauthorized(
                problem.message_or(401),
            )));
        }
        Ok(reply)
    }
}

/// The request is built only once the gate lets it through: 1,000 creates queued at start hold no
/// headers or body yet.
async fn send(
    gate: &ConnectionGate,
    build: impl FnOnce() -> reqwest::RequestBuilder,
) -> std::result::Result<Reply, SendError> {
    let _turn = gate.enter().await;
    let resp = build().send().await.map_err(SendError::Transport)?;
    gate.answered_over(resp.version());
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::flow::clock::parse_http_date);
    let body = read_capped(resp, MAX_JSON_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge(n) => SendError::TooLarge(n),
            BodyError::Transport(e) => SendError::Transport(e),
        })?;
    Ok(Reply {
        status,
        body,
        retry_after,
        date,
    })
}

fn too_large(what: &str, limit: usize) -> Error {
    BodyError::TooLarge(limit).into_error(what)
}

fn parse_session(body: &[u8]) -> Result<Session> {
    serde_json::from_slice::<Session>(body)
        .map_err(|e| Error::Protocol(format!("session answer is not readable: {e}")))
}

/// 429 and 5xx: worth asking again (reads and deletes; never a create).
pub(crate) fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn api_error(op: &str, reply: &Reply) -> Error {
    api_error_of(op, reply.status, &reply.body)
}

/// A refused Signicat call as the engine's error: the problem body's code and text, logged with
/// its trace id (shared by every Signicat REST client).
pub(crate) fn api_error_of(op: &str, status: StatusCode, body: &[u8]) -> Error {
    let code = status.as_u16();
    let problem: Problem = serde_json::from_slice(body).unwrap_or_default();
    tracing::warn!(
        op,
        status = code,
        code = problem.code_or(code),
        trace_id = problem.trace_id.as_deref().unwrap_or("-"),
        "Signicat refused a call"
    );
    Error::Api {
        status: code,
        code: problem.code_or(code),
        message: problem.message_or(code),
    }
}

/// `Retry-After` in seconds (the HTTP-date form falls back to our own backoff). Capped at a minute:
/// a flow's deadline bounds it anyway.
pub(crate) fn parse_retry_after(raw: &str) -> Option<Duration> {
    let secs: f64 = raw.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs.min(60.0)).max(Duration::from_millis(50)))
}

/// 250 ms, 500 ms, 1 s, 2 s, 4 s, 4 s, ... with up to 20 % jitter so many flows do not retry in
/// lockstep after a shared outage.
pub(crate) fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = BACKOFF_FIRST
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(5))
        .min(BACKOFF_MAX);
    let jitter = rand::thread_rng().gen_range(0.0..0.2);
    base.mul_f64(1.0 + jitter)
}

/// HTTPS everywhere except loopback (Training mode and tests run a local simulator).
pub(crate) fn check_url(field: &str, url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(Error::invalid_config(
            field,
            "must use https (plain http only for a loopback address)",
        )),
        other => Err(Error::invalid_config(
            field,
            format!("unsupported scheme {other}"),
        )),
    }
}

/// `127.0.0.0/8`, `::1` or `localhost`: the only hosts plain `http` may name.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretString;

    fn config(base: &str) -> RestConfig {
        RestConfig {
            base_url: Url::parse(base).unwrap(),
            token_url: Url::parse("https://api.example/auth/open/connect/token").unwrap(),
            account_id: "a-1".into(),
            client_id: "c".into(),
            client_secret: SecretString::new("s3cret"),
        }
    }

    #[test]
    fn session_urls_carry_the_account_and_escape_the_id() {
        let c = RestClient::new(&config("https://api.example/")).unwrap();
        assert_eq!(
            c.url(&["a/b?x", "cancel"]).as_str(),
            "https://api.example/auth/rest/sessions/a%2Fb%3Fx/cancel?signicat-accountId=a-1"
        );
        let c = RestClient::new(&config("https://api.example/prefix")).unwrap();
        assert_eq!(
            c.url(&[]).as_str(),
            "https://api.example/prefix/auth/rest/sessions?signicat-accountId=a-1"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(RestClient::new(&config("http://127.0.0.1:9/")).is_ok());
        assert!(RestClient::new(&config("http://localhost:9/")).is_ok());
        let e = RestClient::new(&config("http://api.example/")).unwrap_err();
        assert_eq!(e.field(), Some("rest.base_url"));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = RestClient::new(&config("https://api.example/")).unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn retry_after_and_backoff() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(backoff(1) >= BACKOFF_FIRST && backoff(1) < BACKOFF_FIRST * 2);
        assert!(backoff(30) <= BACKOFF_MAX.mul_f64(1.2));
    }
}
