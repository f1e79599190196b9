//! One Sign API v2 signing flow: upload → collection → session (sent once) → poll the session's
//! lifecycle until `SIGNED`, `REJECTED`, its due date or a staff cancel → download every result
//! document and package → durably into the vault → check the signer → delete at Signicat.
//!
//! Order matters for the evidence: nothing says "signed" before every piece is on disk, and
//! nothing is deleted at Signicat before that either. A staff cancel is honoured until the
//! session is `SIGNED`; after that the evidence is always fetched and kept.

use super::client::SignClient;
use super::model::{
    CollectionDocument, IdentityProvider, NewCollection, NewSession, Session, SessionDocument,
    SessionState, Signer, SigningSetup, Ui,
};
use super::order::{LinkProvider, SignHow, SignOrder, SignerNin};
use crate::flow::clock::{notable_skew, server_lifetime};
use crate::flow::{
    Evidence, EvidenceKind, FlowContext, FlowEvent, FlowId, FlowJob, JobFuture, Subject,
    CUSTOMER_ABORTED, USER_DECLINED_CALL,
};
use crate::identity::mask_nin;
use crate::messages::{BankIdCode, BankIdState, Lang};
use crate::rest::client::is_loopback;
use crate::vault::{pending_error, PendingPiece, PendingWrite, Vault};

use super::document_check::{check_document_digests, check_documents, DocumentCheck};
use super::expectation::{ExpectedSigner, SignExpectation};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::time::{Instant, MissedTickBehavior};

/// How long the evidence download may take after `SIGNED` before the flow gives up (the session
/// stays retrievable at Signicat, so the desk can fetch it again later).
const EVIDENCE_WINDOW: Duration = Duration::from_secs(120);
/// A cleanup call made on our own initiative must not hold a flow up for long.
const CLEANUP_BOUND: Duration = Duration::from_secs(5);

/// A prepared signing flow: the runner's [`FlowJob`].
pub struct SignJob {
    client: SignClient,
    order: Box<SignOrder>,
    vault: Vault,
}

impl SignJob {
    pub fn new(client: SignClient, order: SignOrder, vault: Vault) -> Self {
        SignJob {
            client,
            order: Box::new(order),
            vault,
        }
    }
}

impl FlowJob for SignJob {
    fn run<'a>(self: Box<Self>, ctx: &'a FlowContext) -> JobFuture<'a> {
        Box::pin(async move { run(ctx, &self.client, &self.order, &self.vault).await })
    }
}

/// What the flow created at Signicat, to be deleted once it is no longer needed.
#[derive(Default)]
struct Created {
    documents: Vec<String>,
    collection: Option<String>,
    session: Option<String>,
}

async fn run(
    ctx: &FlowContext,
    client: &SignClient,
    order: &SignOrder,
    vault: &Vault,
) -> FlowEvent {
    let mut created = Created::default();
    let session = match start(ctx, client, order, &mut created).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "signing session could not be started");
            cleanup(client, &created, ctx).await;
            return FlowEvent::failed(&e);
        }
    };
    // Without the session id on disk a crash after signing could not be recovered: a vault that
    // cannot take it now would not take the evidence later either, so stop before anyone signs.
    let expected = SignExpectation::of(order).to_json();
    if let Err(e) = vault.set_sign_reference(&ctx.flow_id, &session.id, &expected) {
        tracing::error!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "could not record the signing session id");
        cleanup(client, &created, ctx).await;
        return FlowEvent::failed(&e);
    }
    let lifetime = client.config().lifetime;
    let due = session
        .due_date
        .as_deref()
        .and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok());
    // Counted on our monotonic clock from the server's own account of how long is left (review
    // N-11), never more than we asked for; the card shows the time on the desk's clock.
    let server_now = client.server_now();
    let left = due.map_or(lifetime, |due| server_lifetime(due, server_now, lifetime));
    if let Some(skew) = notable_skew(server_now) {
        tracing::warn!(flow_id = %ctx.flow_id, skew_s = skew, "the desk's clock differs from Signicat's; times are counted on Signicat's");
    }
    let due = OffsetDateTime::now_utc() + left;
    ctx.emit(FlowEvent::Started {
        flow_id: ctx.flow_id.clone(),
        method: ctx.method,
        expires_at: due.format(&Rfc3339).ok(),
    });
    tracing::info!(flow_id = %ctx.flow_id, session_id = %session.id, "signing session created");
    if let SignHow::Link { .. } = order.how {
        match session.signature_url.as_deref().map(url::Url::parse) {
            Some(Ok(url)) if url.scheme() == "https" || is_loopback(&url) => {
                ctx.emit(FlowEvent::SignatureUrl { url: url.into() })
            }
            _ => {
                let e = Error::Protocol("the signing session has no usable signatureUrl".into());
                cleanup(client, &created, ctx).await;
                return FlowEvent::failed(&e);
            }
        }
    }
    let deadline = Instant::now() + left;
    let signed = match watch(ctx, client, &session, deadline).await {
        Watched::Signed(s) => s,
        Watched::Ended(terminal) => {
            cleanup(client, &created, ctx).await;
            return *terminal;
        }
    };
    finish(ctx, client, order, vault, &created, &signed).await
}

