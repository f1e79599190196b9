//! The Sign API v2 client (`PROTOCOL.md`). Like the REST sessions client, each call has its own
//! retry rule, because they differ in what a repeat costs:
//! * the session create may push an order to the customer's phone (Swedish BankID Phone): sent at
//!   most once (a 401 is the one exception: refused before anything was created);
//! * uploads and collections create only data of ours at Signicat: sent once too (a lost answer
//!   leaves an orphan document that Signicat's retention removes, never a push);
//! * reads (`GET` session, result documents) are retried on transport errors, 429 and 5xx;
//! * deletes are idempotent and retried a little.
//!
//! Every body read is capped: JSON answers at [`MAX_JSON_BYTES`], result documents at the profile's
//! document limit, so a misbehaving server cannot exhaust the desk's memory.

use super::model::{Collection, NewCollection, NewSession, Session, UploadedDocument};
use crate::http_body::{read_capped, BodyError};
use crate::net::describe;
use crate::rest::client::{api_error_of, backoff, parse_retry_after, retryable};
use crate::rest::model::Problem;
use crate::rest::token::{transient, AccessToken, TokenCache};
use crate::secrets::SecretString;
use crate::{Error, Result};
use reqwest::{Method, StatusCode};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

pub use crate::http_body::MAX_JSON_BYTES;
/// Deletes are idempotent: a few attempts, a quarter of a second apart and growing.
const DELETE_ATTEMPTS: u32 = 3;
const DELETE_PAUSE: Duration = Duration::from_millis(250);

/// What the Sign API client needs from a profile.
#[derive(Clone)]
pub struct SignConfig {
    /// e.g. `https://api.signicat.com` (the API lives under `{base_url}/sign`).
    pub base_url: Url,
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Shown to the signer as who asks (`senderDisplayName`).
    pub sender_display_name: Option<String>,
    /// The largest PDF staff may upload and the largest result document the desk downloads.
    pub max_document_bytes: usize,
    /// How long the customer has to sign (`dueDate` = now + this).
    pub lifetime: Duration,
}

impl SignConfig {
    pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
    pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);
}

impl fmt::Debug for SignConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignConfig")
            .field("base_url", &self.base_url.as_str())
            .field("client_id", &self.client_id)
            .field("max_document_bytes", &self.max_document_bytes)
            .finish_non_exhaustive()
    }
}

/// Cheap to clone: every signing flow of a profile shares one connection pool and token cache.
#[derive(Clone)]
pub struct SignClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api: Url,
    tokens: TokenCache,
    cfg: SignConfig,
    /// The server's `Date` on its latest answer and when (our monotonic clock) it came: the due
    /// date a session is created with is counted on the server's clock, not the desk's (review
    /// N-11: a desk clock behind by more than the lifetime would send a due date already past).
    server_clock: std::sync::Mutex<Option<(time::OffsetDateTime, Instant)>>,
}

impl fmt::Debug for SignClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignClient")
            .field("cfg", &self.inner.cfg)
            .finish()
    }
}

struct Reply {
    status: StatusCode,
    body: Vec<u8>,
    content_type: Option<String>,
    retry_after: Option<Duration>,
    /// The answer's `Date`.
    date: Option<time::OffsetDateTime>,
}

enum SendError {
    Token(Error),
    Transport(reqwest::Error),
    /// The answer was larger than allowed; it was not read further.
    TooLarge(usize),
}

impl SendError {
    fn into_error(self) -> Error {
        match self {
            SendError::Token(e) => e,
            SendError::Transport(e) => crate::net::transport_error(&e),
            SendError::TooLarge(limit) => {
                Error::Protocol(format!("the answer is larger than {limit} bytes"))
            }
        }
    }
}

/// A downloaded result document.
pub struct Downloaded {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

impl SignClient {
    pub fn new(cfg: SignConfig) -> Result<Self> {
        Self::build(cfg, None)
    }

    /// As [`SignClient::new`], also trusting one more root certificate (PEM): a loopback
    /// simulator's self-signed one, for tests. Never from a profile.
    pub fn trusting(cfg: SignConfig, root_pem: &str) -> Result<Self> {
        let root = reqwest::Certificate::from_pem(root_pem.as_bytes())
            .map_err(|e| Error::invalid_config("sign", format!("root certificate: {e}")))?;
        Self::build(cfg, Some(root))
    }

