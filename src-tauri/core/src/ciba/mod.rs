//! OpenID Connect CIBA (Client-Initiated Backchannel Authentication Core 1.0), poll mode: the
//! standard shape of what the desk does. The agent starts authentication on the customer's own
//! device; both read the same binding message; the desk polls the token endpoint.
//!
//! One flow = backchannel authentication request (never repeated: it pushes to the customer's
//! device) → `binding_message` event at once → token polls at `interval` (+5 s per `slow_down`) →
//! validated ID token → userinfo. Discovery and the JWKS are shared with the legacy OIDC client's
//! code ([`crate::oidc`]), and so is ID-token validation.

mod client_auth;
mod input;
mod poll;

pub use client_auth::{ClientAuth, ClientAuthMethod, SigningAlg};
pub use input::{BindingMessage, HintKind, LoginHint, MAX_BINDING_CHARS};
pub use poll::{Schedule, DEFAULT_INTERVAL, SLOW_DOWN_STEP};

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::time::Instant;
use url::Url;

use crate::flow::{CallInitiator, FlowContext, FlowEvent, FlowJob, JobFuture, Subject};
use crate::messages::error_message;
use crate::net::describe;
use crate::oidc::discovery::{IssuerCache, ProviderMetadata};
use crate::oidc::http::{require_secure, shared_client, FlowHttp, OAuthErrorBody};
use crate::oidc::token::{self, Expect};
use crate::oidc::{provider_stop, FlowStop};
use crate::secrets::SecretString;
use crate::vault::Vault;
use crate::{Error, Result};
use poll::{PollOutcome, TokenAnswer, MAX_CONSECUTIVE_GLITCHES};

const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

/// One CIBA provider as the profile's `[ciba]` section and the keyring describe it.
#[derive(Clone)]
pub struct CibaConfig {
    pub issuer: Url,
    pub client_id: String,
    pub auth: ClientAuth,
    /// `openid` plus what the desk shows (`profile`).
    pub scope: String,
    pub acr_values: Option<String>,
    /// Seconds the customer has to answer; the provider may shorten it.
    pub requested_expiry: Option<u32>,
    /// `NO`/`SE` for the verified person when the provider does not say.
    pub country: Option<String>,
}

impl fmt::Debug for CibaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CibaConfig")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Who to authenticate, with the message both screens show.
#[derive(Debug, Clone, PartialEq)]
pub struct CibaAuth {
    pub hint: LoginHint,
    pub binding_message: BindingMessage,
    /// A phone authentication (Idura's Swedish BankID Phone, Norwegian caller authentication):
    /// sent as `authorization_details` `[{"type":"phoneAuth","callInitiator":…}]`.
    pub phone_call: Option<CallInitiator>,
}

/// `authorization_details` (RFC 9396) of a phone authentication, as Idura documents it:
/// `[{"type":"phoneAuth","callInitiator":"RP"|"user"}]`.
fn phone_auth_details(call: CallInitiator) -> String {
    serde_json::json!([{ "type": "phoneAuth", "callInitiator": call.wire() }]).to_string()
}

/// The CIBA client of one profile. Cheap to clone; clones share discovery and the JWKS.
#[derive(Clone)]
pub struct CibaClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: CibaConfig,
    issuer: IssuerCache,
}

impl fmt::Debug for CibaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CibaClient")
            .field("cfg", &self.inner.cfg)
            .finish()
    }
}

/// The backchannel authentication endpoint's success answer (CIBA Core §7.3).
#[derive(Deserialize)]
struct Accepted {
    auth_req_id: String,
    expires_in: u64,
    interval: Option<u64>,
}

impl CibaClient {
    pub fn new(cfg: CibaConfig) -> Result<Self> {
        require_secure(&cfg.issuer, "ciba.issuer")?;
        if cfg.client_id.trim().is_empty() {
            return Err(Error::invalid_config("ciba.client_id", "is empty"));
        }
        let issuer = IssuerCache::new(shared_client()?, &cfg.issuer);
        Ok(CibaClient {
            inner: Arc::new(Inner { cfg, issuer }),
        })
    }

    pub fn config(&self) -> &CibaConfig {
        &self.inner.cfg
    }

    /// Test connection: discovery offers poll-mode CIBA with our client authentication, and the
    /// JWKS that ID tokens are checked against is readable. Nothing reaches a customer.
    pub async fn check(&self) -> Result<()> {
        self.metadata().await?;
        self.inner.issuer.signing_keys_readable().await
    }

