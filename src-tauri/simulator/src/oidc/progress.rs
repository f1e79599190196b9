//! Polling: nbid `GET statusUri`, sbid `GET collectUrl?orderRef=`.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::OidcError;
use super::http::session_cookie;
use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::phone::{OrderSnapshot, OrderStatus};
use crate::server::ConnHandle;
use crate::state::AppState;

pub(crate) async fn status(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> Response {
    poll(&state, &conn, &headers, Endpoint::Status, &order).await
}

#[derive(Deserialize)]
pub(crate) struct CollectQuery {
    #[serde(rename = "orderRef")]
    order_ref: Option<String>,
}

pub(crate) async fn collect(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Query(query): Query<CollectQuery>,
) -> Response {
    let Some(order) = query.order_ref.filter(|o| !o.is_empty()) else {
        state.counters().record(Endpoint::Collect, None);
        return OidcError::invalid_request("missing orderRef").into_response();
    };
    poll(&state, &conn, &headers, Endpoint::Collect, &order).await
}

async fn poll(
    state: &AppState,
    conn: &ConnHandle,
    headers: &HeaderMap,
    endpoint: Endpoint,
    order: &str,
) -> Response {
    let fault = match state.begin(conn, endpoint, Some(order)).await {
        Intercept::Respond(r) => return r,
        Intercept::Continue(f) => f,
    };
    if let Err(e) = check_session(state, headers, order, fault.as_ref()) {
        return e.into_response();
    }
    if let Some(FaultKind::ErrorJson { error, description }) = fault {
        return Json(json!({ "error": error, "error_description": description })).into_response();
    }
    let Some(snapshot) = state.phone().get(order) else {
        return OidcError::invalid_session().into_response();
    };
    let swedish = {
        let store = state.oidc().store.lock();
        store
            .txns
            .get(order)
            .map(|t| t.request.method.is_swedish())
            .unwrap_or(false)
    };
    if swedish != (endpoint == Endpoint::Collect) {
        return OidcError::invalid_request(if swedish {
            "this is a Swedish BankID order: poll collectUrl?orderRef=..."
        } else {
            "this is a Norwegian BankID order: poll statusUri"
        })
        .into_response();
    }
    if snapshot.status == OrderStatus::Success {
        state.counters().success_seen(order);
    }
    let issuer = state.issuer();
    let body = if swedish {
        collect_body(state, &snapshot, &issuer)
    } else {
        status_body(&snapshot, &issuer)
    };
    Json(body).into_response()
}

/// Requires the cookie set by this order's authorize response.
pub(crate) fn check_session(
    state: &AppState,
    headers: &HeaderMap,
    order: &str,
    fault: Option<&FaultKind>,
) -> Result<(), OidcError> {
    if fault == Some(&FaultKind::DropCookie) {
        return Err(OidcError::invalid_session());
    }
    let cookie = session_cookie(headers).ok_or_else(OidcError::invalid_session)?;
    let store = state.oidc().store.lock();
    match store.txns.get(order) {
        Some(txn) if super::http::secret_eq(&txn.cookie, &cookie) => Ok(()),
        _ => Err(OidcError::invalid_session()),
    }
}

fn status_body(snapshot: &OrderSnapshot, issuer: &str) -> Value {
    match snapshot.status {
        OrderStatus::Created | OrderStatus::WaitingForUser => json!({ "status": "pending" }),
        OrderStatus::Success => json!({
            "status": "finished",
            "completeUri": format!("{issuer}/inapp/complete/{}", snapshot.id),
        }),
        other => failure(other),
    }
}

fn collect_body(state: &AppState, snapshot: &OrderSnapshot, issuer: &str) -> Value {
    let mut store = state.oidc().store.lock();
    let last = store.txns.get(&snapshot.id).and_then(|t| t.last_progress);
    // BankID's own sequence: outstanding → noClient until the app starts, then started → userSign.
    let progress = match snapshot.status {
        OrderStatus::Created => match last {
            None => "OUTSTANDING_TRANSACTION",
            Some(_) => "NO_CLIENT",
        },
        OrderStatus::WaitingForUser => match last {
            Some("STARTED") | Some("USER_SIGN") => "USER_SIGN",
            _ => "STARTED",
        },
        OrderStatus::Success => "COMPLETE",
        other => return failure(other),
    };
    if let Some(txn) = store.txns.get_mut(&snapshot.id) {
        txn.last_progress = Some(progress);
    }
    if progress == "COMPLETE" {
        json!({
            "progressStatus": progress,
            "completeUrl": format!("{issuer}/inapp/complete/{}", snapshot.id),
        })
    } else {
        json!({ "progressStatus": progress })
    }
}

/// BankID's failure codes in the legacy OIDC spelling, with BankID's recommended messages.
pub(crate) fn failure_code(status: OrderStatus) -> (&'static str, &'static str) {
    match status {
        OrderStatus::Aborted => ("USER_CANCEL", "The action was cancelled."),
        OrderStatus::Failed(code) => (code.oidc_error(), code.title()),
        OrderStatus::Cancelled => ("CANCELLED", "The action was cancelled. Please try again."),
        OrderStatus::Expired => (
            "EXPIRED_TRANSACTION",
            "The BankID app is not responding. Please check that it's started and that you have internet access.",
        ),
        OrderStatus::Created | OrderStatus::WaitingForUser | OrderStatus::Success => {
            ("INTERNAL_ERROR", "unexpected order state")
        }
    }
}

fn failure(status: OrderStatus) -> Value {
    let (error, description) = failure_code(status);
    json!({ "error": error, "error_description": description })
}
