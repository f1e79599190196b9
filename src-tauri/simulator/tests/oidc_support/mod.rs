//! Shared helpers of the `oidc_*` integration tests: a client per flow (own cookie store, no
//! automatic redirects), PKCE, authorize/poll/complete/token steps, JOSE helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use id_desk_simulator::{Simulator, SimulatorConfig};
use josekit::jwe::{JweHeader, RSA_OAEP, RSA_OAEP_256};
use josekit::jwk::Jwk;
use josekit::jws::RS256;
use reqwest::{header, StatusCode};
use reqwest_cookie_store::CookieStoreMutex;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "https://id-desk.invalid/callback";
pub const NBID: &str = "urn:signicat:oidc:method:nbid-inapp";
pub const SBID: &str = "urn:signicat:oidc:method:sbid-inapp";
pub const NBID_SIGN: &str = "urn:signicat:oidc:method:nbid-inapp-sign";
pub const SBID_SIGN: &str = "urn:signicat:oidc:method:sbid-inapp-sign";
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");

/// Personas act at 5% of real time (approve after 2 s → 100 ms).
pub fn config() -> SimulatorConfig {
    let mut config = SimulatorConfig::for_tests();
    config.time_scale = 0.05;
    config
}

pub async fn start(config: SimulatorConfig) -> Simulator {
    Simulator::start(config).await.unwrap()
}

/// One flow's HTTP client: its own cookie store, redirects not followed (the tests follow them).
pub struct Flow {
    pub http: reqwest::Client,
    pub cookies: Arc<CookieStoreMutex>,
}

impl Flow {
    pub fn new() -> Flow {
        let cookies = Arc::new(CookieStoreMutex::default());
        let http = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Flow { http, cookies }
    }

