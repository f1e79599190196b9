//! Test connection: one request per step, each timed, none of them a session create (nothing
//! reaches a customer's phone).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::profile::Profile;
use crate::rest::token::TokenCache;
use crate::secrets::{SecretName, SecretSource};

#[derive(Debug, Clone, Serialize)]
pub struct CheckStep {
    /// `proxy`, `legacy_methods`, `rest_token`, `oidc_discovery`, `oidc_jwks`, `ciba`, `archive`.
    pub step: &'static str,
    pub ok: bool,
    pub ms: Option<u64>,
    pub message: Option<String>,
}

impl CheckStep {
    fn done(step: &'static str, started: Instant, result: Result<(), crate::Error>) -> Self {
        let ms = Some(started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64);
        match result {
            Ok(()) => CheckStep {
                step,
                ok: true,
                ms,
                message: None,
            },
            Err(e) => CheckStep {
                step,
                ok: false,
                ms,
                message: Some(e.to_string()),
            },
        }
    }
}

/// The retired methods a profile offers, each with its date and successor: not a failure (they are
/// offered on purpose, for practice) but never presented as usable.
fn retired_methods(profile: &Profile) -> Option<CheckStep> {
    use crate::desk::catalog::{identify_groups, Situation};
    use crate::flow::Method;
    if !profile.legacy_methods() {
        return None;
    }
    let mut methods: Vec<Method> = identify_groups(profile)
        .into_iter()
        .filter(|g| g.situation == Situation::Legacy)
        .flat_map(|g| g.methods.into_iter().map(|t| t.method))
        .collect();
    if profile.oidc().is_some_and(|o| o.sign_client_id.is_some()) {
        methods.extend([Method::NbidSign, Method::SbidSign]);
    }
    let notes: Vec<String> = methods
        .iter()
        .filter_map(|m| Some(format!("{}: {}", m.as_str(), m.retirement_note()?)))
        .collect();
    Some(CheckStep {
        step: "legacy_methods",
        ok: true,
        ms: None,
        message: Some(format!(
            "offered for practice only (legacy_methods = true); {}",
            notes.join("; ")
        )),
    })
}

fn http() -> Result<reqwest::Client, crate::Error> {
    crate::net::client_builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| crate::Error::Network(e.to_string()))
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<serde_json::Value, crate::Error> {
    let resp = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| crate::net::transport_error(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(crate::Error::Api {
            status: status.as_u16(),
            code: "http_error".into(),
            message: format!("{url} answered {status}"),
        });
    }
    // Discovery and JWKS are JSON like every other answer: capped alike (review M-7).
    let body = crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES)
        .await
        .map_err(|e| e.into_error("test connection"))?;
    serde_json::from_slice(&body).map_err(|e| crate::Error::Protocol(e.to_string()))
}

pub(super) async fn run(profile: &Profile, source: &SecretSource) -> Vec<CheckStep> {
    // Which proxy every request below goes through (issue 24): staff read it to IT on the phone.
    let (proxy_ok, proxy) = crate::net::describe_proxy();
    let mut steps = vec![CheckStep {
        step: "proxy",
        ok: proxy_ok,
        ms: None,
        message: Some(proxy),
    }];
    if let Some(step) = retired_methods(profile) {
        steps.push(step);
    }
    let client = match http() {
        Ok(c) => c,
        Err(e) => {
            steps.push(CheckStep::done("http_client", Instant::now(), Err(e)));
            return steps;
        }
    };
    if let Some(rest) = profile.rest() {
        let started = Instant::now();
        let result = match super::bound_secret(source, profile, SecretName::RestClientSecret) {
            Ok(secret) => TokenCache::new(
                client.clone(),
                rest.token_url.clone(),
                rest.client_id.clone(),
                secret,
            )
            .get()
            .await
            .map(|_| ()),
            Err(e) => Err(e),
        };
        steps.push(CheckStep::done("rest_token", started, result));
    }
    if let Some(oidc) = profile.oidc() {
        let issuer = oidc.issuer.trim_end_matches('/');
        let started = Instant::now();
        let discovery = get_json(
            &client,
            &format!("{issuer}/.well-known/openid-configuration"),
        )
        .await;
        let jwks_uri = discovery
            .as_ref()
            .ok()
            .and_then(|d| d.get("jwks_uri"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        steps.push(CheckStep::done(
            "oidc_discovery",
            started,
            discovery.map(|_| ()),
        ));
        if let Some(jwks_uri) = jwks_uri {
            let started = Instant::now();
            let jwks = get_json(&client, &jwks_uri).await.and_then(|j| {
                let keys = j
                    .get("keys")
                    .and_then(|k| k.as_array())
                    .map(Vec::len)
                    .unwrap_or(0);
                if keys == 0 {
                    Err(crate::Error::Protocol("the JWKS holds no keys".into()))
                } else {
                    Ok(())
                }
            });
            steps.push(CheckStep::done("oidc_jwks", started, jwks));
        }
    }
    if let Some(c) = profile.ciba() {
        let started = Instant::now();
        let result = ciba_check(profile, c, source).await;
        steps.push(CheckStep::done("ciba", started, result));
    }
    if let Some(settings) = profile.archive() {
        // Logs in and reads the schema version; creates nothing, sends nothing.
        let started = Instant::now();
        let target = crate::archive::Target {
            settings: settings.clone(),
            profile: profile.name().to_string(),
            source: source.clone(),
        };
        let result = crate::archive::Archiver::check(&target).await.map(|_| ());
        steps.push(CheckStep::done("archive", started, result));
    }
    steps
}

/// Discovery offers poll-mode CIBA with our client authentication, the JWKS is readable, and the
/// stored secret or key is usable. No backchannel request is sent (that would notify someone).
async fn ciba_check(
    profile: &Profile,
    c: &crate::profile::CibaSettings,
    source: &SecretSource,
) -> Result<(), crate::Error> {
    let stored = super::bound_secret(source, profile, super::ciba_secret(c.client_auth))?;
    let cfg = super::ciba_config(c, stored)?;
    cfg.auth.check()?;
    crate::ciba::CibaClient::new(cfg)?.check().await
}
