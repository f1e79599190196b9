//! Sign API v2 flows against the simulator over real HTTP on 127.0.0.1, with a real vault:
//! Swedish BankID Phone signing, signing by link (`signatureUrl`), and every outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use id_desk_core::flow::{EventSink, EvidenceKind, FlowEvent, FlowUpdate, Method, PollConfig};
use id_desk_core::runner::{exit_code, Engine, FlowRequest, FlowSettings, RawFlowInput};
use id_desk_core::secrets::SecretString;
use id_desk_core::sign::{SignConfig, SignSetups};
use id_desk_core::vault::{TxStatus, Vault};
use id_desk_simulator::faults::Endpoint;
use id_desk_simulator::Simulator;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

const TEXT: &str = "I confirm my purchase of broadband subscription Medium500";

fn sign_config(sim: &Simulator, lifetime: Duration) -> SignConfig {
    let base = sim.base_url();
    SignConfig {
        base_url: Url::parse(&base).unwrap(),
        token_url: Url::parse(&format!("{base}/auth/open/connect/token")).unwrap(),
        client_id: sim.config().rest_client.client_id.clone(),
        client_secret: SecretString::new(sim.config().rest_client.client_secret.clone()),
        sender_display_name: Some("ID Desk test shop".into()),
        max_document_bytes: 1024 * 1024,
        lifetime,
    }
}

fn settings() -> FlowSettings {
    FlowSettings {
        allow_test_identities: true,
        poll: PollConfig::new(Duration::from_secs(1), Duration::from_secs(1)),
        sign: SignSetups {
            sbid_phone: true,
            nbid_pki: true,
            link_providers: vec!["mitid".into(), "nbid".into()],
        },
        ..FlowSettings::default()
    }
}

struct Rig {
    sim: Simulator,
    engine: Engine,
    vault: Vault,
    _dir: tempfile::TempDir,
    events: Arc<Mutex<Vec<FlowEvent>>>,
}

impl Rig {
    async fn new(time_scale: f64, lifetime: Duration) -> Rig {
        Self::with_settings(time_scale, lifetime, settings()).await
    }

    async fn with_settings(time_scale: f64, lifetime: Duration, settings: FlowSettings) -> Rig {
        let sim = rest_support::simulator(|c| c.time_scale = time_scale).await;
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let engine = Engine::new(None, settings)
            .unwrap()
            .with_sign(sign_config(&sim, lifetime))
            .unwrap()
            .with_vault(vault.clone(), Some("test".into()));
        Rig {
            sim,
            engine,
            vault,
            _dir: dir,
            events: Arc::default(),
        }
    }

    fn sink(&self) -> EventSink {
        let events = self.events.clone();
        Arc::new(move |u: FlowUpdate| events.lock().unwrap().push(u.event))
    }

    async fn run(&self, raw: RawFlowInput) -> (id_desk_core::flow::FlowId, FlowEvent) {
        let req = FlowRequest::parse(&raw, self.engine.settings()).unwrap();
        let id = self.engine.start(req, self.sink()).await.unwrap();
        let terminal = self.engine.wait(&id).await.unwrap();
        (id, terminal)
    }

    fn events(&self) -> Vec<FlowEvent> {
        self.events.lock().unwrap().clone()
    }

    /// The signature URL the flow emitted, waiting for it.
    async fn signature_url(&self) -> String {
        for _ in 0..100 {
            if let Some(url) = self.events().iter().find_map(|e| match e {
                FlowEvent::SignatureUrl { url } => Some(url.clone()),
                _ => None,
            }) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no signature_url: {:?}", self.events())
    }
}

fn phone(nin: &str, call: Option<&str>) -> RawFlowInput {
    let mut raw = RawFlowInput::new(Method::SignSbidPhone);
    raw.nin = Some(nin.into());
    raw.call_initiator = call.map(str::to_string);
    raw.text = Some(TEXT.into());
    raw
}

fn link(provider: &str, nin: Option<&str>) -> RawFlowInput {
    let mut raw = RawFlowInput::new(Method::SignLink);
    raw.provider = Some(provider.into());
    raw.nin = nin.map(str::to_string);
    raw.text = Some(TEXT.into());
    raw
}

/// What the customer does on the page behind `signatureUrl`.
async fn on_page(url: &str, action: &str, nin: &str) {
    let page = reqwest::get(url).await.unwrap();
    assert!(page.status().is_success());
    assert!(page.text().await.unwrap().contains("Medium500"));
    let done = reqwest::Client::new()
        .post(url)
        .form(&[("action", action), ("nin", nin)])
        .send()
        .await
        .unwrap();
    assert!(done.status().is_success(), "{}", done.status());
}

/// Each piece is on disk encrypted (the file is not the document) and opens to the recorded bytes.
fn assert_evidence_on_disk(vault: &Vault, evidence: &[id_desk_core::flow::Evidence]) {
    use sha2::{Digest, Sha256};
    for e in evidence {
        let bytes = vault.read_stored(std::path::Path::new(&e.path)).unwrap();
        assert_eq!(bytes.len() as u64, e.bytes);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), e.sha256);
        let raw = std::fs::read(&e.path).unwrap();
        assert_ne!(raw, bytes, "{} is stored in clear", e.path);
        assert_ne!(hex::encode(Sha256::digest(&raw)), e.sha256);
    }
}