/// Uploads, the collection and the session. Only the session create can reach a phone.
async fn start(
    ctx: &FlowContext,
    client: &SignClient,
    order: &SignOrder,
    created: &mut Created,
) -> Result<Session> {
    if let Some(text) = &order.text {
        let doc = client
            .upload(text.as_str().as_bytes(), "text/plain; charset=utf-8")
            .await?;
        created.documents.push(doc.document_id);
    }
    if let Some(pdf) = &order.pdf {
        let doc = client.upload(pdf.bytes(), "application/pdf").await?;
        created.documents.push(doc.document_id);
    }
    let collection = client
        .create_collection(&NewCollection {
            documents: created
                .documents
                .iter()
                .map(|id| CollectionDocument {
                    document_id: id.clone(),
                })
                .collect(),
            package_to: Vec::new(),
        })
        .await?;
    created.collection = Some(collection.id.clone());
    let body = session_body(ctx, client, order, &collection.id, &created.documents);
    let session = client.create_session(&body).await?;
    created.session = Some(session.id.clone());
    Ok(session)
}

/// The session request (`PROTOCOL.md` §3); every decision on field values is here.
fn session_body(
    ctx: &FlowContext,
    client: &SignClient,
    order: &SignOrder,
    collection: &str,
    documents: &[String],
) -> NewSession {
    let cfg = client.config();
    let client_now = client.server_now();
    let (setup, signer) = match &order.how {
        SignHow::SbidPhone { nin, call } => (
            SigningSetup {
                signing_flow: "PKISIGNING".into(),
                vendor: Some("SBID".into()),
                identity_providers: Vec::new(),
                additional_parameters: BTreeMap::from([
                    ("sbid_sign_type".to_string(), "PHONE".to_string()),
                    ("sbid_call_initiator".to_string(), call.wire().to_string()),
                ]),
            },
            Some(nin.as_str().to_string()),
        ),
        SignHow::Link { provider, nin } => (
            match provider {
                LinkProvider::NbidPki => SigningSetup {
                    signing_flow: "PKISIGNING".into(),
                    vendor: Some("NBID".into()),
                    identity_providers: Vec::new(),
                    additional_parameters: BTreeMap::new(),
                },
                LinkProvider::Eid(idp) => SigningSetup {
                    signing_flow: "AUTHENTICATION_BASED".into(),
                    vendor: None,
                    identity_providers: vec![IdentityProvider {
                        idp_name: idp.clone(),
                    }],
                    additional_parameters: BTreeMap::new(),
                },
            },
            nin.as_ref().map(|n| n.as_str().to_string()),
        ),
    };
    // The server's clock (seen on the uploads just before) when known: a desk clock far behind
    // must not send a due date that is already past for Signicat (review N-11).
    let due = client_now.unwrap_or_else(OffsetDateTime::now_utc) + cfg.lifetime;
    NewSession {
        title: title(ctx.lang),
        documents: documents
            .iter()
            .map(|id| SessionDocument {
                action: "SIGN".into(),
                document_collection_id: collection.to_string(),
                document_id: id.clone(),
            })
            .collect(),
        signing_setup: vec![setup],
        // Signicat refuses a signer other than the one named (decision D5); the desk checks too.
        signer: signer.map(|nin| Signer {
            national_identification_number: Some(nin),
            validations: vec!["NATIONAL_IDENTIFICATION_NUMBER".into()],
        }),
        sender_display_name: cfg.sender_display_name.clone(),
        external_reference: ctx.flow_id.to_string(),
        due_date: due.format(&Rfc3339).unwrap_or_default(),
        ui: Ui {
            language: ctx.lang.as_str().to_string(),
        },
        package_to: Vec::new(),
    }
}

