//! The Authentication REST API: client-credentials token and headless sessions.

pub(crate) mod problem;
mod session_body;
mod sessions;
pub(crate) mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub(crate) use sessions::RestSessions;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/auth/open/connect/token", post(token::token))
        .route("/auth/rest/sessions", post(sessions::create))
        .route("/auth/rest/sessions/{id}", get(sessions::get))
        .route("/auth/rest/sessions/{id}/cancel", post(sessions::cancel))
        .with_state(state)
}
