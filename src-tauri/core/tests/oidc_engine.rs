#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The legacy OIDC kinds run through the engine, with every flow (REST too) recorded in the vault.

mod oidc_support;

use id_desk_core::flow::{EventSink, FlowEvent, FlowUpdate, Method, PollConfig, SdoRef};
use id_desk_core::rest::RestConfig;
use id_desk_core::runner::{Engine, FlowRequest, FlowSettings, RawFlowInput};
use id_desk_core::secrets::SecretString;
use id_desk_core::vault::{ListFilter, TxKind, TxStatus, Vault};
use id_desk_simulator::{Endpoint, Simulator};
use oidc_support::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

fn settings() -> FlowSettings {
    FlowSettings {
        legacy_methods: true,
        sbid_end_user_ip: Some("203.0.113.7".into()),
        poll: PollConfig::new(Duration::from_secs(1), Duration::from_secs(1)),
        ..FlowSettings::default()
    }
}

fn rest_config(sim: &Simulator) -> RestConfig {
    let cfg = sim.config();
    let base = sim.base_url();
    RestConfig {
        base_url: Url::parse(&base).unwrap(),
        token_url: Url::parse(&format!("{base}/auth/open/connect/token")).unwrap(),
        account_id: cfg.account_id.clone(),
        client_id: cfg.rest_client.client_id.clone(),
        client_secret: SecretString::new(cfg.rest_client.client_secret.clone()),
    }
}

fn engine(sim: &Simulator, vault: &Vault) -> Engine {
    Engine::new(Some(rest_config(sim)), settings())
        .unwrap()
        .with_oidc(oidc_config(sim))
        .unwrap()
        .with_vault(vault.clone(), Some("Branch test".into()))
}

fn raw(method: Method, nin: Option<&str>, phone: Option<&str>, text: Option<&str>) -> RawFlowInput {
    let mut r = RawFlowInput::new(method);
    r.nin = nin.map(str::to_string);
    r.phone = phone.map(str::to_string);
    r.birthdate = phone.map(|_| "071283".to_string());
    r.text = text.map(str::to_string);
    r
}

fn recorder() -> (EventSink, Arc<Mutex<Vec<FlowUpdate>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (Arc::new(move |u| s.lock().unwrap().push(u)), seen)
}

#[tokio::test]
async fn every_legacy_kind_runs_through_the_engine_and_is_recorded() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let engine = engine(&sim, &vault);
    let cases = [
        raw(Method::NbidInapp, None, Some("99887766"), None),
        raw(Method::SbidInapp, Some("8304062717"), None, None),
        raw(Method::NbidSign, None, Some("99887766"), Some(SIGN_TEXT)),
        raw(
            Method::SbidSign,
            Some("19830406-2717"),
            None,
            Some(SIGN_TEXT),
        ),
    ];
    for input in cases {
        let req = FlowRequest::parse(&input, &settings()).unwrap();
        assert_eq!(req.method(), input.method);
        let (sink, seen) = recorder();
        let id = engine.start(req, sink).await.unwrap();
        let terminal = engine.wait(&id).await.unwrap();
        let row = vault.get(&id).unwrap();
        assert_eq!(row.method, input.method);
        assert_eq!(row.profile.as_deref(), Some("Branch test"));
        if input.method.is_signature() {
            let FlowEvent::Signed { evidence, .. } = &terminal else {
                panic!("{terminal:?}")
            };
            let sdo = &SdoRef {
                path: evidence[0].path.clone(),
                sha256: evidence[0].sha256.clone(),
                bytes: evidence[0].bytes,
            };
            assert_eq!(row.kind, TxKind::Sign);
            assert_eq!(row.status, TxStatus::Signed);
            assert_eq!(row.sdo.as_ref(), Some(sdo));
            assert_eq!(row.sign_text.as_deref(), Some(SIGN_TEXT.trim()));
            assert!(vault.verify(&id).unwrap());
        } else {
            assert!(
                matches!(terminal, FlowEvent::Succeeded { .. }),
                "{terminal:?}"
            );
            assert_eq!(row.kind, TxKind::Auth);
            assert_eq!(row.status, TxStatus::Succeeded);
        }
        assert!(row.subject_name.is_some());
        // Masked only: "+47 *****766" for a phone, "1983*******" once the subject is known.
        let masked = row.identity_masked.unwrap();
        assert!(masked.contains("*****"), "{masked}");
        if matches!(input.method, Method::SbidInapp | Method::SbidSign) {
            assert_eq!(row.reference.as_deref().map(str::is_empty), Some(false));
        }
        // The window saw the same events the vault recorded, the terminal one last.
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.last().map(|u| &u.event), Some(&terminal));
        let trail: Vec<String> = vault
            .events(&id)
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(trail.first().map(String::as_str), Some("begin"));
        assert_eq!(trail.get(1).map(String::as_str), Some("started"));
        let last = if input.method.is_signature() {
            "signed"
        } else {
            "succeeded"
        };
        assert_eq!(trail.last().map(String::as_str), Some(last));
        if input.method.is_signature() {
            assert!(trail.contains(&"sdo_stored".to_string()));
        }
    }
    assert_eq!(vault.list(&ListFilter::default(), 100).unwrap().len(), 4);
}