fn title(lang: Lang) -> String {
    lang.pick("Consent", "Samtykke", "Samtycke").to_string()
}

impl Watched {
    fn ended(e: FlowEvent) -> Self {
        Watched::Ended(Box::new(e))
    }
}

enum Watched {
    Signed(Box<Session>),
    Ended(Box<FlowEvent>),
}

/// Polls the session until it is final, due, or staff cancel. Deleting what is left at Signicat
/// is `run`'s job (`cleanup`).
async fn watch(
    ctx: &FlowContext,
    client: &SignClient,
    first: &Session,
    deadline: Instant,
) -> Watched {
    let mut shown = Shown::default();
    if let Some(end) = shown.observe(ctx, first) {
        return end;
    }
    let session_id = first.id.as_str();
    let mut ticker =
        tokio::time::interval_at(Instant::now() + ctx.poll.interval(), ctx.poll.interval());
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let stop = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => Some(FlowEvent::Cancelled),
            _ = tokio::time::sleep_until(deadline) => Some(FlowEvent::Expired),
            _ = ticker.tick() => None,
        };
        if let Some(stop) = stop {
            return last_look(ctx, client, session_id, stop).await;
        }
        let read = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => continue,
            r = client.get_session(session_id, deadline) => r,
        };
        match read {
            Ok(s) => {
                if let Some(end) = shown.observe(ctx, &s) {
                    return end;
                }
            }
            Err(Error::NotFound(_)) if Instant::now() >= deadline => {
                return Watched::ended(FlowEvent::Expired)
            }
            Err(e) => {
                tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "polling the signing session failed");
                return Watched::ended(FlowEvent::failed(&e));
            }
        }
    }
}

/// Before a staff cancel or the due date ends the flow, one more read (bounded): a customer who
/// signed a moment ago keeps their signature, and its evidence is fetched as usual.
async fn last_look(
    ctx: &FlowContext,
    client: &SignClient,
    session_id: &str,
    stop: FlowEvent,
) -> Watched {
    let read = tokio::time::timeout(
        CLEANUP_BOUND,
        client.get_session(session_id, Instant::now() + CLEANUP_BOUND),
    )
    .await;
    match read {
        Ok(Ok(s)) if s.lifecycle.state == SessionState::Signed => {
            tracing::info!(flow_id = %ctx.flow_id, "signed just before the flow ended: keeping the signature");
            Watched::Signed(Box::new(s))
        }
        _ => {
            tracing::info!(flow_id = %ctx.flow_id, outcome = ?stop, "signing session ends unsigned");
            Watched::ended(stop)
        }
    }
}

/// What staff have been shown, so each progress text is emitted once per change.
#[derive(Default)]
struct Shown {
    state: Option<SessionState>,
    hint: Option<String>,
}

