//! The REST `redirect` flow (seed "About authentication"), for eIDs that have no headless flow
//! (MitID, Finnish Trust Network, ...). The create answers an `authenticationUrl`: a plain HTML
//! page served here ("authenticate as persona…", no script, nothing from the network). Its buttons
//! post back to the same page, which sets the session's status and answers `303 See Other` to the
//! session's `successUrl`, `abortUrl` or `errorUrl` with `?sessionId=<id>` appended, as Signicat
//! does. The outcome itself is read with `GET /auth/rest/sessions/{id}` like any session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::problem::InvalidParam;
use crate::state::AppState;

/// Providers the simulator's redirect page plays, with their built-in customers.
pub(crate) const PROVIDERS: &[&str] = &["mitid", "ftn"];

/// A customer of the redirect page.
struct RedirectPersona {
    /// The button's value and element id (`approve-<key>`).
    key: &'static str,
    provider: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    date_of_birth: &'static str,
    nin: &'static str,
    country: &'static str,
}

const PERSONAS: &[RedirectPersona] = &[
    RedirectPersona {
        key: "lars",
        provider: "mitid",
        first_name: "Lars",
        last_name: "Jensen",
        date_of_birth: "1990-01-01",
        nin: "0101904521",
        country: "DK",
    },
    RedirectPersona {
        key: "mette",
        provider: "mitid",
        first_name: "Mette",
        last_name: "Hansen",
        date_of_birth: "1985-07-14",
        nin: "1407854638",
        country: "DK",
    },
    RedirectPersona {
        key: "matti",
        provider: "ftn",
        first_name: "Matti",
        last_name: "Meikäläinen",
        date_of_birth: "1980-03-15",
        nin: "150380-123K",
        country: "FI",
    },
];

/// The three addresses the page sends the browser back to.
#[derive(Clone, Debug)]
pub(crate) struct RedirectUrls {
    success: url::Url,
    abort: url::Url,
    error: url::Url,
}

/// A valid redirect-flow create body.
#[derive(Clone, Debug)]
pub(crate) struct RedirectRequest {
    pub(crate) provider: &'static str,
    pub(crate) urls: RedirectUrls,
    pub(crate) common: super::session_body::Common,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Created,
    Success(usize),
    Abort,
    Error,
    Cancelled,
}

#[derive(Clone, Debug)]
struct RedirectSession {
    request: RedirectRequest,
    status: Status,
    expires_at: OffsetDateTime,
    lifetime: Duration,
}

impl RedirectSession {
    /// `EXPIRED` once past `expiresAt` without an answer.
    fn rest_status(&self) -> &'static str {
        match self.status {
            Status::Created if OffsetDateTime::now_utc() >= self.expires_at => "EXPIRED",
            Status::Created => "CREATED",
            Status::Success(_) => "SUCCESS",
            Status::Abort => "ABORT",
            Status::Error => "ERROR",
            Status::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Clone, Default)]
pub(crate) struct RedirectSessions {
    inner: Arc<Mutex<HashMap<String, RedirectSession>>>,
}

