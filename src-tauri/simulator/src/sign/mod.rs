//! Sign API v2 (`id-desk-core/src/sign/PROTOCOL.md`): documents, document collections, signing
//! sessions, a signature page behind `signatureUrl`, and result documents.
//!
//! Swedish BankID Phone sessions play the signer's persona (by personnummer): the phone rings
//! (`userCallConfirm`), then the persona signs, rejects, declines the call (`userDeclinedCall`) or
//! never answers. Sessions signed by link wait for the page: the test (or the customer in
//! Training) opens `signatureUrl` and signs or rejects there. The simulator does not enforce
//! `signer.validations`, so the desk's own check of who signed can be exercised (`PROTOCOL.md` D5).

mod results;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::faults::{Endpoint, FaultKind, Intercept};
use crate::persona::{self, FailCode, Person, Step};
use crate::rest::problem::{InvalidParam, Problem};
use crate::server::ConnHandle;
use crate::state::AppState;
use crate::SimulatorConfig;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/sign/documents", post(upload))
        .route(
            "/sign/documents/{id}",
            get(download).delete(delete_document),
        )
        .route("/sign/document-collections", post(create_collection))
        .route(
            "/sign/document-collections/{id}",
            axum::routing::delete(delete_collection),
        )
        .route("/sign/signing-sessions", post(create_session))
        .route(
            "/sign/signing-sessions/{id}",
            get(get_session).delete(delete_session),
        )
        // The page behind `signatureUrl`: the customer's phone or the desk's sandboxed window.
        .route("/sign/ui/{id}", get(page).post(submit))
        .with_state(state)
}

#[derive(Clone)]
struct Document {
    mime: String,
    bytes: Vec<u8>,
}

#[derive(Clone)]
enum Outcome {
    Signed { by: Person, at: OffsetDateTime },
    Rejected { hint: Option<String> },
}

