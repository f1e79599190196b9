//! Faults on demand: the next N matching requests misbehave.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::server::ConnHandle;

/// The endpoint a request hits (also the key of request counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Endpoint {
    /// REST `POST /auth/open/connect/token`.
    Token,
    /// REST `POST /auth/rest/sessions`.
    Create,
    /// REST `GET /auth/rest/sessions/{id}`.
    Get,
    /// REST `POST /auth/rest/sessions/{id}/cancel`.
    Cancel,
    /// OIDC discovery document.
    Discovery,
    /// OIDC `jwks.json`.
    Jwks,
    /// OIDC `authorize` (GET or POST).
    Authorize,
    /// OIDC nbid `statusUri`.
    Status,
    /// OIDC sbid `collectUrl`.
    Collect,
    /// OIDC `completeUri`/`completeUrl` and the redirect hops after it.
    Complete,
    /// OIDC `token`.
    OidcToken,
    /// OIDC CIBA `backchannel`.
    Backchannel,
    /// OIDC `userinfo`.
    Userinfo,
    /// OIDC `signature` (SDO).
    Signature,
    /// Sign API v2 `POST /sign/documents`.
    SignUpload,
    /// Sign API v2 `POST /sign/document-collections`.
    SignCollection,
    /// Sign API v2 `POST /sign/signing-sessions`.
    SignCreate,
    /// Sign API v2 `GET /sign/signing-sessions/{id}`.
    SignGet,
    /// Sign API v2 `GET /sign/documents/{id}` (result documents).
    SignDownload,
    /// Sign API v2 `DELETE` of a document, collection or session.
    SignDelete,
    /// Matches every endpoint (as a fault target only).
    Any,
}

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FaultKind {
    /// The response is delayed (the request is then handled normally).
    Latency(Duration),
    /// `503` with `Retry-After`.
    Unavailable { retry_after_secs: u64 },
    /// `429` with `Retry-After`.
    TooManyRequests { retry_after_secs: u64 },
    /// The TCP connection is closed without any response (the request is not handled).
    DropConnection,
    /// The request IS handled (a create creates its session), then the connection is closed
    /// instead of sending the response: the outcome is unknown to the client.
    DropAfterProcessing,
    /// `200` with a JSON content type and a truncated body.
    MalformedJson,
    /// `200` with a JSON body of `bytes` bytes, streamed without a `Content-Length`: a server
    /// gone wrong, which a client must stop reading at its own limit.
    HugeBody { bytes: u64 },
    /// The request's (otherwise valid) bearer token is treated as expired from now on
    /// (`401 invalid_token`). Only on endpoints that take a bearer token.
    ExpireToken,
    /// OIDC: the session cookie is not recognised (as if the client lost it).
    DropCookie,
    /// OIDC: the next ID token has a signature that does not verify.
    IdTokenBadSignature,
    /// OIDC: the next ID token's `aud` is another client.
    IdTokenWrongAudience,
    /// OIDC: the next ID token's `nonce` differs from the one sent.
    IdTokenWrongNonce,
    /// OIDC: the next ID token expired an hour ago.
    IdTokenExpired,
    /// OIDC: the next ID token's `iss` is another issuer.
    IdTokenWrongIssuer,
    /// OIDC: the next ID token is signed with a key whose `kid` is not in the JWKS.
    IdTokenUnknownKid,
    /// OIDC: the next ID token is signed with a new key that the JWKS publishes from now on (key
    /// rotation: a client that refetches the JWKS once on an unknown `kid` verifies it).
    IdTokenRotatedKey,
    /// OIDC: completion redirects back to itself forever.
    RedirectLoop,
    /// OIDC: `authorize`/status/collect answer `{"error": .., "error_description": ..}`.
    ErrorJson { error: String, description: String },
    /// OIDC: `/signature` refuses (403) although the token is valid.
    Refused,
    /// `307 Temporary Redirect` to `location` (a server, or something in front of it, sending
    /// the request elsewhere): a client that sends secrets must not follow it.
    RedirectTo { location: String },
    /// REST: a successful session names another person (Ola Nordmann, 01100844350) than the
    /// one the order was for: the desk must not take it as verified. Consumed by every `get` it
    /// matches, so target one session with enough `times` to reach its success.
    WrongSubject,
    /// Sign API v2: a downloaded XAdES result names another document's digest than the one
    /// signed, as a result from another session would.
    WrongDocument,
    /// Sign API v2: the session's `output.signatures[]` name no signer, as in Signicat's
    /// published schema (which has no `signer` there): production's answer. Consumed by every
    /// `get` it matches, so give it enough `times` to reach the signature.
    UnnamedSigner,
}