    /// A client without any cookie store.
    pub fn cookieless() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn get_json(&self, url: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(url)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    pub async fn authorize_post(
        &self,
        sim: &Simulator,
        params: &[(String, String)],
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/authorize", sim.issuer()))
            .header(header::ACCEPT, "application/json")
            .form(params)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    pub async fn authorize_get(
        &self,
        sim: &Simulator,
        params: &[(String, String)],
    ) -> (StatusCode, Value) {
        let url = reqwest::Url::parse_with_params(&format!("{}/authorize", sim.issuer()), params)
            .unwrap();
        self.get_json(url.as_str()).await
    }

    /// Polls `statusUri` until it is not `pending`; returns every body seen.
    pub async fn poll_status(&self, status_uri: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        for _ in 0..2000 {
            let (status, body) = self.get_json(status_uri).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let pending = body["status"] == "pending";
            seen.push(body);
            if !pending {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("still pending after 2000 polls");
    }

    /// Polls `collectUrl?orderRef=` until a terminal answer; returns every body seen.
    pub async fn poll_collect(&self, collect_url: &str, order_ref: &str) -> Vec<Value> {
        let mut url = reqwest::Url::parse(collect_url).unwrap();
        url.query_pairs_mut().append_pair("orderRef", order_ref);
        let mut seen = Vec::new();
        for _ in 0..2000 {
            let (status, body) = self.get_json(url.as_str()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let done = body.get("error").is_some() || body["progressStatus"] == "COMPLETE";
            seen.push(body);
            if done {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("still outstanding after 2000 polls");
    }

    /// Follows the completion redirects (no `Accept: application/json`) until a Location starts
    /// with `redirect_uri`; returns that Location and the Locations seen on the way.
    pub async fn complete(
        &self,
        complete_uri: &str,
        redirect_uri: &str,
    ) -> Result<(reqwest::Url, Vec<String>), String> {
        let mut url = reqwest::Url::parse(complete_uri).unwrap();
        let mut hops = Vec::new();
        for _ in 0..10 {
            let r = self.http.get(url.clone()).send().await.unwrap();
            if !r.status().is_redirection() {
                let status = r.status();
                return Err(format!("{status}: {}", r.text().await.unwrap()));
            }
            let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
            hops.push(location.clone());
            let next = url.join(&location).unwrap();
            if next.as_str().starts_with(redirect_uri) {
                return Ok((next, hops));
            }
            url = next;
        }
        Err(format!("more than 10 redirects: {hops:?}"))
    }

    pub async fn token(
        &self,
        sim: &Simulator,
        client: (&str, &str),
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/token", sim.issuer()))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }
}

pub fn pkce() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A complete, valid plain authorize request.
pub struct AuthRequest {
    pub acr: &'static str,
    pub client_id: String,
    pub hints: Vec<String>,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub challenge: String,
    pub redirect_uri: String,
}

impl AuthRequest {
    pub fn nbid(sim: &Simulator, birthdate: &str, phone: &str) -> AuthRequest {
        Self::new(
            sim,
            NBID,
            vec![format!("birthdate-{birthdate}"), format!("phone-{phone}")],
        )
    }

    pub fn sbid(sim: &Simulator, subject: &str) -> AuthRequest {
        Self::new(sim, SBID, vec![format!("subject-{subject}")])
    }

    fn new(sim: &Simulator, acr: &'static str, hints: Vec<String>) -> AuthRequest {
        let (verifier, challenge) = pkce();
        AuthRequest {
            acr,
            client_id: sim.config().oidc_client.client_id.clone(),
            hints,
            state: format!("state-{}", rand::random::<u64>()),
            nonce: format!("nonce-{}", rand::random::<u64>()),
            verifier,
            challenge,
            redirect_uri: REDIRECT.to_owned(),
        }
    }

    pub fn params(&self) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = [
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("state", self.state.as_str()),
            ("nonce", self.nonce.as_str()),
            ("acr_values", self.acr),
            ("code_challenge", self.challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("ui_locales", "en"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for h in &self.hints {
            p.push(("login_hint".to_owned(), h.clone()));
        }
        p
    }

    /// The same request as Consent Signature request-object claims.
    pub fn sign_claims(&self, sim: &Simulator, sign_text: &str) -> Map<String, Value> {
        let acr = if self.acr == NBID {
            NBID_SIGN
        } else {
            SBID_SIGN
        };
        json!({
            "login_hint": self.hints,
            "scope": "openid profile signicat.sign",
            "signicat_signtext": sign_text,
            "acr_values": acr,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "client_id": sim.config().sign_client.client_id,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "ui_locales": "nb",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    pub fn with(mut self, f: impl FnOnce(&mut AuthRequest)) -> AuthRequest {
        f(&mut self);
        self
    }
}

/// Removes every `name` parameter and optionally sets one value.
pub fn set_param(params: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    params.retain(|(k, _)| k != name);
    if let Some(v) = value {
        params.push((name.to_owned(), v.to_owned()));
    }
}

pub async fn jwks(sim: &Simulator) -> Vec<Jwk> {
    let body: Value = reqwest::get(format!("{}/jwks.json", sim.issuer()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| Jwk::from_map(k.as_object().unwrap().clone()).unwrap())
        .collect()
}

pub fn key_by_use<'a>(keys: &'a [Jwk], key_use: &str) -> &'a Jwk {
    keys.iter().find(|k| k.key_use() == Some(key_use)).unwrap()
}

/// A compact JWE of `claims` to the JWKS `enc` key, made by josekit (header fields overridable).
pub fn encrypt(
    claims: &Map<String, Value>,
    enc_jwk: &Jwk,
    alg: &str,
    kid: Option<&str>,
    enc: &str,
) -> String {
    let mut header = JweHeader::new();
    header.set_content_encryption(enc);
    header.set_token_type("JWE");
    if let Some(kid) = kid {
        header.set_key_id(kid);
    }
    let payload = serde_json::to_vec(claims).unwrap();
    // josekit copies the JWK's kid into the header; drop it so the header says exactly `kid`.
    let mut map: Map<String, Value> = enc_jwk.clone().into();
    map.remove("kid");
    let mut jwk = Jwk::from_map(map).unwrap();
    jwk.set_algorithm(alg);
    match alg {
        "RSA-OAEP" => {
            let e = RSA_OAEP.encrypter_from_jwk(&jwk).unwrap();
            josekit::jwe::serialize_compact(&payload, &header, &e).unwrap()
        }
        "RSA-OAEP-256" => {
            let e = RSA_OAEP_256.encrypter_from_jwk(&jwk).unwrap();
            josekit::jwe::serialize_compact(&payload, &header, &e).unwrap()
        }
        other => panic!("unsupported alg {other}"),
    }
}

/// Verifies an RS256 ID token against a JWKS; returns the claims, or why it failed.
pub fn verify_id_token(token: &str, keys: &[Jwk]) -> Result<Map<String, Value>, String> {
    let header = josekit::jwt::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header
        .claim("kid")
        .and_then(Value::as_str)
        .ok_or("no kid")?
        .to_owned();
    let jwk = keys
        .iter()
        .find(|k| k.key_id() == Some(kid.as_str()) && k.key_use() == Some("sig"))
        .ok_or(format!("unknown kid {kid}"))?;
    let verifier = RS256.verifier_from_jwk(jwk).map_err(|e| e.to_string())?;
    let (payload, _) =
        josekit::jwt::decode_with_verifier(token, &verifier).map_err(|e| e.to_string())?;
    Ok(payload.claims_set().clone())
}

/// Runs a plain (authentication) flow to the code; returns the redirect Location.
pub async fn run_to_code(flow: &Flow, sim: &Simulator, req: &AuthRequest) -> reqwest::Url {
    let (status, body) = flow.authorize_post(sim, &req.params()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let complete = if req.acr == SBID {
        let seen = flow
            .poll_collect(
                body["collectUrl"].as_str().unwrap(),
                body["orderRef"].as_str().unwrap(),
            )
            .await;
        seen.last().unwrap()["completeUrl"]
            .as_str()
            .unwrap()
            .to_owned()
    } else {
        let seen = flow.poll_status(body["statusUri"].as_str().unwrap()).await;
        seen.last().unwrap()["completeUri"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    flow.complete(&complete, &req.redirect_uri).await.unwrap().0
}

pub fn query(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Runs a plain flow through the token exchange.
pub async fn run_to_tokens(flow: &Flow, sim: &Simulator, req: &AuthRequest) -> (StatusCode, Value) {
    let location = run_to_code(flow, sim, req).await;
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(req.state.as_str())
    );
    let code = query(&location, "code").unwrap();
    let client = &sim.config().oidc_client;
    flow.token(
        sim,
        (&client.client_id, &client.client_secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &req.redirect_uri),
            ("code_verifier", &req.verifier),
        ],
    )
    .await
}
