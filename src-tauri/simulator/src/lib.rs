//! A local Signicat for tests and Training mode.
//!
//! It serves both API families on one loopback port: the Authentication REST API at the root
//! (`/auth/open/connect/token`, `/auth/rest/sessions`), the legacy OIDC "inapp" issuer under `/oidc`,
//! and a control API under `/_sim/`. The customer's phone is simulated by [`Control`] and by
//! built-in personas keyed by identity (see [`persona`]).
//!
//! Headless REST flows (`POST /auth/rest/sessions`, `flow: "headless"`):
//!
//! | `allowedProviders` | Parameters | Phone method |
//! |---|---|---|
//! | `nbid` | `nbid_auth_type: PHONE`, `prefilledInput.nin` | Safe Conversation |
//! | `nbid` | `prefilledInput.phoneNumber` + `dateOfBirth` | BankID on mobile |
//! | `sbid` | `sbid_flow: QR` or `APP_LAUNCH`, `sbid_end_user_ip`, optional `prefilledInput.nin` | QR / app launch |
//! | `sbid` | `sbid_flow: PHONE`, `sbid_call_initiator: user` or `RP`, `prefilledInput.nin` | Phone (`hintCode: userCallConfirm` once the app is open) |
//! | `sbid-idcard` | `sbid_idcard_qr_data` (see [`idcard`]) | Digital ID card |
//!
//! Every `sbid` flow also takes `sbid_intention_text` (base64) with
//! `sbid_intention_text_format: simpleMarkdownV1`, and `sbid_requirement_mrtd` /
//! `sbid_return_risk` (`"true"` / `"false"`; a returned risk is the subject's `sbidRisk`).
//!
//! HTTP control API (JSON, same operations as [`Control`]):
//! `GET /_sim/sessions`, `DELETE /_sim/sessions`, `GET /_sim/sessions/{id}`,
//! `POST /_sim/sessions/{id}/approve|reject|scan|decline`, `POST /_sim/sessions/{id}/pick
//! {"text": ..}`, `POST /_sim/idcard {"nin": ..}` (→ `{"qrData": .., "expiresInSeconds": ..}`),
//! `GET|POST|DELETE /_sim/faults` (a [`Fault`] in its serde form), `GET /_sim/stats`,
//! `POST /_sim/stats/reset`, `GET /_sim/personas`.

pub mod control;
mod control_http;
pub mod error;
pub mod faults;
pub mod idcard;
pub mod identity;
pub(crate) mod oidc;
pub mod persona;
pub mod phone;
mod qr;
mod rest;
mod server;
mod sign;
pub(crate) mod state;
pub mod stats;
mod timefmt;
mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use control::{Control, SessionView};
pub use error::SimError;
pub use faults::{Endpoint, Fault, FaultKind};
pub use oidc::{EncAlg, KeyError, OidcConfig, OidcKeys};
pub use qr::qr_auth_code;
pub use stats::{ConnectionStats, SessionStats, Stats};

/// A client id and secret. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl ClientCredentials {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// Everything a simulator instance needs; see [`SimulatorConfig::for_tests`] and
/// [`SimulatorConfig::training`].
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// The account id the REST API expects in `signicat-accountId` and puts into tokens.
    pub account_id: String,
    /// REST client (client credentials grant).
    pub rest_client: ClientCredentials,
    /// Legacy OIDC authentication client (e.g. `demo-inapp`).
    pub oidc_client: ClientCredentials,
    /// Legacy OIDC signing client (e.g. `demo-inapp-sign`).
    pub sign_client: ClientCredentials,
    /// Allowed `redirect_uri` values for the OIDC clients.
    pub redirect_uris: Vec<String>,
    /// REST access token lifetime (Signicat's default is 600 s).
    pub token_ttl: Duration,
    /// Multiplies persona delays (1.0 = real time; tests use e.g. 0.1).
    pub time_scale: f64,
    /// A Swedish BankID order not picked up within this time fails with `startFailed`.
    pub qr_scan_timeout: Duration,
    /// Replaces every session lifetime (REST `sessionLifetime` rules included) so tests can force
    /// expiry quickly. `None` = Signicat's rules.
    pub session_lifetime_override: Option<Duration>,
    /// Lifetime of a legacy OIDC (BankID) order; BankID's orders live about 3 minutes.
    pub oidc_order_lifetime: Duration,
    /// 0 = any free port. The simulator always binds 127.0.0.1.
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate (and HTTP/2 by ALPN) instead of plain HTTP, so
    /// a client's TLS and HTTP/2 behaviour can be measured for real (the benchmark does).
    pub tls: bool,
    /// Legacy OIDC settings (keys, token lifetimes).
    pub oidc: OidcConfig,
    /// Plays a server whose clock is this many seconds ahead of the desk's (negative: behind):
    /// REST `expiresAt` and the REST endpoints' `Date` header move by it, the sessions' real
    /// lifetimes do not (issue 23, item 6).
    pub clock_offset_secs: i64,
}

