//! The engine: the one entry point the app and the CLI use to run flows.
//!
//! ## Adding a flow kind (extension point)
//! A protocol family (a module beside `rest`, `oidc`, `ciba`, `sign`) provides a type that
//! implements [`FlowJob`]: it runs one flow from a [`FlowContext`] to its terminal event. To add a
//! kind:
//! 1. add a variant to [`FlowRequest`] (and its arms in `method`, `identity_key`,
//!    `masked_identity`, `parse`);
//! 2. build its job in [`Engine::prepare`] (configuration errors are returned there, before
//!    anything is spawned).
//!
//! The runner sits above every family; no family imports it.

use super::calls::CallLedger;
use super::registry::{Entry, Lookup, Registry};
use super::request::FlowRequest;
use super::settings::FlowSettings;
use crate::ciba::{CibaClient, CibaConfig, CibaJob};
use crate::flow::{
    EventSink, ExpectedIdentity, FlowContext, FlowEvent, FlowId, FlowJob, FlowUpdate,
    CUSTOMER_ABORTED, USER_DECLINED_CALL,
};
use crate::oidc::{LegacyJob, OidcClient, OidcConfig};
use crate::rest::{HttpTimeouts, RestClient, RestConfig, RestJob, RestKind};
use crate::sign::{SignClient, SignConfig, SignJob};
use crate::vault::{NewTransaction, Vault};
use crate::{Error, Result};
use futures::FutureExt;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

pub use super::registry::RunningFlow;

/// How long `cancel` waits for a flow to wind down (a create in flight is allowed to finish, so
/// its session can be cancelled rather than orphaned: up to the request timeout).
const CANCEL_WAIT: Duration = Duration::from_secs(20);

/// Cheap to clone; every clone drives the same flows.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    rest: Option<RestClient>,
    oidc: Option<OidcClient>,
    ciba: Option<CibaClient>,
    sign: Option<SignClient>,
    /// Every flow is recorded here when set: a row before the first request, updated on each event.
    vault: Option<Vault>,
    /// The profile name written to the vault rows.
    profile: Option<String>,
    /// The archive the rows are owed to (`NewTransaction::archive_target`).
    archive_target: Option<String>,
    settings: Arc<FlowSettings>,
    registry: Registry,
    /// Orders sent to each customer in a phone call (the retry rules).
    calls: Arc<CallLedger>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("rest", &self.inner.rest)
            .field("settings", &self.inner.settings)
            .finish()
    }
}

impl Engine {
    /// `rest` is `None` for a profile without REST credentials (REST methods then fail with
    /// `invalid_config` at start).
    pub fn new(rest: Option<RestConfig>, settings: FlowSettings) -> Result<Engine> {
        Self::with_timeouts(rest, settings, HttpTimeouts::default())
    }

    /// As [`Engine::new`] with other HTTP timeouts (tests use short ones).
    pub fn with_timeouts(
        rest: Option<RestConfig>,
        settings: FlowSettings,
        timeouts: HttpTimeouts,
    ) -> Result<Engine> {
        let rest = rest
            .map(|c| RestClient::with_timeouts(&c, timeouts))
            .transpose()?;
        Ok(Engine {
            inner: Arc::new(Inner {
                rest,
                oidc: None,
                ciba: None,
                sign: None,
                vault: None,
                profile: None,
                archive_target: None,
                settings: Arc::new(settings),
                registry: Registry::default(),
                calls: Arc::default(),
            }),
        })
    }

    /// Replaces the REST client (tests and the benchmark use one that trusts a loopback
    /// simulator's certificate, [`RestClient::trusting`]).
    pub fn with_rest_client(self, client: RestClient) -> Engine {
        self.reconfigured(|inner| inner.rest = Some(client))
    }

    /// Adds the legacy OIDC client (the `*_inapp` and `*_sign` methods). Configure the engine
    /// before starting flows: an engine that is already shared gets a fresh flow registry.
    pub fn with_oidc(self, cfg: OidcConfig) -> Result<Engine> {
        let client = OidcClient::new(cfg)?;
        Ok(self.with_oidc_client(client))
    }