impl RedirectSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RedirectSession>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Validates `allowedProviders` and `redirectSettings` of a `flow: "redirect"` body.
pub(crate) fn parse(
    obj: &Map<String, Value>,
    common: Option<super::session_body::Common>,
    mut bad: Vec<InvalidParam>,
) -> Result<RedirectRequest, Vec<InvalidParam>> {
    let provider = match obj.get("allowedProviders") {
        Some(Value::Array(a)) => match a.as_slice() {
            [Value::String(p)] => match PROVIDERS.iter().find(|k| **k == p.as_str()) {
                Some(k) => Some(*k),
                None => {
                    bad.push(InvalidParam::new(
                        "allowedProviders",
                        format!(
                            "the simulator's redirect page plays {} only, not '{p}'",
                            PROVIDERS.join(", ")
                        ),
                    ));
                    None
                }
            },
            _ => {
                bad.push(InvalidParam::new(
                    "allowedProviders",
                    "the simulator's redirect flow needs exactly one provider",
                ));
                None
            }
        },
        Some(_) => {
            bad.push(InvalidParam::new("allowedProviders", "must be an array"));
            None
        }
        None => {
            bad.push(InvalidParam::new("allowedProviders", "is required"));
            None
        }
    };
    let urls = match obj.get("redirectSettings") {
        Some(Value::Object(s)) => {
            let mut one = |name: &str| match s.get(name) {
                Some(Value::String(u)) => match url::Url::parse(u) {
                    Ok(u) if matches!(u.scheme(), "https" | "http") => Some(u),
                    _ => {
                        bad.push(InvalidParam::new(
                            format!("redirectSettings.{name}"),
                            "must be an absolute http(s) URL",
                        ));
                        None
                    }
                },
                _ => {
                    bad.push(InvalidParam::new(
                        format!("redirectSettings.{name}"),
                        "is required for the redirect flow",
                    ));
                    None
                }
            };
            let (success, abort, error) = (one("successUrl"), one("abortUrl"), one("errorUrl"));
            match (success, abort, error) {
                (Some(success), Some(abort), Some(error)) => Some(RedirectUrls {
                    success,
                    abort,
                    error,
                }),
                _ => None,
            }
        }
        Some(_) => {
            bad.push(InvalidParam::new("redirectSettings", "must be an object"));
            None
        }
        None => {
            bad.push(InvalidParam::new(
                "redirectSettings",
                "is required for the redirect flow",
            ));
            None
        }
    };
    match (bad.is_empty(), provider, urls, common) {
        (true, Some(provider), Some(urls), Some(common)) => Ok(RedirectRequest {
            provider,
            urls,
            common,
        }),
        _ => Err(bad),
    }
}

fn page_url(state: &AppState, id: &str) -> String {
    format!("{}/redirect/{id}", state.base_url())
}

/// Registers the session; the answer carries the `authenticationUrl`.
pub(crate) fn create(state: &AppState, request: RedirectRequest) -> Response {
    let lifetime = super::session_body::effective_lifetime(
        request.common.requested_lifetime,
        state.config().session_lifetime_override,
    );
    let id = uuid::Uuid::new_v4().to_string();
    let session = RedirectSession {
        request,
        status: Status::Created,
        expires_at: OffsetDateTime::now_utc() + lifetime,
        lifetime,
    };
    let body = session_json(state, &id, &session);
    state.redirect_sessions().lock().insert(id.clone(), session);
    tracing::debug!(session = %id, "redirect session created");
    axum::Json(body).into_response()
}

/// `GET /auth/rest/sessions/{id}` for a redirect session (`None`: not one of ours).
pub(crate) fn get(state: &AppState, id: &str) -> Option<Value> {
    let sessions = state.redirect_sessions().lock();
    sessions.get(id).map(|s| session_json(state, id, s))
}

/// `POST .../{id}/cancel`: a session still waiting becomes `CANCELLED`.
pub(crate) fn cancel(state: &AppState, id: &str) -> Option<Value> {
    let mut sessions = state.redirect_sessions().lock();
    let s = sessions.get_mut(id)?;
    if s.rest_status() == "CREATED" {
        s.status = Status::Cancelled;
    }
    Some(session_json(state, id, s))
}

fn session_json(state: &AppState, id: &str, s: &RedirectSession) -> Value {
    let req = &s.request;
    let mut body = json!({
        "id": id,
        "accountId": state.config().account_id,
        "status": s.rest_status(),
        "provider": req.provider,
        "flow": "redirect",
        "allowedProviders": [req.provider],
        "requestedAttributes": req.common.requested_attributes,
        "redirectSettings": {
            "successUrl": req.urls.success.as_str(),
            "abortUrl": req.urls.abort.as_str(),
            "errorUrl": req.urls.error.as_str(),
        },
        "authenticationUrl": page_url(state, id),
        "sessionLifetime": s.lifetime.as_secs(),
        "expiresAt": crate::timefmt::signicat(s.expires_at),
        "environment": "simulator",
    });
    if let Some(l) = &req.common.language {
        body["language"] = json!(l);
    }
    if let Some(r) = &req.common.external_reference {
        body["externalReference"] = json!(r);
    }
    match s.status {
        Status::Success(i) => {
            if let Some(p) = PERSONAS.get(i) {
                body["subject"] = subject(p, &req.common.requested_attributes);
                body["loa"] = json!("substantial");
            }
        }
        Status::Error => {
            body["error"] = json!({
                "type": "https://api.signicat.com/problems/idp_error",
                "title": "The identity provider reported an error",
                "detail": "The identity provider reported an error",
                "code": "idp_error",
            });
        }
        _ => {}
    }
    body
}