impl Shown {
    fn observe(&mut self, ctx: &FlowContext, s: &Session) -> Option<Watched> {
        let state = &s.lifecycle.state;
        let hint = s.lifecycle.hint_code.clone().filter(|h| !h.is_empty());
        match state {
            SessionState::Signed => return Some(Watched::Signed(Box::new(s.clone()))),
            SessionState::Rejected => {
                let code = hint.as_deref().map(BankIdCode::parse);
                return Some(Watched::ended(match code {
                    Some(BankIdCode::UserDeclinedCall) => FlowEvent::Failed {
                        code: USER_DECLINED_CALL.into(),
                        message: BankIdCode::UserDeclinedCall.message_as(
                            ctx.lang,
                            false,
                            BankIdState::Failed,
                        ),
                    },
                    _ => FlowEvent::Failed {
                        code: CUSTOMER_ABORTED.into(),
                        message: ctx
                            .lang
                            .pick(
                                "The customer declined to sign.",
                                "Kunden avslo å signere.",
                                "Kunden avböjde att signera.",
                            )
                            .to_string(),
                    },
                }));
            }
            SessionState::Unknown(raw) if s.lifecycle.state_is_final => {
                return Some(Watched::ended(FlowEvent::failed(&Error::Protocol(
                    format!("the signing session ended as {raw}"),
                ))));
            }
            _ => {}
        }
        if self.state.as_ref() != Some(state) || self.hint != hint {
            // BankID's own words for its hint code (an unknown one reads as "in progress").
            let message = match hint.as_deref().map(BankIdCode::parse) {
                Some(code) => code.message_as(ctx.lang, false, BankIdState::Pending),
                None => state_message(ctx.lang, state),
            };
            ctx.emit(FlowEvent::Progress {
                status: hint.clone().unwrap_or_else(|| state.as_str().to_string()),
                message,
            });
        }
        self.state = Some(state.clone());
        self.hint = hint;
        None
    }
}

fn state_message(lang: Lang, state: &SessionState) -> String {
    match state {
        SessionState::Blocked => lang.pick(
            "Waiting for an earlier signature.",
            "Venter på en tidligere signatur.",
            "Väntar på en tidigare underskrift.",
        ),
        _ => lang.pick(
            "Waiting for the customer to sign.",
            "Venter på at kunden signerer.",
            "Väntar på att kunden skriver under.",
        ),
    }
    .to_string()
}

/// After `SIGNED`: the evidence first, then the signer check, then the deletion at Signicat.
async fn finish(
    ctx: &FlowContext,
    client: &SignClient,
    order: &SignOrder,
    vault: &Vault,
    created: &Created,
    session: &Session,
) -> FlowEvent {
    let started = std::time::Instant::now();
    let pieces = match download_evidence(client, session).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "the customer signed but the evidence could not be downloaded; the session stays at Signicat");
            return FlowEvent::failed(&e);
        }
    };
    let stored = store_with_retries(&ctx.flow_id, vault, &pieces).await;
    // Who signed (D5) and what (D10): either wrong, and nothing counts as signed.
    let asked = order.signer();
    let subject = check_signer(asked.as_ref().map(Asked::Number), session).and_then(|subject| {
        if check_documents(&order.documents(), &pieces)? == DocumentCheck::NotStated {
            tracing::warn!(flow_id = %ctx.flow_id, "no result names the signed document by a digest this desk can compare (D10); the signer was checked");
        }
        Ok(subject)
    });
    let evidence = match (stored, subject) {
        (_, Err(e)) => {
            tracing::error!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "the signature is not of the person or the document staff asked for; the evidence is kept, nothing is marked signed");
            return FlowEvent::failed(&e);
        }
        (Err(e), Ok(subject)) => {
            // The customer signed: the bytes stay in memory and are written again in the
            // background; nothing is deleted at Signicat, so a restart can fetch them there.
            tracing::error!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "the customer signed but the evidence could not be stored; kept in memory and retried");
            vault.hold_pending(PendingWrite::Signature {
                id: ctx.flow_id.clone(),
                subject,
                pieces,
            });
            return FlowEvent::failed(&pending_error(&e));
        }
        (Ok(evidence), Ok(subject)) => (evidence, subject),
    };
    let (evidence, subject) = evidence;
    let bytes: u64 = evidence.iter().map(|e| e.bytes).sum();
    tracing::info!(
        flow_id = %ctx.flow_id,
        pieces = evidence.len(),
        bytes,
        ms = started.elapsed().as_millis() as u64,
        "signature evidence stored"
    );
    // Data minimisation: the evidence is safe here, so Signicat need not keep the documents.
    let mut result_docs: Vec<String> = session
        .output
        .signatures
        .iter()
        .map(|s| s.result_document_id.clone())
        .chain(
            session
                .output
                .packages
                .iter()
                .map(|p| p.result_document_id.clone()),
        )
        .collect();
    result_docs.dedup();
    let all = Created {
        documents: created
            .documents
            .iter()
            .cloned()
            .chain(result_docs)
            .collect(),
        collection: created.collection.clone(),
        session: Some(session.id.clone()),
    };
    cleanup(client, &all, ctx).await;
    FlowEvent::Signed { subject, evidence }
}

