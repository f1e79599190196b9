//! Legacy OIDC headless ("inapp") authentication and Consent Signature (reference §2–§3).
//!
//! One flow = authorize → poll → follow the completion redirects → token → validated ID token →
//! (signature: SDO download and durable storage) → userinfo. Every flow has its own HTTP client
//! and cookie jar; discovery and the JWKS are shared per issuer by all clones of an [`OidcClient`].

mod authorize;
mod complete;
pub(crate) mod discovery;
pub(crate) mod http;
mod pkce;
mod poll;
mod request_object;
mod sdo;
pub(crate) mod token;

use crate::flow::{
    Evidence, FlowContext, FlowEvent, FlowJob, JobFuture, Method, SdoRef, Subject,
    CUSTOMER_ABORTED, USER_DECLINED_CALL,
};
use crate::identity::{BirthDate, NorwegianMobile, SignText, SwedishPersonnummer};
use crate::messages::{BankIdCode, BankIdState, Lang};
use crate::secrets::SecretString;
use crate::vault::Vault;
use crate::{Error, Result};
use discovery::IssuerCache;
use http::{require_secure, FlowHttp};
use pkce::FlowSecrets;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// One legacy OIDC profile: the issuer and both clients (authentication and `*-sign`).
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub sign_client_id: String,
    pub sign_client_secret: SecretString,
    /// Registered with Signicat; never fetched (the code is read from the redirect `Location`).
    pub redirect_uri: Url,
    /// Give up (`expired`) after this long without an outcome. BankID orders live ~3 minutes.
    pub max_wait: Duration,
}

impl OidcConfig {
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(300);
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("sign_client_id", &self.sign_client_id)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

/// Who to authenticate (validated before any request).
#[derive(Debug, Clone, PartialEq)]
pub enum LegacyAuth {
    /// `nbid-inapp`: Norwegian BankID on mobile.
    Nbid {
        phone: NorwegianMobile,
        birthdate: BirthDate,
    },
    /// `sbid-inapp`: Swedish BankID.
    Sbid { nin: SwedishPersonnummer },
}

impl LegacyAuth {
    fn country(&self) -> &'static str {
        match self {
            LegacyAuth::Nbid { .. } => "NO",
            LegacyAuth::Sbid { .. } => "SE",
        }
    }
}

/// Who signs what (`nbid-inapp-sign` / `sbid-inapp-sign`).
#[derive(Debug, Clone, PartialEq)]
pub struct LegacySign {
    pub signer: LegacyAuth,
    pub text: SignText,
}

/// Why a flow did not reach its goal. Typed, so callers (and tests) can tell a customer's cancel
/// from an untrusted token from a network failure.
#[derive(Debug)]
pub enum FlowStop {
    /// An engine error: network, protocol, `IdToken`, `StateMismatch`, `Api`, vault...
    Failed(Error),
    /// BankID / Signicat reported a failure (`error` in JSON or on the redirect). `code` is raw.
    Provider {
        code: String,
        description: Option<String>,
    },
    /// The customer cancelled in the BankID app (`USER_CANCEL`).
    CustomerAborted,
    /// The order expired (`EXPIRED_TRANSACTION`, or no outcome within `max_wait`).
    Expired,
    /// Staff cancelled.
    Cancelled,
}

impl From<Error> for FlowStop {
    fn from(e: Error) -> Self {
        FlowStop::Failed(e)
    }
}

impl FlowStop {
    /// The provider refused the request object itself (`invalid_request_object`, OIDC Core
    /// §6.3): unreadable, perhaps encrypted to a retired key.
    fn is_request_object_refusal(&self) -> bool {
        matches!(self, FlowStop::Provider { code, .. } if code == "invalid_request_object")
    }
    /// The terminal event for this stop, with staff texts in `lang`.
    pub fn into_event(self, lang: Lang) -> FlowEvent {
        match self {
            FlowStop::Failed(e) => FlowEvent::failed(&e),
            FlowStop::Provider { code, description } => {
                let known = BankIdCode::parse(&code);
                let message = match (&known, description) {
                    (BankIdCode::Unknown(_), Some(d)) if !d.trim().is_empty() => d,
                    _ => known.message_as(lang, false, BankIdState::Failed),
                };
                // The legacy API and CIBA name a declined call BankID's way; the desk's outcome
                // is one code whatever the API.
                let code = match known {
                    BankIdCode::UserDeclinedCall => USER_DECLINED_CALL.to_string(),
                    _ => code,
                };
                FlowEvent::Failed { code, message }
            }
            FlowStop::CustomerAborted => FlowEvent::Failed {
                code: CUSTOMER_ABORTED.into(),
                message: BankIdCode::UserCancel.message_as(lang, false, BankIdState::Failed),
            },
            FlowStop::Expired => FlowEvent::Expired,
            FlowStop::Cancelled => FlowEvent::Cancelled,
        }
    }
}

