//! `GET|POST {issuer}/authorize`: validates, creates the phone order, sets the session cookie.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::OidcError;
use super::http::{accepts_json, form_pairs, set_cookie};
use super::keys::OidcKeys;
use super::params::{self, AuthorizeRequest, Clients, LoginHint, RawParams, Source};
use super::request_object;
use super::store::{random_token, Txn};
use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::phone::{Family, Identity, Method as PhoneMethod, OrderSpec};
use crate::server::ConnHandle;
use crate::state::AppState;

pub(crate) async fn authorize_get(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = form_pairs(query.unwrap_or_default().as_bytes());
    authorize(state, conn, headers, pairs).await
}

pub(crate) async fn authorize_post(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authorize(state, conn, headers, form_pairs(&body)).await
}

async fn authorize(
    state: AppState,
    conn: ConnHandle,
    headers: HeaderMap,
    pairs: Vec<(String, String)>,
) -> Response {
    let fault = match state.begin(&conn, Endpoint::Authorize, None).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    if !accepts_json(&headers) {
        return html_page();
    }
    if let Some(FaultKind::ErrorJson { error, description }) = &fault {
        return OidcError::bad_request(error, description).into_response();
    }
    let keys = match state.oidc().keys().await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    let request = match parse(&state, &keys, pairs) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e.error, "oidc authorize refused");
            return e.into_response();
        }
    };
    let (method, identity) = match &request.hint {
        LoginHint::Nbid { birth_date, phone } => (
            PhoneMethod::NbidMobile,
            Identity::NorwegianPhone {
                phone: phone.clone(),
                birth_date: *birth_date,
            },
        ),
        LoginHint::Sbid { subject } => (
            PhoneMethod::SbidAppLaunch,
            Identity::SwedishNin(Some(subject.clone())),
        ),
    };
    let config = state.config();
    let spec = OrderSpec {
        family: Family::Oidc,
        method,
        identity,
        lifetime: config
            .session_lifetime_override
            .unwrap_or(config.oidc_order_lifetime),
        sign_text: request.sign_text.clone(),
        binding_message: None,
        requested: Default::default(),
        scenario: None,
    };
    let Some(order) = state.phone().create(spec) else {
        return OidcError::invalid_request("login_hint does not name a person BankID knows")
            .into_response();
    };
    tracing::info!(
        order = %order.id,
        method = %request.method.acr(),
        customer = %order.identity.masked(),
        "oidc order created"
    );
    let issuer = state.issuer();
    let body = if request.method.is_swedish() {
        json!({
            "autoStartToken": order.auto_start_token,
            "orderRef": order.id,
            "collectUrl": format!("{issuer}/inapp/collect"),
        })
    } else {
        json!({ "statusUri": format!("{issuer}/inapp/status/{}", order.id) })
    };
    let cookie = random_token();
    state.oidc().store.lock().txns.insert(
        order.id.clone(),
        Txn {
            cookie: cookie.clone(),
            request,
            last_progress: None,
            looping: false,
            code_issued: false,
        },
    );
    let mut response = Json(body).into_response();
    if fault != Some(FaultKind::DropCookie) {
        set_cookie(&mut response, &cookie);
    }
    response
}

/// Plain parameters, or `request=<JWE>` as the only parameter (Consent Signature).
fn parse(
    state: &AppState,
    keys: &OidcKeys,
    pairs: Vec<(String, String)>,
) -> Result<AuthorizeRequest, OidcError> {
    let config = state.config();
    let clients = Clients {
        auth: &config.oidc_client,
        sign: &config.sign_client,
        redirect_uris: &config.redirect_uris,
    };
    let raw = RawParams::from_pairs(pairs);
    if !raw.has("request") {
        return params::validate(&raw, Source::Plain, &clients);
    }
    if raw.has("login_hint") || raw.names().any(|n| n != "request") {
        return Err(OidcError::invalid_request(
            "with a request object, request=<JWE> must be the only parameter",
        ));
    }
    let jwe = raw.get("request")?.unwrap_or_default();
    let claims = request_object::decrypt(jwe, keys)?;
    let inner = RawParams::from_claims(claims)?;
    if inner.has("request") {
        return Err(OidcError::invalid_request(
            "a request object must not contain another request",
        ));
    }
    params::validate(&inner, Source::RequestObject, &clients)
}

/// What a browser would see: Signicat's login UI is out of scope for a headless simulator.
fn html_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ID Desk simulator</title></head>\
         <body><h1>ID Desk simulator: legacy OIDC issuer</h1>\
         <p>This issuer serves headless clients only. Send the authorize request with \
         <code>Accept: application/json</code>.</p></body></html>",
    )
        .into_response()
}