/// Pauses between the attempts a flow makes itself to store a signature's evidence before it
/// hands the bytes to the vault's background retry (a database busy for a moment, a file system
/// freeing space).
const STORE_RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];

/// Every result document and package of a signed session, in memory (each capped by the
/// profile's `max_document_bytes`).
async fn download_evidence(client: &SignClient, session: &Session) -> Result<Vec<PendingPiece>> {
    let until = Instant::now() + EVIDENCE_WINDOW;
    let pieces = session
        .output
        .signatures
        .iter()
        .map(|s| {
            (
                signature_kind(s.signature_type.as_deref()),
                &s.result_document_id,
            )
        })
        .chain(session.output.packages.iter().map(|p| {
            (
                package_kind(p.package_type.as_deref()),
                &p.result_document_id,
            )
        }))
        .collect::<Vec<_>>();
    if pieces.is_empty() {
        return Err(Error::Protocol(
            "the session is signed but lists no result documents".into(),
        ));
    }
    let mut out = Vec::with_capacity(pieces.len());
    for (kind, doc_id) in pieces {
        let doc = client.download(doc_id, until).await?;
        out.push(PendingPiece {
            kind,
            name: doc_id.clone(),
            extension: extension(kind, doc.content_type.as_deref()),
            bytes: doc.bytes,
        });
    }
    Ok(out)
}

/// Stores each piece durably (blocking work off the async threads).
async fn store_pieces(
    flow_id: &FlowId,
    vault: &Vault,
    pieces: &[PendingPiece],
) -> Result<Vec<Evidence>> {
    let (vault, id, pieces) = (vault.clone(), flow_id.clone(), pieces.to_vec());
    tokio::task::spawn_blocking(move || {
        pieces
            .iter()
            .map(|p| vault.store_evidence(&id, p.kind, &p.name, p.extension, &p.bytes))
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| Error::Vault(format!("storing the evidence stopped: {e}")))?
}

/// [`store_pieces`], tried again after each of [`STORE_RETRY_DELAYS`].
async fn store_with_retries(
    flow_id: &FlowId,
    vault: &Vault,
    pieces: &[PendingPiece],
) -> Result<Vec<Evidence>> {
    let mut last = store_pieces(flow_id, vault, pieces).await;
    for delay in STORE_RETRY_DELAYS {
        match &last {
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(flow_id = %flow_id, code = e.code(), error = %e, "storing the evidence failed; trying again");
            }
        }
        tokio::time::sleep(delay).await;
        last = store_pieces(flow_id, vault, pieces).await;
    }
    last
}

fn signature_kind(raw: Option<&str>) -> EvidenceKind {
    match raw.map(str::to_ascii_uppercase).as_deref() {
        Some("PADES") => EvidenceKind::Pades,
        Some("XADES") => EvidenceKind::Xades,
        _ => EvidenceKind::Document,
    }
}