impl FaultKind {
    /// Whether the fault makes sense at this endpoint (so an `Any` fault is not eaten by an
    /// endpoint that cannot show it).
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        use Endpoint as E;
        match self {
            FaultKind::Latency(_)
            | FaultKind::Unavailable { .. }
            | FaultKind::TooManyRequests { .. }
            | FaultKind::DropConnection
            | FaultKind::DropAfterProcessing
            | FaultKind::MalformedJson
            | FaultKind::HugeBody { .. }
            | FaultKind::RedirectTo { .. } => true,
            FaultKind::ExpireToken => matches!(
                endpoint,
                E::Create | E::Get | E::Cancel | E::Userinfo | E::Signature
            ),
            FaultKind::DropCookie => {
                matches!(
                    endpoint,
                    E::Authorize | E::Status | E::Collect | E::Complete
                )
            }
            FaultKind::IdTokenBadSignature
            | FaultKind::IdTokenWrongAudience
            | FaultKind::IdTokenWrongNonce
            | FaultKind::IdTokenExpired
            | FaultKind::IdTokenWrongIssuer
            | FaultKind::IdTokenUnknownKid
            | FaultKind::IdTokenRotatedKey => endpoint == E::OidcToken,
            FaultKind::RedirectLoop => endpoint == E::Complete,
            FaultKind::ErrorJson { .. } => {
                matches!(endpoint, E::Authorize | E::Status | E::Collect)
            }
            FaultKind::Refused => endpoint == E::Signature,
            FaultKind::WrongSubject => endpoint == E::Get,
            FaultKind::WrongDocument => endpoint == E::SignDownload,
            FaultKind::UnnamedSigner => endpoint == E::SignGet,
        }
    }

    /// Faults every endpoint handles the same way (see [`intercept`]).
    fn is_transport(&self) -> bool {
        matches!(
            self,
            FaultKind::Latency(_)
                | FaultKind::Unavailable { .. }
                | FaultKind::TooManyRequests { .. }
                | FaultKind::DropConnection
                | FaultKind::DropAfterProcessing
                | FaultKind::MalformedJson
                | FaultKind::HugeBody { .. }
                | FaultKind::RedirectTo { .. }
        )
    }
}

/// A fault for the next `times` requests to `target` (for one session/order, or any).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub target: Endpoint,
    /// A REST session id or an OIDC order ref; `None` = any request to `target`.
    #[serde(default)]
    pub session: Option<String>,
    pub kind: FaultKind,
    /// How many matching requests it affects (0 is treated as 1).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// One request to `target`, any session.
    pub fn new(target: Endpoint, kind: FaultKind) -> Self {
        Fault {
            target,
            session: None,
            kind,
            times: 1,
        }
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    pub fn for_session(mut self, id: impl Into<String>) -> Self {
        self.session = Some(id.into());
        self
    }
}

/// Pending faults, first injected first used.
#[derive(Clone, Default)]
pub(crate) struct Faults {
    pending: Arc<Mutex<Vec<Fault>>>,
    /// Bytes of [`FaultKind::HugeBody`] answers handed to the connection so far: a client that
    /// stops reading at its limit leaves most of a 20 MB answer unsent (back-pressure).
    huge_streamed: Arc<std::sync::atomic::AtomicU64>,
}