/// Maps an `error` value from Signicat: the customer's cancel and expiry are outcomes of their
/// own, everything else is shown as the provider said it.
pub(crate) fn provider_stop(error: &str, description: Option<&str>) -> FlowStop {
    match BankIdCode::parse(error) {
        BankIdCode::UserCancel => FlowStop::CustomerAborted,
        BankIdCode::ExpiredTransaction => FlowStop::Expired,
        _ => FlowStop::Provider {
            code: error.to_string(),
            description: description.map(str::to_string),
        },
    }
}

/// The legacy OIDC client of one profile. Cheap to clone; clones share discovery and JWKS.
#[derive(Clone)]
pub struct OidcClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: OidcConfig,
    issuer: IssuerCache,
    knobs: TestKnobs,
}

/// Deliberate misbehaviour for tests that prove a safeguard works against the real simulator.
/// Never set outside tests.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct TestKnobs {
    /// Flows keep no cookies (Signicat's session cookie is then lost).
    pub drop_cookies: bool,
    /// The flow expects another `state` than it sent (as if the answer belonged to another request).
    pub expect_other_state: bool,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("cfg", &self.inner.cfg)
            .finish()
    }
}

/// What one flow carries from authorize to token.
struct Started {
    http: FlowHttp,
    secrets: FlowSecrets,
}

impl OidcClient {
    pub fn new(cfg: OidcConfig) -> Result<Self> {
        Self::build(cfg, TestKnobs::default())
    }

    /// A client that misbehaves on purpose (see [`TestKnobs`]). Tests only.
    #[doc(hidden)]
    pub fn new_with_test_knobs(cfg: OidcConfig, knobs: TestKnobs) -> Result<Self> {
        Self::build(cfg, knobs)
    }