fn package_kind(raw: Option<&str>) -> EvidenceKind {
    match raw.map(str::to_ascii_uppercase).as_deref() {
        Some("PADES_CONTAINER") => EvidenceKind::PadesContainer,
        Some("LTV_SDO") => EvidenceKind::LtvSdo,
        _ => EvidenceKind::Document,
    }
}

fn extension(kind: EvidenceKind, content_type: Option<&str>) -> &'static str {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    match (kind, media.as_deref()) {
        (_, Some("application/pdf")) => "pdf",
        (_, Some("application/xml" | "text/xml" | "application/x-ltv-sdo")) => "xml",
        (EvidenceKind::Pades | EvidenceKind::PadesContainer, _) => "pdf",
        (EvidenceKind::Xades | EvidenceKind::LtvSdo, _) => "xml",
        (EvidenceKind::Document, _) => "bin",
    }
}

/// Who staff asked to sign: the number itself (the live flow), or as the row recorded it at
/// create (a recovery after a crash: a digest, never the server's echo; review N-8).
#[derive(Clone, Copy)]
enum Asked<'a> {
    Number(&'a SignerNin),
    Recorded(&'a ExpectedSigner),
}

impl Asked<'_> {
    fn matches(&self, digits: &str) -> bool {
        match self {
            Asked::Number(n) => digits == n.as_str(),
            Asked::Recorded(r) => r.matches(digits),
        }
    }
    fn masked(&self) -> String {
        match self {
            Asked::Number(n) => n.masked(),
            Asked::Recorded(r) => r.masked.clone(),
        }
    }
    fn country(&self) -> String {
        match self {
            Asked::Number(n) => n.country().to_string(),
            Asked::Recorded(r) => r.country.clone(),
        }
    }
}