    /// As [`Engine::with_oidc`] with a ready client (tests use clients with test knobs).
    pub fn with_oidc_client(self, client: OidcClient) -> Engine {
        self.reconfigured(|inner| inner.oidc = Some(client))
    }

    /// Adds the OpenID Connect CIBA client (the `ciba` method).
    pub fn with_ciba(self, cfg: CibaConfig) -> Result<Engine> {
        let client = CibaClient::new(cfg)?;
        Ok(self.reconfigured(|inner| inner.ciba = Some(client)))
    }

    /// Adds the Sign API v2 client (the `sign_*` methods).
    pub fn with_sign(self, cfg: SignConfig) -> Result<Engine> {
        let client = SignClient::new(cfg)?;
        Ok(self.with_sign_client(client))
    }

    /// As [`Engine::with_sign`] with a ready client (tests trust a loopback certificate).
    pub fn with_sign_client(self, client: SignClient) -> Engine {
        self.reconfigured(|inner| inner.sign = Some(client))
    }

    /// Records every flow in `vault` (required for signatures). `profile` names the rows.
    pub fn with_vault(self, vault: Vault, profile: Option<String>) -> Engine {
        self.reconfigured(|inner| {
            inner.vault = Some(vault);
            inner.profile = profile;
        })
    }

    /// Names the archive the rows are owed to: the recording profile's `[archive]`, fingerprinted
    /// (review N-3). Without it a row goes only to an archive of the profile of its name.
    pub fn with_archive_target(self, fingerprint: Option<String>) -> Engine {
        self.reconfigured(|inner| inner.archive_target = fingerprint)
    }

    pub fn vault(&self) -> Option<&Vault> {
        self.inner.vault.as_ref()
    }