    /// Discovery, checked for what poll-mode CIBA needs.
    pub(crate) async fn metadata(&self) -> Result<Arc<ProviderMetadata>> {
        let meta = self.inner.issuer.metadata().await?;
        if meta.backchannel_authentication_endpoint.is_none() {
            return Err(Error::Protocol(
                "the provider offers no CIBA (discovery has no backchannel_authentication_endpoint)"
                    .into(),
            ));
        }
        if let Some(modes) = &meta.backchannel_token_delivery_modes_supported {
            if !modes.iter().any(|m| m == "poll") {
                return Err(Error::Protocol(format!(
                    "the provider delivers CIBA tokens only by {}; the desk polls",
                    modes.join(", ")
                )));
            }
        }
        if let Some(methods) = &meta.token_endpoint_auth_methods_supported {
            let ours = self.auth_method().as_str();
            if !methods.iter().any(|m| m == ours) {
                return Err(Error::invalid_config(
                    "ciba.client_auth",
                    format!("the provider does not accept {ours}"),
                ));
            }
        }
        Ok(meta)
    }

    fn auth_method(&self) -> ClientAuthMethod {
        match self.inner.cfg.auth {
            ClientAuth::Basic { .. } => ClientAuthMethod::ClientSecretBasic,
            ClientAuth::PrivateKeyJwt { .. } => ClientAuthMethod::PrivateKeyJwt,
        }
    }

    /// A client-authenticated form POST.
    fn post(
        &self,
        http: &FlowHttp,
        endpoint: &Url,
        mut form: Vec<(&'static str, String)>,
    ) -> Result<reqwest::RequestBuilder> {
        let cfg = &self.inner.cfg;
        let req = http
            .post(endpoint.clone())
            .header("Accept", "application/json");
        let req = cfg
            .auth
            .apply(req, &cfg.client_id, self.inner.issuer.issuer(), &mut form)?;
        Ok(req.form(&form))
    }

    /// Sends the backchannel authentication request: exactly once, whatever happens.
    async fn request(&self, http: &FlowHttp, endpoint: &Url, who: &CibaAuth) -> Result<Accepted> {
        let cfg = &self.inner.cfg;
        let (hint_name, hint) = who.hint.param();
        let mut form: Vec<(&'static str, String)> = vec![
            ("scope", cfg.scope.clone()),
            (hint_name, hint.to_string()),
            ("binding_message", who.binding_message.as_str().to_string()),
        ];
        if let Some(acr) = &cfg.acr_values {
            form.push(("acr_values", acr.clone()));
        }
        if let Some(secs) = cfg.requested_expiry {
            form.push(("requested_expiry", secs.to_string()));
        }
        if let Some(call) = who.phone_call {
            form.push(("authorization_details", phone_auth_details(call)));
        }
        let resp = match http.send_raw(self.post(http, endpoint, form)?).await {
            Ok(r) => r,
            // Nothing reached the provider: safe to say so, and still never retried here.
            Err(e) if e.is_connect() => return Err(crate::net::transport_error(&e)),
            Err(e) => {
                tracing::warn!(error = describe(&e), "CIBA request: answer lost");
                return Err(Error::OutcomeUnknown);
            }
        };
        let status = resp.status();
        let body = match crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES).await
        {
            Ok(b) => b,
            // The request was taken (the customer's device may be notified) but its answer
            // cannot be read: as uncertain as a lost one.
            Err(_) if status.is_success() => return Err(Error::OutcomeUnknown),
            Err(e) => return Err(e.into_error("CIBA request")),
        };
        if !status.is_success() {
            return Err(OAuthErrorBody::into_error(
                status.as_u16(),
                &body,
                "backchannel authentication",
            ));
        }
        // Accepted, but without an id we cannot follow it: the customer was notified all the same.
        serde_json::from_slice(&body).map_err(|e| {
            tracing::warn!(error = %e, "CIBA request: unreadable answer");
            Error::OutcomeUnknown
        })
    }