/// The signer Signicat names must be the person staff asked for (decision D5): every signature
/// that names a number must name theirs. Returns who signed, as far as the answer says: a
/// signature that names nobody is never recorded as the asked person's (review N-12), only as
/// locked to them.
fn check_signer(asked: Option<Asked<'_>>, session: &Session) -> Result<Subject> {
    let named: Vec<_> = session
        .output
        .signatures
        .iter()
        .filter_map(|s| s.signer.as_ref())
        .collect();
    let numbers: Vec<&str> = named
        .iter()
        .filter_map(|s| s.national_identification_number.as_deref())
        .filter(|n| !normalise(n).is_empty())
        .collect();
    if let Some(asked) = asked {
        if numbers.iter().any(|n| !asked.matches(&normalise(n))) {
            return Err(Error::IdentityMismatch(format!(
                "the document was signed by {}, not by {}",
                numbers
                    .first()
                    .map(|n| mask_nin(&normalise(n)))
                    .unwrap_or_default(),
                asked.masked()
            )));
        }
    }
    let nin = numbers.first().map(|n| normalise(n));
    let by = named.first();
    let name = by
        .and_then(|b| b.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| {
            let parts: Vec<String> = by
                .into_iter()
                .flat_map(|b| [b.first_name.clone(), b.last_name.clone()])
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .unwrap_or_default();
    Ok(Subject {
        name,
        first_name: by.and_then(|b| b.first_name.clone()),
        last_name: by.and_then(|b| b.last_name.clone()),
        date_of_birth: by.and_then(|b| b.date_of_birth.clone()),
        nin_masked: nin.as_deref().map(mask_nin),
        locked_to: match (&nin, asked) {
            (None, Some(a)) => Some(a.masked()),
            _ => None,
        },
        country: asked.map(|a| a.country()),
        nin,
        loa: None,
        risk: None,
    })
}

fn normalise(n: &str) -> String {
    n.chars().filter(char::is_ascii_digit).collect()
}

/// Deletes what the flow made at Signicat, bounded; failures are logged, never fatal.
async fn cleanup(client: &SignClient, created: &Created, ctx: &FlowContext) {
    let work = async {
        if let Some(s) = &created.session {
            log_delete(ctx, "session", client.delete_session(s).await);
        }
        if let Some(c) = &created.collection {
            log_delete(ctx, "collection", client.delete_collection(c).await);
        }
        for d in &created.documents {
            log_delete(ctx, "document", client.delete_document(d).await);
        }
    };
    if tokio::time::timeout(CLEANUP_BOUND * 2, work).await.is_err() {
        tracing::warn!(flow_id = %ctx.flow_id, "deleting the documents at Signicat took too long");
    }
}

fn log_delete(ctx: &FlowContext, what: &str, r: Result<()>) {
    match r {
        Ok(()) => tracing::info!(flow_id = %ctx.flow_id, what, "deleted at Signicat"),
        Err(e) => {
            tracing::warn!(flow_id = %ctx.flow_id, what, code = e.code(), error = %e, "could not delete at Signicat")
        }
    }
}

/// What the desk learnt about a signature that was running when it stopped.
#[derive(Debug)]
pub enum Recovered {
    /// Signed at Signicat: the evidence is now durably in the vault.
    Signed {
        subject: Box<Subject>,
        evidence: Vec<Evidence>,
    },
    /// Not signed (or not by the right person): why, for the row's message.
    NotSigned(String),
}

/// Asks Signicat about the signing session of a flow the desk lost (`PROTOCOL.md` D8): a signed
/// session's evidence is fetched and stored as the flow would have; a session still open is
/// deleted (nobody watches it any more). Errors (network) leave it for the next start.
pub async fn recover(
    client: &SignClient,
    vault: &Vault,
    flow_id: &FlowId,
    session_id: &str,
) -> Result<Recovered> {
    let session = match client
        .get_session(session_id, Instant::now() + CLEANUP_BOUND * 4)
        .await
    {
        Ok(s) => s,
        Err(Error::NotFound(_)) => {
            return Ok(Recovered::NotSigned(
                "the signing session no longer exists at Signicat".into(),
            ))
        }
        Err(e) => return Err(e),
    };
    match session.lifecycle.state {
        SessionState::Signed => {}
        SessionState::Rejected => {
            return Ok(Recovered::NotSigned("the customer declined to sign".into()))
        }
        _ => {
            let _ = client.delete_session(session_id).await;
            return Ok(Recovered::NotSigned(
                "the customer had not signed when ID Desk stopped; the signing session was withdrawn"
                    .into(),
            ));
        }
    }
    let pieces = download_evidence(client, &session).await?;
    let evidence = store_pieces(flow_id, vault, &pieces).await?;
    // Checked as the live flow checks (D5, D10), against what the row recorded at create; the
    // server's own account of what it was asked is not evidence (review N-8). The evidence is
    // kept either way.
    let Some(expected) = vault.sign_expected(flow_id)? else {
        return Ok(Recovered::NotSigned(
            "signed at Signicat, but this signature was started by an earlier version that did \
             not record what it asked for, so it cannot be checked; the evidence is kept"
                .into(),
        ));
    };
    let expected = match SignExpectation::from_json(&expected) {
        Ok(e) => e,
        Err(e) => return Ok(Recovered::NotSigned(e.to_string())),
    };
    if let Err(e) = check_document_digests(&expected.documents, &pieces) {
        return Ok(Recovered::NotSigned(e.to_string()));
    }
    let subject = match check_signer(expected.signer.as_ref().map(Asked::Recorded), &session) {
        Ok(s) => s,
        Err(e) => return Ok(Recovered::NotSigned(e.to_string())),
    };
    for id in session
        .output
        .signatures
        .iter()
        .map(|s| &s.result_document_id)
        .chain(
            session
                .output
                .packages
                .iter()
                .map(|p| &p.result_document_id),
        )
    {
        let _ = client.delete_document(id).await;
    }
    let _ = client.delete_session(session_id).await;
    tracing::info!(flow_id = %flow_id, pieces = evidence.len(), "signature recovered: deleted at Signicat");
    Ok(Recovered::Signed {
        subject: Box::new(subject),
        evidence,
    })
}
