//! `POST {issuer}/token`: authorization code grant with HTTP Basic client auth and PKCE S256.

use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::error::OidcError;
use super::http::{basic_credentials, form_pairs, secret_eq};
use super::id_token::{self, IdTokenInput, IdTokenSpoil};
use super::keys::OidcKeys;
use super::params::RawParams;
use super::store::{random_token, AccessGrant, Inner};
use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::server::ConnHandle;
use crate::state::AppState;

pub(crate) async fn token(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match state.begin(&conn, Endpoint::OidcToken, None).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    let keys = match state.oidc().keys().await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    match exchange(&state, &keys, &headers, &body, fault.as_ref()) {
        Ok(response) => response,
        Err(e) => {
            tracing::info!(error = %e.error, "oidc token refused");
            e.into_response()
        }
    }
}

fn exchange(
    state: &AppState,
    keys: &OidcKeys,
    headers: &HeaderMap,
    body: &[u8],
    fault: Option<&FaultKind>,
) -> Result<Response, OidcError> {
    let client_id = authenticate(state, headers)?;
    let raw = RawParams::from_pairs(form_pairs(body));
    if raw.has("client_secret") {
        return Err(OidcError::invalid_request(
            "client_secret in the body is not accepted; authenticate with HTTP Basic",
        ));
    }
    match raw.get("grant_type")? {
        Some("authorization_code") => {}
        Some(super::ciba::GRANT_TYPE) => {
            return super::ciba::grant(state, keys, &client_id, &raw, spoil_of(fault))
        }
        _ => {
            return Err(OidcError::bad_request(
                "unsupported_grant_type",
                "grant_type must be authorization_code or urn:openid:params:grant-type:ciba",
            ))
        }
    }
    let code = required(&raw, "code")?;
    let redirect_uri = required(&raw, "redirect_uri")?;
    let verifier = required(&raw, "code_verifier")?;
    let oidc = state.oidc();
    let mut store = oidc.store.lock();
    // Removed before any check: a code is burnt by its first presentation, good or bad.
    let grant = store
        .codes
        .remove(code)
        .ok_or_else(|| invalid_grant("unknown, expired or already used code"))?;
    if grant.expires < Instant::now() {
        return Err(invalid_grant("the code has expired"));
    }
    if grant.request.client_id != client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if grant.request.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            "redirect_uri differs from the one in the authorize request",
        ));
    }
    if !pkce_ok(verifier, &grant.request.code_challenge) {
        return Err(invalid_grant(
            "PKCE verification failed: code_verifier does not match code_challenge (S256)",
        ));
    }
    let acr = grant.request.method.acr();
    issue_tokens(
        state,
        keys,
        store,
        Issue {
            client_id: &client_id,
            nonce: &grant.request.nonce,
            acr: &acr,
            scope: &grant.request.scope,
            order_id: grant.order_id.clone(),
            identity: grant.identity.clone(),
            sdo: grant.sdo.clone(),
        },
        spoil_of(fault),
    )
}

/// What a grant (authorization code or CIBA) hands out.
pub(super) struct Issue<'a> {
    pub(super) client_id: &'a str,
    /// Empty: the token carries no `nonce` (CIBA sends none).
    pub(super) nonce: &'a str,
    pub(super) acr: &'a str,
    pub(super) scope: &'a str,
    pub(super) order_id: String,
    pub(super) identity: Map<String, Value>,
    pub(super) sdo: Option<Arc<Vec<u8>>>,
}

/// Mints the ID token (spoiled as a fault asks), stores the access token for userinfo and the
/// SDO, and answers. Takes the store's lock so the rotation flag and the token land together.
pub(super) fn issue_tokens(
    state: &AppState,
    keys: &OidcKeys,
    mut store: MutexGuard<'_, Inner>,
    issue: Issue<'_>,
    spoil: IdTokenSpoil,
) -> Result<Response, OidcError> {
    if spoil == IdTokenSpoil::RotatedKey {
        store.rotated = true;
    }
    let oidc = state.oidc();
    let issuer = state.issuer();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let id_token = id_token::mint(
        keys,
        &IdTokenInput {
            issuer: &issuer,
            client_id: issue.client_id,
            nonce: issue.nonce,
            acr: issue.acr,
            now,
            lifetime_secs: secs(oidc.settings.id_token_ttl),
            identity: &issue.identity,
            rotated: store.rotated,
        },
        spoil,
    )
    .map_err(|e| OidcError::server_error(&e.to_string()))?;
    let access_token = random_token();
    let ttl = oidc.settings.access_token_ttl;
    store.tokens.insert(
        access_token.clone(),
        AccessGrant {
            order_id: issue.order_id,
            identity: issue.identity,
            expires: Instant::now() + ttl,
            sdo: issue.sdo,
        },
    );
    drop(store);
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": secs(ttl),
        "id_token": id_token,
        "scope": issue.scope,
    });
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

/// How a fault spoils the next ID token.
fn spoil_of(fault: Option<&FaultKind>) -> IdTokenSpoil {
    match fault {
        Some(FaultKind::IdTokenBadSignature) => IdTokenSpoil::BadSignature,
        Some(FaultKind::IdTokenWrongAudience) => IdTokenSpoil::WrongAudience,
        Some(FaultKind::IdTokenWrongNonce) => IdTokenSpoil::WrongNonce,
        Some(FaultKind::IdTokenExpired) => IdTokenSpoil::Expired,
        Some(FaultKind::IdTokenWrongIssuer) => IdTokenSpoil::WrongIssuer,
        Some(FaultKind::IdTokenUnknownKid) => IdTokenSpoil::UnknownKid,
        Some(FaultKind::IdTokenRotatedKey) => IdTokenSpoil::RotatedKey,
        _ => IdTokenSpoil::None,
    }
}

/// HTTP Basic only; either OIDC client.
pub(crate) fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<String, OidcError> {
    let (id, secret) = basic_credentials(headers).ok_or_else(|| {
        OidcError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication required: Authorization: Basic base64(client_id:client_secret)",
        )
    })?;
    let config = state.config();
    let known = [&config.oidc_client, &config.sign_client]
        .into_iter()
        .any(|c| c.client_id == id && secret_eq(&c.client_secret, &secret));
    if !known {
        return Err(OidcError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        ));
    }
    Ok(id)
}

fn required<'a>(raw: &'a RawParams, name: &str) -> Result<&'a str, OidcError> {
    match raw.get(name)? {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OidcError::invalid_request(&format!(
            "missing required parameter {name}"
        ))),
    }
}

fn invalid_grant(description: &str) -> OidcError {
    OidcError::bad_request("invalid_grant", description)
}

/// RFC 7636: 43–128 unreserved characters whose SHA-256, base64url, equals the challenge.
fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
