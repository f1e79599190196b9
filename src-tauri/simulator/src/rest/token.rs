//! `POST /auth/open/connect/token` (client credentials) and bearer token checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::faults::{Endpoint, Intercept};
use crate::server::ConnHandle;
use crate::state::AppState;

/// Issued REST access tokens.
#[derive(Clone)]
pub(crate) struct TokenStore {
    key: Arc<[u8; 32]>,
    issued: Arc<Mutex<HashMap<String, Instant>>>,
}

/// Why a bearer token is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    Missing,
    Unknown,
    Expired,
}

impl TokenRefusal {
    pub(crate) fn detail(&self) -> &'static str {
        match self {
            TokenRefusal::Missing => "No bearer token in the Authorization header.",
            TokenRefusal::Unknown => "The access token is invalid.",
            TokenRefusal::Expired => "The access token has expired.",
        }
    }
}

impl TokenStore {
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        TokenStore {
            key: Arc::new(key),
            issued: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A JWT (HS256 with a per-simulator key) carrying `account_id`.
    pub(crate) fn issue(
        &self,
        issuer: &str,
        client_id: &str,
        account_id: &str,
        ttl: Duration,
    ) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"at+jwt"}"#);
        let claims = serde_json::json!({
            "iss": issuer,
            "client_id": client_id,
            "sub": client_id,
            "account_id": account_id,
            "scope": "signicat-api",
            "iat": now,
            "nbf": now,
            "exp": now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            "jti": uuid::Uuid::new_v4().simple().to_string(),
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let signature = match Hmac::<Sha256>::new_from_slice(self.key.as_slice()) {
            Ok(mut mac) => {
                mac.update(signing_input.as_bytes());
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            }
            Err(_) => String::new(),
        };
        let token = format!("{signing_input}.{signature}");
        self.lock().insert(token.clone(), Instant::now() + ttl);
        token
    }

    /// Checks the `Authorization: Bearer` header.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<String, TokenRefusal> {
        let token = bearer(headers).ok_or(TokenRefusal::Missing)?;
        let expires = *self.lock().get(token).ok_or(TokenRefusal::Unknown)?;
        if Instant::now() >= expires {
            return Err(TokenRefusal::Expired);
        }
        Ok(token.to_owned())
    }

    /// Makes an issued token expire now (fault `ExpireToken`).
    pub(crate) fn expire(&self, token: &str) {
        if let Some(at) = self.lock().get_mut(token) {
            *at = Instant::now();
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `(client_id, client_secret)` from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded parts).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub(crate) async fn token(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Intercept::Respond(r) = state.begin(&conn, Endpoint::Token, None).await {
        return r;
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            )
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            )
        }
    }
    if let Some(scope) = form.get("scope") {
        if !scope.split(' ').any(|s| s == "signicat-api") {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "unknown scope");
        }
    }
    let credentials = basic_credentials(&headers).or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    });
    let expected = &state.config().rest_client;
    let Some((id, secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is missing",
        );
    };
    if id != expected.client_id || secret != expected.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let ttl = state.config().token_ttl;
    let issuer = format!("{}/auth/open", state.base_url());
    let access_token = state
        .rest_tokens()
        .issue(&issuer, &id, &state.config().account_id, ttl);
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "access_token": access_token,
            "expires_in": ttl.as_secs(),
            "token_type": "Bearer",
            "scope": "signicat-api",
        })),
    )
        .into_response()
}