    fn build(cfg: SignConfig, extra_root: Option<reqwest::Certificate>) -> Result<Self> {
        crate::rest::client::check_url("sign.base_url", &cfg.base_url)?;
        crate::rest::client::check_url("sign.token_url", &cfg.token_url)?;
        if cfg.client_id.trim().is_empty() {
            return Err(Error::invalid_config("sign.client_id", "is empty"));
        }
        let mut builder = crate::net::client_builder();
        if let Some(root) = extra_root {
            builder = builder.add_root_certificate(root);
        }
        let http = builder
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            // A client that sends a bearer token never follows a redirect to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("id-desk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::invalid_config("sign", format!("HTTP client: {e}")))?;
        let mut api = cfg.base_url.clone();
        api.path_segments_mut()
            .map_err(|_| Error::invalid_config("sign.base_url", "cannot be a base URL"))?
            .pop_if_empty()
            .push("sign");
        let tokens = TokenCache::new(
            http.clone(),
            cfg.token_url.clone(),
            cfg.client_id.clone(),
            cfg.client_secret.clone(),
        );
        Ok(SignClient {
            inner: Arc::new(Inner {
                http,
                api,
                tokens,
                cfg,
                server_clock: std::sync::Mutex::new(None),
            }),
        })
    }

    pub fn config(&self) -> &SignConfig {
        &self.inner.cfg
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.api.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            // Pushed as segments, so an id can never add a path or a query.
            segs.extend(segments);
        }
        url
    }

    /// `POST /sign/documents`: the raw bytes with their media type. Sent once.
    pub async fn upload(&self, bytes: &[u8], content_type: &str) -> Result<UploadedDocument> {
        let url = self.url(&["documents"]);
        let reply = self
            .send(MAX_JSON_BYTES, |t| {
                self.inner
                    .http
                    .post(url.clone())
                    .bearer_auth(t.bearer())
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(bytes.to_vec())
            })
            .await
            .map_err(SendError::into_error)?;
        json_of("upload", &reply)
    }

    /// `POST /sign/document-collections`. Sent once.
    pub async fn create_collection(&self, body: &NewCollection) -> Result<Collection> {
        let url = self.url(&["document-collections"]);
        let reply = self
            .send(MAX_JSON_BYTES, |t| {
                self.json_request(Method::POST, &url, t).json(body)
            })
            .await
            .map_err(SendError::into_error)?;
        json_of("collection", &reply)
    }

