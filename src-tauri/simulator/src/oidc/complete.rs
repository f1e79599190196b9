//! Completion: `GET completeUri` → 302 (relative) → 302 (absolute) → 302 to
//! `redirect_uri?code&state` (or `?error&error_description&state`). Three hops, like Signicat's
//! chain through its own pages, so clients must really follow redirects and resolve relative ones.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::error::OidcError;
use super::progress::{check_session, failure_code};
use super::sdo::{self, SdoInput};
use super::store::{random_token, CodeGrant};
use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::persona::Person;
use crate::phone::OrderStatus;
use crate::server::ConnHandle;
use crate::state::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hop {
    Start,
    Resume,
    Callback,
}

pub(crate) async fn start(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Response {
    hop(&state, &conn, &headers, &order, Hop::Start).await
}

pub(crate) async fn resume(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Response {
    hop(&state, &conn, &headers, &order, Hop::Resume).await
}

pub(crate) async fn callback(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Response {
    hop(&state, &conn, &headers, &order, Hop::Callback).await
}

async fn hop(
    state: &AppState,
    conn: &ConnHandle,
    headers: &HeaderMap,
    order: &str,
    hop: Hop,
) -> Response {
    let fault = match state.begin(conn, Endpoint::Complete, Some(order)).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    if let Err(e) = check_session(state, headers, order, fault.as_ref()) {
        return e.into_response();
    }
    let issuer = state.issuer();
    let looping = {
        let mut store = state.oidc().store.lock();
        match store.txns.get_mut(order) {
            Some(txn) => {
                if fault == Some(FaultKind::RedirectLoop) {
                    txn.looping = true;
                }
                txn.looping
            }
            None => return OidcError::invalid_session().into_response(),
        }
    };
    if looping {
        return found(&format!("{issuer}/inapp/complete/{order}"));
    }
    match hop {
        // Relative reference with dot segments: resolves to {issuer}/authorize/resume/{order}.
        Hop::Start => found(&format!("../../authorize/resume/{order}")),
        Hop::Resume => found(&format!("{issuer}/authorize/callback/{order}")),
        Hop::Callback => finish(state, order),
    }
}

fn finish(state: &AppState, order: &str) -> Response {
    let Some(snapshot) = state.phone().get(order) else {
        return OidcError::invalid_session().into_response();
    };
    let oidc = state.oidc();
    let mut store = oidc.store.lock();
    let Some(txn) = store.txns.get_mut(order) else {
        return OidcError::invalid_session().into_response();
    };
    if txn.code_issued {
        return OidcError::invalid_request("this authentication was already completed")
            .into_response();
    }
    let request = txn.request.clone();
    let location = match snapshot.status {
        OrderStatus::Success => {
            txn.code_issued = true;
            let identity = identity_claims(&snapshot.person);
            let sdo = request.sign_text.as_deref().map(|text| {
                Arc::new(sdo::build(&SdoInput {
                    transaction_id: order,
                    method_acr: &request.method.acr(),
                    sign_text: text,
                    national_id: &snapshot.person.nin,
                    country: snapshot.person.country.code(),
                    name: &snapshot.person.name(),
                    signed_at: snapshot
                        .approved_at_wall
                        .unwrap_or_else(OffsetDateTime::now_utc),
                }))
            });
            let code = random_token();
            store.codes.insert(
                code.clone(),
                CodeGrant {
                    order_id: order.to_owned(),
                    request: request.clone(),
                    identity,
                    expires: Instant::now() + oidc.settings.code_ttl,
                    sdo,
                },
            );
            redirect_with(
                &request.redirect_uri,
                &[("code", &code), ("state", &request.state)],
            )
        }
        OrderStatus::Created | OrderStatus::WaitingForUser => {
            return OidcError::invalid_request(
                "the authentication is not finished; poll until it completes",
            )
            .into_response()
        }
        failed => {
            txn.code_issued = true;
            let (code, description) = failure_code(failed);
            redirect_with(
                &request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", &format!("{code}: {description}")),
                    ("state", &request.state),
                ],
            )
        }
    };
    match location {
        Some(location) => found(&location),
        None => OidcError::server_error("the registered redirect_uri is not a URL").into_response(),
    }
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(redirect_uri).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
    }
    Some(url.to_string())
}

fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// The claims the ID token and userinfo carry for this person.
pub(crate) fn identity_claims(person: &Person) -> Map<String, Value> {
    // A stable, opaque subject per person (Signicat's `sub` is pairwise and opaque too).
    let digest = Sha256::digest(format!(
        "id-desk-sim:{}:{}",
        person.country.code(),
        person.nin
    ));
    let sub = hex::encode(&digest[..20]);
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::from(sub));
    claims.insert("name".into(), Value::from(person.name()));
    claims.insert("given_name".into(), Value::from(person.first_name.clone()));
    claims.insert("family_name".into(), Value::from(person.last_name.clone()));
    claims.insert(
        "birthdate".into(),
        Value::from(format!(
            "{:04}-{:02}-{:02}",
            person.date_of_birth.year(),
            u8::from(person.date_of_birth.month()),
            person.date_of_birth.day()
        )),
    );
    claims.insert(
        "signicat.national_id".into(),
        Value::from(person.nin.clone()),
    );
    claims
}
