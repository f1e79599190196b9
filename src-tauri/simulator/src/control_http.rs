//! The control API over HTTP (`/_sim/...`), for the CLI's standalone mode and scripts. Same
//! operations as [`crate::Control`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::control::Control;
use crate::error::SimError;
use crate::faults::Fault;
use crate::state::AppState;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/sessions", get(list).delete(clear_sessions))
        .route("/sessions/{id}", get(one))
        .route("/sessions/{id}/approve", post(approve))
        .route("/sessions/{id}/reject", post(reject))
        .route("/sessions/{id}/scan", post(scan))
        .route("/sessions/{id}/pick", post(pick))
        .route("/sessions/{id}/decline", post(decline))
        .route("/idcard", post(idcard))
        .route("/faults", get(faults).post(inject).delete(clear_faults))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/personas", get(personas))
        .with_state(state)
}

fn control(state: AppState) -> Control {
    Control::new(state)
}

fn result(r: Result<(), SimError>, state: &AppState, id: &str) -> Response {
    match r {
        Ok(()) => match control(state.clone()).session(id) {
            Ok(view) => Json(view).into_response(),
            Err(e) => error(e),
        },
        Err(e) => error(e),
    }
}

fn error(e: SimError) -> Response {
    let status = match e {
        SimError::UnknownSession(_) => StatusCode::NOT_FOUND,
        SimError::InvalidAction { .. } | SimError::InvalidFault(_) => StatusCode::CONFLICT,
        SimError::InvalidIdentity(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, Json(serde_json::json!({ "error": e.to_string() }))).into_response()
}

async fn list(State(state): State<AppState>) -> Response {
    Json(control(state).sessions()).into_response()
}

async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match control(state).session(&id) {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    }
}

async fn clear_sessions(State(state): State<AppState>) -> StatusCode {
    control(state).clear_sessions();
    StatusCode::NO_CONTENT
}

async fn approve(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let r = control(state.clone()).approve(&id);
    result(r, &state, &id)
}

async fn reject(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let r = control(state.clone()).reject(&id);
    result(r, &state, &id)
}

async fn scan(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let r = control(state.clone()).scan_qr(&id);
    result(r, &state, &id)
}

#[derive(Deserialize)]
struct Pick {
    text: String,
}

async fn pick(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Pick>,
) -> Response {
    let r = control(state.clone()).pick_binding_message(&id, &body.text);
    result(r, &state, &id)
}

async fn decline(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let r = control(state.clone()).decline_call(&id);
    result(r, &state, &id)
}

#[derive(Deserialize)]
struct IdCardFor {
    nin: String,
}

/// `{"qrData": "BANKIDF.…", "expiresInSeconds": N}`: a Digital ID card payload issued now.
async fn idcard(State(state): State<AppState>, Json(body): Json<IdCardFor>) -> Response {
    let control = control(state);
    match control.idcard_qr(&body.nin) {
        Ok(qr) => {
            // Whole seconds: a scaled validity may have a fraction, and rounding it down would
            // announce a payload as expired while it is still accepted.
            let validity = control.idcard_qr_validity();
            let secs = validity.as_secs() + u64::from(validity.subsec_nanos() > 0);
            Json(serde_json::json!({ "qrData": qr, "expiresInSeconds": secs })).into_response()
        }
        Err(e) => error(e),
    }
}

async fn faults(State(state): State<AppState>) -> Response {
    Json(control(state).pending_faults()).into_response()
}

async fn inject(State(state): State<AppState>, Json(fault): Json<Fault>) -> StatusCode {
    control(state).inject(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    control(state).clear_faults();
    StatusCode::NO_CONTENT
}

async fn stats(State(state): State<AppState>) -> Response {
    Json(control(state).stats()).into_response()
}

async fn reset_stats(State(state): State<AppState>) -> StatusCode {
    control(state).reset_stats();
    StatusCode::NO_CONTENT
}

async fn personas(State(state): State<AppState>) -> Response {
    Json(control(state).personas()).into_response()
}