impl SimulatorConfig {
    /// Fixed, well-known credentials and fast personas (time_scale 0.1), short QR timeout.
    pub fn for_tests() -> Self {
        Self {
            account_id: "a-sim-test".to_owned(),
            rest_client: ClientCredentials::new("sim-rest-client", "sim-rest-secret"),
            oidc_client: ClientCredentials::new("demo-inapp", "sim-oidc-secret"),
            sign_client: ClientCredentials::new("demo-inapp-sign", "sim-sign-secret"),
            redirect_uris: vec![
                "https://id-desk.invalid/callback".to_owned(),
                "http://127.0.0.1/callback".to_owned(),
            ],
            token_ttl: Duration::from_secs(600),
            time_scale: 0.1,
            qr_scan_timeout: Duration::from_secs(3),
            session_lifetime_override: None,
            clock_offset_secs: 0,
            oidc_order_lifetime: Duration::from_secs(180),
            port: 0,
            tls: false,
            oidc: OidcConfig::default(),
        }
    }

    /// Real-time personas and random client secrets, for Training mode and the CLI.
    pub fn training() -> Self {
        Self {
            account_id: "a-sim-training".to_owned(),
            rest_client: ClientCredentials::new("sim-training-rest", random_secret()),
            oidc_client: ClientCredentials::new("demo-inapp", random_secret()),
            sign_client: ClientCredentials::new("demo-inapp-sign", random_secret()),
            redirect_uris: vec!["https://id-desk.invalid/callback".to_owned()],
            token_ttl: Duration::from_secs(600),
            time_scale: 1.0,
            qr_scan_timeout: Duration::from_secs(30),
            session_lifetime_override: None,
            clock_offset_secs: 0,
            oidc_order_lifetime: Duration::from_secs(180),
            port: 0,
            tls: false,
            oidc: OidcConfig::default(),
        }
    }

    /// Scales a persona delay by `time_scale` (negative or NaN scales count as 0).
    pub fn scaled(&self, delay: Duration) -> Duration {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 {
            self.time_scale
        } else {
            0.0
        };
        delay.mul_f64(scale)
    }
}

fn random_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// A running simulator. Dropping it aborts the server task; [`Simulator::shutdown`] is graceful.
pub struct Simulator {
    addr: SocketAddr,
    tls_root_pem: Option<String>,
    state: state::AppState,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Simulator {
    /// Binds 127.0.0.1:`config.port` and serves in a background task.
    pub async fn start(config: SimulatorConfig) -> Result<Simulator, SimError> {
        let tls = if config.tls {
            Some(tls::self_signed()?)
        } else {
            None
        };
        let listener = server::bind(config.port).await?;
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let state = state::AppState::new(config, base_url);
        let serving = server::Serving {
            app: state::router(state.clone()),
            tls: tls.as_ref().map(|t| t.acceptor.clone()),
            counters: state.counters().clone(),
        };
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(server::run(listener, serving, rx));
        Ok(Simulator {
            addr,
            tls_root_pem: tls.map(|t| t.root_pem),
            state,
            shutdown,
            task: Some(task),
        })
    }

    /// With [`SimulatorConfig::tls`]: the self-signed certificate (PEM) a client must trust.
    pub fn tls_root_pem(&self) -> Option<&str> {
        self.tls_root_pem.as_deref()
    }

    /// `http://127.0.0.1:PORT` (`https` with TLS), the REST base (token at
    /// `{base}/auth/open/connect/token`).
    pub fn base_url(&self) -> String {
        self.state.base_url().to_owned()
    }

    /// `{base_url}/oidc`, the legacy OIDC issuer.
    pub fn issuer(&self) -> String {
        self.state.issuer()
    }

    pub fn config(&self) -> &SimulatorConfig {
        self.state.config()
    }

    /// Starts generating the issuer's RSA keys in the background (about 0.5 s of both cores), so
    /// the first legacy OIDC flow does not wait for them. Without it the first request that needs
    /// them does. Harmless to call again.
    pub fn warm_up_keys(&self) {
        self.state.oidc().warm_up_keys();
    }

    /// In-process control of the customer's phone, faults and statistics (cheap clone).
    pub fn control(&self) -> Control {
        Control::new(self.state.clone())
    }

    /// Stops accepting, lets in-flight requests finish, closes idle connections.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Runs a simulator until Ctrl-C (SIGINT) and then shuts it down. `on_ready` receives the running
/// simulator once it listens (the CLI prints the URL and credentials from it); this function
/// prints nothing itself.
pub async fn serve_forever(
    config: SimulatorConfig,
    on_ready: impl FnOnce(&Simulator),
) -> Result<(), SimError> {
    let sim = Simulator::start(config).await?;
    sim.warm_up_keys();
    on_ready(&sim);
    tokio::signal::ctrl_c().await.map_err(SimError::Bind)?;
    sim.shutdown().await;
    Ok(())
}