    fn reconfigured(self, change: impl FnOnce(&mut Inner)) -> Engine {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                rest: shared.rest.clone(),
                oidc: shared.oidc.clone(),
                ciba: shared.ciba.clone(),
                sign: shared.sign.clone(),
                vault: shared.vault.clone(),
                profile: shared.profile.clone(),
                archive_target: shared.archive_target.clone(),
                settings: shared.settings.clone(),
                registry: Registry::default(),
                calls: shared.calls.clone(),
            },
        };
        change(&mut inner);
        Engine {
            inner: Arc::new(inner),
        }
    }

    /// Whether another order may go to this request's customer now (the phone-call retry rules);
    /// checked again when the flow starts.
    pub fn check_call(&self, req: &FlowRequest, retry_confirmed: bool) -> Result<()> {
        match req.call_key() {
            Some(key) => self.inner.calls.check(&key, retry_confirmed),
            None => Ok(()),
        }
    }

    pub fn settings(&self) -> &FlowSettings {
        &self.inner.settings
    }

    /// The REST client (shared token cache), e.g. for figures.
    pub fn rest_client(&self) -> Option<&RestClient> {
        self.inner.rest.as_ref()
    }

    /// Validate, register and spawn a flow. Returns at once with its id; events follow on `sink`.
    /// `Err(AlreadyRunning{flow_id})` names the flow already running for this customer (the
    /// window asks whether to cancel it).
    pub async fn start(&self, req: FlowRequest, sink: EventSink) -> Result<FlowId> {
        self.start_confirmed(req, false, sink).await
    }

    /// Like [`Engine::start`], for an order that may be a retry in a phone call: `retry_confirmed`
    /// is staff's word that the customer wants to try again (see [`CallLedger`]).
    pub async fn start_confirmed(
        &self,
        req: FlowRequest,
        retry_confirmed: bool,
        sink: EventSink,
    ) -> Result<FlowId> {
        let call_key = req.call_key();
        if let Some(key) = &call_key {
            // A flow still running for this customer is reported first: the window offers to
            // cancel it, and starting again is then a retry like any other.
            if let Some(other) = self.inner.registry.running_for(key) {
                return Err(Error::AlreadyRunning {
                    flow_id: other.to_string(),
                });
            }
            self.inner.calls.check(key, retry_confirmed)?;
        }
        if req.method().is_signature() {
            self.check_space_for_evidence()?;
        }
        let flow_id = FlowId::new();
        let job = self.prepare(&req, &flow_id)?;
        let expected = req.expected_identity(&self.inner.settings);
        let cancel = CancellationToken::new();
        let done = CancellationToken::new();
        let entry = Entry {
            info: RunningFlow {
                flow_id: flow_id.clone(),
                method: req.method(),
                started_at: OffsetDateTime::now_utc()
                    .format(&Rfc3339)
                    .unwrap_or_default(),
                identity_masked: req.masked_identity(),
            },
            identity_key: req.identity_key(),
            cancel: cancel.clone(),
            done: done.clone(),
        };
        self.inner
            .registry
            .insert(flow_id.clone(), entry)
            .map_err(|other| Error::AlreadyRunning {
                flow_id: other.to_string(),
            })?;
        tracing::info!(
            flow_id = %flow_id,
            method = req.method().as_str(),
            customer = req.masked_identity().as_deref().unwrap_or("-"),
            "flow started"
        );
        let sink = match &self.inner.vault {
            None => sink,
            Some(vault) => {
                // The row exists before the flow's first request; without it, no flow.
                let row = NewTransaction {
                    id: flow_id.clone(),
                    method: req.method(),
                    identity_masked: req.masked_identity(),
                    profile: self.inner.profile.clone(),
                    sign_text: req.sign_text().map(|t| t.as_str().to_string()),
                    archive_target: self.inner.archive_target.clone(),
                };
                if let Err(e) = vault.begin(&row) {
                    self.inner.registry.finish(&flow_id, FlowEvent::failed(&e));
                    return Err(e);
                }
                recording_sink(vault.clone(), sink)
            }
        };
        // Counted once nothing on the desk can stop the order any more.
        if let Some(key) = &call_key {
            self.inner.calls.sent(key);
        }
        let ctx = FlowContext {
            flow_id: flow_id.clone(),
            method: req.method(),
            sink,
            cancel,
            lang: self.inner.settings.lang,
            poll: self.inner.settings.poll,
        };
        let engine = self.clone();
        // Should the task be dropped without finishing (the runtime shutting down), waiters
        // still wake, and find no terminal event.
        let done_guard = done.drop_guard();
        tokio::spawn(async move {
            let _done_guard = done_guard;
            // A panic inside a flow (or in the sink) must still end the flow: otherwise the
            // identity stays blocked and `wait` never returns.
            let terminal = AssertUnwindSafe(job.run(&ctx))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| FlowEvent::Failed {
                    code: "internal".into(),
                    message: "the flow stopped unexpectedly".into(),
                });
            let terminal = the_person_asked_for(terminal, &expected, &ctx);
            if let Some(key) = &call_key {
                engine.inner.calls.finished(key, &terminal);
            }
            tracing::info!(flow_id = %ctx.flow_id, outcome = terminal_label(&terminal), "flow finished");
            let sink = ctx.sink.clone();
            let update = FlowUpdate {
                flow_id: ctx.flow_id.clone(),
                event: terminal.clone(),
            };
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| sink(update)));
            engine.inner.registry.finish(&ctx.flow_id, terminal);
        });
        Ok(flow_id)
    }

    /// The flow's job from its protocol family, or a configuration error before anything runs.
    fn prepare(&self, req: &FlowRequest, flow_id: &FlowId) -> Result<Box<dyn FlowJob>> {
        let settings = &self.inner.settings;
        if let Some((who, text)) = req.legacy() {
            let client = self.inner.oidc.clone().ok_or_else(|| {
                Error::invalid_config("oidc", "this profile has no legacy OIDC settings")
            })?;
            let vault = self.inner.vault.clone();
            return Ok(Box::new(LegacyJob::new(client, who, text, vault)?));
        }
        if let FlowRequest::Ciba(auth) = req {
            let client = self.inner.ciba.clone().ok_or_else(|| {
                Error::invalid_config("ciba", "this profile has no CIBA settings")
            })?;
            client.config().auth.check()?;
            let vault = self.inner.vault.clone();
            return Ok(Box::new(CibaJob::new(client, auth.clone(), vault)));
        }
        if let FlowRequest::Sign(order) = req {
            let client = self.inner.sign.clone().ok_or_else(|| {
                Error::invalid_config("sign", "this profile has no Sign API settings")
            })?;
            let vault = self.inner.vault.clone().ok_or_else(|| {
                Error::invalid_config("vault", "a signature needs the evidence vault")
            })?;
            return Ok(Box::new(SignJob::new(client, (**order).clone(), vault)));
        }
        let kind = match req {
            FlowRequest::NbidSafeConversation { .. }
            | FlowRequest::NbidMobile { .. }
            | FlowRequest::SbidPhone { .. }
            | FlowRequest::SbidIdCard { .. } => RestKind::Push,
            FlowRequest::SbidQr { .. } => RestKind::Qr,
            FlowRequest::SbidAppLaunch { .. } => RestKind::AppLaunch,
            FlowRequest::Redirect { .. } => RestKind::Redirect,
            _ => {
                return Err(Error::invalid_config(
                    "method",
                    "this method does not use the REST API",
                ))
            }
        };
        let client = self.inner.rest.clone().ok_or_else(|| {
            Error::invalid_config(
                "rest",
                "this profile has no Authentication REST API settings",
            )
        })?;
        let body = req.rest_body(settings, flow_id.as_str())?.ok_or_else(|| {
            Error::invalid_config("method", "this method does not use the REST API")
        })?;
        Ok(Box::new(RestJob::new(client, body, kind)))
    }

    /// Staff cancel: the flow calls Signicat's cancel and ends with `cancelled`. Returns once the
    /// flow has ended (bounded). `NotFound` if the flow is not running.
    pub async fn cancel(&self, id: &FlowId) -> Result<()> {
        let (token, done) = self
            .inner
            .registry
            .control(id)
            .ok_or_else(|| Error::NotFound(format!("running flow {id}")))?;
        token.cancel();
        if tokio::time::timeout(CANCEL_WAIT, done.cancelled())
            .await
            .is_err()
        {
            tracing::warn!(flow_id = %id, "flow did not end within the cancel wait");
        }
        Ok(())
    }

    /// Cancel every running flow and wait for them, at most `within` (quitting the app: 3 s).
    pub async fn cancel_all(&self, within: Duration) {
        let flows = self.inner.registry.all_controls();
        if flows.is_empty() {
            return;
        }
        tracing::info!(count = flows.len(), "cancelling every running flow");
        for (token, _) in &flows {
            token.cancel();
        }
        let all = futures::future::join_all(flows.iter().map(|(_, done)| done.cancelled()));
        if tokio::time::timeout(within, all).await.is_err() {
            tracing::warn!(
                left = self.inner.registry.running().len(),
                "some flows did not end in time"
            );
        }
    }

    /// Sign API v2 signatures of `profile` that were running when the desk stopped: each is
    /// settled with Signicat (evidence fetched and the row `signed`, or released as
    /// `interrupted`). Returns how many were found signed. A session Signicat cannot be asked
    /// about now is left for the next start.
    pub async fn recover_signatures(&self, profile: &str) -> Result<usize> {
        let (Some(client), Some(vault)) = (&self.inner.sign, &self.inner.vault) else {
            return Ok(0);
        };
        let mut signed = 0;
        for (id, session) in vault.signatures_to_recover(profile)? {
            match crate::sign::recover(client, vault, &id, &session).await {
                Ok(crate::sign::Recovered::Signed { subject, evidence }) => {
                    vault.recover_signed(&id, &subject, &evidence)?;
                    signed += 1;
                }
                Ok(crate::sign::Recovered::NotSigned(why)) => {
                    tracing::info!(flow_id = %id, why, "interrupted signature: not signed");
                    vault.release_recovery(&id, &why)?;
                }
                Err(e) => {
                    tracing::warn!(flow_id = %id, code = e.code(), error = %e, "interrupted signature: Signicat could not be asked; trying again at the next start")
                }
            }
        }
        Ok(signed)
    }

    pub fn running(&self) -> Vec<RunningFlow> {
        self.inner.registry.running()
    }

    /// The terminal event of a flow, waiting for it if the flow is running. `None` for an id this
    /// engine does not know (or finished long ago).
    pub async fn wait(&self, id: &FlowId) -> Option<FlowEvent> {
        match self.inner.registry.lookup(id) {
            Lookup::Finished(ev) => Some(*ev),
            Lookup::Unknown => None,
            Lookup::Running(done) => {
                done.cancelled().await;
                self.inner.registry.finished(id)
            }
        }
    }
}

