//! The Authentication REST API client (reference §1): access token, sessions create/get/cancel.
//! `model` holds the wire types, `token` the shared client-credentials token, `client` the
//! sessions calls with their per-operation retry rules.

pub mod client;
mod gate;
pub mod model;
pub mod token;

pub use crate::messages::RestStatus;
pub use client::{HttpTimeouts, RestClient};
pub use gate::HTTP1_CONNECTIONS;
pub use model::{CreateSession, RedirectSettings, RestSubject, Session};

use crate::secrets::SecretString;
use url::Url;

/// What the REST client needs from a profile. The lead maps `Profile` onto this.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// e.g. `https://api.signicat.com` (sessions live under `{base_url}/auth/rest/sessions`).
    pub base_url: Url,
    /// e.g. `https://api.signicat.com/auth/open/connect/token`.
    pub token_url: Url,
    pub account_id: String,
    pub client_id: String,
    /// Redacted in `Debug`.
    pub client_secret: SecretString,
}