#[derive(Clone)]
struct Session {
    id: String,
    request: Value,
    created: Instant,
    phone: Option<PhonePlay>,
    outcome: Option<Outcome>,
    /// Set once signed: result documents by id, in output order.
    signatures: Vec<(String, &'static str, String)>,
    packages: Vec<(String, &'static str)>,
}

/// A Swedish BankID Phone order: who is called and what their persona does.
#[derive(Clone)]
struct PhonePlay {
    person: Person,
    steps: Vec<(Duration, Step)>,
}

#[derive(Default)]
struct Store {
    documents: HashMap<String, Document>,
    collections: HashMap<String, Vec<String>>,
    sessions: HashMap<String, Session>,
}

/// Every Sign API object the simulator holds. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct SignStore {
    inner: Arc<Mutex<Store>>,
}

impl SignStore {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many documents, collections and sessions are stored (tests check the desk deletes).
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let s = self.lock();
        (s.documents.len(), s.collections.len(), s.sessions.len())
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

async fn begin(
    state: &AppState,
    conn: &ConnHandle,
    endpoint: Endpoint,
    headers: &HeaderMap,
    session: Option<&str>,
) -> Result<Option<FaultKind>, Response> {
    let fault = match state.begin(conn, endpoint, session).await {
        Intercept::Respond(r) => return Err(r),
        Intercept::Continue(fault) => fault,
    };
    state
        .rest_tokens()
        .check(headers)
        .map(|_| fault)
        .map_err(|r| Problem::invalid_token(r.detail()).into_response())
}

fn invalid(name: &str, reason: &str) -> Problem {
    Problem::invalid_params(vec![InvalidParam::new(name, reason)])
}

fn bad(name: &str, reason: &str) -> Response {
    invalid(name, reason).into_response()
}

fn not_found(what: &str, id: &str) -> Response {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "Not Found")
        .detail(format!("{what} '{id}' was not found."))
        .into_response()
}

const ACCEPTED_TYPES: [&str; 3] = ["application/pdf", "text/plain", "text/markdown"];

async fn upload(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = begin(&state, &conn, Endpoint::SignUpload, &headers, None).await {
        return r;
    }
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !ACCEPTED_TYPES.contains(&mime.as_str()) {
        return bad(
            "Content-Type",
            "must be application/pdf, text/plain or text/markdown",
        );
    }
    if body.is_empty() {
        return bad("body", "the document is empty");
    }
    if mime == "application/pdf" && !body.starts_with(b"%PDF-") {
        return bad("body", "the document is not a PDF");
    }
    let id = new_id();
    let hash = hex::encode(Sha256::digest(&body));
    state.sign().lock().documents.insert(
        id.clone(),
        Document {
            mime: mime.clone(),
            bytes: body.to_vec(),
        },
    );
    Json(json!({
        "documentId": id,
        "mimeType": mime,
        "createdAt": now_text(),
        "documentHash": { "hash": hash, "hashAlgorithm": "SHA256" },
    }))
    .into_response()
}

async fn download(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let fault = match begin(&state, &conn, Endpoint::SignDownload, &headers, None).await {
        Ok(fault) => fault,
        Err(r) => return r,
    };
    let doc = state.sign().lock().documents.get(&id).cloned();
    match doc {
        Some(d) if fault == Some(FaultKind::WrongDocument) => (
            [(header::CONTENT_TYPE, d.mime)],
            results::with_other_digest(&d.bytes),
        )
            .into_response(),
        Some(d) => ([(header::CONTENT_TYPE, d.mime)], d.bytes).into_response(),
        None => not_found("Document", &id),
    }
}

async fn delete_document(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = begin(&state, &conn, Endpoint::SignDelete, &headers, None).await {
        return r;
    }
    match state.sign().lock().documents.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found("Document", &id),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCollection {
    documents: Vec<CollectionDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CollectionDoc {
    document_id: String,
}

async fn create_collection(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = begin(&state, &conn, Endpoint::SignCollection, &headers, None).await {
        return r;
    }
    let Ok(req) = serde_json::from_slice::<NewCollection>(&body) else {
        return bad("documents", "a list of {documentId} is required");
    };
    if req.documents.is_empty() {
        return bad("documents", "at least one document is required");
    }
    let mut store = state.sign().lock();
    if let Some(d) = req
        .documents
        .iter()
        .find(|d| !store.documents.contains_key(&d.document_id))
    {
        return bad(
            "documents.documentId",
            &format!("unknown document {}", d.document_id),
        );
    }
    let id = new_id();
    let docs: Vec<String> = req.documents.into_iter().map(|d| d.document_id).collect();
    store.collections.insert(id.clone(), docs.clone());
    (
        StatusCode::CREATED,
        Json(json!({ "id": id, "documents": docs.iter().map(|d| json!({"documentId": d})).collect::<Vec<_>>() })),
    )
        .into_response()
}

async fn delete_collection(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = begin(&state, &conn, Endpoint::SignDelete, &headers, None).await {
        return r;
    }
    match state.sign().lock().collections.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found("Document collection", &id),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

/// Checks one session request as Signicat documents it; `Err` names the field.
fn check_session(req: &Value, store: &Store) -> Result<Option<PhonePlay>, Problem> {
    if str_at(req, &["title"]).is_none_or(str::is_empty) {
        return Err(invalid("title", "is required"));
    }
    let docs = req
        .get("documents")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| invalid("documents", "at least one document is required"))?;
    let mut mimes = Vec::new();
    for d in docs {
        let (Some(coll), Some(doc)) = (
            str_at(d, &["documentCollectionId"]),
            str_at(d, &["documentId"]),
        ) else {
            return Err(invalid(
                "documents",
                "documentCollectionId and documentId are required",
            ));
        };
        if !store
            .collections
            .get(coll)
            .is_some_and(|c| c.iter().any(|x| x == doc))
        {
            return Err(invalid(
                "documents.documentId",
                "not in that document collection",
            ));
        }
        if !matches!(str_at(d, &["action"]), Some("SIGN" | "VIEW")) {
            return Err(invalid("documents.action", "must be SIGN or VIEW"));
        }
        mimes.push(
            store
                .documents
                .get(doc)
                .map(|d| d.mime.clone())
                .unwrap_or_default(),
        );
    }
    let setup = req
        .get("signingSetup")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .ok_or_else(|| invalid("signingSetup", "at least one signing setup is required"))?;
    let flow = str_at(setup, &["signingFlow"]).unwrap_or_default();
    let vendor = str_at(setup, &["vendor"]);
    match (flow, vendor) {
        ("PKISIGNING", Some("SBID" | "NBID")) => {}
        ("AUTHENTICATION_BASED", _)
            if setup
                .get("identityProviders")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty()) => {}
        _ => return Err(invalid(
            "signingSetup",
            "PKISIGNING with vendor SBID or NBID, or AUTHENTICATION_BASED with identityProviders",
        )),
    }
    if let Some(due) = str_at(req, &["dueDate"]) {
        if OffsetDateTime::parse(due, &Rfc3339).is_err() {
            return Err(invalid("dueDate", "must be an RFC 3339 date-time"));
        }
    }
    let nin = str_at(req, &["signer", "nationalIdentificationNumber"]);
    if str_at(setup, &["additionalParameters", "sbid_sign_type"]) != Some("PHONE") {
        return Ok(None);
    }
    // Swedish BankID Phone signing: a personnummer, who called whom, plain text only.
    if vendor != Some("SBID") {
        return Err(invalid(
            "signingSetup.vendor",
            "phone signing is Swedish BankID (SBID)",
        ));
    }
    if !matches!(
        str_at(setup, &["additionalParameters", "sbid_call_initiator"]),
        Some("user" | "RP")
    ) {
        return Err(invalid(
            "signingSetup.additionalParameters.sbid_call_initiator",
            "must be user or RP",
        ));
    }
    if mimes.iter().any(|m| m == "application/pdf") {
        return Err(invalid(
            "documents",
            "phone signing takes plain text only (not PDFs)",
        ));
    }
    let Some(nin) = nin.filter(|n| n.len() == 12 && n.chars().all(|c| c.is_ascii_digit())) else {
        return Err(invalid(
            "signer.nationalIdentificationNumber",
            "a 12-digit personnummer is required for phone signing",
        ));
    };
    let (person, steps) = match persona::by_nin(nin) {
        Some(p) => (p.person, p.scenario.steps),
        None => (
            persona::stranger_swedish(nin).ok_or_else(|| {
                invalid(
                    "signer.nationalIdentificationNumber",
                    "not a valid personnummer",
                )
            })?,
            Vec::new(),
        ),
    };
    Ok(Some(PhonePlay { person, steps }))
}

async fn create_session(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = begin(&state, &conn, Endpoint::SignCreate, &headers, None).await {
        return r;
    }
    let Ok(Value::Array(requests)) = serde_json::from_slice::<Value>(&body) else {
        return bad("body", "an array of signing sessions is required");
    };
    if requests.is_empty() {
        return bad("body", "at least one signing session is required");
    }
    let lifetime_cap = state.config().session_lifetime_override;
    let mut store = state.sign().lock();
    let mut created = Vec::new();
    for mut req in requests {
        let phone = match check_session(&req, &store) {
            Ok(p) => p,
            Err(p) => return p.into_response(),
        };
        // `--session-lifetime`: the due date comes sooner, so expiry can be seen quickly.
        if let Some(cap) = lifetime_cap {
            let soonest = OffsetDateTime::now_utc() + cap;
            let asked =
                str_at(&req, &["dueDate"]).and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok());
            if asked.is_none_or(|d| d > soonest) {
                req["dueDate"] = json!(soonest.format(&Rfc3339).unwrap_or_default());
            }
        }
        let id = new_id();
        let session = Session {
            id: id.clone(),
            request: req,
            created: Instant::now(),
            phone,
            outcome: None,
            signatures: Vec::new(),
            packages: Vec::new(),
        };
        created.push(session.clone());
        store.sessions.insert(id, session);
    }
    let body: Vec<Value> = created
        .iter()
        .map(|s| view(s, state.base_url(), state.config(), &mut store))
        .collect();
    (StatusCode::CREATED, Json(Value::Array(body))).into_response()
}

async fn get_session(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let fault = match begin(&state, &conn, Endpoint::SignGet, &headers, Some(&id)).await {
        Ok(fault) => fault,
        Err(r) => return r,
    };
    let mut store = state.sign().lock();
    let Some(session) = store.sessions.get(&id).cloned() else {
        return not_found("Signing session", &id);
    };
    let mut out = view(&session, state.base_url(), state.config(), &mut store);
    if fault == Some(FaultKind::UnnamedSigner) {
        if let Some(signatures) = out["output"]["signatures"].as_array_mut() {
            for s in signatures {
                if let Some(s) = s.as_object_mut() {
                    s.remove("signer");
                }
            }
        }
    }
    Json(out).into_response()
}

async fn delete_session(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = begin(&state, &conn, Endpoint::SignDelete, &headers, Some(&id)).await {
        return r;
    }
    match state.sign().lock().sessions.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found("Signing session", &id),
    }
}