impl Engine {
    /// A signature starts only with room on disk for its evidence (issue 23, item 4): a customer
    /// must never sign something this desk then cannot keep. Where the space cannot be read
    /// (not Unix), the write path's own retries still apply.
    fn check_space_for_evidence(&self) -> Result<()> {
        let Some(vault) = &self.inner.vault else {
            return Ok(());
        };
        let needed = self.inner.settings.evidence_headroom();
        match crate::vault::available_space(vault.dir()) {
            Some(free) if free < needed => Err(Error::DiskFull(format!(
                "{} MiB free where the evidence is kept ({}), {} MiB needed",
                free >> 20,
                vault.dir().display(),
                needed.div_ceil(1 << 20)
            ))),
            _ => Ok(()),
        }
    }
}

/// A verified person who is not the one staff asked for is no success (issue 23): the flow ends
/// `identity_mismatch` and nothing is recorded as verified. Checked here, once, for every family.
fn the_person_asked_for(
    terminal: FlowEvent,
    expected: &ExpectedIdentity,
    ctx: &FlowContext,
) -> FlowEvent {
    let subject = match &terminal {
        FlowEvent::Succeeded { subject } | FlowEvent::Signed { subject, .. } => subject,
        _ => return terminal,
    };
    match expected.check(subject) {
        Ok(()) => terminal,
        Err(why) => {
            tracing::error!(flow_id = %ctx.flow_id, why, "the verified person is not the one asked for");
            FlowEvent::failed(&Error::IdentityMismatch(why))
        }
    }
}