/// Only the requested attributes, like Signicat.
fn subject(p: &RedirectPersona, requested: &[String]) -> Value {
    let wants = |a: &str| requested.iter().any(|r| r == a);
    let mut s = json!({ "id": format!("sim-{}-{}", p.provider, p.key) });
    if wants("name") {
        s["name"] = json!(format!("{} {}", p.first_name, p.last_name));
    }
    if wants("firstName") {
        s["firstName"] = json!(p.first_name);
    }
    if wants("lastName") {
        s["lastName"] = json!(p.last_name);
    }
    if wants("dateOfBirth") {
        s["dateOfBirth"] = json!(p.date_of_birth);
    }
    if wants("nin") {
        s["nin"] = json!({ "value": p.nin, "issuingCountry": p.country, "type": "BIRTH" });
    }
    s
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:36rem}}\
         button{{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1.1rem}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page runs no script and loads nothing.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

fn provider_name(provider: &str) -> &'static str {
    match provider {
        "mitid" => "MitID",
        "ftn" => "Finnish Trust Network",
        _ => "eID",
    }
}

/// `GET /redirect/{id}`: the provider's page, one button per persona plus abort and error.
pub(crate) async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let session = state.redirect_sessions().lock().get(&id).cloned();
    let Some(s) = session else {
        return html(StatusCode::NOT_FOUND, "Unknown session", "");
    };
    if s.rest_status() != "CREATED" {
        return html(StatusCode::GONE, "This session is over", "");
    }
    let provider = s.request.provider;
    let mut buttons = String::new();
    for p in PERSONAS.iter().filter(|p| p.provider == provider) {
        buttons.push_str(&format!(
            "<button type=\"submit\" name=\"choice\" value=\"approve:{key}\" id=\"approve-{key}\">\
             Authenticate as {first} {last} ({country})</button>",
            key = p.key,
            first = p.first_name,
            last = p.last_name,
            country = p.country,
        ));
    }
    let body = format!(
        "<p>Simulated {name}: authenticate as persona…</p>\
         <form method=\"post\" action=\"/redirect/{id}\">{buttons}\
         <button type=\"submit\" name=\"choice\" value=\"abort\" id=\"abort\">Cancel</button>\
         <button type=\"submit\" name=\"choice\" value=\"error\" id=\"error\">Fail with an error</button>\
         </form>",
        name = provider_name(provider),
    );
    html(StatusCode::OK, provider_name(provider), &body)
}

/// `POST /redirect/{id}` (`choice=approve:<persona>|abort|error`): sets the status, then
/// `303 See Other` to the matching URL with `sessionId`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let choice = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "choice")
        .map(|(_, v)| v.into_owned());
    let mut sessions = state.redirect_sessions().lock();
    let Some(s) = sessions.get_mut(&id) else {
        return html(StatusCode::NOT_FOUND, "Unknown session", "");
    };
    if s.rest_status() != "CREATED" {
        return html(StatusCode::GONE, "This session is over", "");
    }
    let provider = s.request.provider;
    let (status, target) = match choice.as_deref() {
        Some("abort") => (Status::Abort, &s.request.urls.abort),
        Some("error") => (Status::Error, &s.request.urls.error),
        Some(c) => {
            let key = c.strip_prefix("approve:").unwrap_or_default();
            match PERSONAS
                .iter()
                .position(|p| p.provider == provider && p.key == key)
            {
                Some(i) => (Status::Success(i), &s.request.urls.success),
                None => return html(StatusCode::BAD_REQUEST, "Unknown choice", ""),
            }
        }
        None => return html(StatusCode::BAD_REQUEST, "Unknown choice", ""),
    };
    let mut location = target.clone();
    location.query_pairs_mut().append_pair("sessionId", &id);
    s.status = status;
    tracing::debug!(session = %id, status = s.rest_status(), "redirect session answered");
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}