#[tokio::test]
async fn swedish_bankid_phone_signing_shows_the_call_check_and_keeps_every_result() {
    // Anna picks up after 2 s and signs after 4 s: a poll sees the call check in between.
    let rig = Rig::new(2.0, Duration::from_secs(120)).await;
    let (id, terminal) = rig.run(phone("198304062717", Some("user"))).await;
    let FlowEvent::Signed { subject, evidence } = &terminal else {
        panic!("{terminal:?} after {:?}", rig.events())
    };
    assert_eq!(exit_code(&terminal), 0);
    assert_eq!(subject.nin.as_deref(), Some("198304062717"));
    assert_eq!(subject.name, "Anna Andersson");
    let kinds: Vec<_> = evidence.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EvidenceKind::Xades, EvidenceKind::LtvSdo]);
    assert_evidence_on_disk(&rig.vault, evidence);
    assert!(
        rig.events().iter().any(
            |e| matches!(e, FlowEvent::Progress { status, .. } if status == "userCallConfirm")
        ),
        "{:?}",
        rig.events()
    );
    // The row says signed, names the same evidence and never the full number.
    let row = rig.vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Signed);
    assert_eq!(row.method, Method::SignSbidPhone);
    assert_eq!(&rig.vault.evidence(&id).unwrap(), evidence);
    assert_eq!(row.identity_masked.as_deref(), Some("1983*******"));
    // Data minimisation: the documents, the collection and the session are gone at Signicat.
    assert_eq!(rig.sim.control().sign_counts(), (0, 0, 0));
}

#[tokio::test]
async fn a_rejected_phone_signature_is_the_customers_no() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let (id, terminal) = rig.run(phone("199010270537", Some("rp"))).await;
    assert!(
        matches!(&terminal, FlowEvent::Failed { code, .. } if code == "customer_aborted"),
        "{terminal:?}"
    );
    assert_eq!(exit_code(&terminal), 3);
    assert_eq!(rig.vault.get(&id).unwrap().status, TxStatus::Aborted);
    assert!(rig.vault.evidence(&id).unwrap().is_empty());
}

#[tokio::test]
async fn signing_by_link_with_a_pdf_keeps_the_pades_the_xades_and_the_package() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let pdf_dir = tempfile::tempdir().unwrap();
    let pdf = pdf_dir.path().join("order.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% an order summary\n%%EOF\n").unwrap();
    let mut raw = link("mitid", Some("29124815345"));
    raw.pdf = Some(pdf.to_string_lossy().into_owned());
    let req = FlowRequest::parse(&raw, rig.engine.settings()).unwrap();
    let id = rig.engine.start(req, rig.sink()).await.unwrap();
    let url = rig.signature_url().await;
    on_page(&url, "sign", "29124815345").await;
    let terminal = rig.engine.wait(&id).await.unwrap();
    let FlowEvent::Signed { subject, evidence } = &terminal else {
        panic!("{terminal:?}")
    };
    assert_eq!(subject.nin.as_deref(), Some("29124815345"));
    let kinds: Vec<_> = evidence.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EvidenceKind::Xades,
            EvidenceKind::Pades,
            EvidenceKind::LtvSdo
        ]
    );
    assert!(rig
        .vault
        .read_stored(std::path::Path::new(&evidence[1].path))
        .unwrap()
        .starts_with(b"%PDF-"));
    assert!(evidence[1].path.ends_with(".pdf"));
    assert_evidence_on_disk(&rig.vault, evidence);
    assert_eq!(rig.sim.control().sign_counts(), (0, 0, 0));
}