    /// `POST /sign/signing-sessions` with a one-element array. Never retried once anything may
    /// have reached the server: a Swedish BankID Phone session pushes to the customer's phone.
    pub async fn create_session(&self, body: &NewSession) -> Result<Session> {
        let url = self.url(&["signing-sessions"]);
        let reply = self
            .send(MAX_JSON_BYTES, |t| {
                self.json_request(Method::POST, &url, t)
                    .json(std::slice::from_ref(body))
            })
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(SendError::Transport(e)) if e.is_connect() => {
                return Err(crate::net::transport_error(&e))
            }
            Err(SendError::Transport(e)) => {
                tracing::warn!(error = describe(&e), "signing session create: answer lost");
                return Err(Error::OutcomeUnknown);
            }
            Err(other) => return Err(other.into_error()),
        };
        if !reply.status.is_success() {
            return Err(api_error("create", &reply));
        }
        // The session exists but we cannot read it: as uncertain as a lost answer.
        let mut sessions: Vec<Session> = serde_json::from_slice(&reply.body).map_err(|e| {
            tracing::warn!(error = %e, "signing session create: unreadable answer");
            Error::OutcomeUnknown
        })?;
        if sessions.len() != 1 {
            tracing::warn!(
                count = sessions.len(),
                "signing session create: not one session"
            );
            return Err(Error::OutcomeUnknown);
        }
        Ok(sessions.remove(0))
    }

    /// `GET /sign/signing-sessions/{id}`, retried on passing failures until `until`.
    pub async fn get_session(&self, id: &str, until: Instant) -> Result<Session> {
        let url = self.url(&["signing-sessions", id]);
        let reply = self
            .read(MAX_JSON_BYTES, until, |t| {
                self.json_request(Method::GET, &url, t)
            })
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(Error::NotFound(format!("signing session {id}")));
        }
        json_of("get", &reply)
    }

    /// `GET /sign/documents/{id}`: a result document, at most the evidence cap for the profile's
    /// document limit (a signed result outweighs the document it signs; review N-16).
    pub async fn download(&self, id: &str, until: Instant) -> Result<Downloaded> {
        let url = self.url(&["documents", id]);
        let limit = crate::http_body::evidence_cap(self.inner.cfg.max_document_bytes);
        let reply = self
            .read(limit, until, |t| {
                self.inner
                    .http
                    .get(url.clone())
                    .bearer_auth(t.bearer())
                    .header(reqwest::header::ACCEPT, "*/*")
            })
            .await?;
        if !reply.status.is_success() {
            return Err(api_error("download", &reply));
        }
        Ok(Downloaded {
            bytes: reply.body,
            content_type: reply.content_type,
        })
    }

    /// `DELETE /sign/signing-sessions/{id}`: staff cancel, or the end of a flow that failed.
    pub async fn delete_session(&self, id: &str) -> Result<()> {
        self.delete(&["signing-sessions", id]).await
    }

    /// `DELETE /sign/documents/{id}`.
    pub async fn delete_document(&self, id: &str) -> Result<()> {
        self.delete(&["documents", id]).await
    }

    /// `DELETE /sign/document-collections/{id}`.
    pub async fn delete_collection(&self, id: &str) -> Result<()> {
        self.delete(&["document-collections", id]).await
    }

    async fn delete(&self, segments: &[&str]) -> Result<()> {
        let url = self.url(segments);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reply = self
                .send(MAX_JSON_BYTES, |t| {
                    self.json_request(Method::DELETE, &url, t)
                })
                .await;
            let err = match reply {
                // Already gone is what a delete wants.
                Ok(r) if r.status.is_success() || r.status == StatusCode::NOT_FOUND => {
                    return Ok(())
                }
                Ok(r) if retryable(r.status) => api_error("delete", &r),
                Ok(r) => return Err(api_error("delete", &r)),
                Err(e) => {
                    let e = e.into_error();
                    if !transient(&e) {
                        return Err(e);
                    }
                    e
                }
            };
            if attempt >= DELETE_ATTEMPTS {
                return Err(err);
            }
            tokio::time::sleep(DELETE_PAUSE * attempt).await;
        }
    }

    fn json_request(&self, method: Method, url: &Url, t: &AccessToken) -> reqwest::RequestBuilder {
        self.inner
            .http
            .request(method, url.clone())
            .bearer_auth(t.bearer())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// A harmless read, retried on transport errors, 429 and 5xx (honouring `Retry-After`).
    async fn read<F>(&self, limit: usize, until: Instant, build: F) -> Result<Reply>
    where
        F: Fn(&AccessToken) -> reqwest::RequestBuilder,
    {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let (err, wait) = match self.send(limit, &build).await {
                Ok(r) if retryable(r.status) => {
                    let wait = r.retry_after.unwrap_or_else(|| backoff(attempt));
                    (api_error("read", &r), wait)
                }
                Ok(r) => return Ok(r),
                Err(SendError::TooLarge(n)) => return Err(SendError::TooLarge(n).into_error()),
                Err(e) => {
                    let e = e.into_error();
                    if !transient(&e) {
                        return Err(e);
                    }
                    (e, backoff(attempt))
                }
            };
            if Instant::now() + wait >= until {
                return Err(err);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn saw_server_clock(&self, date: Option<time::OffsetDateTime>) {
        if let (Some(date), Ok(mut clock)) = (date, self.inner.server_clock.lock()) {
            *clock = Some((date, Instant::now()));
        }
    }

    /// The server's clock now, as its latest `Date` and our monotonic clock since tell it (to
    /// the second); `None` before any answer carried a `Date`.
    pub fn server_now(&self) -> Option<time::OffsetDateTime> {
        let (date, at) = (*self.inner.server_clock.lock().ok()?)?;
        let since = time::Duration::try_from(at.elapsed()).unwrap_or(time::Duration::ZERO);
        Some(date + since)
    }

    /// Send with the cached token; on a 401, refresh once and send once more.
    async fn send<F>(&self, limit: usize, build: F) -> std::result::Result<Reply, SendError>
    where
        F: Fn(&AccessToken) -> reqwest::RequestBuilder,
    {
        let token = self.inner.tokens.get().await.map_err(SendError::Token)?;
        let reply = send_once(build(&token), limit).await?;
        self.saw_server_clock(reply.date);
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        self.inner.tokens.invalidate(&token).await;
        let token = self.inner.tokens.get().await.map_err(SendError::Token)?;
        let reply = send_once(build(&token), limit).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            let problem: Problem = serde_json::from_slice(&reply.body).unwrap_or_default();
            return Err(SendError::Token(Error::Unauthorized(
                problem.message_or(401),
            )));
        }
        Ok(reply)
    }
}

/// Reads the answer chunk by chunk, refusing it once it passes `limit` (a `Content-Length` above
/// the limit is refused before any byte is read).
async fn send_once(
    req: reqwest::RequestBuilder,
    limit: usize,
) -> std::result::Result<Reply, SendError> {
    let resp = req.send().await.map_err(SendError::Transport)?;
    let status = resp.status();
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(&v));
    let date = header(reqwest::header::DATE).and_then(|v| crate::flow::clock::parse_http_date(&v));
    let body = read_capped(resp, limit).await.map_err(|e| match e {
        BodyError::TooLarge(n) => SendError::TooLarge(n),
        BodyError::Transport(e) => SendError::Transport(e),
    })?;
    Ok(Reply {
        status,
        body,
        content_type,
        retry_after,
        date,
    })
}

fn json_of<T: serde::de::DeserializeOwned>(op: &str, reply: &Reply) -> Result<T> {
    if !reply.status.is_success() {
        return Err(api_error(op, reply));
    }
    serde_json::from_slice(&reply.body)
        .map_err(|e| Error::Protocol(format!("Sign API {op} answer is not readable: {e}")))
}

fn api_error(op: &str, reply: &Reply) -> Error {
    api_error_of(op, reply.status, &reply.body)
}
