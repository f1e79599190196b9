//! `POST /auth/rest/sessions`, `GET /auth/rest/sessions/{id}`, `POST .../{id}/cancel`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::problem::{InvalidParam, Problem};
use super::session_body::{self, Body, CreateRequest};
use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::phone::{Family, Method, OrderSnapshot, OrderSpec, OrderStatus};
use crate::server::ConnHandle;
use crate::state::AppState;

/// What the REST API remembers about a session beyond the phone's order.
#[derive(Clone, Debug)]
pub(crate) struct RestMeta {
    request: CreateRequest,
    account_id: String,
    /// `SimulatorConfig::clock_offset_secs`: how far this server's clock is from the desk's.
    clock_offset: time::Duration,
}

#[derive(Clone, Default)]
pub(crate) struct RestSessions {
    inner: Arc<Mutex<HashMap<String, RestMeta>>>,
}

impl RestSessions {
    fn insert(&self, id: String, meta: RestMeta) {
        self.lock().insert(id, meta);
    }

    fn get(&self, id: &str) -> Option<RestMeta> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RestMeta>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Bearer token and `signicat-accountId`, in that order (as Signicat checks them).
fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    fault: Option<&FaultKind>,
) -> Result<(), Problem> {
    let token = state
        .rest_tokens()
        .check(headers)
        .map_err(|r| Problem::invalid_token(r.detail()))?;
    if fault == Some(&FaultKind::ExpireToken) {
        state.rest_tokens().expire(&token);
        return Err(Problem::invalid_token("The access token has expired."));
    }
    let account = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "signicat-accountId")
        .map(|(_, v)| v.into_owned());
    match account {
        None => Err(Problem::invalid_params(vec![InvalidParam::new(
            "signicat-accountId",
            "the query parameter is required",
        )])),
        Some(a) if a != state.config().account_id => {
            Err(
                Problem::new(StatusCode::FORBIDDEN, "access_denied", "Forbidden")
                    .detail("The client has no access to this account."),
            )
        }
        Some(_) => Ok(()),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    conn: ConnHandle,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match state.begin(&conn, Endpoint::Create, None).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    if let Err(p) = authorize(&state, &headers, query.as_deref(), fault.as_ref()) {
        return p.into_response();
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported Media Type",
        )
        .detail("Content-Type must be application/json.")
        .into_response();
    }
    let request = match session_body::parse(&body) {
        Ok(Body::Headless(r)) => r,
        Ok(Body::Redirect(r)) => return super::redirect::create(&state, r),
        Err(bad) => return Problem::invalid_params(bad).into_response(),
    };
    let lifetime = session_body::effective_lifetime(
        request.requested_lifetime,
        state.config().session_lifetime_override,
    );
    let scenario = request.idcard.as_ref().map(|card| {
        card.scenario(
            time::OffsetDateTime::now_utc(),
            state.config().scaled(crate::idcard::VALIDITY),
        )
    });
    let Some(order) = state.phone().create(OrderSpec {
        family: Family::Rest,
        method: request.method,
        identity: request.identity.clone(),
        lifetime,
        sign_text: None,
        binding_message: None,
        requested: request.requested.clone(),
        scenario,
    }) else {
        return Problem::invalid_params(vec![InvalidParam::new(
            "prefilledInput",
            "unknown identity",
        )])
        .into_response();
    };
    let meta = RestMeta {
        request,
        account_id: state.config().account_id.clone(),
        clock_offset: time::Duration::seconds(state.config().clock_offset_secs),
    };
    state.rest_sessions().insert(order.id.clone(), meta.clone());
    tracing::debug!(session = %order.id, identity = %order.identity.masked(), "session created");
    Json(session_json(&order, &meta)).into_response()
}

pub(crate) async fn get(
    State(state): State<AppState>,
    conn: ConnHandle,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let fault = match state.begin(&conn, Endpoint::Get, Some(&id)).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    if let Err(p) = authorize(&state, &headers, query.as_deref(), fault.as_ref()) {
        return p.into_response();
    }
    if let Some(session) = super::redirect::get(&state, &id) {
        return Json(session).into_response();
    }
    let (Some(meta), Some(order)) = (state.rest_sessions().get(&id), state.phone().get(&id)) else {
        return Problem::not_found(&id).into_response();
    };
    if order.status == OrderStatus::Success {
        state.counters().success_seen(&id);
    }
    let mut body = session_json(&order, &meta);
    if fault == Some(FaultKind::WrongSubject) && order.status == OrderStatus::Success {
        if let Some(subject) = body.get_mut("subject").and_then(Value::as_object_mut) {
            subject.insert("name".into(), json!("Ola Nordmann"));
            subject.insert("firstName".into(), json!("Ola"));
            subject.insert("lastName".into(), json!("Nordmann"));
            subject.insert("dateOfBirth".into(), json!("2008-10-01"));
            subject.insert(
                "nin".into(),
                json!({"value": "01100844350", "issuingCountry": "NO", "type": "PERSON"}),
            );
        }
    }
    Json(body).into_response()
}