/// The Phone persona's state at this moment: (picked up, outcome).
fn play(p: &PhonePlay, elapsed: Duration, cfg: &SimulatorConfig) -> (bool, Option<Outcome>) {
    let mut picked = false;
    for (at, step) in &p.steps {
        if elapsed < cfg.scaled(*at) {
            break;
        }
        match step {
            Step::PickUp => picked = true,
            Step::Approve => {
                return (
                    true,
                    Some(Outcome::Signed {
                        by: p.person.clone(),
                        at: OffsetDateTime::now_utc(),
                    }),
                )
            }
            Step::Reject => {
                return (
                    true,
                    Some(Outcome::Rejected {
                        hint: Some("userCancel".into()),
                    }),
                )
            }
            Step::Fail(FailCode::WrongBindingMessage) => {
                return (
                    true,
                    Some(Outcome::Rejected {
                        hint: Some("userDeclinedCall".into()),
                    }),
                )
            }
            Step::Fail(code) => {
                return (
                    true,
                    Some(Outcome::Rejected {
                        hint: Some(code.rest_code().into()),
                    }),
                )
            }
        }
    }
    (picked, None)
}

/// Applies `outcome` once: a signed session gets its result documents, stored as documents.
fn settle(session: &mut Session, outcome: Outcome, store: &mut Store) {
    if session.outcome.is_some() {
        return;
    }
    if let Outcome::Signed { by, at } = &outcome {
        let at_text = at.format(&Rfc3339).unwrap_or_default();
        let name = by.name();
        let signed_by = results::SignedBy {
            nin: &by.nin,
            name: &name,
            at: &at_text,
        };
        let docs: Vec<(String, Document)> = session
            .request
            .get("documents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| str_at(d, &["action"]) == Some("SIGN"))
            .filter_map(|d| {
                let id = str_at(d, &["documentId"])?;
                Some((id.to_string(), store.documents.get(id)?.clone()))
            })
            .collect();
        for (original, doc) in &docs {
            let (kind, mime, bytes) = if doc.mime == "application/pdf" {
                let lines = vec![
                    "Signed document (ID Desk simulator, not a legal signature)".to_string(),
                    format!("Signer: {name}"),
                    format!("Signed at: {at_text}"),
                    format!(
                        "Original SHA-256: {}",
                        hex::encode(Sha256::digest(&doc.bytes))
                    ),
                ];
                ("PADES", "application/pdf", results::pdf(&lines))
            } else {
                (
                    "XADES",
                    "application/xml",
                    results::xades(&doc.bytes, &signed_by),
                )
            };
            let id = new_id();
            store.documents.insert(
                id.clone(),
                Document {
                    mime: mime.into(),
                    bytes,
                },
            );
            session.signatures.push((id, kind, original.clone()));
        }
        let all: Vec<&[u8]> = docs.iter().map(|(_, d)| d.bytes.as_slice()).collect();
        let sdo_id = new_id();
        store.documents.insert(
            sdo_id.clone(),
            Document {
                mime: "application/xml".into(),
                bytes: results::ltv_sdo(&all, &signed_by),
            },
        );
        session.packages.push((sdo_id, "LTV_SDO"));
        let wants_container = session
            .request
            .get("packageTo")
            .and_then(Value::as_array)
            .is_some_and(|p| p.iter().any(|x| x == "PADES_CONTAINER"));
        if wants_container {
            let id = new_id();
            let lines = vec![
                "PAdES container (ID Desk simulator)".to_string(),
                format!("Signer: {name}"),
                format!("Documents: {}", docs.len()),
            ];
            store.documents.insert(
                id.clone(),
                Document {
                    mime: "application/pdf".into(),
                    bytes: results::pdf(&lines),
                },
            );
            session.packages.push((id, "PADES_CONTAINER"));
        }
    }
    session.outcome = Some(outcome);
}

/// The session as the API shows it, settling a Phone persona's outcome when its time has come.
fn view(s: &Session, base: &str, cfg: &SimulatorConfig, store: &mut Store) -> Value {
    let mut session = s.clone();
    let mut hint = None;
    if let (Some(p), None) = (&session.phone, &session.outcome) {
        let (picked, outcome) = play(p, session.created.elapsed(), cfg);
        if picked {
            hint = Some("userCallConfirm".to_string());
        }
        if let Some(o) = outcome {
            settle(&mut session, o, store);
        }
    }
    if let Some(stored) = store.sessions.get_mut(&session.id) {
        *stored = session.clone();
    }
    let (state, final_) = match &session.outcome {
        None => ("READY", false),
        Some(Outcome::Signed { .. }) => ("SIGNED", true),
        Some(Outcome::Rejected { hint: h }) => {
            hint = h.clone();
            ("REJECTED", true)
        }
    };
    let signer = match &session.outcome {
        Some(Outcome::Signed { by, .. }) => Some(json!({
            "nationalIdentificationNumber": by.nin,
            "firstName": by.first_name,
            "lastName": by.last_name,
            "name": by.name(),
            "dateOfBirth": by.date_of_birth.to_string(),
        })),
        _ => None,
    };
    let mut lifecycle = json!({ "state": state, "stateIsFinal": final_ });
    if let Some(h) = hint {
        lifecycle["hintCode"] = json!(h);
    }
    let mut out = json!({
        "id": session.id,
        "title": session.request.get("title"),
        "signatureUrl": format!("{base}/sign/ui/{}", session.id),
        "dueDate": session.request.get("dueDate"),
        "externalReference": session.request.get("externalReference"),
        "signer": session.request.get("signer"),
        "lifecycle": lifecycle,
        "output": {
            "signatures": session.signatures.iter().map(|(id, kind, original)| json!({
                "signatureType": kind,
                "resultDocumentId": id,
                "originalDocumentId": original,
                "signer": signer,
            })).collect::<Vec<_>>(),
            "packages": session.packages.iter().map(|(id, kind)| json!({
                "packageId": id,
                "packageType": kind,
                "resultDocumentId": id,
            })).collect::<Vec<_>>(),
        },
    });
    if session.outcome.is_none() {
        out["output"] = json!({});
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The signature page: what the customer sees after opening `signatureUrl`.
async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let store = state.sign().lock();
    let Some(s) = store.sessions.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html("<h1>This signing link is no longer valid.</h1>".to_string()),
        )
            .into_response();
    };
    let texts: Vec<String> = s
        .request
        .get("documents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| store.documents.get(str_at(d, &["documentId"])?))
        .map(|d| {
            if d.mime == "application/pdf" {
                format!("<p>PDF document, {} bytes</p>", d.bytes.len())
            } else {
                format!(
                    "<pre>{}</pre>",
                    html_escape(&String::from_utf8_lossy(&d.bytes))
                )
            }
        })
        .collect();
    let nin = str_at(&s.request, &["signer", "nationalIdentificationNumber"]).unwrap_or_default();
    let done = s.outcome.is_some();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign</title></head>
<body><h1>{title}</h1>{docs}
{form}</body></html>"#,
        title = html_escape(str_at(&s.request, &["title"]).unwrap_or("Sign")),
        docs = texts.join("\n"),
        form = if done {
            "<p>This document has been handled.</p>".to_string()
        } else {
            format!(
                r#"<form method="post"><label>National identity number <input name="nin" value="{nin}"></label>
<button name="action" value="sign">Sign</button> <button name="action" value="reject">Reject signing</button></form>"#,
                nin = html_escape(nin)
            )
        },
    ))
    .into_response()
}