#[tokio::test]
async fn rest_flows_are_recorded_too() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let engine = engine(&sim, &vault);
    let mut input = RawFlowInput::new(Method::NbidMobile);
    input.phone = Some("91234567".into());
    input.birthdate = Some("230175".into());
    let (sink, _) = recorder();
    let id = engine
        .start(FlowRequest::parse(&input, &settings()).unwrap(), sink)
        .await
        .unwrap();
    let terminal = engine.wait(&id).await.unwrap();
    let row = vault.get(&id).unwrap();
    // Trond Avbryter cancels in the app: REST ABORT → customer_aborted → `aborted`.
    assert!(matches!(terminal, FlowEvent::Failed { .. }), "{terminal:?}");
    assert_eq!(row.status, TxStatus::Aborted);
    assert_eq!(row.error_code.as_deref(), Some("customer_aborted"));
    assert_eq!(row.method, Method::NbidMobile);
}

#[tokio::test]
async fn signatures_need_the_vault_and_a_valid_text_before_any_request() {
    let sim = sim().await;
    let no_vault = Engine::new(None, settings())
        .unwrap()
        .with_oidc(oidc_config(&sim))
        .unwrap();
    let req = FlowRequest::parse(
        &raw(
            Method::SbidSign,
            Some("198304062717"),
            None,
            Some("Jeg signerer"),
        ),
        &settings(),
    )
    .unwrap();
    let (sink, _) = recorder();
    let err = no_vault.start(req, sink).await.unwrap_err();
    assert_eq!(err.field(), Some("vault"));

    for bad in ["", "   ", "bell\u{7}", &"x".repeat(1001)] {
        let err = FlowRequest::parse(
            &raw(Method::NbidSign, None, Some("99887766"), Some(bad)),
            &settings(),
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("text"), "{bad:?}");
    }
    assert!(FlowRequest::parse(
        &raw(
            Method::NbidSign,
            None,
            Some("99887766"),
            Some(&"æ".repeat(1000))
        ),
        &settings(),
    )
    .is_ok());
    let err = FlowRequest::parse(
        &raw(Method::SbidInapp, Some("198304062718"), None, None),
        &settings(),
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("nin"));
    assert_eq!(sim.control().stats().count(Endpoint::Authorize), 0);
}

#[tokio::test]
async fn the_vault_never_holds_a_full_identity_number_or_a_secret() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    {
        let vault = Vault::open(dir.path()).unwrap();
        let engine = engine(&sim, &vault);
        for input in [
            raw(
                Method::SbidSign,
                Some("198304062717"),
                None,
                Some(SIGN_TEXT),
            ),
            raw(Method::NbidInapp, None, Some("99887766"), None),
        ] {
            let (sink, _) = recorder();
            let id = engine
                .start(FlowRequest::parse(&input, &settings()).unwrap(), sink)
                .await
                .unwrap();
            engine.wait(&id).await.unwrap();
        }
    }
    let cfg = sim.config();
    let forbidden = [
        "198304062717",
        "07128300141",
        "99887766",
        cfg.oidc_client.client_secret.as_str(),
        cfg.sign_client.client_secret.as_str(),
        cfg.rest_client.client_secret.as_str(),
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for f in forbidden {
                assert!(!text.contains(f), "{} holds {f}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 1);
}

/// Issue 23, item 4, for the legacy Consent Signature: the customer signed, but the SDO cannot be
/// written (its directory replaced by a file: every write fails, as on a broken disk, and unlike
/// file modes it binds root too). The flow ends `signed_evidence_pending`, the row says so, the
/// SDO stays in memory (the access token is gone: Signicat cannot give it again), and once the
/// disk is back the next retry stores it and the row becomes `signed`, verifiable.
#[tokio::test]
async fn a_consent_signature_whose_sdo_cannot_be_written_keeps_it_and_saves_it_later() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let engine = engine(&sim, &vault);
    let sdo_dir = dir.path().join("sdo");
    let aside = dir.path().join("sdo-aside");
    std::fs::rename(&sdo_dir, &aside).unwrap();
    std::fs::write(&sdo_dir, b"not a directory").unwrap();

    let input = raw(Method::NbidSign, None, Some("99887766"), Some(SIGN_TEXT));
    let (sink, _) = recorder();
    let id = engine
        .start(FlowRequest::parse(&input, &settings()).unwrap(), sink)
        .await
        .unwrap();
    let terminal = engine.wait(&id).await.unwrap();
    assert!(
        matches!(&terminal, FlowEvent::Failed { code, .. } if code == "signed_evidence_pending"),
        "{terminal:?}"
    );
    let row = vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::EvidencePending);
    assert_eq!(row.sdo, None);
    assert_eq!(vault.pending_count(), 1);
    assert_eq!(vault.retry_pending(), 0, "the disk is still broken");
    assert_eq!(vault.pending_count(), 1, "and the SDO still kept");

    std::fs::remove_file(&sdo_dir).unwrap();
    std::fs::rename(&aside, &sdo_dir).unwrap();
    assert_eq!(vault.retry_pending(), 1);
    assert_eq!(vault.pending_count(), 0);
    let row = vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Signed, "{row:?}");
    assert!(row.sdo.is_some());
    assert!(row.subject_name.is_some());
    assert!(vault.verify(&id).unwrap());
}
