//! `application/problem+json` errors as Signicat's REST API sends them.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct InvalidParam {
    pub(crate) name: String,
    pub(crate) reason: String,
}

impl InvalidParam {
    pub(crate) fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidParam {
            name: name.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Problem {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    invalid_params: Vec<InvalidParam>,
}

impl Problem {
    pub(crate) fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Problem {
            status,
            code,
            title,
            detail: String::new(),
            invalid_params: Vec::new(),
        }
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub(crate) fn invalid_token(detail: &str) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "invalid_token", "Unauthorized").detail(detail)
    }

    pub(crate) fn invalid_params(params: Vec<InvalidParam>) -> Self {
        Problem {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request_parameter",
            title: "Invalid request parameter",
            detail: "One or more request parameters are invalid.".to_owned(),
            invalid_params: params,
        }
    }

    pub(crate) fn not_found(id: &str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "session_not_found", "Not Found")
            .detail(format!("Session '{id}' was not found."))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "type": format!("https://api.signicat.com/problems/{}", self.code),
            "title": self.title,
            "detail": self.detail,
            "code": self.code,
            "status": self.status.as_u16(),
            "traceId": uuid::Uuid::new_v4().simple().to_string(),
        });
        if !self.invalid_params.is_empty() {
            body["invalidParams"] = serde_json::json!(self.invalid_params);
        }
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}