pub(crate) async fn cancel(
    State(state): State<AppState>,
    conn: ConnHandle,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let fault = match state.begin(&conn, Endpoint::Cancel, Some(&id)).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    if let Err(p) = authorize(&state, &headers, query.as_deref(), fault.as_ref()) {
        return p.into_response();
    }
    if let Some(session) = super::redirect::cancel(&state, &id) {
        return Json(session).into_response();
    }
    let Some(meta) = state.rest_sessions().get(&id) else {
        return Problem::not_found(&id).into_response();
    };
    let Some(order) = state.phone().cancel(&id) else {
        return Problem::not_found(&id).into_response();
    };
    Json(session_json(&order, &meta)).into_response()
}

/// The session object (signicat-api.md §1.4).
fn session_json(order: &OrderSnapshot, meta: &RestMeta) -> Value {
    let req = &meta.request;
    let mut idp = serde_json::Map::new();
    if let Some(m) = &order.binding_message {
        idp.insert("bindingMessage".into(), json!(m));
    }
    if let Some(t) = &order.auto_start_token {
        idp.insert("autoStartToken".into(), json!(t));
    }
    if let Some(q) = &order.qr_data {
        idp.insert("qrData".into(), json!(q));
    }
    if let Some(h) = order.hint_code() {
        idp.insert("hintCode".into(), json!(h));
    }
    let mut body = json!({
        "id": order.id,
        "accountId": meta.account_id,
        "status": order.status.rest_status(),
        "provider": req.provider,
        "flow": "headless",
        "allowedProviders": [req.provider],
        "requestedAttributes": req.requested_attributes,
        "additionalParameters": req.additional_parameters,
        "idpData": idp,
        "sessionLifetime": order.lifetime.as_secs(),
        "expiresAt": crate::timefmt::signicat(order.expires_at + meta.clock_offset),
        "environment": "simulator",
    });
    if let Some(l) = &req.language {
        body["language"] = json!(l);
    }
    if let Some(r) = &req.external_reference {
        body["externalReference"] = json!(r);
    }
    match order.status {
        OrderStatus::Success => {
            body["subject"] = subject(order, &req.requested_attributes);
            body["loa"] = json!(if req.provider == "nbid" {
                "high"
            } else {
                "substantial"
            });
        }
        OrderStatus::Failed(code) => {
            let title = order.method.failure_title(code);
            body["error"] = json!({
                "type": format!("https://api.signicat.com/problems/{}", code.rest_code()),
                "title": title,
                "detail": title,
                "code": code.rest_code(),
            });
        }
        _ => {}
    }
    body
}

/// Only the requested attributes, like Signicat.
fn subject(order: &OrderSnapshot, requested: &[String]) -> Value {
    let p = &order.person;
    let wants = |a: &str| requested.iter().any(|r| r == a);
    let mut s = json!({
        "id": stable_id("subject", &p.nin),
        "idpId": stable_id("idp", &p.nin),
    });
    if wants("name") {
        s["name"] = json!(p.name());
    }
    if wants("firstName") {
        s["firstName"] = json!(p.first_name);
    }
    if wants("lastName") {
        s["lastName"] = json!(p.last_name);
    }
    if wants("dateOfBirth") {
        s["dateOfBirth"] = json!(p.date_of_birth.to_string());
    }
    if wants("nin") {
        let kind = if order.method == Method::SbidIdCard {
            "PERSON"
        } else {
            "BIRTH"
        };
        s["nin"] = json!({
            "value": p.nin,
            "issuingCountry": p.country.code(),
            "type": kind,
        });
    }
    // Asked for by a flag rather than as an attribute; the simulator's customers are all low risk.
    if order.requested.return_risk == Some(true) {
        s["sbidRisk"] = json!("low");
    }
    if wants("phoneNumber") {
        if let crate::phone::Identity::NorwegianPhone { phone, .. } = &order.identity {
            s["phoneNumber"] = json!(format!("+47{phone}"));
        }
    }
    s
}

/// The same opaque id for the same person every time (like Signicat's subject ids).
fn stable_id(kind: &str, nin: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{kind}:{nin}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes).to_string()
}