#[tokio::test]
async fn another_signer_than_the_one_asked_for_is_an_identity_mismatch() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let req = FlowRequest::parse(
        &link("nbid-pki", Some("29124815345")),
        rig.engine.settings(),
    )
    .unwrap();
    let id = rig.engine.start(req, rig.sink()).await.unwrap();
    let url = rig.signature_url().await;
    on_page(&url, "sign", "01100844350").await;
    let terminal = rig.engine.wait(&id).await.unwrap();
    assert!(
        matches!(&terminal, FlowEvent::Failed { code, message } if code == "identity_mismatch" && !message.contains("01100844350")),
        "{terminal:?}"
    );
    assert_eq!(exit_code(&terminal), 1);
    let row = rig.vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Failed);
    // The evidence of what happened is kept, and so is the session at Signicat for review.
    assert_eq!(rig.vault.evidence(&id).unwrap().len(), 2);
    assert_eq!(rig.sim.control().sign_counts().2, 1);
}

/// Review N-12: Signicat's schema has no signer in `output.signatures[]`, so production's answer
/// names nobody. The signature counts (the session was locked to the number, which Signicat
/// enforces) but is never recorded as the asked person's: no number in the result, the lock
/// shown as a lock, and History says the answer named no signer.
#[tokio::test]
async fn a_signature_that_names_nobody_is_recorded_as_locked_not_as_the_asked_persons() {
    use id_desk_simulator::{Endpoint, Fault, FaultKind};
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    rig.sim
        .control()
        .inject(Fault::new(Endpoint::SignGet, FaultKind::UnnamedSigner).times(100));
    let (id, terminal) = rig.run(phone("198304062717", Some("rp"))).await;
    let FlowEvent::Signed { subject, evidence } = &terminal else {
        panic!("{terminal:?} after {:?}", rig.events())
    };
    assert_eq!(exit_code(&terminal), 0);
    assert_eq!(subject.nin, None, "the asked number is not the signer's");
    assert_eq!(subject.nin_masked, None);
    assert_eq!(subject.name, "");
    assert_eq!(subject.locked_to.as_deref(), Some("1983*******"));
    assert_evidence_on_disk(&rig.vault, evidence);
    let row = rig.vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Signed);
    assert_eq!(row.subject_name, None);
    let message = row.message.unwrap_or_default();
    assert!(
        message.contains("names no signer") && message.contains("1983*******"),
        "{message}"
    );
    assert!(!message.contains("198304062717"), "{message}");
}

/// Decision D10: the XAdES result names the digest of another document than the text staff
/// showed (the simulator's `WrongDocument` fault on the download). The signer is right, but the
/// flow fails `document_mismatch`: nothing is signed, the evidence and the session are kept for
/// review. (Without the fault, every signing test here passes D10 on the text's own digest.)
/// A recovery of that session after a crash refuses it as well (review N-8).
#[tokio::test]
async fn a_result_over_another_document_than_the_text_shown_is_a_document_mismatch() {
    use id_desk_simulator::{Endpoint, Fault, FaultKind};
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    rig.sim
        .control()
        .inject(Fault::new(Endpoint::SignDownload, FaultKind::WrongDocument).times(10));
    let (id, terminal) = rig.run(phone("198304062717", Some("rp"))).await;
    assert!(
        matches!(&terminal, FlowEvent::Failed { code, .. } if code == "document_mismatch"),
        "{terminal:?}"
    );
    assert_eq!(exit_code(&terminal), 1);
    let row = rig.vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Failed);
    assert_eq!(rig.vault.evidence(&id).unwrap().len(), 2, "kept for review");
    assert_eq!(rig.sim.control().sign_counts().2, 1, "the session stays");

    // Review N-8: settled as after a crash, the same session is checked as the live flow checked
    // it, against what the row recorded at create (not the server's account): refused too.
    use id_desk_core::sign::{recover, Recovered, SignClient};
    let session = row.reference.clone().expect("the session id was recorded");
    let recorded = rig
        .vault
        .sign_expected(&id)
        .unwrap()
        .expect("and what was asked");
    assert!(!recorded.contains("198304062717"), "{recorded}");
    let client = SignClient::new(sign_config(&rig.sim, Duration::from_secs(60))).unwrap();
    match recover(&client, &rig.vault, &id, &session).await.unwrap() {
        Recovered::NotSigned(why) => assert!(why.contains("did not show"), "{why}"),
        Recovered::Signed { .. } => panic!("a result over another document was taken as signed"),
    }
    assert_eq!(
        rig.vault.evidence(&id).unwrap().len(),
        2,
        "the evidence is kept"
    );
}

