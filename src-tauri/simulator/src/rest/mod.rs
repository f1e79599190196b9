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
    let offset = state.config().clock_offset_secs;
    Router::new()
        .route("/auth/open/connect/token", post(token::token))
        .route("/auth/rest/sessions", post(sessions::create))
        .route("/auth/rest/sessions/{id}", get(sessions::get))
        .route("/auth/rest/sessions/{id}/cancel", post(sessions::cancel))
        // The redirect flow's `authenticationUrl`: the eID provider's page, played here.
        .route("/redirect/{id}", get(redirect::page).post(redirect::submit))
        .layer(axum::middleware::map_response(move |r| {
            skewed_date(r, offset)
        }))
        .with_state(state)
}

/// A server clock `offset` seconds off: its `Date` says so (hyper adds the true one otherwise).
async fn skewed_date(mut r: axum::response::Response, offset: i64) -> axum::response::Response {
    if offset != 0 {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
        let fmt = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        if let Ok(v) = at
            .format(&fmt)
            .map_err(|_| ())
            .and_then(|t| axum::http::HeaderValue::from_str(&t).map_err(|_| ()))
        {
            r.headers_mut().insert(axum::http::header::DATE, v);
        }
    }
    r
}
