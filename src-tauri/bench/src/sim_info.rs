//! How `sim-server` tells the clients where it listens and how to log in (one JSON line).

use id_desk_core::rest::RestConfig;
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

    pub fn from_env() -> Result<SimInfo, String> {
        let raw = std::env::var(SIM_INFO_ENV).map_err(|_| format!("{SIM_INFO_ENV} is not set"))?;
        serde_json::from_str(&raw).map_err(|e| format!("{SIM_INFO_ENV}: {e}"))
    }
}