    /// One token poll: the tokens, or what the provider's error means for the flow.
    async fn poll_once(
        &self,
        http: &FlowHttp,
        token_endpoint: &Url,
        auth_req_id: &str,
    ) -> Result<std::result::Result<TokenAnswer, PollOutcome>> {
        let form = vec![
            ("grant_type", CIBA_GRANT.to_string()),
            ("auth_req_id", auth_req_id.to_string()),
        ];
        let resp = http.send(self.post(http, token_endpoint, form)?).await?;
        let status = resp.status();
        let body = crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES)
            .await
            .map_err(|e| e.into_error("token"))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Error::Network(format!("token answered HTTP {status}")));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
            Error::Protocol(format!(
                "token answered HTTP {} without readable JSON",
                status.as_u16()
            ))
        })?;
        if status.is_success() && answer.error.is_none() {
            return Ok(Ok(answer));
        }
        if status.as_u16() == 401 {
            return Err(OAuthErrorBody::into_error(401, &body, "token"));
        }
        let code = answer.error.as_deref().unwrap_or("invalid_grant");
        Ok(Err(PollOutcome::of_error(
            code,
            answer.error_description.as_deref(),
        )))
    }

    /// Polls until tokens, a final answer, the deadline or staff cancel.
    async fn wait_for_tokens(
        &self,
        http: &FlowHttp,
        token_endpoint: &Url,
        auth_req_id: &str,
        mut schedule: Schedule,
        ctx: &FlowContext,
    ) -> Result<TokenAnswer, FlowStop> {
        let mut last = Instant::now();
        let mut glitches = 0;
        loop {
            let Some(next) = schedule.next_after(last) else {
                return Err(FlowStop::Expired);
            };
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => return Err(FlowStop::Cancelled),
                _ = tokio::time::sleep_until(next) => {}
            }
            last = Instant::now();
            match self.poll_once(http, token_endpoint, auth_req_id).await {
                Ok(Ok(tokens)) => return Ok(tokens),
                Ok(Err(outcome)) => {
                    glitches = 0;
                    match outcome {
                        PollOutcome::Pending => {}
                        PollOutcome::SlowDown => {
                            schedule.slow_down();
                            tracing::info!(flow_id = %ctx.flow_id, interval_s = schedule.interval().as_secs(), "CIBA: slow_down, polling less often");
                        }
                        PollOutcome::Denied => return Err(FlowStop::CustomerAborted),
                        PollOutcome::Expired => return Err(FlowStop::Expired),
                        PollOutcome::Error { code, description } => {
                            return Err(provider_stop(&code, description.as_deref()))
                        }
                    }
                }
                Err(e @ Error::Network(_)) if glitches < MAX_CONSECUTIVE_GLITCHES => {
                    glitches += 1;
                    tracing::warn!(flow_id = %ctx.flow_id, error = %e, "CIBA poll failed; trying again at the next interval");
                }
                Err(e) => return Err(FlowStop::Failed(e)),
            }
        }
    }

    /// The whole flow; the caller turns the result into the terminal event.
    pub async fn authenticate(
        &self,
        who: &CibaAuth,
        vault: Option<&Vault>,
        ctx: &FlowContext,
    ) -> Result<Subject, FlowStop> {
        let meta = self.metadata().await?;
        let endpoint = meta
            .backchannel_authentication_endpoint
            .clone()
            .ok_or_else(|| Error::Protocol("no backchannel_authentication_endpoint".into()))?;
        let http = FlowHttp::new(false)?;
        // Staff may cancel while the request is in flight: it is still sent once and its answer
        // awaited, so nothing is left half-started without the log saying so.
        let accepted = self.request(&http, &endpoint, who).await?;
        let started_at = OffsetDateTime::now_utc();
        let lifetime = crate::flow::bounds::expires_in(accepted.expires_in);
        let expires_at = started_at + lifetime;
        ctx.emit(FlowEvent::Started {
            flow_id: ctx.flow_id.clone(),
            method: ctx.method,
            expires_at: expires_at.format(&Rfc3339).ok(),
        });
        ctx.emit(FlowEvent::BindingMessage {
            text: who.binding_message.as_str().to_string(),
        });
        ctx.emit(FlowEvent::Progress {
            status: "authorization_pending".into(),
            message: error_message("authorization_pending", ctx.lang),
        });
        if let Some(v) = vault {
            if let Err(e) = v.set_reference(&ctx.flow_id, &accepted.auth_req_id) {
                tracing::warn!(flow_id = %ctx.flow_id, error = %e, "could not record the CIBA request id");
            }
        }
        let deadline = Instant::now() + lifetime;
        let schedule = Schedule::new(accepted.interval, deadline);
        let tokens = self
            .wait_for_tokens(
                &http,
                &meta.token_endpoint,
                &accepted.auth_req_id,
                schedule,
                ctx,
            )
            .await?;
        let subject = self.subject(&http, &meta, tokens).await?;
        tracing::info!(flow_id = %ctx.flow_id, requests = http.request_count(), "CIBA flow finished its requests");
        Ok(subject)
    }

    /// The validated ID token, then userinfo where the provider has it.
    async fn subject(
        &self,
        http: &FlowHttp,
        meta: &ProviderMetadata,
        tokens: TokenAnswer,
    ) -> Result<Subject> {
        if let Some(t) = tokens.token_type.as_deref() {
            if !t.eq_ignore_ascii_case("bearer") && !t.eq_ignore_ascii_case("dpop") {
                return Err(Error::Protocol(format!("token type {t:?} is not Bearer")));
            }
        }
        let id_token = tokens
            .id_token
            .ok_or_else(|| Error::Protocol("the token answer has no id_token".into()))?;
        let cfg = &self.inner.cfg;
        let claims = token::validate_id_token(
            &self.inner.issuer,
            &id_token,
            &Expect {
                client_id: &cfg.client_id,
                nonce: None,
            },
        )
        .await?;
        let country = cfg.country.as_deref().unwrap_or("");
        let mut subject = match (&meta.userinfo_endpoint, tokens.access_token) {
            (Some(endpoint), Some(access)) => {
                token::userinfo(http, endpoint, &SecretString::new(access), &claims, country)
                    .await?
            }
            _ => token::subject_from_id_token(&claims, country),
        };
        if subject.country.as_deref() == Some("") {
            subject.country = None;
        }
        subject.loa = subject.loa.or_else(|| loa_of(&claims));
        Ok(subject)
    }

    /// CIBA as an engine flow kind: returns the terminal event.
    pub async fn run(&self, who: &CibaAuth, vault: Option<&Vault>, ctx: &FlowContext) -> FlowEvent {
        match self.authenticate(who, vault, ctx).await {
            Ok(subject) => FlowEvent::Succeeded { subject },
            Err(stop) => stop.into_event(ctx.lang),
        }
    }
}

