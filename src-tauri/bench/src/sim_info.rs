//! How `sim-server` tells the clients where it listens and how to log in (one JSON line).

use id_desk_core::rest::{HttpTimeouts, RestClient, RestConfig};
use id_desk_core::secrets::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// The environment variable that carries a [`SimInfo`] to the benchmark clients.
pub const SIM_INFO_ENV: &str = "BENCH_SIM_INFO";

#[derive(Clone, Serialize, Deserialize)]
pub struct SimInfo {
    pub base_url: String,
    pub account_id: String,
    pub client_id: String,
    /// A throw-away secret of a loopback simulator, never a real one.
    pub client_secret: String,
    /// Set when the simulator serves HTTPS: its self-signed certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_root_pem: Option<String>,
}

impl std::fmt::Debug for SimInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimInfo")
            .field("base_url", &self.base_url)
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl SimInfo {
    /// How to reach and log in to a running simulator (trusting its certificate if it has one).
    pub fn of(sim: &id_desk_simulator::Simulator) -> SimInfo {
        SimInfo {
            base_url: sim.base_url(),
            account_id: sim.config().account_id.clone(),
            client_id: sim.config().rest_client.client_id.clone(),
            client_secret: sim.config().rest_client.client_secret.clone(),
            tls_root_pem: sim.tls_root_pem().map(str::to_owned),
        }
    }

    pub fn rest_config(&self) -> Result<RestConfig, String> {
        let parse = |s: &str| Url::parse(s).map_err(|e| format!("bad simulator URL {s}: {e}"));
        Ok(RestConfig {
            base_url: parse(&self.base_url)?,
            token_url: parse(&format!("{}/auth/open/connect/token", self.base_url))?,
            account_id: self.account_id.clone(),
            client_id: self.client_id.clone(),
            client_secret: SecretString::new(self.client_secret.clone()),
        })
    }

    /// The REST client for this simulator, trusting its certificate when it serves HTTPS.
    pub fn rest_client(&self) -> Result<RestClient, String> {
        let config = self.rest_config()?;
        let client = match &self.tls_root_pem {
            Some(pem) => RestClient::trusting(&config, HttpTimeouts::default(), pem),
            None => RestClient::new(&config),
        };
        client.map_err(|e| format!("REST client: {e}"))
    }

    /// The TCP port the simulator listens on.
    pub fn port(&self) -> Result<u16, String> {
        Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .ok_or_else(|| format!("no port in {}", self.base_url))
    }

    pub fn from_env() -> Result<SimInfo, String> {
        let raw = std::env::var(SIM_INFO_ENV).map_err(|_| format!("{SIM_INFO_ENV} is not set"))?;
        serde_json::from_str(&raw).map_err(|e| format!("{SIM_INFO_ENV}: {e}"))
    }
}