/// Writes each event to the vault before passing it on, so the row is never behind the window.
/// An outcome the vault cannot take now is never only logged: it is kept and recorded again by
/// the vault's background retry (`Vault::retry_pending`) until it is.
fn recording_sink(vault: Vault, sink: EventSink) -> EventSink {
    Arc::new(move |update: FlowUpdate| {
        if let Err(e) = vault.record(&update.flow_id, &update.event) {
            tracing::error!(flow_id = %update.flow_id, code = e.code(), error = %e, "could not record the flow event in the vault");
            if update.event.is_terminal() {
                vault.hold_pending(crate::vault::PendingWrite::Event {
                    id: update.flow_id.clone(),
                    event: update.event.clone(),
                });
            }
        }
        sink(update)
    })
}

fn terminal_label(ev: &FlowEvent) -> &str {
    match ev {
        FlowEvent::Succeeded { .. } => "succeeded",
        FlowEvent::Signed { .. } => "signed",
        FlowEvent::Failed { code, .. } => code,
        FlowEvent::Cancelled => "cancelled",
        FlowEvent::Expired => "expired",
        _ => "other",
    }
}

/// The CLI's exit code for a terminal event: 0 succeeded/signed, 3 aborted, declined or rejected by
/// the customer,
/// 4 expired, 5 cancelled, 1 anything else.
pub fn exit_code(terminal: &FlowEvent) -> i32 {
    match terminal {
        FlowEvent::Succeeded { .. } | FlowEvent::Signed { .. } => 0,
        FlowEvent::Failed { code, .. }
            if code == CUSTOMER_ABORTED || code == USER_DECLINED_CALL =>
        {
            3
        }
        FlowEvent::Expired => 4,
        FlowEvent::Cancelled => 5,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(&FlowEvent::Expired), 4);
        assert_eq!(exit_code(&FlowEvent::Cancelled), 5);
        assert_eq!(
            exit_code(&FlowEvent::Failed {
                code: CUSTOMER_ABORTED.into(),
                message: String::new()
            }),
            3
        );
        assert_eq!(exit_code(&FlowEvent::failed(&Error::OutcomeUnknown)), 1);
    }

    #[tokio::test]
    async fn rest_methods_need_rest_settings() {
        let engine = Engine::new(None, FlowSettings::default()).unwrap();
        let req = FlowRequest::NbidSafeConversation {
            nin: crate::identity::NorwegianNin::parse("29124815345", false).unwrap(),
        };
        let sink: EventSink = Arc::new(|_| {});
        let e = engine.start(req, sink).await.unwrap_err();
        assert_eq!(e.field(), Some("rest"));
        assert!(engine.running().is_empty());
    }
}
