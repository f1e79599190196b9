//! Errors of the simulator's Rust API (HTTP errors are responses, not these).

/// What went wrong starting the simulator or acting on a session through [`crate::Control`].
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot bind or serve on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    #[error("no session or order with id {0}")]
    UnknownSession(String),
    #[error("session {id} cannot do that now: {reason}")]
    InvalidAction { id: String, reason: String },
    #[error("not a valid 12-digit Swedish personnummer: {0}")]
    InvalidIdentity(String),
    #[error("invalid fault: {0}")]
    InvalidFault(String),
    #[error("cannot set up HTTPS: {0}")]
    Tls(String),
}
