//! The Authentication REST API: client-credentials token, headless sessions, and redirect
//! sessions with their provider page (`redirect`).

pub(crate) mod problem;
mod redirect;
mod session_body;
mod sessions;
pub(crate) mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub(crate) use redirect::RedirectSessions;
pub(crate) use sessions::RestSessions;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/auth/open/connect/token", post(token::token))
        .route("/auth/rest/sessions", post(sessions::create))
        .route("/auth/rest/sessions/{id}", get(sessions::get))
        .route("/auth/rest/sessions/{id}/cancel", post(sessions::cancel))
        // The redirect flow's `authenticationUrl`: the eID provider's page, played here.
        .route("/redirect/{id}", get(redirect::page).post(redirect::submit))
        .with_state(state)
}
