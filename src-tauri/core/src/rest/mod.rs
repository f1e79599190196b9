//! The Authentication REST API family (reference §1): access token, sessions create/get/cancel,
//! and the two flows run on them. `model` holds the wire types, `token` the shared
//! client-credentials token, `client` the sessions calls with their per-operation retry rules,
//! `flow` the headless and redirect flows the runner drives, `redirect` the redirect flow's
//! providers and the sandboxed window's navigation rules, `protocol` the wire names Signicat's
//! documentation leaves open (decided in `PROTOCOL.md`).

pub mod client;
pub mod flow;
mod gate;
pub mod model;
pub mod protocol;
pub mod redirect;
pub mod token;

pub use crate::messages::RestStatus;
pub use client::{HttpTimeouts, RestClient};
pub use flow::{app_launch_url, RestJob, RestKind};
pub use gate::HTTP1_CONNECTIONS;
pub use model::{CreateSession, RedirectSettings, RestSubject, Session};
pub use redirect::RedirectProvider;

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
