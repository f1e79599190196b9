//! The issuer's discovery document and JWKS, fetched once and shared by every flow of a client.
//! Uses its own cookie-less HTTP client: nothing here belongs to a customer's session.

use super::http::{require_secure, send, success_body};
use crate::{Error, Result};
use josekit::jwk::{Jwk, JwkSet};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

/// The endpoints we use from `/.well-known/openid-configuration`.
#[derive(Debug, Clone)]
pub(crate) struct ProviderMetadata {
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    /// RECOMMENDED only (OIDC Discovery §3): a CIBA provider may go without.
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    /// CIBA Core §4: present when the provider offers backchannel authentication.
    pub backchannel_authentication_endpoint: Option<Url>,
    /// `poll`, `ping`, `push`; absent means the provider does not say.
    pub backchannel_token_delivery_modes_supported: Option<Vec<String>>,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

impl ProviderMetadata {
    pub fn userinfo_endpoint(&self) -> Result<&Url> {
        self.userinfo_endpoint
            .as_ref()
            .ok_or_else(|| Error::Protocol("discovery names no userinfo_endpoint".into()))
    }
}

#[derive(Deserialize)]
struct RawMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    backchannel_authentication_endpoint: Option<String>,
    backchannel_token_delivery_modes_supported: Option<Vec<String>>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

fn endpoint(value: &str, name: &str) -> Result<Url> {
    let u = Url::parse(value)
        .map_err(|e| Error::Protocol(format!("discovery: {name} is not a URL: {e}")))?;
    require_secure(&u, name)?;
    Ok(u)
}

pub(crate) struct IssuerCache {
    http: reqwest::Client,
    /// Without a trailing slash, exactly as ID tokens must carry it in `iss`.
    issuer: String,
    metadata: OnceCell<Arc<ProviderMetadata>>,
    /// With when it was fetched: a key the issuer rotated is picked up within the max age.
    jwks: Mutex<Option<(Instant, Arc<JwkSet>)>>,
    jwks_max_age: Duration,
}

/// How long a fetched JWKS is used before it is fetched again (review L-1). Signing keys also
/// refresh on an unknown `kid`; the encryption key has no such signal, so its age bounds how
/// long the desk can encrypt to a key the issuer retired.
pub(crate) const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

/// The public key to encrypt a request object with, and its JWE `alg`.
pub(crate) struct EncryptionKey {
    pub jwk: Jwk,
    pub kid: String,
    pub alg: String,
}

pub(crate) fn trim_issuer(issuer: &Url) -> String {
    issuer.as_str().trim_end_matches('/').to_string()
}

impl IssuerCache {
    pub fn new(http: reqwest::Client, issuer: &Url) -> Self {
        IssuerCache {
            http,
            issuer: trim_issuer(issuer),
            metadata: OnceCell::new(),
            jwks: Mutex::new(None),
            jwks_max_age: JWKS_MAX_AGE,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Discovery, fetched on first use. A failed fetch is not cached: the next flow tries again.
    pub async fn metadata(&self) -> Result<Arc<ProviderMetadata>> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.issuer);
                let resp = send(self.http.get(&url).header("Accept", "application/json")).await?;
                let body = success_body(resp, "discovery").await?;
                let raw: RawMetadata = serde_json::from_slice(&body)
                    .map_err(|e| Error::Protocol(format!("discovery document: {e}")))?;
                if raw.issuer.trim_end_matches('/') != self.issuer {
                    return Err(Error::Protocol(format!(
                        "discovery names issuer {:?}, expected {:?}",
                        raw.issuer, self.issuer
                    )));
                }
                Ok(Arc::new(ProviderMetadata {
                    authorization_endpoint: endpoint(
                        &raw.authorization_endpoint,
                        "authorization_endpoint",
                    )?,
                    token_endpoint: endpoint(&raw.token_endpoint, "token_endpoint")?,
                    userinfo_endpoint: raw
                        .userinfo_endpoint
                        .as_deref()
                        .map(|u| endpoint(u, "userinfo_endpoint"))
                        .transpose()?,
                    jwks_uri: endpoint(&raw.jwks_uri, "jwks_uri")?,
                    backchannel_authentication_endpoint: raw
                        .backchannel_authentication_endpoint
                        .as_deref()
                        .map(|u| endpoint(u, "backchannel_authentication_endpoint"))
                        .transpose()?,
                    backchannel_token_delivery_modes_supported: raw
                        .backchannel_token_delivery_modes_supported,
                    token_endpoint_auth_methods_supported: raw
                        .token_endpoint_auth_methods_supported,
                }))
            })
            .await
            .cloned()
    }

    async fn fetch_jwks(&self) -> Result<Arc<JwkSet>> {
        let meta = self.metadata().await?;
        let resp = send(
            self.http
                .get(meta.jwks_uri.clone())
                .header("Accept", "application/json"),
        )
        .await?;
        let body = success_body(resp, "jwks").await?;
        let set = JwkSet::from_bytes(&body).map_err(|e| Error::Protocol(format!("jwks: {e}")))?;
        Ok(Arc::new(set))
    }

    /// The cached JWKS, or a fresh one when `refresh` is set, nothing is cached yet, or what is
    /// cached is older than the max age.
    async fn jwks(&self, refresh: bool) -> Result<Arc<JwkSet>> {
        let mut cached = self.jwks.lock().await;
        match cached.as_ref() {
            Some((at, set)) if !refresh && at.elapsed() < self.jwks_max_age => Ok(set.clone()),
            _ => {
                let set = self.fetch_jwks().await?;
                *cached = Some((Instant::now(), set.clone()));
                Ok(set)
            }
        }
    }

    /// Drops the cached JWKS, so the next flow fetches it: called when the issuer refuses a
    /// request object, perhaps encrypted to a key it has retired. Nothing is sent again here.
    pub async fn forget_keys(&self) {
        *self.jwks.lock().await = None;
    }

    #[cfg(test)]
    fn with_jwks_max_age(mut self, age: Duration) -> Self {
        self.jwks_max_age = age;
        self
    }

    /// The JWKS can be fetched and read (Test connection).
    pub async fn signing_keys_readable(&self) -> Result<()> {
        self.jwks(true).await.map(|_| ())
    }

    /// The RSA signing key with this `kid`. Signicat rotates keys: an unknown `kid` refetches the
    /// JWKS once before giving up.
    pub async fn signing_key(&self, kid: &str) -> Result<Jwk> {
        for refresh in [false, true] {
            let set = self.jwks(refresh).await?;
            if let Some(k) = set
                .get(kid)
                .into_iter()
                .find(|k| k.key_type() == "RSA" && k.key_use().is_none_or(|u| u == "sig"))
            {
                return Ok(k.clone());
            }
        }
        Err(Error::IdToken(format!(
            "signed with key {kid:?}, which the issuer does not publish"
        )))
    }

    /// The issuer's `use: "enc"` RSA key for request objects.
    pub async fn encryption_key(&self) -> Result<EncryptionKey> {
        let set = self.jwks(false).await?;
        let key = set
            .keys()
            .into_iter()
            .find(|k| k.key_type() == "RSA" && k.key_use() == Some("enc"))
            .ok_or_else(|| Error::Protocol("the JWKS has no encryption key".into()))?;
        let kid = key
            .key_id()
            .ok_or_else(|| Error::Protocol("the JWKS encryption key has no kid".into()))?
            .to_string();
        let alg = key.algorithm().unwrap_or("RSA-OAEP").to_string();
        Ok(EncryptionKey {
            jwk: key.clone(),
            kid,
            alg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use id_desk_simulator::{Endpoint, Simulator, SimulatorConfig};

    async fn cache(sim: &Simulator, max_age: Duration) -> IssuerCache {
        let http = crate::net::client_builder().build().unwrap();
        IssuerCache::new(http, &Url::parse(&sim.issuer()).unwrap()).with_jwks_max_age(max_age)
    }

    /// Review L-1: the encryption key has no "unknown kid" signal, so the JWKS is fetched again
    /// once it is older than its max age, and after the issuer refused a request object.
    #[tokio::test]
    async fn the_jwks_is_fetched_again_when_old_or_forgotten() {
        let sim = Simulator::start(SimulatorConfig::for_tests())
            .await
            .unwrap();
        let fetches = || sim.control().stats().count(Endpoint::Jwks);

        let fresh = cache(&sim, JWKS_MAX_AGE).await;
        fresh.encryption_key().await.unwrap();
        fresh.encryption_key().await.unwrap();
        assert_eq!(fetches(), 1, "a young JWKS is reused");
        fresh.forget_keys().await;
        fresh.encryption_key().await.unwrap();
        assert_eq!(fetches(), 2, "a forgotten JWKS is fetched again");

        let old = cache(&sim, Duration::ZERO).await;
        old.encryption_key().await.unwrap();
        old.encryption_key().await.unwrap();
        assert_eq!(fetches(), 4, "an old JWKS is fetched again");
    }
}