/// A prepared CIBA flow: the runner's [`FlowJob`].
pub struct CibaJob {
    client: CibaClient,
    auth: Box<CibaAuth>,
    vault: Option<Vault>,
}

impl CibaJob {
    pub fn new(client: CibaClient, auth: CibaAuth, vault: Option<Vault>) -> Self {
        CibaJob {
            client,
            auth: Box::new(auth),
            vault,
        }
    }
}

impl FlowJob for CibaJob {
    fn run<'a>(self: Box<Self>, ctx: &'a FlowContext) -> JobFuture<'a> {
        let CibaJob {
            client,
            auth,
            vault,
        } = *self;
        Box::pin(async move { client.run(&auth, vault.as_ref(), ctx).await })
    }
}

/// The level of assurance when the `acr` names one in words (eIDAS-style values).
fn loa_of(claims: &Map<String, Value>) -> Option<String> {
    let acr = claims
        .get("acr")
        .and_then(Value::as_str)?
        .to_ascii_lowercase();
    ["high", "substantial", "low"]
        .into_iter()
        .find(|level| acr.contains(level))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loa_comes_from_words_in_acr() {
        let c = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            loa_of(&c(json!({"acr": "urn:eidas:loa:High"}))).as_deref(),
            Some("high")
        );
        assert_eq!(loa_of(&c(json!({"acr": "urn:x:4"}))), None);
        assert_eq!(loa_of(&c(json!({}))), None);
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let cfg = |issuer: &str| CibaConfig {
            issuer: Url::parse(issuer).unwrap(),
            client_id: "desk".into(),
            auth: ClientAuth::Basic {
                secret: SecretString::new("s"),
            },
            scope: "openid".into(),
            acr_values: None,
            requested_expiry: None,
            country: None,
        };
        let e = CibaClient::new(cfg("http://op.example")).unwrap_err();
        assert_eq!(e.field(), Some("ciba.issuer"));
        assert!(CibaClient::new(cfg("http://127.0.0.1:9")).is_ok());
        assert!(CibaClient::new(cfg("https://op.example")).is_ok());
    }
}