    fn build(cfg: OidcConfig, knobs: TestKnobs) -> Result<Self> {
        require_secure(&cfg.issuer, "oidc.issuer")?;
        if cfg.issuer.query().is_some() || cfg.issuer.fragment().is_some() {
            return Err(Error::invalid_config(
                "oidc.issuer",
                "must not have a query or fragment",
            ));
        }
        for (field, v) in [
            ("oidc.client_id", &cfg.client_id),
            ("oidc.sign_client_id", &cfg.sign_client_id),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid_config(field, "is empty"));
            }
        }
        let issuer = IssuerCache::new(http::shared_client()?, &cfg.issuer);
        Ok(OidcClient {
            inner: Arc::new(Inner { cfg, issuer, knobs }),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.inner.cfg
    }

    fn base_claims(
        &self,
        who: &LegacyAuth,
        sign: bool,
        secrets: &FlowSecrets,
        lang: Lang,
    ) -> Vec<(&'static str, String)> {
        let cfg = &self.inner.cfg;
        vec![
            ("response_type", "code".into()),
            (
                "scope",
                if sign {
                    "openid profile signicat.sign".into()
                } else {
                    "openid profile".into()
                },
            ),
            (
                "client_id",
                if sign {
                    cfg.sign_client_id.clone()
                } else {
                    cfg.client_id.clone()
                },
            ),
            ("redirect_uri", cfg.redirect_uri.as_str().into()),
            ("state", secrets.state.clone()),
            ("nonce", secrets.nonce.clone()),
            (
                "acr_values",
                format!(
                    "{}{}",
                    authorize::ACR_PREFIX,
                    authorize::method_name(who, sign)
                ),
            ),
            ("code_challenge", secrets.code_challenge()),
            ("code_challenge_method", "S256".into()),
            ("ui_locales", lang.as_str().into()),
        ]
    }

    /// Authorize and poll until the customer is done; returns the authorization code.
    async fn authorize_and_wait(
        &self,
        who: &LegacyAuth,
        sign_text: Option<&SignText>,
        vault: Option<&Vault>,
        ctx: &FlowContext,
    ) -> Result<(Started, String), FlowStop> {
        let meta = self.inner.issuer.metadata().await?;
        let http = FlowHttp::new(!self.inner.knobs.drop_cookies)?;
        let secrets = FlowSecrets::fresh();
        let params = self.base_claims(who, sign_text.is_some(), &secrets, ctx.lang);
        let form: Vec<(&str, String)> = match sign_text {
            None => {
                let mut form = params;
                form.extend(login_hint_pairs(who));
                form
            }
            Some(text) => {
                let mut claims: Map<String, Value> = params
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), Value::from(v)))
                    .collect();
                claims.insert(
                    "login_hint".into(),
                    Value::from(authorize::login_hints(who)),
                );
                claims.insert("signicat_signtext".into(), Value::from(text.as_str()));
                let key = self.inner.issuer.encryption_key().await?;
                vec![("request", request_object::encrypt(&claims, &key)?)]
            }
        };
        let target = match authorize::send_authorize(
            &http,
            &meta.authorization_endpoint,
            who,
            &form,
        )
        .await
        {
            Ok(t) => t,
            Err(stop) => {
                // A request object the issuer cannot read may be encrypted to a key it has
                // retired: the next flow fetches the keys again (review L-1). No resend.
                if sign_text.is_some() && stop.is_request_object_refusal() {
                    self.inner.issuer.forget_keys().await;
                }
                return Err(stop);
            }
        };
        ctx.emit(FlowEvent::Started {
            flow_id: ctx.flow_id.clone(),
            method: ctx.method,
            expires_at: None,
        });
        if let authorize::PollTarget::Sbid {
            order_ref,
            auto_start_token,
            ..
        } = &target
        {
            if let Some(v) = vault {
                if let Err(e) = v.set_reference(&ctx.flow_id, order_ref) {
                    tracing::warn!(flow_id = %ctx.flow_id, error = %e, "could not record the order reference");
                }
            }
            ctx.emit(FlowEvent::AppLaunch {
                url: authorize::app_launch_url(auto_start_token),
            });
        }
        let complete_url =
            poll::until_complete(&http, &target, self.inner.cfg.max_wait, ctx).await?;
        let expected_state = if self.inner.knobs.expect_other_state {
            FlowSecrets::fresh().state
        } else {
            secrets.state.clone()
        };
        let code = complete::follow_to_code(
            &http,
            complete_url,
            &self.inner.cfg.redirect_uri,
            &expected_state,
        )
        .await?;
        Ok((Started { http, secrets }, code))
    }

    /// Runs the authorize → poll → complete phase, honouring staff cancel.
    async fn first_phase(
        &self,
        who: &LegacyAuth,
        sign_text: Option<&SignText>,
        vault: Option<&Vault>,
        ctx: &FlowContext,
    ) -> Result<(Started, String), FlowStop> {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => Err(FlowStop::Cancelled),
            r = self.authorize_and_wait(who, sign_text, vault, ctx) => r,
        }
    }

    /// Headless authentication. Emits `started`, `app_launch` (Swedish BankID) and `progress`
    /// through `ctx`; the caller turns the result into the terminal event.
    pub async fn authenticate(
        &self,
        who: &LegacyAuth,
        ctx: &FlowContext,
    ) -> Result<Subject, FlowStop> {
        self.authenticate_recording(who, None, ctx).await
    }

    async fn authenticate_recording(
        &self,
        who: &LegacyAuth,
        vault: Option<&Vault>,
        ctx: &FlowContext,
    ) -> Result<Subject, FlowStop> {
        let (started, code) = self.first_phase(who, None, vault, ctx).await?;
        let cfg = &self.inner.cfg;
        let auth = token::ClientAuth {
            client_id: &cfg.client_id,
            client_secret: &cfg.client_secret,
        };
        let (tokens, claims) = self.tokens(&started, &auth, &code).await?;
        let meta = self.inner.issuer.metadata().await?;
        let subject = token::userinfo(
            &started.http,
            meta.userinfo_endpoint()?,
            &tokens.access_token,
            &claims,
            who.country(),
        )
        .await?;
        log_requests(ctx, &started);
        Ok(subject)
    }

    async fn tokens(
        &self,
        started: &Started,
        auth: &token::ClientAuth<'_>,
        code: &str,
    ) -> Result<(token::Tokens, Map<String, Value>)> {
        let meta = self.inner.issuer.metadata().await?;
        let tokens = token::exchange_code(
            &started.http,
            &meta.token_endpoint,
            auth,
            code,
            &self.inner.cfg.redirect_uri,
            &started.secrets.code_verifier,
        )
        .await?;
        let claims = token::validate_id_token(
            &self.inner.issuer,
            &tokens.id_token,
            &token::Expect {
                client_id: auth.client_id,
                nonce: Some(&started.secrets.nonce),
            },
        )
        .await?;
        Ok((tokens, claims))
    }

    /// Consent Signature. The flow's vault row (`ctx.flow_id`) must exist (`Vault::begin`): the
    /// SDO is stored durably under it before this returns. Staff cancel applies until the
    /// customer has signed; after that the evidence is always fetched and kept.
    pub async fn sign(
        &self,
        req: &LegacySign,
        vault: &Vault,
        ctx: &FlowContext,
    ) -> Result<(Subject, SdoRef), FlowStop> {
        let (started, code) = self
            .first_phase(&req.signer, Some(&req.text), Some(vault), ctx)
            .await?;
        let cfg = &self.inner.cfg;
        let auth = token::ClientAuth {
            client_id: &cfg.sign_client_id,
            client_secret: &cfg.sign_client_secret,
        };
        let (tokens, claims) = self.tokens(&started, &auth, &code).await?;
        // At once: the access token is short-lived and the SDO cannot be fetched after it expires.
        let bytes = sdo::download(
            &started.http,
            self.inner.issuer.issuer(),
            &tokens.access_token,
        )
        .await?;
        // The customer has signed: from here on the SDO is never dropped (issue 23, item 4).
        let stored = store_sdo_with_retries(vault, &ctx.flow_id, &bytes).await;
        if let Ok(sdo) = &stored {
            tracing::info!(flow_id = %ctx.flow_id, bytes = sdo.bytes, sha256 = %sdo.sha256, "signature evidence stored");
        }
        let subject = self.signer(req, &started, &tokens, &claims, ctx).await;
        log_requests(ctx, &started);
        match stored {
            Ok(sdo) => Ok((subject, sdo)),
            Err(e) => {
                // Kept in memory and written again by the vault's retry; the access token is
                // gone, so Signicat cannot give it again.
                tracing::error!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "the customer signed but the SDO could not be stored; kept in memory and retried");
                vault.hold_pending(crate::vault::PendingWrite::Sdo {
                    id: ctx.flow_id.clone(),
                    subject,
                    bytes,
                });
                Err(FlowStop::Failed(crate::vault::pending_error(&e)))
            }
        }
    }

    /// Who signed: userinfo, else the validated ID token's claims (the customer has signed and
    /// the evidence is in hand: a userinfo hiccup must not turn that into a failure).
    async fn signer(
        &self,
        req: &LegacySign,
        started: &Started,
        tokens: &token::Tokens,
        claims: &Map<String, Value>,
        ctx: &FlowContext,
    ) -> Subject {
        let meta = match self.inner.issuer.metadata().await {
            Ok(meta) => meta,
            Err(e) => {
                tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "discovery failed after signing; using the ID token's claims");
                return token::subject_from_id_token(claims, req.signer.country());
            }
        };
        let userinfo = match meta.userinfo_endpoint() {
            Ok(endpoint) => {
                token::userinfo(
                    &started.http,
                    endpoint,
                    &tokens.access_token,
                    claims,
                    req.signer.country(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        match userinfo {
            Ok(subject) => subject,
            // The validated ID token names the same person.
            Err(e) => {
                tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "userinfo failed after signing; using the ID token's claims");
                token::subject_from_id_token(claims, req.signer.country())
            }
        }
    }

    /// Authentication as an engine flow kind: returns the terminal event.
    pub async fn run_authenticate(
        &self,
        who: &LegacyAuth,
        vault: Option<&Vault>,
        ctx: &FlowContext,
    ) -> FlowEvent {
        match self.authenticate_recording(who, vault, ctx).await {
            Ok(subject) => FlowEvent::Succeeded { subject },
            Err(stop) => stop.into_event(ctx.lang),
        }
    }

    /// Consent Signature as an engine flow kind: returns the terminal event.
    pub async fn run_sign(&self, req: &LegacySign, vault: &Vault, ctx: &FlowContext) -> FlowEvent {
        match self.sign(req, vault, ctx).await {
            Ok((subject, sdo)) => FlowEvent::Signed {
                subject,
                evidence: vec![Evidence::ltv_sdo(sdo)],
            },
            Err(stop) => stop.into_event(ctx.lang),
        }
    }
}

/// A prepared legacy OIDC flow: authentication (`text: None`) or Consent Signature (`text` and
/// the vault set). The runner's [`FlowJob`].
pub struct LegacyJob {
    client: OidcClient,
    who: LegacyAuth,
    sign: Option<(SignText, Vault)>,
    vault: Option<Vault>,
}

impl LegacyJob {
    /// A signature without the evidence vault is refused here, before anything is sent.
    pub fn new(
        client: OidcClient,
        who: LegacyAuth,
        text: Option<SignText>,
        vault: Option<Vault>,
    ) -> Result<Self> {
        let sign = match (text, &vault) {
            (None, _) => None,
            (Some(text), Some(v)) => Some((text, v.clone())),
            (Some(_), None) => {
                return Err(Error::invalid_config(
                    "vault",
                    "a signature needs the evidence vault",
                ))
            }
        };
        Ok(LegacyJob {
            client,
            who,
            sign,
            vault,
        })
    }
}

impl FlowJob for LegacyJob {
    fn run<'a>(self: Box<Self>, ctx: &'a FlowContext) -> JobFuture<'a> {
        let LegacyJob {
            client,
            who,
            sign,
            vault,
        } = *self;
        Box::pin(async move {
            match sign {
                Some((text, vault)) => {
                    let req = LegacySign { signer: who, text };
                    client.run_sign(&req, &vault, ctx).await
                }
                None => client.run_authenticate(&who, vault.as_ref(), ctx).await,
            }
        })
    }
}

