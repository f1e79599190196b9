//! Bearer-protected resources: `GET {issuer}/userinfo` and `GET {issuer}/signature` (the SDO).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::error::OidcError;
use super::http::bearer;
use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::server::ConnHandle;
use crate::state::AppState;

pub(crate) async fn userinfo(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
) -> Response {
    match grant(&state, &conn, &headers, Endpoint::Userinfo).await {
        Ok(Granted::Grant { identity, .. }) => Json(Value::Object(identity)).into_response(),
        Ok(Granted::Respond(r)) => r,
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn signature(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
) -> Response {
    match grant(&state, &conn, &headers, Endpoint::Signature).await {
        Ok(Granted::Grant { sdo: Some(sdo), .. }) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            sdo.as_ref().clone(),
        )
            .into_response(),
        Ok(Granted::Grant { sdo: None, .. }) => OidcError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "this access token is not from a Consent Signature (signicat.sign) flow",
        )
        .into_response(),
        Ok(Granted::Respond(r)) => r,
        Err(e) => e.into_response(),
    }
}

enum Granted {
    Grant {
        identity: Map<String, Value>,
        sdo: Option<Arc<Vec<u8>>>,
    },
    Respond(Response),
}

/// Finds the access token's grant; the fault (if any) is applied here.
async fn grant(
    state: &AppState,
    conn: &ConnHandle,
    headers: &HeaderMap,
    endpoint: Endpoint,
) -> Result<Granted, OidcError> {
    let token = bearer(headers);
    let order = token.as_deref().and_then(|t| {
        state
            .oidc()
            .store
            .lock()
            .tokens
            .get(t)
            .map(|g| g.order_id.clone())
    });
    let fault = match state.begin(conn, endpoint, order.as_deref()).await {
        Intercept::Respond(r) => return Ok(Granted::Respond(r)),
        Intercept::Continue(f) => f,
    };
    let token = token
        .ok_or_else(|| OidcError::invalid_token("missing Authorization: Bearer <access_token>"))?;
    let mut store = state.oidc().store.lock();
    let grant = store
        .tokens
        .get_mut(&token)
        .ok_or_else(|| OidcError::invalid_token("unknown access token"))?;
    let now = Instant::now();
    if fault == Some(FaultKind::ExpireToken) {
        grant.expires = now;
    }
    if grant.expires <= now {
        return Err(OidcError::invalid_token(
            "the access token has expired (the SDO can no longer be fetched)",
        ));
    }
    if fault == Some(FaultKind::Refused) {
        return Err(OidcError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            "the signature service refused the request",
        ));
    }
    Ok(Granted::Grant {
        identity: grant.identity.clone(),
        sdo: grant.sdo.clone(),
    })
}