#[tokio::test]
async fn a_rejected_link_signature_and_an_unanswered_one() {
    let rig = Rig::new(0.1, Duration::from_secs(3)).await;
    let req = FlowRequest::parse(&link("mitid", None), rig.engine.settings()).unwrap();
    let id = rig.engine.start(req, rig.sink()).await.unwrap();
    on_page(&rig.signature_url().await, "reject", "").await;
    let terminal = rig.engine.wait(&id).await.unwrap();
    assert_eq!(exit_code(&terminal), 3, "{terminal:?}");

    // Nobody opens the link: the due date passes, and the session is deleted at Signicat.
    let (_, terminal) = rig.run(link("mitid", None)).await;
    assert_eq!(terminal, FlowEvent::Expired);
    assert_eq!(exit_code(&terminal), 4);
    assert_eq!(rig.sim.control().sign_counts(), (0, 0, 0));
}

#[tokio::test]
async fn staff_cancel_deletes_the_session_and_its_documents() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let req = FlowRequest::parse(&link("mitid", None), rig.engine.settings()).unwrap();
    let id = rig.engine.start(req, rig.sink()).await.unwrap();
    rig.signature_url().await;
    assert_eq!(rig.sim.control().sign_counts(), (1, 1, 1));
    rig.engine.cancel(&id).await.unwrap();
    assert_eq!(rig.engine.wait(&id).await, Some(FlowEvent::Cancelled));
    assert_eq!(rig.sim.control().sign_counts(), (0, 0, 0));
    assert_eq!(rig.vault.get(&id).unwrap().status, TxStatus::Cancelled);
}

#[tokio::test]
async fn bad_input_is_named_before_anything_is_sent() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let s = rig.engine.settings();
    let field = |raw: RawFlowInput| {
        FlowRequest::parse(&raw, s)
            .unwrap_err()
            .field()
            .map(str::to_string)
    };
    assert_eq!(
        field(phone("198304062717", None)).as_deref(),
        Some("call_initiator")
    );
    assert_eq!(
        field(phone("19830406271", Some("user"))).as_deref(),
        Some("nin")
    );
    assert_eq!(field(link("ftn", None)).as_deref(), Some("provider"));
    let mut no_text = link("mitid", None);
    no_text.text = None;
    assert_eq!(field(no_text).as_deref(), Some("text"));
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("order.pdf");
    std::fs::write(&text_file, "not a PDF").unwrap();
    let mut not_pdf = link("mitid", None);
    not_pdf.pdf = Some(text_file.to_string_lossy().into_owned());
    assert_eq!(field(not_pdf).as_deref(), Some("pdf"));
    let stats = rig.sim.control().stats();
    assert_eq!(stats.count(Endpoint::SignUpload), 0);
    assert_eq!(stats.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_cancel_right_after_the_customer_signed_keeps_the_signature() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let req = FlowRequest::parse(&link("mitid", None), rig.engine.settings()).unwrap();
    let id = rig.engine.start(req, rig.sink()).await.unwrap();
    on_page(&rig.signature_url().await, "sign", "29124815345").await;
    // Staff press cancel before the flow's next poll has seen the signature.
    rig.engine.cancel(&id).await.unwrap();
    let terminal = rig.engine.wait(&id).await.unwrap();
    let FlowEvent::Signed { evidence, .. } = &terminal else {
        panic!("{terminal:?}")
    };
    assert_evidence_on_disk(&rig.vault, evidence);
    assert_eq!(rig.vault.get(&id).unwrap().status, TxStatus::Signed);
}

#[tokio::test]
async fn a_customer_who_denies_the_call_ends_the_flow_with_user_declined_call() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let (id, terminal) = rig.run(phone("198702142343", Some("rp"))).await;
    let FlowEvent::Failed { code, message } = &terminal else {
        panic!("{terminal:?}")
    };
    assert_eq!(code, "user_declined_call");
    assert!(!message.is_empty());
    assert_eq!(exit_code(&terminal), 3);
    // The customer said no (to the call): stored as aborted, like a cancel in the app.
    assert_eq!(rig.vault.get(&id).unwrap().status, TxStatus::Aborted);
    assert_eq!(rig.sim.control().sign_counts(), (0, 0, 0));
}