impl Faults {
    pub(crate) fn inject(&self, mut fault: Fault) {
        fault.times = fault.times.max(1);
        self.lock().push(fault);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    pub(crate) fn huge_bytes_streamed(&self) -> u64 {
        self.huge_streamed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Consumes one use of the first fault matching this request.
    pub(crate) fn take(&self, endpoint: Endpoint, session: Option<&str>) -> Option<FaultKind> {
        let mut pending = self.lock();
        let index = pending.iter().position(|f| {
            (f.target == endpoint || f.target == Endpoint::Any)
                && f.session.as_deref().is_none_or(|s| Some(s) == session)
                && f.kind.applies_to(endpoint)
        })?;
        let fault = pending.get_mut(index)?;
        let kind = fault.kind.clone();
        fault.times = fault.times.saturating_sub(1);
        if fault.times == 0 {
            pending.remove(index);
        }
        Some(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a handler does after [`intercept`].
pub(crate) enum Intercept {
    /// Handle the request; `Some` carries an endpoint-specific fault to act on.
    Continue(Option<FaultKind>),
    /// Answer with this response instead.
    Respond(Response),
}

/// Takes the fault for this request (if any) and applies the transport-level kinds: latency,
/// 503, 429, dropped connection, malformed JSON.
pub(crate) async fn intercept(
    faults: &Faults,
    conn: &ConnHandle,
    endpoint: Endpoint,
    session: Option<&str>,
) -> Intercept {
    let Some(kind) = faults.take(endpoint, session) else {
        return Intercept::Continue(None);
    };
    if !kind.is_transport() {
        return Intercept::Continue(Some(kind));
    }
    match kind {
        FaultKind::Latency(d) => {
            tokio::time::sleep(d).await;
            Intercept::Continue(None)
        }
        FaultKind::Unavailable { retry_after_secs } => Intercept::Respond(retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            retry_after_secs,
            "service_unavailable",
            "Service Unavailable",
        )),
        FaultKind::TooManyRequests { retry_after_secs } => Intercept::Respond(retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            retry_after_secs,
            "too_many_requests",
            "Too Many Requests",
        )),
        FaultKind::DropAfterProcessing => {
            conn.drop_after_response();
            Intercept::Continue(None)
        }
        FaultKind::DropConnection => {
            conn.drop_connection().await;
            // Only reached when the router is driven without our accept loop.
            Intercept::Respond(StatusCode::BAD_GATEWAY.into_response())
        }
        FaultKind::HugeBody { bytes } => {
            Intercept::Respond(huge_body(bytes, faults.huge_streamed.clone()))
        }
        FaultKind::RedirectTo { location } => Intercept::Respond(
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
            )
                .into_response(),
        ),
        _ => Intercept::Respond(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"id\": \"3f1c\", \"status\": \"SUCC",
            )
                .into_response(),
        ),
    }
}

/// A JSON object padded to `bytes`, produced 64 KiB at a time (the simulator never holds it).
fn huge_body(bytes: u64, streamed: Arc<std::sync::atomic::AtomicU64>) -> Response {
    use axum::body::{Body, Bytes};
    const CHUNK: usize = 64 * 1024;
    let chunks = usize::try_from(bytes / CHUNK as u64 + 1).unwrap_or(usize::MAX);
    let parts = std::iter::once(Bytes::from_static(b"{\"id\":\"3f1c\",\"pad\":\""))
        .chain(std::iter::repeat_n(Bytes::from(vec![b' '; CHUNK]), chunks))
        .chain(std::iter::once(Bytes::from_static(b"\"}")))
        .map(move |chunk| {
            // Counted as hyper takes each chunk, which it does only as the socket drains.
            let n = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
            streamed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok::<_, std::convert::Infallible>(chunk)
        });
    let mut response = Response::new(Body::from_stream(futures::stream::iter(parts)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn retry_after(status: StatusCode, secs: u64, code: &str, title: &str) -> Response {
    let body = serde_json::json!({
        "type": format!("https://api.signicat.com/problems/{code}"),
        "title": title,
        "status": status.as_u16(),
        "code": code,
        "traceId": uuid::Uuid::new_v4().simple().to_string(),
    });
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}