#[derive(Deserialize)]
struct Submit {
    action: String,
    #[serde(default)]
    nin: String,
}

async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<Submit>,
) -> Response {
    let mut store = state.sign().lock();
    let Some(mut session) = store.sessions.get(&id).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            Html("<h1>This signing link is no longer valid.</h1>".to_string()),
        )
            .into_response();
    };
    if session.outcome.is_some() {
        return (
            StatusCode::CONFLICT,
            Html("<h1>Already handled.</h1>".to_string()),
        )
            .into_response();
    }
    let outcome = match form.action.as_str() {
        "reject" => Outcome::Rejected { hint: None },
        "sign" => {
            let nin = form.nin.trim();
            let person = persona::by_nin(nin)
                .map(|p| p.person)
                .or_else(|| persona::stranger_norwegian(nin))
                .or_else(|| persona::stranger_swedish(nin));
            match person {
                Some(by) => Outcome::Signed {
                    by,
                    at: OffsetDateTime::now_utc(),
                },
                None => {
                    return (
                        StatusCode::BAD_REQUEST,
                        Html("<h1>Unknown national identity number.</h1>".to_string()),
                    )
                        .into_response()
                }
            }
        }
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Html("<h1>Unknown action.</h1>".to_string()),
            )
                .into_response()
        }
    };
    settle(&mut session, outcome, &mut store);
    store.sessions.insert(id, session);
    Html("<h1>Thank you. You can close this page.</h1>".to_string()).into_response()
}
