//! The state every handler shares, and the app router.

use std::sync::Arc;

use axum::Router;

use crate::faults::{self, Endpoint, Faults, Intercept};
use crate::phone::Phone;
use crate::server::ConnHandle;
use crate::stats::Counters;
use crate::SimulatorConfig;

/// Cheap to clone; one per simulator.
#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) config: SimulatorConfig,
    pub(crate) base_url: String,
    pub(crate) phone: Phone,
    pub(crate) faults: Faults,
    pub(crate) counters: Counters,
    pub(crate) rest_tokens: crate::rest::token::TokenStore,
    pub(crate) rest_sessions: crate::rest::RestSessions,
    pub(crate) redirect_sessions: crate::rest::RedirectSessions,
    /// Legacy OIDC state (keys, codes, cookies), owned by the `oidc` module.
    pub(crate) oidc: crate::oidc::OidcState,
    pub(crate) sign: crate::sign::SignStore,
}

impl AppState {
    pub(crate) fn new(config: SimulatorConfig, base_url: String) -> Self {
        let oidc = crate::oidc::OidcState::new(&config);
        AppState {
            inner: Arc::new(Shared {
                phone: Phone::new(config.time_scale, config.qr_scan_timeout),
                faults: Faults::default(),
                counters: Counters::default(),
                rest_tokens: crate::rest::token::TokenStore::new(),
                rest_sessions: crate::rest::RestSessions::default(),
                redirect_sessions: crate::rest::RedirectSessions::default(),
                oidc,
                sign: crate::sign::SignStore::default(),
                config,
                base_url,
            }),
        }
    }

    pub(crate) fn config(&self) -> &SimulatorConfig {
        &self.inner.config
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(crate) fn issuer(&self) -> String {
        format!("{}/oidc", self.inner.base_url)
    }

    pub(crate) fn phone(&self) -> &Phone {
        &self.inner.phone
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    pub(crate) fn rest_tokens(&self) -> &crate::rest::token::TokenStore {
        &self.inner.rest_tokens
    }

    pub(crate) fn rest_sessions(&self) -> &crate::rest::RestSessions {
        &self.inner.rest_sessions
    }

    pub(crate) fn redirect_sessions(&self) -> &crate::rest::RedirectSessions {
        &self.inner.redirect_sessions
    }

    pub(crate) fn sign(&self) -> &crate::sign::SignStore {
        &self.inner.sign
    }

    pub(crate) fn oidc(&self) -> &crate::oidc::OidcState {
        &self.inner.oidc
    }

    /// Counts the request and applies any pending fault for it. Every handler starts with this.
    pub(crate) async fn begin(
        &self,
        conn: &ConnHandle,
        endpoint: Endpoint,
        session: Option<&str>,
    ) -> Intercept {
        self.counters().record(endpoint, session);
        faults::intercept(self.faults(), conn, endpoint, session).await
    }
}

/// REST at the root, legacy OIDC under `/oidc`, control under `/_sim`.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::rest::router(state.clone()))
        .merge(crate::sign::router(state.clone()))
        .nest("/oidc", crate::oidc::router(state.clone()))
        .nest("/_sim", crate::control_http::router(state))
}
