//! Legacy OIDC "inapp" issuer (headless `nbid-inapp` / `sbid-inapp`) and Consent Signature
//! (`*-inapp-sign`), served under `/oidc`.
//!
//! Flow: `authorize` (sets the session cookie, creates a phone order) → poll `statusUri` (nbid) or
//! `collectUrl` (sbid) → `completeUri`/`completeUrl`, three redirect hops (relative, absolute, then
//! `redirect_uri?code&state`) → `token` (Basic auth, PKCE) → `userinfo`, `signature` (SDO).
//!
//! Decisions where Signicat is silent (documented for the engine's client):
//! * Order outcomes on the poll endpoints (`USER_CANCEL`, `EXPIRED_TRANSACTION`, ...) are `200`
//!   with `{"error","error_description"}`; protocol errors (bad cookie, bad parameters) are 4xx
//!   with the same body shape.
//! * The session cookie is required on authorize's follow-ups (poll and every completion hop); the
//!   back-channel calls (`token`, `userinfo`, `signature`) do not need it.
//! * Key rotation: fault `IdTokenRotatedKey` signs the next ID token with a new key and publishes it
//!   in the JWKS at the same moment (later tokens keep using it), so a client that refetches the
//!   JWKS once on an unknown `kid` verifies; `IdTokenUnknownKid` uses a key that is never
//!   published, so even after a refetch verification must fail.

mod authorize;
mod ciba;
mod complete;
mod discovery;
mod error;
mod http;
mod id_token;
mod keys;
mod params;
mod progress;
mod request_object;
mod resources;
mod sdo;
mod store;
mod token;

use std::time::Duration;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;
use crate::SimulatorConfig;
use error::OidcError;

pub use keys::{EncAlg, KeyError, OidcKeys};

/// Legacy OIDC settings of a simulator (part of [`SimulatorConfig`]).
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// `None` = the process-wide generated keys (fast to start many simulators).
    pub keys: Option<OidcKeys>,
    /// Access token lifetime; the SDO cannot be fetched after it. Signicat's is short.
    pub access_token_ttl: Duration,
    /// ID token `exp` - `iat`.
    pub id_token_ttl: Duration,
    /// Authorization code lifetime.
    pub code_ttl: Duration,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            keys: None,
            access_token_ttl: Duration::from_secs(120),
            id_token_ttl: Duration::from_secs(600),
            code_ttl: Duration::from_secs(60),
        }
    }
}

/// Keys, authorization codes, cookies and tokens of the legacy OIDC family.
pub(crate) struct OidcState {
    keys: keys::KeyCell,
    pub(crate) settings: OidcConfig,
    pub(crate) store: store::Store,
}

impl OidcState {
    pub(crate) fn new(config: &SimulatorConfig) -> Self {
        let settings = config.oidc.clone();
        let keys = match &settings.keys {
            Some(keys) => keys::KeyCell::ready(keys.clone()),
            None => keys::KeyCell::lazy(),
        };
        OidcState {
            keys,
            settings,
            store: store::Store::default(),
        }
    }

    pub(crate) fn warm_up_keys(&self) {
        self.keys.warm_up();
    }

    /// The issuer's keys; waits the first time while they are still being generated.
    pub(crate) async fn keys(&self) -> Result<OidcKeys, OidcError> {
        self.keys
            .get()
            .await
            .map_err(|e| OidcError::server_error(&e.to_string()))
    }
}

/// Routes relative to the issuer (`/oidc`).
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/jwks.json", get(discovery::jwks))
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/inapp/status/{order}", get(progress::status))
        .route("/inapp/collect", get(progress::collect))
        .route("/inapp/complete/{order}", get(complete::start))
        .route("/authorize/resume/{order}", get(complete::resume))
        .route("/authorize/callback/{order}", get(complete::callback))
        .route("/token", axum::routing::post(token::token))
        .route("/backchannel", axum::routing::post(ciba::backchannel))
        .route("/userinfo", get(resources::userinfo))
        .route("/signature", get(resources::signature))
        .with_state(state)
}
