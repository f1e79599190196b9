//! The legacy OIDC error body: `{"error": "...", "error_description": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OidcError {
    pub(crate) status: StatusCode,
    pub(crate) error: String,
    pub(crate) description: String,
}

impl OidcError {
    pub(crate) fn new(status: StatusCode, error: &str, description: &str) -> Self {
        OidcError {
            status,
            error: error.to_owned(),
            description: description.to_owned(),
        }
    }

    pub(crate) fn bad_request(error: &str, description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, description)
    }

    pub(crate) fn invalid_request(description: &str) -> Self {
        Self::bad_request("invalid_request", description)
    }

    pub(crate) fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_session",
            "no valid session cookie for this transaction; send the cookie set by the authorize response",
        )
    }

    pub(crate) fn invalid_token(description: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
    }

    pub(crate) fn server_error(description: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            description,
        )
    }
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED && self.error == "invalid_token" {
            if let Ok(value) = format!("Bearer error=\"{}\"", self.error).parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