fn login_hint_pairs(who: &LegacyAuth) -> Vec<(&'static str, String)> {
    authorize::login_hints(who)
        .into_iter()
        .map(|h| ("login_hint", h))
        .collect()
}

fn log_requests(ctx: &FlowContext, started: &Started) {
    tracing::info!(
        flow_id = %ctx.flow_id,
        requests = started.http.request_count(),
        "legacy OIDC flow finished its requests"
    );
}

/// The method each legacy kind reports.
pub fn method_of(who: &LegacyAuth, sign: bool) -> Method {
    match (who, sign) {
        (LegacyAuth::Nbid { .. }, false) => Method::NbidInapp,
        (LegacyAuth::Sbid { .. }, false) => Method::SbidInapp,
        (LegacyAuth::Nbid { .. }, true) => Method::NbidSign,
        (LegacyAuth::Sbid { .. }, true) => Method::SbidSign,
    }
}

/// Pauses between a Consent Signature's attempts to store its SDO before the bytes go to the
/// vault's background retry (as a Sign API v2 signature's evidence).
const SDO_STORE_RETRY_DELAYS: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(2),
];

/// Stores the SDO (blocking work off the async threads), tried again after each pause.
async fn store_sdo_with_retries(
    vault: &Vault,
    id: &crate::flow::FlowId,
    bytes: &[u8],
) -> Result<SdoRef> {
    let attempt = || {
        let (vault, id, bytes) = (vault.clone(), id.clone(), bytes.to_vec());
        async move {
            tokio::task::spawn_blocking(move || vault.store_sdo_again(&id, &bytes))
                .await
                .map_err(|e| Error::Vault(format!("storing the evidence stopped: {e}")))?
        }
    };
    let mut last = attempt().await;
    for pause in SDO_STORE_RETRY_DELAYS {
        let Err(e) = &last else { break };
        tracing::warn!(flow_id = %id, code = e.code(), error = %e, "storing the SDO failed; trying again");
        tokio::time::sleep(pause).await;
        last = attempt().await;
    }
    last
}