/// Issue 23, item 4: a signature does not start without room on disk for its evidence; nothing
/// reaches Signicat (or the customer's phone) and the error says so.
#[tokio::test]
async fn a_full_disk_refuses_a_signature_before_anything_is_sent() {
    let full = FlowSettings {
        evidence_headroom: Some(u64::MAX),
        ..settings()
    };
    let rig = Rig::with_settings(0.1, Duration::from_secs(60), full).await;
    let req =
        FlowRequest::parse(&phone("198304062717", Some("user")), rig.engine.settings()).unwrap();
    let err = rig.engine.start(req, rig.sink()).await.unwrap_err();
    assert_eq!(err.code(), "disk_full");
    assert!(err.to_string().contains("MiB free"), "{err}");
    assert_eq!(rig.sim.control().sign_counts(), (0, 0, 0));
    assert!(rig
        .vault
        .list(&id_desk_core::vault::ListFilter::default(), 10)
        .unwrap()
        .is_empty());
    // An identification needs no room for evidence and is not held up.
    let id = rig
        .engine
        .start(
            FlowRequest::parse(
                &{
                    let mut r = RawFlowInput::new(Method::SbidPhone);
                    r.nin = Some("198304062717".into());
                    r.call_initiator = Some("user".into());
                    r
                },
                rig.engine.settings(),
            )
            .unwrap(),
            rig.sink(),
        )
        .await;
    assert!(
        id.is_ok() || id.as_ref().unwrap_err().code() != "disk_full",
        "{id:?}"
    );
}

/// Issue 23, item 4: the customer signs while the evidence cannot be written (here the evidence
/// folder is replaced by a file, which even root cannot write into). The flow ends
/// `signed_evidence_pending` (never `signed`, never a plain failure), the row says so, nothing is
/// deleted at Signicat, and the bytes kept in memory are written once the disk is back: the row
/// becomes `signed` with evidence that verifies.
#[tokio::test]
async fn evidence_that_cannot_be_written_is_kept_and_saved_later() {
    let rig = Rig::new(0.1, Duration::from_secs(60)).await;
    let req =
        FlowRequest::parse(&link("mitid", Some("29124815345")), rig.engine.settings()).unwrap();
    let id = rig.engine.start(req, rig.sink()).await.unwrap();
    let url = rig.signature_url().await;
    let evidence_dir = rig.vault.dir().join("evidence");
    let away = rig.vault.dir().join("evidence.away");
    std::fs::rename(&evidence_dir, &away).unwrap();
    std::fs::write(&evidence_dir, b"not a folder").unwrap();
    on_page(&url, "sign", "29124815345").await;
    let terminal = rig.engine.wait(&id).await.unwrap();
    assert!(
        matches!(&terminal, FlowEvent::Failed { code, .. } if code == "signed_evidence_pending"),
        "{terminal:?}"
    );
    assert_eq!(exit_code(&terminal), 1);
    let row = rig.vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::EvidencePending);
    assert_eq!(
        row.archive, None,
        "not queued for the archive while pending"
    );
    assert!(rig.vault.evidence(&id).unwrap().is_empty());
    assert_eq!(rig.vault.pending_count(), 1);
    let (_, _, sessions) = rig.sim.control().sign_counts();
    assert_eq!(
        sessions, 1,
        "the signed session stays at Signicat until the evidence is safe"
    );

    // Still broken: a retry keeps the bytes.
    assert_eq!(rig.vault.retry_pending(), 0);
    assert_eq!(rig.vault.pending_count(), 1);
    // The disk is back.
    std::fs::remove_file(&evidence_dir).unwrap();
    std::fs::rename(&away, &evidence_dir).unwrap();
    assert_eq!(rig.vault.retry_pending(), 1);
    assert_eq!(rig.vault.pending_count(), 0);
    let row = rig.vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Signed);
    assert!(row.message.unwrap_or_default().contains("after a delay"));
    let evidence = rig.vault.evidence(&id).unwrap();
    assert!(!evidence.is_empty());
    assert_evidence_on_disk(&rig.vault, &evidence);
    assert!(rig.vault.verify(&id).unwrap());
    assert!(matches!(
        row.archive,
        Some(id_desk_core::vault::ArchiveMark::Waiting { .. })
    ));
}
